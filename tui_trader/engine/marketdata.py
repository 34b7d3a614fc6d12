"""Candles from the venues' trade prints, for strategies, signals and charts.

Every trade print (a reliable in-line bus handler sees them all, even when screens only get
the latest) is folded into bars; each bar is published once as a closed CandleEvent. A timer
closes bars whose time has passed without a new print, so a quiet market still closes bars.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tui_trader.core.events import CandleEvent, Event, TradeEvent
from tui_trader.strategy.candles import CandleBuilder
from tui_trader.venues.resilience import stop_tasks

if TYPE_CHECKING:
    from tui_trader.core.market import Candle
    from tui_trader.engine.ports import EnginePort

BASE_TIMEFRAMES = ("1m",)


class CandleFeed:
    def __init__(self, engine: EnginePort, timeframes: Iterable[str] = BASE_TIMEFRAMES) -> None:
        self.engine = engine
        self._timeframes = set(timeframes)
        self._builders: dict[str, CandleBuilder] = {}  # per venue: its prints make its own bars
        self._task: asyncio.Task[None] | None = None
        self.published = 0

    @property
    def timeframes(self) -> list[str]:
        return sorted(self._timeframes)

    def want(self, timeframes: Iterable[str]) -> None:
        """Also build these timeframes (strategies ask for theirs)."""
        new = set(timeframes) - self._timeframes
        if new:
            self._timeframes |= new
            self._builders.clear()  # bars restart at the next boundary

    def start(self) -> None:
        self.engine.bus.on(self._on_event, kinds={"trade"}, name="candle-feed")
        self._task = asyncio.create_task(self._flush_loop(), name="candle-flush")

    async def stop(self) -> None:
        self.engine.bus.off(self._on_event)
        await stop_tasks(self._task)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, TradeEvent):
            t = event.trade
            builder = self._builders.get(t.venue)
            if builder is None:
                builder = self._builders[t.venue] = CandleBuilder(self._timeframes)
            for candle in builder.add_trade(t.symbol, t.price, t.size, t.ts):
                self._publish(t.venue, candle)

    def flush(self) -> None:
        now = self.engine.clock.now()
        for venue, builder in list(self._builders.items()):
            for candle in builder.flush(now):
                self._publish(venue, candle)

    def forming(self, symbol: str, timeframe: str, venue: str | None = None) -> Candle | None:
        builder = self._builders.get(venue or self.engine.venue_for(symbol))
        return builder.forming(symbol, timeframe) if builder is not None else None

    def _publish(self, venue: str, candle: Candle) -> None:
        self.published += 1
        self.engine.bus.publish(CandleEvent(venue, candle))

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.flush()
