"""Backtesting: Freqtrade-style strategies on candle history, vectorized signals, NumPy fills.

from tui_trader.backtest import run_backtest
result = run_backtest(strategy, {"BTC/USDT": candles}, timeframe="5m")

The names below are imported when first used: the pandas-free backtest of a rule strategy
(`tui_trader.backtest.arrays`) imports the array modules of this package without pandas.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_trader.backtest.engine import backtest_signals, run_backtest
    from tui_trader.backtest.result import TRADE_FIELDS, BacktestResult
    from tui_trader.backtest.rules import ExitRules
    from tui_trader.backtest.sizing import (
        ClosedTrade,
        Protection,
        Sizer,
        StakeRequest,
        StakeSizer,
    )

_WHERE = {
    "backtest_signals": "engine",
    "run_backtest": "engine",
    "TRADE_FIELDS": "result",
    "BacktestResult": "result",
    "ExitRules": "rules",
    "ClosedTrade": "sizing",
    "Protection": "sizing",
    "Sizer": "sizing",
    "StakeRequest": "sizing",
    "StakeSizer": "sizing",
}

__all__ = [
    "TRADE_FIELDS",
    "BacktestResult",
    "ClosedTrade",
    "ExitRules",
    "Protection",
    "Sizer",
    "StakeRequest",
    "StakeSizer",
    "backtest_signals",
    "run_backtest",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'tui_trader.backtest' has no attribute {name!r}")
    value = getattr(import_module(f"tui_trader.backtest.{module}"), name)
    globals()[name] = value
    return value
