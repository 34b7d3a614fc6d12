"""Bar-by-bar exit path through the live runner's own `evaluate_exit`.

Used for strategies whose exits call Python per bar (custom_exit, use_custom_stoploss), and
by the tests as the oracle the vectorized kernel must agree with.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from tui_trader.backtest.kernel import FORCE_EXIT, ExitFill
from tui_trader.backtest.signals import SymbolSignals
from tui_trader.strategy.exits import CUSTOM_EXIT, EXIT_SIGNAL, evaluate_exit
from tui_trader.strategy.hooks import overridden_hook
from tui_trader.strategy.trade import StrategyTrade

log = logging.getLogger(__name__)
_DEFERRED = (EXIT_SIGNAL, CUSTOM_EXIT)  # decided at a candle's close, filled at a later open


def needs_reference(strategy: Any) -> bool:
    """True when exits depend on per-bar Python hooks the kernel cannot vectorize
    (custom_exit, use_custom_stoploss, or a confirm_trade_exit that may refuse an exit)."""
    if strategy is None:
        return False
    if getattr(strategy, "use_custom_stoploss", False):
        return True
    return any(
        overridden_hook(strategy, name) is not None
        for name in ("custom_exit", "confirm_trade_exit")
    )


def find_exit_reference(
    strategy: Any,
    sym: SymbolSignals,
    e: int,
    side: int,
    entry: float,
    quantity: float,
    tag: str | None,
) -> tuple[ExitFill, str | None]:
    """(exit, exit_tag) of a trade entered at bar `e`, one evaluate_exit call per bar."""
    m = sym.market
    n = len(m)
    enter = sym.enter_flag(side)
    signal = np.zeros(n, dtype=bool)
    signal[sym.exit_fills(side) - sym.shift] = True
    trade = StrategyTrade(
        pair=sym.symbol,
        is_short=side < 0,
        open_rate=entry,
        amount=quantity,
        open_date_utc=pd.Timestamp(int(m.time[e]), tz="UTC").to_pydatetime(),
        enter_tag=tag,
        max_rate=entry,  # as the live runner opens a trade
        min_rate=entry,
    )
    confirm = overridden_hook(strategy, "confirm_trade_exit")
    pending: tuple[int, str, str | None] | None = None
    for j in range(e, n):
        if pending is not None and pending[0] == j:
            return ExitFill(j, float(m.open[j]), pending[1], True), pending[2]
        close_time = pd.Timestamp(int(m.time[j]) + m.bar_ns, tz="UTC").to_pydatetime()
        hit = evaluate_exit(
            strategy,
            trade,
            bar_open=float(m.open[j]),
            bar_high=float(m.high[j]),
            bar_low=float(m.low[j]),
            bar_close=float(m.close[j]),
            bar_close_time=close_time,
            enter_signal=bool(enter[j]),
            exit_signal=bool(signal[j]) and pending is None,
            exit_tag=sym.exit_tag(j),
        )
        if hit is None:
            continue
        if confirm is not None and not _confirmed(confirm, trade, hit, quantity, close_time):
            continue  # refused: the trade stays open and the next bar decides again, as live
        if hit.reason in _DEFERRED:
            if pending is None and j + sym.shift < n:
                pending = (j + sym.shift, hit.reason, hit.tag)
            continue
        at_open = float(hit.price) == float(m.open[j])  # a gap: filled at the open itself
        return ExitFill(j, float(hit.price), hit.reason, at_open), None
    return ExitFill(n - 1, float(m.close[n - 1]), FORCE_EXIT, False), None


def _confirmed(hook: Any, trade: StrategyTrade, hit: Any, quantity: float, when: Any) -> bool:
    """The strategy's confirm_trade_exit, called as the live runner calls it (at the decision,
    with the decision's price); a hook that raises means no, as live."""
    try:
        return bool(
            hook(
                pair=trade.pair,
                trade=trade,
                order_type="market",
                amount=quantity,
                rate=float(hit.price),
                time_in_force="gtc",
                exit_reason=hit.reason,
                current_time=when,
            )
        )
    except Exception as exc:
        log.warning("confirm_trade_exit raised, exit refused: %s", exc)
        return False
