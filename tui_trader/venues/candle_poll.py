"""Candles from a venue that streams none, read from its history: OANDA (its v20 streams carry
prices and transactions only; bars come from GET /v3/instruments/{name}/candles) and
Interactive Brokers (quotes streamed; bars from reqHistoricalData).

The venue's `candles` timeframes (`candles = ["1m"]`) become closed bars as ccxt's and
Alpaca's streams give them: each series (symbol, timeframe) is read at each of its bars'
close (`settle_s` after it, the venue's bar then complete), from the bar after the last one
it gave. That one read is the backfill too: while the venue is down nothing is read (`up`);
once it is back (`read` from the venue's recovery hook) the bars missed since the last one
given are read back page after page (`candle_pages.read_back`), in order, and only then does
the series go on: the reads of a series are one at a time, so no newer bar ever comes before
the outage's. What a read cannot give back (it failed after the venue's own retries, the
pages ran out, the venue answered only its newest) is kept as a hole and said
(`backfill.say`): a strategy reads no signal from a window with one (engine/candle_holes.py),
and the series goes on after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterable
from datetime import UTC, datetime

from tui_trader.core.clock import Clock
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import CandleEvent, Event
from tui_trader.core.market import Candle
from tui_trader.strategy.timeframes import timeframe_to_seconds
from tui_trader.venues import backfill, candle_pages

log = logging.getLogger(__name__)

Fetch = Callable[[str, str, datetime, int], Awaitable[list[Candle]]]  # (symbol, timeframe, since, limit)
PAGES = 20  # pages read back after an outage at the most: the newest (those a strategy reads)
LONGEST_S = 3600  # bars up to an hour lie on the clock's grid; longer ones the venue aligns its own way


def polled_timeframes(venue: str, wanted: Iterable[str], served: Collection[str]) -> list[str]:
    """The `candles` timeframes, each one the venue serves and at most an hour long (a venue's 4h
    and daily bars begin at its own hour: OANDA's at 17:00 New York); else a ConfigError."""
    wanted = list(dict.fromkeys(wanted))
    bad = [tf for tf in wanted if tf not in served or timeframe_to_seconds(tf) > LONGEST_S]
    if bad:
        ok = [tf for tf in served if timeframe_to_seconds(tf) <= LONGEST_S]
        raise ConfigError(f"venues.{venue}.candles: {', '.join(bad)} not streamed here; use {', '.join(ok)}")
    return wanted


class PolledCandles:
    """The closed bars of the venue's `candles` series, read from its history (`fetch`)."""

    def __init__(
        self,
        venue: str,
        clock: Clock,
        fetch: Fetch,
        emit: Callable[[Event], None],
        up: Callable[[], bool],
        *,
        limit: Callable[[str], int],
        sparse: bool = False,
        settle_s: float = 2.0,
    ) -> None:
        self.venue = venue
        self.clock = clock
        self.holes: deque[backfill.Hole] = deque(maxlen=100)
        self._fetch = fetch
        self._emit = emit
        self._up = up
        self._limit = limit  # the most one request answers, per timeframe
        self._sparse = sparse  # no bar for a period without prices (OANDA): an empty window is quiet
        self._settle_s = settle_s
        self._timeframes: list[str] = []
        self._last: dict[tuple[str, str], int] = {}  # series -> open (ms) of the last closed bar given
        self._lock = asyncio.Lock()

    def want(self, symbols: Iterable[str], timeframes: Iterable[str]) -> None:
        """Read these series from now on: each from its newest closed bar (the history before it
        is the strategies' warm-up, asked for on their own)."""
        self._timeframes = sorted({*self._timeframes, *timeframes}, key=timeframe_to_seconds)
        for tf in self._timeframes:
            tf_ms = timeframe_to_seconds(tf) * 1000
            for symbol in symbols:
                self._last.setdefault((symbol, tf), self._present(tf_ms) - tf_ms)

    def _present(self, tf_ms: int) -> int:
        """The open (ms) of the newest closed bar of a timeframe."""
        now_ms = int(self.clock.now().timestamp() * 1000)
        return now_ms - now_ms % tf_ms - tf_ms

    async def run(self) -> None:
        """Each bar's close (of the shortest timeframe), `settle_s` after it: every series read
        on from its last bar, while the venue is up."""
        while self._timeframes:
            step = timeframe_to_seconds(self._timeframes[0])
            now = self.clock.now().timestamp()
            await asyncio.sleep(step - now % step + self._settle_s)
            try:
                await self.read()
            except Exception:  # an answer read wrong: said in the log, the next close read again
                log.exception("%s: candles not read", self.venue)

    async def read(self) -> None:
        """Every series read on from its last bar given, up to its newest closed bar; nothing
        while the venue is down (back, its recovery reads)."""
        if not self._up():
            return
        async with self._lock:
            for (symbol, tf), last in list(self._last.items()):
                await self._read_series(symbol, tf, last)

    async def _read_series(self, symbol: str, tf: str, last: int) -> None:
        tf_ms = timeframe_to_seconds(tf) * 1000
        present = self._present(tf_ms)
        if present <= last:
            return
        got: dict[int, Candle] = {}

        async def fetch(since: int, n: int) -> list[candle_pages.Row]:
            candles = await self._fetch(symbol, tf, datetime.fromtimestamp(since / 1000, UTC), n)
            rows = []
            for c in candles:
                ms = int(c.open_time.timestamp() * 1000)
                if c.closed and ms <= present:  # the forming bar is read at its close
                    got[ms] = c
                    rows.append([ms, c.open, c.high, c.low, c.close, c.volume])
            return rows

        back = await candle_pages.read_back(
            fetch, last_ms=last, present_ms=present, tf_ms=tf_ms, limit=self._limit(tf), pages=PAGES,
            on_grid=not tf.endswith(("M", "w")), sparse=self._sparse,
        )  # fmt: skip
        for row in back.rows:
            self._emit(CandleEvent(self.venue, got[int(row[0])]))
        newest = int(back.rows[-1][0]) if back.rows else last
        for gap in back.gaps:
            end = min(gap.end_ms, present + tf_ms)
            if end > gap.start_ms:
                what = f"{tf} candles"
                hole = backfill.Hole(self.venue, symbol, what, gap.start_ms, end, len(back.rows), why=gap.why)
                backfill.say(hole, self.holes, self._emit, self.clock.now())
            if end >= present + tf_ms:  # the rest of the gap said: the series goes on after it
                newest = max(newest, present)
        self._last[(symbol, tf)] = newest
