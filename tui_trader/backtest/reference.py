"""Bar-by-bar path through the live exit rules (`strategy.exits.decide_exit`), with the hooks.

Used for strategies whose exits call Python per bar (custom_exit, custom_stoploss,
custom_roi, confirm_trade_exit, custom_exit_price, adjust_trade_position, order_filled), and
by the tests as the oracle the vectorized batch search must agree with. The hooks are called
as Freqtrade's backtester calls them: at each candle's open time, with its open as the
current rate (custom_stoploss: with the high for longs, the low for shorts).

Position adjustment (DCA and partial exits) sizes against the wallet as it was when the trade
opened, less what the trade itself added: with several symbols, trades of other symbols that
open or close meanwhile are not seen by `adjust_trade_position`'s `max_stake`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_trader.backtest.kernel import ExitFill
from tui_trader.backtest.signals import SymbolSignals
from tui_trader.core.clock import utc_datetime
from tui_trader.core.lazy import LazyLogger
from tui_trader.strategy.exits import (
    FORCE_EXIT,
    PARTIAL_EXIT,
    ExitHit,
    adjust_stop,
    decide_exit,
)
from tui_trader.strategy.hooks import overridden_hook
from tui_trader.strategy.precision import price_round, round_down

if TYPE_CHECKING:  # imported where a trade is simulated bar by bar: a batched backtest skips ~1.5 ms
    from tui_trader.strategy.trade import StrategyTrade, TradeOrder

log = LazyLogger(__name__)
_HOOKS = (
    "custom_entry_price",
    "custom_exit",
    "confirm_trade_exit",
    "custom_exit_price",
    "custom_roi",
    "adjust_trade_position",
    "order_filled",
)


def needs_reference(strategy: Any) -> bool:
    """True when exits depend on per-bar Python hooks the batch search cannot vectorize."""
    if strategy is None:
        return False
    if getattr(strategy, "use_custom_stoploss", False) or getattr(strategy, "use_custom_roi", False):
        return True
    if getattr(strategy, "position_adjustment_enable", False):
        return True
    return any(overridden_hook(strategy, name) is not None for name in _HOOKS)


def entry_pricer(strategy: Any) -> Any:
    """price(symbol, time_ns, open, high, low, side, tag) -> the entry's limit price when it
    fills in that candle, else None; None when the strategy prices no entries itself.

    Freqtrade asks custom_entry_price for limit entries, rounds it to the tick, caps it at
    the candle's high (low for shorts) and fills it when the candle trades through it."""
    hook = overridden_hook(strategy, "custom_entry_price")
    if hook is None or (getattr(strategy, "order_types", None) or {}).get("entry", "limit") != "limit":
        return None

    def price(symbol: str, time_ns: int, bar: tuple[float, float, float], tick: float,
              side: int, tag: str | None) -> float | None:  # fmt: skip
        o, h, lo = bar
        try:
            asked = hook(pair=symbol, trade=None, current_time=_ts(time_ns), proposed_rate=o,
                         entry_tag=tag, side="long" if side > 0 else "short")  # fmt: skip
        except Exception as exc:
            log.warning("custom_entry_price raised, entering at the open: %s", exc)
            asked = o
        rate = o
        if asked is not None and math.isfinite(float(asked)) and float(asked) != o:
            rate = price_round(float(asked), tick)
        rate = min(rate, h) if side > 0 else max(rate, lo)
        return rate if lo <= rate <= h else None

    return price


@dataclass(slots=True)
class ReferenceTrade:
    """How a trade went on the bar-by-bar path: its exit and what position adjustment did."""

    fill: ExitFill
    exit_tag: str | None
    open_rate: float  # average entry price at the exit
    amount: float  # amount closed by the final exit
    stake: float  # every entry's stake added up
    fees: float  # every fee paid, final exit included
    pnl: float  # realized profit, partial exits and the final exit, fees included
    cost: float  # every entry's cost with its fee (what pnl_pct divides by)
    entries: int


def _ts(ns: int) -> datetime:
    return utc_datetime(int(ns))


def find_exit_reference(
    strategy: Any,
    sym: SymbolSignals,
    e: int,
    side: int,
    entry: float,
    quantity: float,
    tag: str | None,
    *,
    fee: float = 0.0,
    available: float = math.inf,
    stake: float | None = None,
    amount_step: float | None = None,
) -> ReferenceTrade:
    """The life of a trade entered at bar `e` at `entry` (on the tick), one `decide_exit` per
    bar (Freqtrade's order). `stake` is what was paid (default entry x quantity)."""
    from tui_trader.strategy.dataprovider import DataProvider
    from tui_trader.strategy.trade import StrategyTrade, TradeOrder

    stake = entry * quantity if stake is None else stake
    m = sym.market
    n = len(m)
    enter = sym.enter_flag(side)
    signal = np.zeros(n, dtype=bool)
    signal[sym.exit_fills(side) - sym.shift] = True
    tick = float(m.tick[e])
    opened = _ts(m.time[e])
    trade = StrategyTrade(
        pair=sym.symbol, is_short=side < 0, open_rate=entry, amount=quantity,
        open_date_utc=opened, enter_tag=tag, max_rate=entry, min_rate=entry,
        fee_open=fee, fee_close=fee, tick=tick,
        orders=[TradeOrder("sell" if side < 0 else "buy", quantity, entry, opened, tag)],
    )  # fmt: skip
    trade.adjust_stop_loss(entry, strategy.stoploss, initial=True)
    book = _Book(trade, fee, stake, available - stake, amount_step)
    _filled(strategy, trade, trade.orders[0], opened, after_fill=True)
    confirm = overridden_hook(strategy, "confirm_trade_exit")
    adjust = getattr(strategy, "position_adjustment_enable", False)
    tf_minutes = int(m.bar_ns // 60_000_000_000)
    dp = getattr(strategy, "dp", None)
    dp = dp if isinstance(dp, DataProvider) and dp.backtesting else None
    for j in range(e, n):
        when = _ts(m.time[j])
        if dp is not None:
            dp.set_current(sym.symbol, int(m.time[j]))
        row = (float(m.open[j]), float(m.high[j]), float(m.low[j]), float(m.close[j]))
        k = j - sym.shift  # the candle whose signals act on this bar
        if adjust:
            done = book.adjust(strategy, row, when, j)
            if done is not None:
                return done
        hit = decide_exit(
            strategy, trade, bar_open=row[0], bar_high=row[1], bar_low=row[2], bar_close=row[3],
            bar_time=when, timeframe_minutes=tf_minutes,
            enter_signal=bool(enter[k]) if k >= 0 else False,
            exit_signal=bool(signal[k]) if k >= e else False,  # none decided before the entry
            exit_tag=sym.exit_tag(k) if k >= 0 else None,
            confirm=None if confirm is None else _confirmer(confirm, trade, when),
        )  # fmt: skip
        if hit is not None:
            return book.close(strategy, ExitFill(j, hit.price, hit.reason, hit.at_open), hit.tag, when)
    last = n - 1
    return book.close(strategy, ExitFill(last, float(m.open[last]), FORCE_EXIT, True), None,
                      _ts(m.time[last]))  # fmt: skip


class _Book:
    """The trade's orders and money while adjust_trade_position adds to it or takes from it.

    As Freqtrade's `recalc_trade_from_orders`: the position's cost follows the entries at their
    fill prices, exits take out the average cost, and each exit's profit is measured against
    that average (the trade's `open_rate` is the average on the tick)."""

    def __init__(self, trade: StrategyTrade, fee: float, stake: float, available: float,
                 amount_step: float | None = None) -> None:  # fmt: skip
        self.trade, self.fee, self.step = trade, fee, amount_step
        self.stake = stake  # every entry's stake
        self.basis = stake  # cost of what is still held
        short = trade.is_short
        self.cost = stake * (1.0 - fee) if short else stake * (1.0 + fee)
        self.fees = stake * fee
        self.pnl = 0.0
        self.available = available

    def _amount(self, amount: float) -> float:
        return float(round_down(amount, self.step)) if self.step else amount

    @property
    def average(self) -> float:
        return self.basis / self.trade.amount if self.trade.amount else self.trade.open_rate

    def adjust(self, strategy: Any, row: tuple[float, float, float, float], when: datetime,
               bar: int) -> ReferenceTrade | None:  # fmt: skip
        """Freqtrade's `_check_adjust_trade_for_candle`: more stake at this open, or a part
        sold there. Returns the trade's end when a partial exit took all of it."""
        from tui_trader.strategy.trade import TradeOrder

        trade, rate = self.trade, row[0]
        profit = trade.calc_profit_ratio(rate)
        try:
            said = strategy.adjust_trade_position(
                trade=trade, current_time=when, current_rate=rate, current_profit=profit,
                min_stake=None, max_stake=max(self.available, 0.0), current_entry_rate=rate,
                current_exit_rate=rate, current_entry_profit=profit, current_exit_profit=profit,
            )  # fmt: skip
        except Exception as exc:
            log.warning("adjust_trade_position raised, position kept: %s", exc)
            return None
        stake, order_tag = said if isinstance(said, tuple) else (said, None)
        if stake is None or not math.isfinite(float(stake)) or stake == 0:
            return None
        stake = float(stake)
        if stake > 0:
            limit = getattr(strategy, "max_entry_position_adjustment", -1)
            if limit > -1 and trade.nr_of_successful_entries > limit:
                return None
            stake = min(stake, self.available)
            if stake <= 0:
                return None
            amount = self._amount(stake / rate)
            stake = amount * rate
            if amount <= 0:
                return None
            trade.amount += amount
            self.basis += stake
            self.stake += stake
            trade.open_rate = price_round(self.average, trade.tick)
            trade.nr_of_successful_entries += 1
            order = TradeOrder(trade.entry_side, amount, rate, when, order_tag)
            trade.orders.append(order)
            self.available -= stake
            self.cost += stake * (1.0 - self.fee if trade.is_short else 1.0 + self.fee)
            self.fees += stake * self.fee
            _filled(strategy, trade, order, when, after_fill=True)
            # Freqtrade recomputes the trade from its orders: the stop follows the new average
            # entry at the same distance, and (as always) only towards profit
            trade.adjust_stop_loss(trade.open_rate, trade.stop_loss_pct)
            return None
        amount = min(self._amount(abs(stake) * trade.amount / self.basis), trade.amount)
        if amount <= 0:
            return None
        average = self.average
        gain = _profit(trade.is_short, average, rate, amount, self.fee)
        self.pnl += gain
        self.fees += amount * rate * self.fee
        self.basis -= average * amount
        self.available += average * amount + gain
        order = TradeOrder(trade.exit_side, amount, rate, when, order_tag or PARTIAL_EXIT)
        trade.orders.append(order)
        trade.nr_of_successful_exits += 1
        trade.realized_profit += gain
        if amount >= trade.amount * (1 - 1e-12):
            return self._result(ExitFill(bar, rate, PARTIAL_EXIT, True), order_tag, final=0.0,
                                amount=amount)  # fmt: skip
        trade.amount -= amount
        _filled(strategy, trade, order, when, after_fill=True)
        trade.adjust_stop_loss(trade.open_rate, trade.stop_loss_pct)
        return None

    def close(self, strategy: Any, fill: ExitFill, tag: str | None, when: datetime) -> ReferenceTrade:
        from tui_trader.strategy.trade import TradeOrder

        trade = self.trade
        order = TradeOrder(trade.exit_side, trade.amount, fill.price, when, fill.reason)
        trade.orders.append(order)
        trade.is_open = False
        trade.exit_reason = fill.reason
        _filled(strategy, trade, order, when, after_fill=False)
        return self._result(fill, tag, final=None, amount=trade.amount)

    def _result(self, fill: ExitFill, tag: str | None, *, final: float | None,
                amount: float) -> ReferenceTrade:  # fmt: skip
        trade = self.trade
        if final is None:
            final = _profit(trade.is_short, self.average, fill.price, amount, self.fee)
            self.fees += amount * fill.price * self.fee
        return ReferenceTrade(
            fill=fill, exit_tag=tag, open_rate=trade.open_rate, amount=amount, stake=self.stake,
            fees=self.fees, pnl=self.pnl + final, cost=self.cost,
            entries=trade.nr_of_successful_entries,
        )  # fmt: skip


def _profit(short: bool, average: float, rate: float, amount: float, fee: float) -> float:
    """Freqtrade's profit of closing `amount` at `rate` against the average entry, both fees
    in, to 8 decimals as it records it."""
    if short:
        return round(amount * average * (1.0 - fee) - amount * rate * (1.0 + fee), 8)
    return round(amount * rate * (1.0 - fee) - amount * average * (1.0 + fee), 8)


def _filled(strategy: Any, trade: StrategyTrade, order: TradeOrder, when: datetime,
            *, after_fill: bool) -> None:  # fmt: skip
    """order_filled, then (for a fill that leaves the trade open) custom_stoploss with
    after_fill=True when the strategy's custom_stoploss takes that argument."""
    hook = overridden_hook(strategy, "order_filled")
    if hook is not None:
        try:
            hook(pair=trade.pair, trade=trade, order=order, current_time=when)
        except Exception as exc:
            log.warning("order_filled raised: %s", exc)
    if after_fill and _uses_after_fill(strategy):
        adjust_stop(strategy, trade, order.price, when, after_fill=True)


def _uses_after_fill(strategy: Any) -> bool:
    import inspect

    hook = overridden_hook(strategy, "custom_stoploss")
    if hook is None or not getattr(strategy, "use_custom_stoploss", False):
        return False
    try:
        return "after_fill" in inspect.signature(hook).parameters
    except (TypeError, ValueError):
        return False


def _confirmer(hook: Any, trade: StrategyTrade, when: datetime) -> Any:
    """confirm_trade_exit as Freqtrade calls it: the exit's price and reason, the candle's open
    time; a hook that raises means yes (Freqtrade's default), logged."""
    strategy = hook.__self__
    order_type = (getattr(strategy, "order_types", None) or {}).get("exit", "limit")
    tif = (getattr(strategy, "order_time_in_force", None) or {}).get("exit", "GTC")

    def confirm(hit: ExitHit) -> bool:
        try:
            return bool(
                hook(pair=trade.pair, trade=trade, order_type=order_type, amount=trade.amount,
                     rate=float(hit.price), time_in_force=tif, exit_reason=hit.reason,
                     sell_reason=hit.reason, current_time=when)
            )
        except Exception as exc:
            log.warning("confirm_trade_exit raised, exit taken: %s", exc)
            return True

    return confirm
