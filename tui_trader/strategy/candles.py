"""CandleBuilder: trade prints or 1m candles in, closed bars of any timeframe out (UTC-aligned)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tui_trader.core.clock import utc
from tui_trader.core.market import Candle
from tui_trader.strategy.timeframes import bar_start, timeframe_to_seconds


@dataclass(slots=True)
class _Bar:
    start: datetime
    end: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float

    def add(self, high: float, low: float, close: float, volume: float) -> None:
        self.high = max(self.high, high)
        self.low = min(self.low, low)
        self.close = close
        self.volume += volume

    def candle(self, symbol: str, timeframe: str, closed: bool) -> Candle:
        return Candle(
            symbol,
            timeframe,
            self.start,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            closed,
        )


class CandleBuilder:
    """Aggregates per symbol. Emits each bar once, when it closes; `forming()` shows the open one.

    A bar closes when a print or candle of a later bar arrives, when a source candle ends
    exactly at the bar's end, or when `flush(now)` passes its end. Bars without prints are
    not invented. Late prints (before the forming bar) are counted in `late` and dropped."""

    def __init__(self, timeframes: Iterable[str]) -> None:
        self.timeframes = sorted(set(timeframes), key=timeframe_to_seconds)
        if not self.timeframes:
            raise ValueError("CandleBuilder needs at least one timeframe")
        self._seconds = {tf: timeframe_to_seconds(tf) for tf in self.timeframes}
        self._bars: dict[tuple[str, str], _Bar] = {}
        self.late = 0

    def forming(self, symbol: str, timeframe: str) -> Candle | None:
        bar = self._bars.get((symbol, timeframe))
        return bar.candle(symbol, timeframe, closed=False) if bar else None

    def add_trade(self, symbol: str, price: float, size: float, ts: datetime) -> list[Candle]:
        ts = utc(ts)
        return self._add(symbol, ts, ts, price, price, price, price, size, source_s=0)

    def add_candle(self, candle: Candle) -> list[Candle]:
        """Fold a closed source candle (e.g. 1m) into every timeframe that is a multiple of it."""
        source_s = timeframe_to_seconds(candle.timeframe)
        start = utc(candle.open_time)
        return self._add(
            candle.symbol,
            start,
            start + timedelta(seconds=source_s),
            candle.open,
            candle.high,
            candle.low,
            candle.close,
            candle.volume,
            source_s=source_s,
        )

    def flush(self, now: datetime) -> list[Candle]:
        """Close every forming bar whose end time has passed (call on a timer)."""
        now = utc(now)
        out = []
        for (symbol, tf), bar in list(self._bars.items()):
            if bar.end <= now:
                out.append(bar.candle(symbol, tf, closed=True))
                del self._bars[(symbol, tf)]
        return out

    def _add(
        self,
        symbol: str,
        start: datetime,
        end: datetime,
        o: float,
        h: float,
        lo: float,
        c: float,
        v: float,
        *,
        source_s: int,
    ) -> list[Candle]:
        out: list[Candle] = []
        for tf in self.timeframes:
            seconds = self._seconds[tf]
            if source_s and (seconds < source_s or seconds % source_s):
                continue
            key = (symbol, tf)
            bar = self._bars.get(key)
            if bar is not None and start < bar.start:
                self.late += 1
                continue
            if bar is not None and start >= bar.end:
                out.append(bar.candle(symbol, tf, closed=True))
                bar = None
            if bar is None:
                begin = bar_start(start, seconds)
                bar = _Bar(begin, begin + timedelta(seconds=seconds), o, h, lo, c, v)
                self._bars[key] = bar
            else:
                bar.add(h, lo, c, v)
            if source_s and end >= bar.end:
                out.append(bar.candle(symbol, tf, closed=True))
                del self._bars[key]
        return out
