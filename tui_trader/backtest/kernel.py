"""Per-trade exit search: vectorized over the bars a trade is open, never a loop over every bar.

For an entry at bar `e` the kernel scans growing windows of bars with NumPy and returns the
first bar where the stop, the ROI target, the trailing stop or an exit signal fires, so the
cost is O(bars spent in trades). It applies exactly the rules of
`tui_trader.strategy.exits.evaluate_exit` (the live runner's), bar by bar:

1. an exit signal decided on an earlier candle fills at this bar's open;
2. the stop known before the bar: hit if the low reaches it, filled at the stop or at the
   open when the bar gapped through it (worse);
3. the ROI target for the minutes open at the bar's close: hit if the high reaches it,
   filled at the target or at the open when the bar gapped past it (better);
4. the trailing stop ratcheted with this bar's high, checked against the close only
   (intra-bar order is unknown, so a bar never raises its own stop and then hits it).

Stop before target makes a bar that touches both a loss: the conservative choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_trader.backtest.rules import ExitRules
from tui_trader.strategy.exits import (
    EXIT_SIGNAL,
    ROI,
    STOP_LOSS,
    TRAILING_STOP_LOSS,
    stoploss_price,
)

FORCE_EXIT = "force_exit"
__all__ = ["EXIT_SIGNAL", "FORCE_EXIT", "ROI", "STOP_LOSS", "TRAILING_STOP_LOSS"]

_NS_PER_MINUTE = 60_000_000_000
_FIRST_WINDOW = 128


@dataclass(frozen=True, slots=True)
class MarketArrays:
    """One symbol's candles as float64 arrays; `time` is each bar's open in int64 ns UTC."""

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    bar_ns: int  # length of one bar

    def __len__(self) -> int:
        return len(self.open)


@dataclass(frozen=True, slots=True)
class ExitFill:
    """Where a trade leaves: bar, raw price (before slippage), reason, and whether at the open."""

    bar: int
    price: float
    reason: str
    at_open: bool


def find_exit(
    m: MarketArrays,
    e: int,
    side: int,
    entry: float,
    rules: ExitRules,
    *,
    signal_bar: int | None = None,
    roi_blocked: np.ndarray | None = None,
) -> ExitFill:
    """First exit of a trade entered at the open of bar `e` at price `entry` (+1 long, -1 short).

    `signal_bar` is the bar at whose open an exit signal fills (latency already applied).
    `roi_blocked` marks bars whose ROI is ignored (ignore_roi_if_entry_signal).
    """
    n = len(m.open)
    last = n - 1 if signal_bar is None else min(signal_bar, n - 1)
    long = side > 0
    side_name = "long" if long else "short"
    initial = stoploss_price(entry, side_name, rules.stoploss)
    roi_origin = m.time[e] - m.bar_ns  # minutes open are measured at each bar's close
    stop_prev = initial
    best_prev = entry  # the runner starts max_rate / min_rate at the fill price
    a = e
    size = _FIRST_WINDOW
    while a <= last:
        b = min(a + size, last + 1)
        o = m.open[a:b]
        h = m.high[a:b]
        lo = m.low[a:b]
        c = m.close[a:b]
        if rules.trailing_stop:
            best = (
                np.maximum.accumulate(np.maximum(h, best_prev))
                if long
                else np.minimum.accumulate(np.minimum(lo, best_prev))
            )
            after = trailing_stops(entry, long, best, rules)
            after = (
                np.maximum.accumulate(np.maximum(after, stop_prev))
                if long
                else np.minimum.accumulate(np.minimum(after, stop_prev))
            )
            before = np.empty_like(after)
            before[0] = stop_prev
            before[1:] = after[:-1]
        else:
            after = before = np.full(b - a, initial)
        roi = rules.roi_at((m.time[a:b] - roi_origin) / _NS_PER_MINUTE)
        if roi_blocked is not None:
            roi = np.where(roi_blocked[a:b], np.nan, roi)
        with np.errstate(invalid="ignore"):
            if long:
                target = entry * (1.0 + roi)
                stop_hit = lo <= before
                roi_hit = h >= target
                close_hit = c <= after
            else:
                target = entry * (1.0 - roi)
                stop_hit = h >= before
                roi_hit = lo <= target
                close_hit = c >= after
        if signal_bar is not None and b - 1 == signal_bar:
            # the signal fills at this bar's open, before anything inside it can happen
            stop_hit[-1] = roi_hit[-1] = close_hit[-1] = False
        hit = stop_hit | roi_hit | close_hit
        if hit.any():
            k = int(hit.argmax())
            j = a + k
            if stop_hit[k]:
                level = float(before[k])
                price = min(float(o[k]), level) if long else max(float(o[k]), level)
                return ExitFill(j, price, _stop_reason(level, initial), price == float(o[k]))
            if roi_hit[k]:
                tgt = float(target[k])
                price = max(float(o[k]), tgt) if long else min(float(o[k]), tgt)
                return ExitFill(j, price, ROI, price == float(o[k]))
            return ExitFill(j, float(c[k]), _stop_reason(float(after[k]), initial), False)
        if rules.trailing_stop:
            best_prev = float(best[-1])
            stop_prev = float(after[-1])
        a = b
        size *= 2
    if signal_bar is not None and signal_bar <= n - 1:
        return ExitFill(signal_bar, float(m.open[signal_bar]), EXIT_SIGNAL, True)
    return ExitFill(n - 1, float(m.close[n - 1]), FORCE_EXIT, False)


def _stop_reason(level: float, initial: float) -> str:
    moved = abs(level - initial) > 1e-12 * max(1.0, abs(initial))
    return TRAILING_STOP_LOSS if moved else STOP_LOSS


def trailing_stops(entry: float, long: bool, best: np.ndarray, rules: ExitRules) -> np.ndarray:
    """`strategy.exits.trailing_stop_price` over an array of best prices (before ratcheting)."""
    sl = abs(rules.stoploss)
    tsp = rules.trailing_stop_positive
    offset = rules.trailing_stop_positive_offset or 0.0
    only = rules.trailing_only_offset_is_reached
    if long:
        initial = entry * (1.0 - sl)
        profit = best / entry - 1.0
        threshold = entry * (1.0 + offset)
        out = np.full_like(best, initial)
        if not only:
            capped = best if tsp is None else np.minimum(best, threshold)
            out = np.maximum(out, capped * (1.0 - sl))
        if tsp is not None:
            out = np.where(
                (profit >= offset) & (profit > 0), np.maximum(out, best * (1.0 - abs(tsp))), out
            )
        elif only:
            out = np.where(profit >= offset, np.maximum(out, best * (1.0 - sl)), out)
        return out
    initial = entry * (1.0 + sl)
    profit = 1.0 - best / entry
    threshold = entry * (1.0 - offset)
    out = np.full_like(best, initial)
    if not only:
        capped = best if tsp is None else np.maximum(best, threshold)
        out = np.minimum(out, capped * (1.0 + sl))
    if tsp is not None:
        out = np.where(
            (profit >= offset) & (profit > 0), np.minimum(out, best * (1.0 + abs(tsp))), out
        )
    elif only:
        out = np.where(profit >= offset, np.minimum(out, best * (1.0 + sl)), out)
    return out


def excursions(
    m: MarketArrays, e: int, x: int, side: int, entry: float, exit_price: float
) -> tuple[float, float]:
    """(MFE, MAE) as fractions of the entry: bars e..x-1 whole, plus the exit price."""
    hi = max(float(m.high[e:x].max()) if x > e else -np.inf, exit_price)
    lo = min(float(m.low[e:x].min()) if x > e else np.inf, exit_price)
    if side > 0:
        return max(hi / entry - 1.0, 0.0), min(lo / entry - 1.0, 0.0)
    return max(1.0 - lo / entry, 0.0), min(1.0 - hi / entry, 0.0)
