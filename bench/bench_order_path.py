"""Two pieces of the order path on their own, for before/after comparisons:

  - the write before the send: `Store.insert_order` with the audit row of its placing, one
    order a millisecond (as orders come), on the event loop's own connection and, the same
    store with that connection set aside, through aiosqlite's database thread;
  - the paper venue's `create_order` for a market order (validate, accept, match, fill, its
    journal), the market stepped every 50 orders outside the timing.

Prints p50/p90/p99 and the load. Run it with PYTHONPATH set to another checkout to compare.

    .venv/bin/python bench/bench_order_path.py [--orders 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from tui_trader.core.enums import Side
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.engine.testing import manual_engine, paper_venue, step
from tui_trader.home import Home
from tui_trader.store.db import Store

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def quantiles(xs: list[float]) -> str:
    q = statistics.quantiles(xs, n=100)
    return f"p50 {q[49] * 1e3:.3f} ms  p90 {q[89] * 1e3:.3f} ms  p99 {q[98] * 1e3:.3f} ms"


async def writes(n: int, on_loop: bool) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "t.db")
        loop_conn = getattr(store, "_now", None)
        if loop_conn is not None and not on_loop:
            store._now = None  # every write through the database thread, as before #20
        out = []
        try:
            for i in range(n):
                order = Order.from_request(OrderRequest("BTC/USDT", Side.BUY, Decimal("1")), f"o{i}", "paper", T0)
                await store.audit(T0, "strategy:bench", "place", {"client_order_id": order.client_order_id})
                t0 = time.perf_counter()
                await store.insert_order(order)
                out.append(time.perf_counter() - t0)
                await asyncio.sleep(0.001)
        finally:
            if loop_conn is not None and not on_loop:
                store._now = loop_conn
            await store.close()
        return out


async def venue(n: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = manual_engine(home=Home.resolve(tmp))
        await engine.start()
        await step(engine, 3)
        paper = paper_venue(engine)
        emit, paper._emit = paper._emit, lambda event: None  # the venue alone
        out = []
        try:
            for i in range(n):
                side = Side.BUY if i % 2 else Side.SELL
                order = Order.from_request(
                    OrderRequest("ETH/USDT", side, Decimal("0.01")), f"m{i}", "paper", engine.clock.now()
                )
                t0 = time.perf_counter()
                await paper.create_order(order)
                out.append(time.perf_counter() - t0)
                if i % 50 == 0:
                    await step(engine)
        finally:
            paper._emit = emit
            await engine.stop()
        return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=3000)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    has_loop_conn = hasattr(Store(None, None), "_now")  # type: ignore[arg-type]
    print(f"order path pieces, {args.orders:,} orders each; 1-min load average {load:.2f}, {os.cpu_count()} cores")
    if has_loop_conn:
        on_loop = asyncio.run(writes(args.orders, True))
        print(f"  write before the send, on the loop's connection:   {quantiles(on_loop)}")
    threaded = asyncio.run(writes(args.orders, False))
    print(f"  write before the send, through the database thread: {quantiles(threaded)}")
    print(f"  paper venue create_order (market, filled):          {quantiles(asyncio.run(venue(args.orders * 3)))}")
    print(f"  load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
