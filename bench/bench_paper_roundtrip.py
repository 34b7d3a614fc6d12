"""Paper venue round trip: submit -> accepted -> filled event, including persistence.

Prints p50/p99 over N orders (default 10,000) against a file-backed SQLite database (WAL),
the same path every order takes in the TUI and the daemon. Budget: p99 < 2 ms.

    .venv/bin/python bench/bench_paper_roundtrip.py [--orders 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal

from tui_trader.core.enums import Side
from tui_trader.core.events import Event, FillEvent, OrderEvent
from tui_trader.core.orders import OrderRequest
from tui_trader.engine.testing import manual_engine, step
from tui_trader.home import Home


async def run(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = manual_engine(home=Home.resolve(tmp))
        await engine.start()
        await step(engine, 3)
        marks: dict[str, float] = {}

        def on_event(event: Event) -> None:
            now = time.perf_counter()
            if isinstance(event, OrderEvent) and event.order.status.value == "accepted":
                marks.setdefault("ack:" + event.order.client_order_id, now)
            elif isinstance(event, FillEvent):
                marks.setdefault("fill:" + event.fill.client_order_id, now)

        engine.bus.on(on_event)
        to_ack: list[float] = []
        to_fill: list[float] = []
        qty = Decimal("0.01")
        for i in range(n):
            side = Side.BUY if i % 2 == 0 else Side.SELL
            t0 = time.perf_counter()
            order = await engine.place(OrderRequest("BTC/USDT", side, qty, source="bench"))
            cid = order.client_order_id
            if f"fill:{cid}" not in marks:
                raise SystemExit(f"order {cid} did not fill: {order.status} {order.reason}")
            to_ack.append(marks.pop(f"ack:{cid}") - t0)
            to_fill.append(marks.pop(f"fill:{cid}") - t0)
            if i % 50 == 0:
                await step(engine)  # prices keep moving
        await engine.stop()

    def pct(xs: list[float], q: float) -> float:
        return statistics.quantiles(xs, n=1000)[int(q * 10) - 1] * 1000 if len(xs) > 10 else max(xs) * 1000

    return {
        "orders": n,
        "ack_p50_ms": pct(to_ack, 50),
        "ack_p99_ms": pct(to_ack, 99),
        "fill_p50_ms": pct(to_fill, 50),
        "fill_p99_ms": pct(to_fill, 99),
        "fill_max_ms": max(to_fill) * 1000,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=10_000)
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    r = asyncio.run(run(args.orders))
    print(
        f"paper round trip over {r['orders']:,} market orders (file-backed SQLite, WAL); "
        f"1-min load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after, {os.cpu_count()} cores"
    )
    print(f"  submit -> accepted event: p50 {r['ack_p50_ms']:.3f} ms   p99 {r['ack_p99_ms']:.3f} ms")
    print(
        f"  submit -> filled event:   p50 {r['fill_p50_ms']:.3f} ms   p99 "
        f"{r['fill_p99_ms']:.3f} ms   max {r['fill_max_ms']:.2f} ms"
    )
    budget = 2.0
    verdict = "within" if r["fill_p99_ms"] < budget else "OVER"
    print(f"  budget p99 < {budget} ms: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
