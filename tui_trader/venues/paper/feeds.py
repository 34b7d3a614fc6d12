"""Where the paper exchange's prices come from: the simulator, a replayed OHLCV file, or
(with a real venue adapter) a live stream. The matching engine does not care which."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from tui_trader.core.clock import Clock, FrozenClock
from tui_trader.core.enums import Side
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import OrderBook, Ticker, TradePrint
from tui_trader.venues.paper.path import BLOCK_SECONDS, PricePath
from tui_trader.venues.paper.simulator import MarketSimulator

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
# The path is computed a week at a time (~5 ms a symbol). The next week is computed in a thread
# this long before it starts, so crossing into it (always at a candle close: 00:00 UTC) holds
# neither the quotes nor the candle's orders on the event loop.
WARM_AHEAD_S = 600.0


class MarketSink(Protocol):
    def on_book(self, book: OrderBook) -> None: ...

    def on_trade(self, trade: TradePrint) -> None: ...

    def on_ticker(self, ticker: Ticker) -> None: ...


class PriceSource(Protocol):
    async def run(self, sink: MarketSink) -> None:
        """Feed the sink until cancelled."""

    def step(self, sink: MarketSink) -> bool:
        """Feed one step synchronously (tests, benchmarks); False when exhausted."""


class SimulatedSource:
    def __init__(self, sim: MarketSimulator, clock: Clock, interval_s: float) -> None:
        self.sim = sim
        self.clock = clock
        self.interval_s = interval_s
        self._warmed = -1  # the week last computed ahead
        self._warming: asyncio.Future[None] | None = None

    def step(self, sink: MarketSink) -> bool:
        now = self.clock.now()
        for symbol in self.sim.symbols:
            book, trades, ticker = self.sim.step(symbol, now)
            sink.on_book(book)
            for trade in trades:
                sink.on_trade(trade)
            sink.on_ticker(ticker)
        return True

    async def run(self, sink: MarketSink) -> None:
        """A step every `interval_s`, never two closer than half of that. Late by more than
        half an interval (a busy machine, a suspended laptop), the step is taken at once and the
        next ones follow from then: steps made to catch up would all read the same clock, so
        they would only send the same market again, in a burst. Later by less, the schedule
        holds (a timer's usual lateness does not slow the feed down)."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        try:
            while True:
                due = max(due, loop.time() - self.interval_s / 2)
                self.warm_ahead()
                self.step(sink)
                due += self.interval_s
                await asyncio.sleep(due - loop.time())
        finally:
            if self._warming is not None:
                self._warming.cancel()  # the thread finishes its week; nothing waits for it

    def warm_ahead(self) -> asyncio.Future[None] | None:
        """Within WARM_AHEAD_S of the next week of the path, compute it for every symbol in a
        thread (once); returns that work while it runs."""
        ts = self.clock.now().timestamp()
        week = int(ts // BLOCK_SECONDS) + 1
        if week != self._warmed and week * BLOCK_SECONDS - ts <= WARM_AHEAD_S:
            self._warmed = week
            paths = [self.sim.path(symbol) for symbol in self.sim.symbols]
            self._warming = asyncio.ensure_future(asyncio.to_thread(_warm, paths, week))
            self._warming.add_done_callback(_log_failure)
        return self._warming if self._warming is not None and not self._warming.done() else None


def _warm(paths: Sequence[PricePath], week: int) -> None:
    for path in paths:
        path.warm(week)


def _log_failure(done: asyncio.Future[None]) -> None:
    """A week that could not be computed ahead is computed when first quoted, as before."""
    if not done.cancelled() and done.exception() is not None:
        log.warning("the paper market's next week could not be computed ahead: %s", done.exception())


class ReplaySource:
    """Replays OHLCV candles: each bar becomes four prints (open, high/low, low/high, close)
    with a thin synthetic book around each price. The clock follows the data's timestamps."""

    def __init__(
        self,
        frame: pd.DataFrame,
        instrument: Instrument,
        clock: FrozenClock,
        *,
        bars_per_second: float = 20.0,
        spread_bps: float = 2.0,
        depth: float = 1_000.0,
    ) -> None:
        self.instrument = instrument
        self.clock = clock
        self.bars_per_second = bars_per_second
        self.spread_bps = spread_bps
        self.depth = depth
        self._rows = frame[["date", "open", "high", "low", "close", "volume"]].itertuples(index=False)
        self._open_24h: float | None = None
        self._volume = 0.0

    def step(self, sink: MarketSink) -> bool:
        row = next(self._rows, None)
        if row is None:
            return False
        date, o, h, low, c, v = row
        ts = date.to_pydatetime() if hasattr(date, "to_pydatetime") else date
        ts = ts.astimezone(UTC)
        self.clock.set(ts)
        if self._open_24h is None:
            self._open_24h = float(o)
        path = (o, low, h, c) if abs(o - low) < abs(h - o) else (o, h, low, c)
        prev = float(o)
        for price in path:
            price = float(price)
            side = Side.BUY if price >= prev else Side.SELL
            book = self._book(price, ts)
            sink.on_book(book)
            size = max(float(self.instrument.lot_size), float(v) / 4)
            self._volume += size
            sink.on_trade(TradePrint(self.instrument.venue, self.instrument.symbol, ts, price, size, side))
            prev = price
        sink.on_ticker(
            Ticker(
                self.instrument.venue,
                self.instrument.symbol,
                ts,
                book.bids[0][0],
                book.asks[0][0],
                float(c),
                book.bids[0][1],
                book.asks[0][1],
                self._open_24h,
                self._volume,
            )
        )
        return True

    def _book(self, price: float, ts: datetime) -> OrderBook:
        tick = float(self.instrument.tick_size)
        half = max(tick, price * self.spread_bps / 2e4)
        nd = self.instrument.price_decimals
        bids = tuple((round(price - half - i * tick, nd), self.depth) for i in range(20))
        asks = tuple((round(price + half + i * tick, nd), self.depth) for i in range(20))
        return OrderBook(self.instrument.venue, self.instrument.symbol, ts, bids, asks)

    async def run(self, sink: MarketSink) -> None:
        interval = 1.0 / self.bars_per_second
        while self.step(sink):
            await asyncio.sleep(interval)
