"""Exit rules shared by the live runner and the backtester: ROI table, stoploss, trailing stop.

Prices are floats; `side` is "long" or "short"; stoploss is negative (-0.10 = 10 % below entry).
Fees are not included (Freqtrade's profit includes them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_trader.strategy.trade import StrategyTrade

# Freqtrade's exit reasons.
ROI = "roi"
STOP_LOSS = "stop_loss"
TRAILING_STOP_LOSS = "trailing_stop_loss"
EXIT_SIGNAL = "exit_signal"
CUSTOM_EXIT = "custom_exit"


def _is_short(side: str) -> bool:
    if side not in ("long", "short"):
        raise ValueError(f"side must be 'long' or 'short', not {side!r}")
    return side == "short"


def profit_ratio(entry: float, price: float, side: str) -> float:
    ratio = price / entry - 1.0
    return -ratio if _is_short(side) else ratio


def roi_threshold(minimal_roi: dict[str, float], minutes_open: float) -> float | None:
    """The ROI that applies after `minutes_open`: the entry with the largest key <= minutes."""
    best_key = -math.inf
    found: float | None = None
    for key, roi in minimal_roi.items():
        minutes = float(key)
        if best_key < minutes <= minutes_open:
            best_key, found = minutes, float(roi)
    return found


def roi_price(entry: float, side: str, roi: float) -> float:
    """The price at which the trade has made `roi`."""
    return entry * (1.0 - roi) if _is_short(side) else entry * (1.0 + roi)


def stoploss_price(entry: float, side: str, stoploss: float) -> float:
    """Initial stop: entry * (1 - |stoploss|) for longs, entry * (1 + |stoploss|) for shorts."""
    distance = abs(stoploss)
    return entry * (1.0 + distance) if _is_short(side) else entry * (1.0 - distance)


def trailing_stop_price(
    entry: float,
    side: str,
    best_price: float,
    stoploss: float,
    trailing_stop_positive: float | None = None,
    trailing_stop_positive_offset: float = 0.0,
    trailing_only_offset_is_reached: bool = False,
) -> float:
    """The ratcheted trailing stop given the best price since entry (highest for longs, lowest
    for shorts). Before the offset the stop trails at |stoploss| (unless only_offset_reached,
    which holds the initial stop); once profit reaches the offset it trails at
    trailing_stop_positive. It never loosens."""
    short = _is_short(side)
    initial = stoploss_price(entry, side, stoploss)
    offset = trailing_stop_positive_offset or 0.0
    best_profit = profit_ratio(entry, best_price, side)
    candidates = [initial]

    def stop_at(price: float, distance: float) -> float:
        return price * (1.0 + distance) if short else price * (1.0 - distance)

    threshold = entry * (1.0 - offset) if short else entry * (1.0 + offset)
    if not trailing_only_offset_is_reached:
        # Before the offset (or always, without a positive distance): trail at |stoploss|.
        if trailing_stop_positive is None:
            capped = best_price
        else:
            capped = max(best_price, threshold) if short else min(best_price, threshold)
        candidates.append(stop_at(capped, abs(stoploss)))
    if trailing_stop_positive is not None and best_profit >= offset and best_profit > 0:
        candidates.append(stop_at(best_price, abs(trailing_stop_positive)))
    elif (
        trailing_stop_positive is None and trailing_only_offset_is_reached and best_profit >= offset
    ):
        candidates.append(stop_at(best_price, abs(stoploss)))
    return min(candidates) if short else max(candidates)


@dataclass(frozen=True, slots=True)
class ExitHit:
    reason: str
    price: float
    tag: str | None = None


def bar_hits_stop(
    side: str, stop: float, bar_open: float, bar_low: float, bar_high: float
) -> float | None:
    """Fill price when a bar touches the stop: the stop, or the open if the bar gapped through."""
    if _is_short(side):
        return max(bar_open, stop) if bar_high >= stop else None
    return min(bar_open, stop) if bar_low <= stop else None


def bar_hits_target(
    side: str, target: float, bar_open: float, bar_low: float, bar_high: float
) -> float | None:
    """Fill price when a bar reaches a profit target (the open if it gapped past it)."""
    if _is_short(side):
        return min(bar_open, target) if bar_low <= target else None
    return max(bar_open, target) if bar_high >= target else None


def evaluate_exit(
    strategy: Any,
    trade: StrategyTrade,
    *,
    bar_open: float,
    bar_high: float,
    bar_low: float,
    bar_close: float,
    bar_close_time: datetime,
    enter_signal: bool = False,
    exit_signal: bool = False,
    exit_tag: str | None = None,
) -> ExitHit | None:
    """One closed bar for one open trade, in Freqtrade's order: stop, ROI, trailing update,
    exit signal, custom_exit. Mutates trade.max_rate/min_rate/stop_loss (the ratchet).

    Intra-bar order is unknown, so the stop raised by this bar's own high is only checked
    against its close: live and backtest see the same thing at the bar close."""
    side = trade.side
    entry = trade.open_rate
    initial = stoploss_price(entry, side, strategy.stoploss)
    stop = trade.stop_loss if trade.stop_loss is not None else initial
    trade.stop_loss = stop

    def stop_reason(level: float) -> str:
        return (
            TRAILING_STOP_LOSS
            if abs(level - initial) > 1e-12 * max(1.0, abs(initial))
            else STOP_LOSS
        )

    hit = bar_hits_stop(side, stop, bar_open, bar_low, bar_high)
    if hit is not None:
        return ExitHit(stop_reason(stop), hit)

    minutes_open = (bar_close_time - trade.open_date_utc).total_seconds() / 60.0
    if not (strategy.ignore_roi_if_entry_signal and enter_signal):
        roi = roi_threshold(strategy.minimal_roi or {}, minutes_open)
        if roi is not None:
            hit = bar_hits_target(side, roi_price(entry, side, roi), bar_open, bar_low, bar_high)
            if hit is not None:
                return ExitHit(ROI, hit)

    trade.observe(bar_high, bar_low)
    new_stop = stop
    if strategy.trailing_stop:
        best = trade.min_rate if trade.is_short else trade.max_rate
        new_stop = trailing_stop_price(
            entry,
            side,
            best,
            strategy.stoploss,
            strategy.trailing_stop_positive,
            strategy.trailing_stop_positive_offset,
            strategy.trailing_only_offset_is_reached,
        )
    if getattr(strategy, "use_custom_stoploss", False):
        current_profit = trade.calc_profit_ratio(bar_close)
        custom = strategy.custom_stoploss(
            pair=trade.pair,
            trade=trade,
            current_time=bar_close_time,
            current_rate=bar_close,
            current_profit=current_profit,
            after_fill=False,
        )
        if custom is not None and not math.isnan(custom):
            new_stop = (min if trade.is_short else max)(
                new_stop, stoploss_price(bar_close, side, custom)
            )
    trade.stop_loss = min(stop, new_stop) if trade.is_short else max(stop, new_stop)
    if (bar_close >= trade.stop_loss) if trade.is_short else (bar_close <= trade.stop_loss):
        return ExitHit(stop_reason(trade.stop_loss), bar_close)

    if exit_signal and strategy.use_exit_signal:
        profit = trade.calc_profit_ratio(bar_close)
        if not (
            strategy.exit_profit_only and profit <= getattr(strategy, "exit_profit_offset", 0.0)
        ):
            return ExitHit(EXIT_SIGNAL, bar_close, exit_tag)

    custom_exit = strategy.custom_exit(
        pair=trade.pair,
        trade=trade,
        current_time=bar_close_time,
        current_rate=bar_close,
        current_profit=trade.calc_profit_ratio(bar_close),
    )
    if custom_exit:
        return ExitHit(
            CUSTOM_EXIT, bar_close, custom_exit if isinstance(custom_exit, str) else None
        )
    return None
