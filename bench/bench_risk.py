"""Kill switch and pre-trade check latency on the paper venue: prints figures, asserts nothing.

Run: .venv/bin/python bench/bench_risk.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "risk"))

from conftest import SYMBOL, Market, start_engine

from tui_trader.core.enums import OrderType, Side
from tui_trader.core.orders import OrderRequest


async def main() -> None:
    engine = await start_engine()
    market = Market(engine)
    await market.price(3000.0)
    t0 = time.perf_counter()
    n = 200
    for i in range(n):
        await engine.place(
            OrderRequest(
                SYMBOL, Side.BUY, Decimal("0.1"), OrderType.LIMIT, price=Decimal(2900 - i % 50)
            )
        )
    place_ms = (time.perf_counter() - t0) / n * 1000
    for _ in range(20):
        await engine.place(
            OrderRequest(
                SYMBOL, Side.BUY, Decimal("0.5"), stop_loss=Decimal(2800), take_profit=Decimal(3300)
            )
        )
    await engine.place(
        OrderRequest(
            SYMBOL, Side.SELL, Decimal(1), OrderType.TRAILING_STOP, trail_percent=Decimal("0.02")
        )
    )
    open_before = len(engine.oms.open_orders())
    t0 = time.perf_counter()
    result = await engine.flatten()
    flat_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    for _ in range(100):
        engine.snapshot()
    snap_ms = (time.perf_counter() - t0) * 10
    print(f"place (checks + OMS + paper ack): {place_ms:.2f} ms/order")
    print(
        f"flatten: {open_before} open orders + 1 position -> {flat_ms:.1f} ms; still open: {result['still_open']}"
    )
    print(f"snapshot with extra['risk']: {snap_ms:.2f} ms")
    await engine.stop()


asyncio.run(main())
