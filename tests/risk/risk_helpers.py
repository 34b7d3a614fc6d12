"""A started engine on the paper venue whose prices the test sets (no background feed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tui_trader.config import Settings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import Side
from tui_trader.core.market import OrderBook, Ticker, TradePrint
from tui_trader.engine import Engine
from tui_trader.engine.testing import manual_engine

SYMBOL = "ETH/USDT"


class Market:
    """Sets a price on the paper venue: a book one tick either side, a print, a quote."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.venue: Any = engine.venues["paper"]

    async def price(self, price: float, symbol: str = SYMBOL, *, depth: float = 1_000.0) -> None:
        now = self.engine.clock.now()
        bid, ask = round(price - 0.01, 2), round(price + 0.01, 2)
        bids = tuple((round(bid - i * 0.01, 2), depth) for i in range(20))
        asks = tuple((round(ask + i * 0.01, 2), depth) for i in range(20))
        prev = self.venue.matching.last_price(symbol) or price
        self.venue.on_book(OrderBook("paper", symbol, now, bids, asks))
        self.venue.on_trade(
            TradePrint(
                "paper",
                symbol,
                now,
                round(price, 2),
                0.001,
                Side.BUY if price >= prev else Side.SELL,
            )
        )
        self.venue.on_ticker(Ticker("paper", symbol, now, bid, ask, round(price, 2), depth, depth))
        await self.settle()

    async def settle(self) -> None:
        assert self.engine.emulator is not None
        await self.engine.emulator.settle()


async def start_engine(
    settings: Settings | None = None, clock: FrozenClock | None = None
) -> Engine:
    # The paper feed never runs in the background: the test drives prices itself, so the
    # outcome cannot depend on how long start-up took.
    engine = manual_engine(settings or Settings(), clock=clock or FrozenClock())
    await engine.start()
    for task in engine._tasks:  # no background metrics loop: tests refresh explicitly
        task.cancel()
    return engine


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    eng = await start_engine()
    try:
        yield eng
    finally:
        await eng.stop()


@pytest.fixture
async def market(engine: Engine) -> Market:
    m = Market(engine)
    await m.price(3000.0)
    return m


def d(x: float | str) -> Decimal:
    return Decimal(str(x))
