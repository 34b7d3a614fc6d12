"""Bar-by-bar exit path through the live runner's own `evaluate_exit`.

Used for strategies whose exits call Python per bar (custom_exit, use_custom_stoploss), and
by the tests as the oracle the vectorized kernel must agree with.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tui_trader.backtest.kernel import FORCE_EXIT, ExitFill
from tui_trader.backtest.signals import SymbolSignals
from tui_trader.strategy.exits import CUSTOM_EXIT, EXIT_SIGNAL, evaluate_exit
from tui_trader.strategy.trade import StrategyTrade

_DEFERRED = (EXIT_SIGNAL, CUSTOM_EXIT)  # decided at a candle's close, filled at a later open


def needs_reference(strategy: Any) -> bool:
    """True when exits depend on per-bar Python hooks the kernel cannot vectorize."""
    if strategy is None:
        return False
    if getattr(strategy, "use_custom_stoploss", False):
        return True
    for klass in type(strategy).__mro__:
        if "custom_exit" in klass.__dict__:
            return not klass.__module__.startswith("tui_trader.strategy")
    return False


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
    pending: tuple[int, str, str | None] | None = None
    for j in range(e, n):
        if pending is not None and pending[0] == j:
            return ExitFill(j, float(m.open[j]), pending[1], True), pending[2]
        hit = evaluate_exit(
            strategy,
            trade,
            bar_open=float(m.open[j]),
            bar_high=float(m.high[j]),
            bar_low=float(m.low[j]),
            bar_close=float(m.close[j]),
            bar_close_time=pd.Timestamp(int(m.time[j]) + m.bar_ns, tz="UTC").to_pydatetime(),
            enter_signal=bool(enter[j]),
            exit_signal=bool(signal[j]) and pending is None,
            exit_tag=sym.exit_tags[j],
        )
        if hit is None:
            continue
        if hit.reason in _DEFERRED:
            if pending is None and j + sym.shift < n:
                pending = (j + sym.shift, hit.reason, hit.tag)
            continue
        at_open = float(hit.price) == float(m.open[j])  # a gap: filled at the open itself
        return ExitFill(j, float(hit.price), hit.reason, at_open), None
    return ExitFill(n - 1, float(m.close[n - 1]), FORCE_EXIT, False), None
