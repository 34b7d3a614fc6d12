"""First exits of many candidate entries at once: `kernel.find_exit` over a 2-D window.

The per-trade kernel pays ~50 µs of Python and NumPy call overhead per trade; a year of
1-minute bars gives thousands of trades per backtest and an optimizer runs a thousand
backtests. Here every candidate entry of one symbol is a row, the bars after its entry are
columns, and each window (doubling, as in the kernel) is searched for all still-open rows in
a few array operations. The rules, their order inside a bar and the arithmetic are the
kernel's, element for element, so results are bit-identical (tests/backtest/
test_backtest_parity.py checks both against the live runner's bar-by-bar `evaluate_exit`).

It needs the entry price before the stake is known, so the simulation uses it when slippage
does not depend on the quantity (no volume-aware slippage) and no per-bar Python hook
decides exits (see `reference.needs_reference`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_trader.backtest.kernel import (
    _FIRST_WINDOW,
    _NS_PER_MINUTE,
    EXIT_SIGNAL,
    FORCE_EXIT,
    ROI,
    STOP_LOSS,
    TRAILING_STOP_LOSS,
    MarketArrays,
    trailing_stops,
)
from tui_trader.backtest.rules import ExitRules

REASONS: tuple[str, ...] = (STOP_LOSS, TRAILING_STOP_LOSS, ROI, EXIT_SIGNAL, FORCE_EXIT)
_STOP, _TRAIL, _ROI, _SIGNAL, _FORCE = range(len(REASONS))
_MAX_CELLS = 1 << 20  # rows x window columns per step: bounds the temporary arrays (~8 MB each)


@dataclass(frozen=True, slots=True)
class ExitArrays:
    """Per candidate: exit bar, raw exit price (before slippage), reason code, at the open."""

    bar: np.ndarray  # int64
    price: np.ndarray  # float64
    reason: np.ndarray  # int8 index into REASONS
    at_open: np.ndarray  # bool

    def reason_name(self, i: int) -> str:
        return REASONS[int(self.reason[i])]


def signal_bars(fills: np.ndarray, entries: np.ndarray, shift: int) -> np.ndarray:
    """Fill bar of the first exit signal decided on or after each entry candle (-1: none)."""
    k = np.searchsorted(fills, entries + shift, side="left")
    out = np.full(len(entries), -1, dtype=np.int64)
    have = k < len(fills)
    out[have] = fills[k[have]]
    return out


def find_exits(
    m: MarketArrays,
    entries: np.ndarray,
    sides: np.ndarray,
    prices: np.ndarray,
    rules: ExitRules,
    signal: np.ndarray,
    roi_blocked: tuple[np.ndarray, np.ndarray] | None = None,
) -> ExitArrays:
    """`kernel.find_exit` for every (entry bar, side, entry price, signal bar or -1) row.

    `roi_blocked` is (long flags, short flags) per bar when ignore_roi_if_entry_signal is on.
    """
    count = len(entries)
    out = ExitArrays(
        bar=np.empty(count, dtype=np.int64),
        price=np.empty(count, dtype=np.float64),
        reason=np.empty(count, dtype=np.int8),
        at_open=np.zeros(count, dtype=bool),
    )
    for long in (True, False):
        rows = np.flatnonzero(sides > 0) if long else np.flatnonzero(sides < 0)
        if len(rows):
            blocked = None if roi_blocked is None else roi_blocked[0 if long else 1]
            _search(m, entries[rows], prices[rows], signal[rows], long, rules, blocked, out, rows)
    return out


def _search(
    m: MarketArrays,
    e: np.ndarray,
    entry: np.ndarray,
    signal: np.ndarray,
    long: bool,
    rules: ExitRules,
    blocked: np.ndarray | None,
    out: ExitArrays,
    rows: np.ndarray,
) -> None:
    """Fill `out[rows]` for candidates of one side, window by window."""
    n = len(m.open)
    has_signal = signal >= 0
    # a signal fills at its bar's open, before anything inside that bar: search up to the bar
    # before it (the kernel masks the signal bar, the same thing)
    limit = np.where(has_signal, np.minimum(signal, n) - 1, n - 1)
    dist = abs(rules.stoploss)
    initial = entry * (1.0 - dist) if long else entry * (1.0 + dist)
    ctx = _Context(m, long, rules, blocked, entry, initial, m.time[e] - m.bar_ns, out, rows)
    ctx.stop_prev = initial.copy()
    ctx.best_prev = entry.copy()
    a = e.copy()
    live = np.flatnonzero(a <= limit)  # positions (into this side's arrays) still searching
    size = _FIRST_WINDOW
    while len(live):
        found = np.zeros(len(live), dtype=bool)
        for part in np.array_split(
            np.arange(len(live)), max(1, -(-len(live) * size // _MAX_CELLS))
        ):
            found[part] = ctx.window(live[part], a, limit, size)
        live = live[~found]
        a[live] += size
        size *= 2
        live = live[a[live] <= limit[live]]
    # rows whose search passed `limit` without a hit: the signal fills, or the data ends
    pending = np.flatnonzero(out.bar[rows] < 0)
    if len(pending):
        sig = signal[pending]
        idx = rows[pending]
        filled = sig >= 0
        out.bar[idx] = np.where(filled, sig, n - 1)
        out.price[idx] = np.where(filled, m.open[np.maximum(sig, 0)], m.close[n - 1])
        out.reason[idx] = np.where(filled, _SIGNAL, _FORCE)
        out.at_open[idx] = filled


class _Context:
    """What every window of one side's search shares (and the trailing state it carries)."""

    def __init__(
        self,
        m: MarketArrays,
        long: bool,
        rules: ExitRules,
        blocked: np.ndarray | None,
        entry: np.ndarray,
        initial: np.ndarray,
        roi_origin: np.ndarray,
        out: ExitArrays,
        rows: np.ndarray,
    ) -> None:
        self.m, self.long, self.rules, self.blocked = m, long, rules, blocked
        self.entry, self.initial, self.roi_origin = entry, initial, roi_origin
        self.out, self.rows = out, rows
        self.stop_prev = initial
        self.best_prev = entry
        out.bar[rows] = -1
        steps = rules.roi_minutes
        # one ROI step from minute 0 (or none): the target does not depend on the bar's time
        self.flat_roi = blocked is None and (len(steps) == 0 or (len(steps) == 1 and steps[0] <= 0))
        self.no_roi = len(steps) == 0
        # with sane candles (low <= open, close <= high) a close beyond the fixed stop means the
        # low (high) reached it first: the close check can only decide with a trailing stop
        self.close_check = rules.trailing_stop or not _sane(m)

    def window(self, part: np.ndarray, a: np.ndarray, limit: np.ndarray, size: int) -> np.ndarray:
        """Search `size` bars from a[part]; records rows that exit there, returns which did."""
        m, long, rules = self.m, self.long, self.rules
        cols = a[part, None] + np.arange(size)
        valid = cols <= limit[part, None]
        np.minimum(cols, len(m.open) - 1, out=cols)
        h, lo = m.high[cols], m.low[cols]
        ent = self.entry[part, None]
        if rules.trailing_stop:
            # past `limit` the columns are masked; rows that reach it leave the search
            if long:
                best = np.maximum.accumulate(np.maximum(h, self.best_prev[part, None]), axis=1)
            else:
                best = np.minimum.accumulate(np.minimum(lo, self.best_prev[part, None]), axis=1)
            after = trailing_stops(ent, long, best, rules)  # type: ignore[arg-type]
            if long:
                after = np.maximum.accumulate(np.maximum(after, self.stop_prev[part, None]), axis=1)
            else:
                after = np.minimum.accumulate(np.minimum(after, self.stop_prev[part, None]), axis=1)
            before = np.empty_like(after)
            before[:, 0] = self.stop_prev[part]
            before[:, 1:] = after[:, :-1]
            self.stop_prev[part] = after[:, -1]
            self.best_prev[part] = best[:, -1]
        else:
            after = before = np.broadcast_to(self.initial[part, None], cols.shape)
        if self.no_roi:
            roi = np.full((len(part), 1), np.nan)
        elif self.flat_roi:
            roi = np.full((len(part), 1), float(rules.roi_values[0]))
        else:
            roi = rules.roi_at((m.time[cols] - self.roi_origin[part, None]) / _NS_PER_MINUTE)
            if self.blocked is not None:
                roi = np.where(self.blocked[cols], np.nan, roi)
        c = m.close[cols] if self.close_check else None
        with np.errstate(invalid="ignore"):
            if long:
                target = ent * (1.0 + roi)
                stop_hit = lo <= before
                roi_hit = h >= target
                close_hit = c <= after if c is not None else None
            else:
                target = ent * (1.0 - roi)
                stop_hit = h >= before
                roi_hit = lo <= target
                close_hit = c >= after if c is not None else None
        hit = stop_hit | roi_hit
        if close_hit is not None:
            hit |= close_hit
        hit &= valid
        k = hit.argmax(axis=1)
        r = np.arange(len(part))
        got = np.flatnonzero(hit[r, k])
        found = np.zeros(len(part), dtype=bool)
        if not len(got):
            return found
        found[got] = True
        k, r = k[got], r[got]
        bar = a[part[got]] + k
        idx = self.rows[part[got]]
        ok = m.open[bar]
        s_hit, t_hit = stop_hit[r, k], roi_hit[r, k]
        level = before[r, k]
        tgt = np.broadcast_to(target, cols.shape)[r, k]
        init = self.initial[part[got]]
        stop_price = np.minimum(ok, level) if long else np.maximum(ok, level)
        roi_price = np.maximum(ok, tgt) if long else np.minimum(ok, tgt)
        close_price = m.close[bar]
        close_level = after[r, k]
        price = np.where(s_hit, stop_price, np.where(t_hit, roi_price, close_price))
        stop_level = np.where(s_hit, level, close_level)
        moved = np.abs(stop_level - init) > 1e-12 * np.maximum(1.0, np.abs(init))
        out = self.out
        out.bar[idx] = bar
        out.price[idx] = price
        out.reason[idx] = np.where(
            s_hit | ~t_hit, np.where(moved, _TRAIL, _STOP), _ROI
        ).astype(np.int8)
        out.at_open[idx] = np.where(s_hit | t_hit, price == ok, False)
        return found


def _sane(m: MarketArrays) -> bool:
    """Every bar's low is at or below its close and its high at or above it."""
    return bool((m.low <= m.close).all() and (m.high >= m.close).all())
