"""First exits of many candidate entries at once, with Freqtrade's rules, in a few array passes.

A year of 1-minute bars gives thousands of trades per backtest and an optimizer runs a thousand
backtests, so exits are not found bar by bar in Python. Every candidate entry of one symbol is
a row, the bars after its entry are columns, and doubling windows of bars are searched for all
still-open rows at once. Per bar, in Freqtrade's order (`tui_trader.strategy.exits`):

1. an exit signal decided on an earlier candle fills at this bar's open (the search stops at
   the bar before it);
2. the stop, moved first by the trailing rule with this bar's high (low for shorts): a stop
   that never moved ranks first, filled at the stop (at the open when the whole bar is past it);
3. ROI: the profit at the high after both fees above the step for the whole minutes since the
   entry, filled at the price that makes that profit (clamped into the bar; at the open when a
   new step starts at an open already past it);
4. a trailing stop that moved: after ROI.

Stops are rounded to the month's price tick away from the position and every price to the
nearest tick (`tui_trader.strategy.precision`), as Freqtrade does. The per-bar Python path
(`reference.find_exit_reference`, the live rules themselves) gives the same exits: the tests
compare both on every candidate of several configurations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_trader.backtest.kernel import ExitFill, MarketArrays
from tui_trader.backtest.rules import ExitRules
from tui_trader.strategy.exits import EXIT_SIGNAL, FORCE_EXIT, ROI, STOP_LOSS, TRAILING_STOP_LOSS
from tui_trader.strategy.precision import round_down, round_nearest, round_up

REASONS: tuple[str, ...] = (STOP_LOSS, TRAILING_STOP_LOSS, ROI, EXIT_SIGNAL, FORCE_EXIT)
_STOP, _TRAIL, _ROI, _SIGNAL, _FORCE = range(len(REASONS))
_MAX_CELLS = 1 << 18  # rows x window columns per step: bounds the temporary arrays (~2 MB each)
_FIRST_WINDOW = 128  # at most
_MIN_WINDOW = 8
_NS_PER_MINUTE = 60_000_000_000


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
    *,
    fee: float = 0.0,
    timeframe_minutes: int | None = None,
    end: tuple[int, float] | None = None,
) -> ExitArrays:
    """The first exit of every (entry bar, side, entry price, signal fill bar or -1) row.

    `roi_blocked` is (long, short) flags per bar whose ROI is ignored
    (ignore_roi_if_entry_signal: the entry signal of the candle before). `fee` is the fee rate
    per side that ROI and the trailing offset are measured after. With finer candles
    (--timeframe-detail), `timeframe_minutes` is the strategy's timeframe (ROI steps start on
    its candles) and `end` the (bar, price) of the end-of-data exit (the last main open).
    """
    count = len(entries)
    out = ExitArrays(
        bar=np.full(count, -1, dtype=np.int64),
        price=np.empty(count, dtype=np.float64),
        reason=np.empty(count, dtype=np.int8),
        at_open=np.zeros(count, dtype=bool),
    )
    for long in (True, False):
        rows = np.flatnonzero(sides > 0) if long else np.flatnonzero(sides < 0)
        if len(rows):
            blocked = None if roi_blocked is None else roi_blocked[0 if long else 1]
            ctx = _Side(m, long, rules, blocked, entries[rows], prices[rows], fee, out, rows)
            if timeframe_minutes:
                ctx.tf_minutes = timeframe_minutes
            ctx.search(signal[rows], end)
    return out


class _Side:
    """The search for the candidates of one side, and the trailing state it carries."""

    def __init__(
        self,
        m: MarketArrays,
        long: bool,
        rules: ExitRules,
        blocked: np.ndarray | None,
        e: np.ndarray,
        entry: np.ndarray,
        fee: float,
        out: ExitArrays,
        rows: np.ndarray,
    ) -> None:
        self.m, self.long, self.rules, self.blocked = m, long, rules, blocked
        self.e, self.entry, self.out, self.rows = e, entry, out, rows
        self.tick = m.tick[e]
        # profit after both fees at price x: x * k - 1 (longs), 1 - x * k (shorts)
        self.k = (1.0 - fee) / (entry * (1.0 + fee)) if long else (1.0 + fee) / (entry * (1.0 - fee))
        self.roi_unit = entry * (1.0 + fee) / (1.0 - fee) if long else entry * (1.0 - fee) / (1.0 + fee)
        dist = abs(rules.stoploss)
        if long:
            self.initial = round_up(entry * (1.0 - dist), self.tick)
        else:
            self.initial = round_down(entry * (1.0 + dist), self.tick)
        self.stop_prev = self.initial.copy()
        self.pct_prev = np.full(len(e), dist)  # |ratio| behind the current stop (stop_loss_pct)
        steps = rules.roi_minutes
        self.no_roi = len(steps) == 0
        self.flat_roi = blocked is None and len(steps) == 1 and steps[0] <= 0
        self.tf_minutes = m.bar_ns // _NS_PER_MINUTE

    def profit(self, x: np.ndarray, part: np.ndarray) -> np.ndarray:
        k = self.k[part, None]
        return np.round(x * k - 1.0 if self.long else 1.0 - x * k, 8)

    def search(self, signal: np.ndarray, end: tuple[int, float] | None = None) -> None:
        m = self.m
        n = len(m.open)
        has_signal = signal >= 0
        # a signal fills at its bar's open, before anything inside that bar: search to the bar
        # before it; the data's last bar is searched (its exits come before the forced one)
        limit = np.where(has_signal, np.minimum(signal, n) - 1, n - 1)
        a = self.e.copy()
        live = np.flatnonzero(a <= limit)
        # the first window about as long as half the trades need (most wait for a signal a few
        # bars on): the windows only bound the work, the exits found are the same
        span = float(np.median(limit[live] - a[live])) + 1.0 if len(live) else 1.0
        size = min(_FIRST_WINDOW, max(_MIN_WINDOW, 1 << (int(span) - 1).bit_length()))
        while len(live):
            found = np.zeros(len(live), dtype=bool)
            pieces = max(1, -(-len(live) * size // _MAX_CELLS))
            for piece in np.array_split(np.arange(len(live)), pieces):
                found[piece] = self.window(live[piece], a, limit, size)
            live = live[~found]
            a[live] += size
            size *= 2
            live = live[a[live] <= limit[live]]
        out = self.out
        pending = np.flatnonzero(out.bar[self.rows] < 0)
        if len(pending):  # no rule fired before the limit: the signal fills, or the data ends
            sig = signal[pending]
            idx = self.rows[pending]
            filled = sig >= 0
            bar = np.where(filled, sig, n - 1 if end is None else end[0])
            out.bar[idx] = bar
            out.price[idx] = m.open[bar] if end is None else np.where(filled, m.open[bar], end[1])
            out.reason[idx] = np.where(filled, _SIGNAL, _FORCE)
            out.at_open[idx] = True

    def window(self, part: np.ndarray, a: np.ndarray, limit: np.ndarray, size: int) -> np.ndarray:
        """Search `size` bars from a[part]; records the rows that exit there, returns which."""
        m, long, rules = self.m, self.long, self.rules
        cols = a[part, None] + np.arange(size)
        valid = cols <= limit[part, None]
        np.minimum(cols, len(m.open) - 1, out=cols)
        h, lo = m.high[cols], m.low[cols]
        tick = self.tick[part, None]
        best = self.profit(h if long else lo, part)
        before, after, pct = self._stops(part, h, lo, best, tick)
        stop_hit = (after >= lo) if long else (after <= h)
        first = (before >= lo) if long else (before <= h)  # hit by the stop known before the bar
        moved = (before > self.initial[part, None]) if long else (before < self.initial[part, None])
        plain = stop_hit & first & ~moved  # a stop that never moved: ranks before ROI
        roi, step = (np.broadcast_to(x, cols.shape) for x in self._roi(part, cols))
        with np.errstate(invalid="ignore"):
            roi_hit = best > roi
        hit = (stop_hit | roi_hit) & valid
        k = hit.argmax(axis=1)
        r = np.arange(len(part))
        got = np.flatnonzero(hit[r, k])
        found = np.zeros(len(part), dtype=bool)
        if not len(got):
            return found
        found[got] = True
        k, r = k[got], r[got]
        rows = part[got]
        bar = cols[r, k]
        o, hi, low = m.open[bar], m.high[bar], m.low[bar]
        is_plain, is_roi = plain[r, k], roi_hit[r, k] & ~plain[r, k]
        # the stop's fill: the level, or the open when the whole bar is past it
        level = np.where(first[r, k], before[r, k], after[r, k])
        past = (level > hi) if long else (level < low)
        stop_price = np.where(past, o, level)
        entry_bar = bar == self.e[rows]
        if rules.trailing_stop:  # a trailing stop hit in the entry candle: Freqtrade's worst case
            worst = self._entry_candle_stop(o, hi, low, pct[r, k])
            stop_price = np.where(entry_bar & ~is_plain & ~past, worst, stop_price)
        roi_price = self._roi_price(rows, bar, roi[r, k], step[r, k], o, hi, low)
        price = np.where(is_plain, stop_price, np.where(is_roi, roi_price, stop_price))
        price = round_nearest(price, self.tick[rows])
        idx = self.rows[rows]
        out = self.out
        out.bar[idx] = bar
        out.price[idx] = price
        out.reason[idx] = np.where(is_plain, _STOP, np.where(is_roi, _ROI, _TRAIL)).astype(np.int8)
        out.at_open[idx] = price == o
        return found

    def _stops(
        self, part: np.ndarray, h: np.ndarray, lo: np.ndarray, best: np.ndarray, tick: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(stop before each bar, stop after the bar moved it, |ratio| behind the latter)."""
        rules, long = self.rules, self.long
        prev = self.stop_prev[part, None]
        if not rules.trailing_stop:
            stops = np.broadcast_to(prev, h.shape)
            return stops, stops, np.broadcast_to(self.pct_prev[part, None], h.shape)
        offset = rules.trailing_stop_positive_offset
        dist = np.full(h.shape, abs(rules.stoploss))
        if rules.trailing_stop_positive is not None:
            dist = np.where(best > offset, abs(rules.trailing_stop_positive), dist)
        if long:
            wanted = round_up(h * (1.0 - dist), tick)
            if rules.trailing_only_offset_is_reached:
                wanted = np.where(best < offset, -np.inf, wanted)
            after = np.maximum.accumulate(np.maximum(wanted, prev), axis=1)
        else:
            wanted = round_down(lo * (1.0 + dist), tick)
            if rules.trailing_only_offset_is_reached:
                wanted = np.where(best < offset, np.inf, wanted)
            after = np.minimum.accumulate(np.minimum(wanted, prev), axis=1)
        # the ratio behind the stop: that of the last bar that moved it
        strictly = after != np.concatenate([prev, after[:, :-1]], axis=1)
        pct = np.where(strictly, dist, np.nan)
        pct[:, 0] = np.where(strictly[:, 0], dist[:, 0], self.pct_prev[part])
        pct = _ffill(pct)
        before = np.empty_like(after)
        before[:, 0] = prev[:, 0]
        before[:, 1:] = after[:, :-1]
        self.stop_prev[part] = after[:, -1]
        self.pct_prev[part] = pct[:, -1]
        return before, after, pct

    def _entry_candle_stop(self, o: np.ndarray, hi: np.ndarray, low: np.ndarray, pct: np.ndarray) -> np.ndarray:
        """Freqtrade's fill for a trailing stop hit in the candle the trade opened: the price
        moved just enough to arm the stop, then fell to it (never beyond the candle)."""
        rules = self.rules
        side = 1.0 if self.long else -1.0
        tsp, offset = rules.trailing_stop_positive, rules.trailing_stop_positive_offset
        if rules.trailing_only_offset_is_reached and tsp:
            level = o * (1.0 + side * abs(offset) - side * abs(tsp))
        else:
            level = o * (1.0 - side * pct)
        return np.maximum(low, level) if self.long else np.minimum(hi, level)

    def _roi(self, part: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ROI ratio, its step in minutes) per bar; NaN where none applies."""
        rules = self.rules
        if self.no_roi:
            nan = np.full((len(part), 1), np.nan)
            return nan, nan
        if self.flat_roi:
            return (np.full((len(part), 1), float(rules.roi_values[0])),
                    np.full((len(part), 1), float(rules.roi_minutes[0])))  # fmt: skip
        m = self.m
        minutes = (m.time[cols] - m.time[self.e[part], None]) // _NS_PER_MINUTE
        roi, step = rules.roi_step_at(minutes)
        if self.blocked is not None:
            roi = np.where(self.blocked[cols], np.nan, roi)
        return roi, step

    def _roi_price(
        self, rows: np.ndarray, bar: np.ndarray, roi: np.ndarray, step: np.ndarray,
        o: np.ndarray, hi: np.ndarray, low: np.ndarray,
    ) -> np.ndarray:  # fmt: skip
        m = self.m
        minutes = (m.time[bar] - m.time[self.e[rows]]) // _NS_PER_MINUTE
        with np.errstate(invalid="ignore"):
            rate = (1.0 + roi) * self.roi_unit[rows] if self.long else (1.0 - roi) * self.roi_unit[rows]
            gapped = (o > rate) if self.long else (o < rate)
            new_step = (minutes > 0) & (minutes == step) & (step % self.tf_minutes == 0)
            rate = np.where(new_step & gapped, o, rate)
            rate = np.where((roi == -1) & (step % self.tf_minutes == 0), o, rate)
        return np.minimum(np.maximum(rate, low), hi)


def find_exit(
    m: MarketArrays,
    e: int,
    side: int,
    entry: float,
    rules: ExitRules,
    *,
    signal_bar: int | None = None,
    roi_blocked: np.ndarray | None = None,
    fee: float = 0.0,
) -> ExitFill:
    """First exit of a trade entered at the open of bar `e` at price `entry` (+1 long, -1 short).

    `signal_bar` is the bar at whose open an exit signal fills (latency already applied);
    `roi_blocked` marks bars whose ROI is ignored (ignore_roi_if_entry_signal).
    """
    blocked = None if roi_blocked is None else (roi_blocked, roi_blocked)
    out = find_exits(
        m,
        np.array([e], dtype=np.int64),
        np.array([side], dtype=np.int8),
        np.array([entry], dtype=np.float64),
        rules,
        np.array([-1 if signal_bar is None else signal_bar], dtype=np.int64),
        blocked,
        fee=fee,
    )
    return ExitFill(int(out.bar[0]), float(out.price[0]), out.reason_name(0), bool(out.at_open[0]))


def _ffill(values: np.ndarray) -> np.ndarray:
    """Carry the last non-NaN value of each row forward (the first column is never NaN)."""
    cols = np.arange(values.shape[1])
    have = np.where(np.isnan(values), 0, cols)
    np.maximum.accumulate(have, axis=1, out=have)
    return np.take_along_axis(values, have, axis=1)
