"""Exit rules shared by the live runner and the backtester, with Freqtrade's semantics.

One candle of an open trade, in Freqtrade's backtesting order (`should_exit`):

1. the exit signal of the candle before (filled at this candle's open), else `custom_exit`
   (asked with this candle's open and the profit there);
2. the stop: the trailing stop and `custom_stoploss` first move it with this candle's high
   (low for shorts), then it is hit if the low reaches it (Freqtrade assumes the high came
   first); hit at the stop price, or at the open when the whole candle is past it;
3. ROI (`minimal_roi`): the profit at the high, after both fees, above the step for the whole
   minutes since the entry candle's open; filled at the price that makes that profit;
4. the trailing stop, when it moved: it ranks after ROI.

The first candidate the strategy confirms (`confirm_trade_exit`) is the exit. Profits include
both fees; prices are rounded to the trade's tick (stops away from the position).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui_trader.core.lazy import LazyLogger
from tui_trader.strategy.precision import price_round

if TYPE_CHECKING:
    from tui_trader.strategy.trade import StrategyTrade

log = LazyLogger(__name__)

# Freqtrade's exit reasons (ExitType values).
ROI = "roi"
STOP_LOSS = "stop_loss"
TRAILING_STOP_LOSS = "trailing_stop_loss"
EXIT_SIGNAL = "exit_signal"
CUSTOM_EXIT = "custom_exit"
FORCE_EXIT = "force_exit"
PARTIAL_EXIT = "partial_exit"
CUSTOM_TAG_MAX_LENGTH = 255


def _is_short(side: str) -> bool:
    if side not in ("long", "short"):
        raise ValueError(f"side must be 'long' or 'short', not {side!r}")
    return side == "short"


def profit_ratio(entry: float, price: float, side: str) -> float:
    """Price move as a fraction of the entry, before fees."""
    ratio = price / entry - 1.0
    return -ratio if _is_short(side) else ratio


def roi_entry(minimal_roi: Mapping[Any, float], minutes_open: float) -> tuple[float | None, float | None]:
    """(step, ratio) of the ROI table after `minutes_open`: the largest step <= minutes."""
    best: float | None = None
    found: float | None = None
    for key, roi in minimal_roi.items():
        minutes = float(key)
        if minutes <= minutes_open and (best is None or minutes > best):
            best, found = minutes, float(roi)
    return best, found


def roi_threshold(minimal_roi: Mapping[Any, float], minutes_open: float) -> float | None:
    """The ROI ratio that applies after `minutes_open` (None before the first step)."""
    return roi_entry(minimal_roi, minutes_open)[1]


def roi_price(entry: float, side: str, roi: float, fee: float = 0.0) -> float:
    """The price at which the trade has made `roi` after both fees (`fee` per side)."""
    if _is_short(side):
        return (1.0 - roi) * entry * (1.0 - fee) / (1.0 + fee)
    return (1.0 + roi) * entry * (1.0 + fee) / (1.0 - fee)


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
    """Where the trailing stop stands once the price reached `best_price` (fees left out): at
    |stoploss| below it, or trailing_stop_positive below it once the profit there is above the
    offset; with trailing_only_offset_is_reached it stays at the initial stop until then."""
    short = _is_short(side)
    initial = stoploss_price(entry, side, stoploss)
    offset = trailing_stop_positive_offset or 0.0
    best_profit = profit_ratio(entry, best_price, side)
    if trailing_only_offset_is_reached and best_profit < offset:
        return initial
    distance = abs(stoploss)
    if trailing_stop_positive is not None and best_profit > offset:
        distance = abs(trailing_stop_positive)
    moved = best_price * (1.0 + distance) if short else best_price * (1.0 - distance)
    return min(initial, moved) if short else max(initial, moved)


@dataclass(frozen=True, slots=True)
class ExitCheck:
    """A candidate exit: its type and the reason string the trade gets (Freqtrade's)."""

    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class ExitHit:
    """A decided exit. `reason` is what the trade records (an exit tag or custom_exit's string
    replaces exit_signal / custom_exit, as in Freqtrade); `kind` is the rule that fired."""

    reason: str
    price: float
    tag: str | None = None
    kind: str = ""
    at_open: bool = False


def _call(strategy: Any, name: str, default: Any, **kwargs: Any) -> Any:
    """A strategy hook as Freqtrade calls it: an exception is logged and means the default."""
    try:
        return getattr(strategy, name)(**kwargs)
    except Exception as exc:
        log.warning("%s.%s raised, using %r: %s", type(strategy).__name__, name, default, exc)
        return default


def _valid(value: Any) -> bool:
    return value is not None and not isinstance(value, bool) and math.isfinite(float(value))


def roi_for(strategy: Any, trade: StrategyTrade, minutes: int, when: datetime) -> tuple[float | None, float | None]:
    """Freqtrade's `min_roi_reached_entry`: the table's step, or `custom_roi` when lower."""
    step, roi = roi_entry(getattr(strategy, "minimal_roi", None) or {}, minutes)
    if getattr(strategy, "use_custom_roi", False):
        custom = _call(strategy, "custom_roi", None, pair=trade.pair, trade=trade,
                       current_time=when, trade_duration=minutes, entry_tag=trade.enter_tag,
                       side=trade.side)  # fmt: skip
        if _valid(custom) and (roi is None or float(custom) < roi):
            return float(minutes), float(custom)
    return step, roi


def _minutes(trade: StrategyTrade, when: datetime) -> int:
    return int((when.timestamp() - trade.open_date_utc.timestamp()) // 60)


def adjust_stop(
    strategy: Any,
    trade: StrategyTrade,
    rate: float,
    when: datetime,
    *,
    low: float | None = None,
    high: float | None = None,
    bound_profit: float | None = None,
    after_fill: bool = False,
) -> None:
    """Freqtrade's `ft_stoploss_adjust`: custom_stoploss, then the trailing stop, move the stop
    with the candle's high (low for shorts) while the stop is still on the right side."""
    stop_value = strategy.stoploss
    trade.adjust_stop_loss(trade.open_rate, stop_value, initial=True)
    stop = trade.stop_loss or 0.0
    correct = stop > (high or rate) if trade.is_short else stop < (low or rate)
    bound = low if trade.is_short else high
    if bound_profit is None:
        bound_profit = trade.calc_profit_ratio(bound or rate)
    if getattr(strategy, "use_custom_stoploss", False) and correct:
        custom = _call(strategy, "custom_stoploss", None, pair=trade.pair, trade=trade,
                       current_time=when, current_rate=bound or rate,
                       current_profit=bound_profit, after_fill=after_fill)  # fmt: skip
        if custom and _valid(custom):
            stop_value = float(custom)
            trade.adjust_stop_loss(bound or rate, stop_value, allow_refresh=after_fill)
    if strategy.trailing_stop and correct:
        offset = strategy.trailing_stop_positive_offset or 0.0
        if not (strategy.trailing_only_offset_is_reached and bound_profit < offset):
            tsp = strategy.trailing_stop_positive
            if tsp is not None and bound_profit > offset:
                stop_value = tsp
            trade.adjust_stop_loss(bound or rate, stop_value)


def should_exit(
    strategy: Any,
    trade: StrategyTrade,
    *,
    rate: float,
    current_time: datetime,
    enter: bool = False,
    exit_: bool = False,
    low: float | None = None,
    high: float | None = None,
    signals: bool = True,
    prices: bool = True,
) -> list[ExitCheck]:
    """Freqtrade's `should_exit` for one candle (`rate` = its open in a backtest): the
    candidates in the order they are tried. `signals=False` skips the exit signal and
    custom_exit, `prices=False` the stop and ROI (the live runner asks them apart)."""
    exits: list[ExitCheck] = []
    profit = trade.calc_profit_ratio(rate)
    best = profit
    if low is not None or high is not None:
        best = trade.calc_profit_ratio((low if trade.is_short else high) or rate)
    stop_kind = None
    roi_hit = False
    if prices:
        trade.adjust_min_max_rates(high or rate, low or rate)
        adjust_stop(strategy, trade, rate, current_time, low=low, high=high, bound_profit=best)
        stop = trade.stop_loss or 0.0
        if (stop <= (high or rate)) if trade.is_short else (stop >= (low or rate)):
            stop_kind = TRAILING_STOP_LOSS if trade.is_stop_loss_trailing else STOP_LOSS
        if not (enter and strategy.ignore_roi_if_entry_signal):
            _, roi = roi_for(strategy, trade, _minutes(trade, current_time), current_time)
            roi_hit = roi is not None and best > roi
    if signals and strategy.use_exit_signal:
        kind = None
        reason = ""
        if exit_ and not enter:
            offset = getattr(strategy, "exit_profit_offset", 0.0) or 0.0
            if not strategy.exit_profit_only or profit > offset:
                kind = EXIT_SIGNAL
        else:
            said = _call(strategy, "custom_exit", False, pair=trade.pair, trade=trade,
                         current_time=current_time, current_rate=rate,
                         current_profit=profit)  # fmt: skip
            if said:
                kind = CUSTOM_EXIT
                reason = said[:CUSTOM_TAG_MAX_LENGTH] if isinstance(said, str) else ""
        if kind is not None:
            exits.append(ExitCheck(kind, reason or kind))
    if stop_kind == STOP_LOSS:
        exits.append(ExitCheck(STOP_LOSS, STOP_LOSS))
    if roi_hit:
        exits.append(ExitCheck(ROI, ROI))
    if stop_kind == TRAILING_STOP_LOSS:
        exits.append(ExitCheck(TRAILING_STOP_LOSS, TRAILING_STOP_LOSS))
    return exits


def exit_rate(
    strategy: Any,
    trade: StrategyTrade,
    check: ExitCheck,
    *,
    bar_open: float,
    bar_high: float,
    bar_low: float,
    bar_close: float,
    current_time: datetime,
    timeframe_minutes: int,
) -> float | None:
    """Freqtrade's backtest fill price of `check` in this candle (before tick rounding), or
    None when Freqtrade skips it (ROI on the entry candle that a custom entry price rules out)."""
    short = trade.is_short
    minutes = _minutes(trade, current_time)
    if check.kind in (STOP_LOSS, TRAILING_STOP_LOSS):
        stop = trade.stop_loss or 0.0
        if (stop < bar_low) if short else (stop > bar_high):
            return bar_open  # the whole candle is past the stop
        if check.kind == TRAILING_STOP_LOSS and minutes == 0:
            side = -1.0 if short else 1.0
            offset = strategy.trailing_stop_positive_offset
            tsp = strategy.trailing_stop_positive
            if (not getattr(strategy, "use_custom_stoploss", False) and strategy.trailing_stop
                    and strategy.trailing_only_offset_is_reached and offset is not None and tsp):  # fmt: skip
                level = bar_open * (1.0 + side * abs(offset) - side * abs(tsp))
            else:
                level = bar_open * (1.0 - side * abs(trade.stop_loss_pct or 0.0))
            return min(bar_high, level) if short else max(bar_low, level)
        return stop
    if check.kind == ROI:
        step, roi = roi_for(strategy, trade, minutes, current_time)
        if roi is None or step is None:
            return bar_open
        if roi == -1 and step % timeframe_minutes == 0:
            return bar_open
        rate = trade.calc_close_rate_for_roi(roi)
        gapped = bar_open < rate if short else bar_open > rate
        if minutes > 0 and minutes == step and step % timeframe_minutes == 0 and gapped:
            return bar_open  # a new step begins at this open, and the open is already past it
        if minutes == 0 and (
            (short and bar_open < bar_close and trade.open_rate > bar_open and rate < bar_close)
            or (not short and bar_open > bar_close and trade.open_rate < bar_open
                and rate > bar_close)
        ):  # fmt: skip
            return None
        return min(max(rate, bar_low), bar_high)
    return bar_open


def decide_exit(
    strategy: Any,
    trade: StrategyTrade,
    *,
    bar_open: float,
    bar_high: float,
    bar_low: float,
    bar_close: float,
    bar_time: datetime,
    timeframe_minutes: int,
    enter_signal: bool = False,
    exit_signal: bool = False,
    exit_tag: str | None = None,
    signals: bool = True,
    prices: bool = True,
    rate: float | None = None,
    confirm: Callable[[ExitHit], bool] | None = None,
) -> ExitHit | None:
    """One candle of an open trade as Freqtrade's backtester decides it: the first candidate
    of `should_exit` that has a price and that `confirm` (confirm_trade_exit) accepts.

    `bar_time` is the candle's open; the signals are those of the candle before. `rate`
    (default: the open) is the price the signal exit and custom_exit are judged at."""
    rate = bar_open if rate is None else rate
    checks = should_exit(
        strategy, trade, rate=rate, current_time=bar_time, enter=enter_signal,
        exit_=exit_signal, low=bar_low if prices else None, high=bar_high if prices else None,
        signals=signals, prices=prices,
    )  # fmt: skip
    for check in checks:
        if check.kind in (EXIT_SIGNAL, CUSTOM_EXIT):
            price = rate
            reason = check.reason
            tag = None
            if check.kind == EXIT_SIGNAL and exit_tag:
                reason = tag = exit_tag
            if (getattr(strategy, "order_types", None) or {}).get("exit", "limit") == "limit":
                asked = _call(strategy, "custom_exit_price", price, pair=trade.pair, trade=trade,
                              current_time=bar_time, proposed_rate=price,
                              current_profit=trade.calc_profit_ratio(price), exit_tag=reason)  # fmt: skip
                if _valid(asked):
                    price = float(asked)
                price = min(price, bar_high) if trade.is_short else max(price, bar_low)
            hit = ExitHit(reason, price_round(price, trade.tick), tag, check.kind, price == rate)
        else:
            found = exit_rate(strategy, trade, check, bar_open=bar_open, bar_high=bar_high,
                              bar_low=bar_low, bar_close=bar_close, current_time=bar_time,
                              timeframe_minutes=timeframe_minutes)  # fmt: skip
            if found is None:
                continue
            price = price_round(found, trade.tick)
            hit = ExitHit(check.reason, price, None, check.kind, price == bar_open)
        if confirm is not None and not confirm(hit):
            continue
        return hit
    return None
