"""A strategy's rolling window of closed bars, kept in one float64 array."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.clock import utc
from tui_trader.core.market import Candle

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    import pandas as pd

COLUMNS = ("open", "high", "low", "close", "volume")


class BarWindow:
    """The newest `size` closed bars in time order, turned into a DataFrame on demand.

    One float64 array (48 bytes a bar, a sixth of a tuple of Python numbers) with room for
    `size` more: appending is a row write, and once the end is reached the newest bars are
    moved to the front. Timestamps are microseconds, exact in a float64 for millennia. The
    array is kept a column at a time (shape (6, 2 * size)): a price column an indicator reads
    is contiguous where it is, no copy, and `rows()` is the same bars seen as rows.

    `added` counts new newest bars, `edits` every other change (a corrected newest bar, an
    older one put in its place): state kept from the rows (rule_live.py's higher bars) is
    extended while only `added` moved, and built again when `edits` did.
    """

    __slots__ = ("_buf", "_end", "_snapshot", "_start", "added", "edits", "size")

    def __init__(self, size: int) -> None:
        import numpy as np

        self.size = max(1, size)
        self._buf: np.ndarray = np.empty((6, 2 * self.size), dtype="float64")
        self._start = self._end = 0
        self.added = self.edits = 0
        self._snapshot: _Snapshot | None = None

    def __len__(self) -> int:
        return self._end - self._start

    def add(self, candle: Candle) -> bool:
        """Add a closed bar. True for a new newest bar (the one to evaluate on); a corrected
        newest bar replaces it and an older one (a REST backfill after a reconnect, arriving
        after live bars) goes where it belongs: both return False."""
        ts = int(utc(candle.open_time).timestamp() * 1_000_000)
        row = (ts, candle.open, candle.high, candle.low, candle.close, candle.volume)
        if len(self) and ts <= self._buf[0, self._end - 1]:
            self.edits += 1
            if ts == self._buf[0, self._end - 1]:
                self._touch(self._end - 1, self._end)
                self._buf[:, self._end - 1] = row
            else:
                self._insert(ts, row)
            return False
        self._room()
        self._touch(self._end, self._end + 1)
        self._buf[:, self._end] = row
        self._end += 1
        self.added += 1
        if len(self) > self.size:
            self._start += 1
        return True

    def _room(self) -> None:
        """Make room for one more row at the end: move the live rows to the front."""
        if self._end == self._buf.shape[1]:
            n = len(self)
            self._touch(0, n)
            self._buf[:, :n] = self._buf[:, self._start : self._end]
            self._start, self._end = 0, n

    def _insert(self, ts: int, row: tuple[float, ...]) -> None:
        import numpy as np

        stamps = self._buf[0, self._start : self._end]
        at = int(np.searchsorted(stamps, ts))
        if at < len(stamps) and stamps[at] == ts:
            self._touch(self._start + at, self._start + at + 1)
            self._buf[:, self._start + at] = row
        elif len(self) < self.size:
            self._room()
            s = self._start
            self._touch(s + at, self._end + 1)
            self._buf[:, s + at + 1 : self._end + 1] = self._buf[:, s + at : self._end].copy()
            self._buf[:, s + at] = row
            self._end += 1
        elif at > 0:  # full: the oldest bar makes way (a bar older than all of them is dropped)
            s = self._start
            self._touch(s, s + at)
            self._buf[:, s : s + at - 1] = self._buf[:, s + 1 : s + at].copy()
            self._buf[:, s + at - 1] = row

    def array(self) -> np.ndarray:
        """A copy of the bars: rows of (open time in µs, open, high, low, close, volume)."""
        return self.rows().copy()

    def rows(self) -> np.ndarray:
        """The bars as they are kept, not a copy: read them before the next bar is added.
        Rows of (open time in µs, open, high, low, close, volume); each column contiguous."""
        return self._buf[:, self._start : self._end].T

    def later(self) -> Callable[[], np.ndarray]:
        """The bars as they are now, copied only when asked for, or just before a write to
        the buffer would change them (a new bar lands after them: no copy; the buffer moves
        its rows to the front over them, or a bar among them is corrected: a copy first).
        For the live runner's analysed frame, built only if a callback asks (most bars,
        nothing does). Only the newest one made is looked after: make it, hand it on, and
        let the one before go."""
        snapshot = self._snapshot = _Snapshot(self, self._start, self._end)
        return snapshot

    def _touch(self, lo: int, hi: int) -> None:
        """Columns lo..hi of the buffer are about to be written: a snapshot reading any of
        them takes its copy first."""
        snapshot = self._snapshot
        if snapshot is not None and lo < snapshot.end and snapshot.start < hi:
            snapshot.keep()
            self._snapshot = None

    def frame(self) -> pd.DataFrame:
        """The bars as a strategy's frame (date, open, high, low, close, volume): a copy."""
        from tui_trader.strategy.frames import candle_frame

        return candle_frame(self.rows())


class _Snapshot:
    """BarWindow.later's answer: the window's bars at the time it was made."""

    __slots__ = ("_rows", "_window", "end", "start")

    def __init__(self, window: BarWindow, start: int, end: int) -> None:
        self._window: BarWindow | None = window
        self._rows: np.ndarray | None = None
        self.start, self.end = start, end

    def keep(self) -> None:
        window = self._window
        if window is not None:
            self._rows, self._window = window._buf[:, self.start : self.end].T.copy(), None

    def __call__(self) -> np.ndarray:
        self.keep()
        assert self._rows is not None
        return self._rows
