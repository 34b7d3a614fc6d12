"""Backtesting: Freqtrade-style strategies on candle history, vectorized signals, NumPy fills.

from tui_trader.backtest import run_backtest
result = run_backtest(strategy, {"BTC/USDT": candles}, timeframe="5m")
"""

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
