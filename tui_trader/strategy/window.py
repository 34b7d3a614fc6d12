"""A strategy's rolling window of closed bars, kept in one float64 array."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.clock import utc
from tui_trader.core.market import Candle

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

COLUMNS = ("open", "high", "low", "close", "volume")


class BarWindow:
    """The newest `size` closed bars in time order, turned into a DataFrame on demand.

    One float64 array (48 bytes a bar, a sixth of a tuple of Python numbers) with room for
    `size` more: appending is a row write, and once the end is reached the newest bars are
    moved to the front. Timestamps are microseconds, exact in a float64 for millennia.

    `added` counts new newest bars, `edits` every other change (a corrected newest bar, an
    older one put in its place): state kept from the rows (rule_live.py's higher bars) is
    extended while only `added` moved, and built again when `edits` did.
    """

    __slots__ = ("_buf", "_end", "_start", "added", "edits", "size")

    def __init__(self, size: int) -> None:
        import numpy as np

        self.size = max(1, size)
        self._buf: np.ndarray = np.empty((2 * self.size, 6), dtype="float64")
        self._start = self._end = 0
        self.added = self.edits = 0

    def __len__(self) -> int:
        return self._end - self._start

    def add(self, candle: Candle) -> bool:
        """Add a closed bar. True for a new newest bar (the one to evaluate on); a corrected
        newest bar replaces it and an older one (a REST backfill after a reconnect, arriving
        after live bars) goes where it belongs: both return False."""
        ts = int(utc(candle.open_time).timestamp() * 1_000_000)
        row = (ts, candle.open, candle.high, candle.low, candle.close, candle.volume)
        if len(self) and ts <= self._buf[self._end - 1, 0]:
            self.edits += 1
            if ts == self._buf[self._end - 1, 0]:
                self._buf[self._end - 1] = row
            else:
                self._insert(ts, row)
            return False
        self._room()
        self._buf[self._end] = row
        self._end += 1
        self.added += 1
        if len(self) > self.size:
            self._start += 1
        return True

    def _room(self) -> None:
        """Make room for one more row at the end: move the live rows to the front."""
        if self._end == len(self._buf):
            n = len(self)
            self._buf[:n] = self._buf[self._start : self._end]
            self._start, self._end = 0, n

    def _insert(self, ts: int, row: tuple[float, ...]) -> None:
        import numpy as np

        stamps = self._buf[self._start : self._end, 0]
        at = int(np.searchsorted(stamps, ts))
        if at < len(stamps) and stamps[at] == ts:
            self._buf[self._start + at] = row
        elif len(self) < self.size:
            self._room()
            s = self._start
            self._buf[s + at + 1 : self._end + 1] = self._buf[s + at : self._end].copy()
            self._buf[s + at] = row
            self._end += 1
        elif at > 0:  # full: the oldest bar makes way (a bar older than all of them is dropped)
            s = self._start
            self._buf[s : s + at - 1] = self._buf[s + 1 : s + at].copy()
            self._buf[s + at - 1] = row

    def array(self) -> np.ndarray:
        """A copy of the bars: rows of (open time in µs, open, high, low, close, volume)."""
        return self._buf[self._start : self._end].copy()

    def rows(self) -> np.ndarray:
        """The bars as they are kept, not a copy: read them before the next bar is added."""
        return self._buf[self._start : self._end]

    def frame(self) -> pd.DataFrame:
        """The bars as a strategy's frame (date, open, high, low, close, volume): a copy."""
        from tui_trader.strategy.frames import candle_frame

        return candle_frame(self._buf[self._start : self._end])
