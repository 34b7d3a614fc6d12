"""One `@TF`'s bars of a strategy's window, kept up to date as the window moves.

A rule naming `close@1h` needs the window's 1h bars (rules.resample_arrays). Built from the
whole window at every candle, that is most of a live evaluation's cost; here they are kept:
a new candle updates the newest higher bar (or starts one), a candle leaving the window at
its front updates the oldest (or removes it), and only those two are computed again, from
their own candles, with the ufuncs resample_arrays uses (`reduceat` on the bucket's candles:
the same float64 results bit for bit; np.sum would add in another order). Anything else that
changed the window (a corrected bar, one inserted in the past: BarWindow.edits) builds them
again from all of it. tests/strategy/test_strategy_higher_bars.py compares them with
resample_arrays after every kind of change.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tui_trader.strategy.rules import resample_arrays
from tui_trader.strategy.timeframes import timeframe_to_seconds

OHLCV = ("open", "high", "low", "close", "volume")


class HigherBars:
    """The `timeframe` bars of a window's rows (open time µs, open, high, low, close, volume):
    bucket opens in epoch ns, their OHLCV columns (contiguous views, no copy), and how many of
    the window's candles each one holds."""

    def __init__(self, timeframe: str) -> None:
        seconds = timeframe_to_seconds(timeframe)
        self.step = seconds * 1_000_000_000
        self.origin = 0 if seconds % 604_800 else 4 * 86_400 * 1_000_000_000  # as resample_arrays
        self.timeframe = timeframe
        self._opens = np.empty(0, dtype=np.int64)
        self._cols = np.empty((5, 0), dtype=np.float64)
        self._counts = np.empty(0, dtype=np.int64)
        self._start = self._end = 0
        self._views: tuple[int, int, np.ndarray, dict[str, np.ndarray]] | None = None  # columns()'s, kept
        self.rows = 0  # candles of the window these bars were made from

    def __len__(self) -> int:
        return self._end - self._start

    # -- what a rule reads ----------------------------------------------------------------

    def opens(self) -> np.ndarray:
        return self._opens[self._start : self._end]

    def columns(self) -> dict[str, np.ndarray]:
        """Each OHLCV column of the bars (views: they follow the bars' values in place; the
        dict is the caller's)."""
        s, e, cols = self._start, self._end, self._cols
        views = self._views
        if views is None or views[0] != s or views[1] != e or views[2] is not cols:
            views = self._views = (s, e, cols, {name: cols[i, s:e] for i, name in enumerate(OHLCV)})
        return dict(views[3])

    def closed_by(self, times_ns: list[int], lag_ns: int) -> list[int]:
        """For each time (epoch ns), the position of the last bar whose open + `lag_ns` is at
        or before it (-1: none): `np.searchsorted(opens() + lag_ns, times, "right") - 1`,
        looked for from the newest bar back (the times are the window's newest candles: a
        step or two)."""
        opens, start = self._opens, self._start
        out = []
        for t in times_ns:
            at, limit = self._end - 1, t - lag_ns
            while at >= start and opens[at] > limit:
                at -= 1
            out.append(at - start)
        return out

    # -- keeping them ---------------------------------------------------------------------

    def rebuild(self, rows: np.ndarray) -> None:
        """From all of the window's rows (the way resample_arrays does it, which it calls)."""
        n = len(rows)
        times = rows[:, 0].astype(np.int64) * 1000
        cols = dict(zip(OHLCV, np.array(rows[:, 1:6].T, order="C", copy=True), strict=True))
        opens, higher = resample_arrays(times, cols, self.timeframe)
        m = len(opens)
        self._alloc(max(16, 2 * m))
        self._opens[:m] = opens
        for i, name in enumerate(OHLCV):
            self._cols[i, :m] = higher[name]
        if m:
            starts = np.flatnonzero(np.diff((times - self.origin) // self.step, prepend=-1 << 62))
            self._counts[:m] = np.diff(np.append(starts, n))
        self._start, self._end = 0, m
        self.rows = n

    def advance(self, rows: np.ndarray, new: int) -> None:
        """The window's rows now, after `new` candles were added at its end (and as many as
        it had to let go left at its front): the bars follow."""
        n = len(rows)
        gone = self.rows + new - n
        if new < 0 or gone < 0 or new > n:
            raise ValueError(f"{new} new rows do not lead from {self.rows} rows to {n}")
        first_dirty, touched = False, 0  # the oldest bar changed; how many of the newest did
        while gone:  # candles that left at the front
            if not len(self):
                raise ValueError("more candles left the window than the bars hold")
            first = self._counts[self._start]
            if gone >= first:
                gone -= int(first)
                self._start += 1
            else:
                self._counts[self._start] = first - gone
                gone = 0
                first_dirty = True
        grown = -1  # the newest bar before, when the one new candle joined it
        for at in range(n - new, n):  # candles added at the end
            ts = int(rows[at, 0]) * 1000
            bucket = (ts - self.origin) // self.step
            if not len(self) or bucket != (int(self._opens[self._end - 1]) - self.origin) // self.step:
                self._push(bucket * self.step + self.origin)
                touched += 1
            elif new == 1 and self._counts[self._end - 1]:
                grown = self._end - 1
            touched = max(touched, 1)
            self._counts[self._end - 1] += 1
        self.rows = n
        if first_dirty and len(self):
            self._recompute(self._start, rows[: int(self._counts[self._start])])
        end = n
        for at in range(self._end - 1, self._end - 1 - touched, -1):
            begin = end - int(self._counts[at])
            if at == grown and not (first_dirty and at == self._start):
                self._grow(at, rows[begin:end])
            else:
                self._recompute(at, rows[begin:end])
            end = begin

    def _push(self, open_ns: int) -> None:
        if self._end == len(self._opens):
            m = len(self)
            if 2 * m >= len(self._opens):  # more than half full: twice the room
                opens, cols, counts = self._opens, self._cols, self._counts
                self._alloc(max(16, 2 * len(opens)))
                self._opens[:m] = opens[self._start : self._end]
                self._cols[:, :m] = cols[:, self._start : self._end]
                self._counts[:m] = counts[self._start : self._end]
            else:  # the live bars to the front
                self._opens[:m] = self._opens[self._start : self._end].copy()
                self._cols[:, :m] = self._cols[:, self._start : self._end].copy()
                self._counts[:m] = self._counts[self._start : self._end].copy()
            self._start, self._end = 0, m
        self._opens[self._end] = open_ns
        self._counts[self._end] = 0
        self._end += 1

    def _alloc(self, size: int) -> None:
        self._opens = np.empty(size, dtype=np.int64)
        self._cols = np.empty((5, size), dtype=np.float64)
        self._counts = np.empty(size, dtype=np.int64)

    def _grow(self, at: int, rows: np.ndarray) -> None:
        """One bar that one candle (the last of `rows`, its candles) has just joined: its high and
        low from what they were and the candle's, as np.maximum and np.minimum take them (a
        NaN wins: the same as over all of them), its close the candle's; its volume added up
        from all of them, as resample_arrays adds (the order of a sum changes its last bits)."""
        cols = self._cols
        _, _, high, low, close, _ = rows[-1].tolist()
        was_high, was_low = float(cols[1, at]), float(cols[2, at])
        cols[1, at] = was_high if was_high >= high or was_high != was_high else high
        cols[2, at] = was_low if was_low <= low or was_low != was_low else low
        cols[3, at] = close
        cols[4, at] = _reduce(np.add, rows[:, 5])
        self._counts[at] = len(rows)

    def _recompute(self, at: int, rows: np.ndarray) -> None:
        """One bar from its own candles, as resample_arrays computes it."""
        cols = self._cols
        cols[0, at] = rows[0, 1]
        cols[1, at] = _reduce(np.maximum, rows[:, 2])
        cols[2, at] = _reduce(np.minimum, rows[:, 3])
        cols[3, at] = rows[-1, 4]
        cols[4, at] = _reduce(np.add, rows[:, 5])
        self._counts[at] = len(rows)


_FIRST = np.zeros(1, dtype=np.intp)


def _reduce(ufunc: Any, values: np.ndarray) -> float:
    """`ufunc.reduceat` over one bucket: contiguous, as resample_arrays' columns are."""
    return float(ufunc.reduceat(np.ascontiguousarray(values), _FIRST)[0])
