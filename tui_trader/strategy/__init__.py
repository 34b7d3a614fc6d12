"""Strategies: Freqtrade's interface, analysis, exits, loading, hot reload and the live runner.

from tui_trader.strategy import IStrategy, IntParameter, informative
"""

from tui_trader.strategy.dataprovider import DataProvider
from tui_trader.strategy.errors import StrategyError
from tui_trader.strategy.fx_columns import add_fx_sessions
from tui_trader.strategy.helpers import stoploss_from_absolute, stoploss_from_open
from tui_trader.strategy.informative import informative, merge_informative_pair, resample_ohlcv
from tui_trader.strategy.interface import IStrategy, Strategy
from tui_trader.strategy.locks import PairLocks
from tui_trader.strategy.parameters import (
    BaseParameter,
    BooleanParameter,
    CategoricalParameter,
    DecimalParameter,
    IntParameter,
    RealParameter,
    detect_parameters,
)
from tui_trader.strategy.timeframes import (
    timeframe_to_minutes,
    timeframe_to_msecs,
    timeframe_to_next_date,
    timeframe_to_prev_date,
    timeframe_to_seconds,
)
from tui_trader.strategy.trade import StrategyTrade, TradeOrder

Trade = StrategyTrade
Order = TradeOrder


def __getattr__(name: str) -> object:
    # `from tui_trader.strategy import qtpylib` without loading numpy for every importer.
    if name == "qtpylib":
        from tui_trader.indicators import qtpylib

        return qtpylib
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BaseParameter",
    "BooleanParameter",
    "CategoricalParameter",
    "DataProvider",
    "DecimalParameter",
    "IStrategy",
    "IntParameter",
    "Order",
    "PairLocks",
    "RealParameter",
    "Strategy",
    "StrategyError",
    "StrategyTrade",
    "Trade",
    "add_fx_sessions",
    "detect_parameters",
    "informative",
    "merge_informative_pair",
    "qtpylib",
    "resample_ohlcv",
    "stoploss_from_absolute",
    "stoploss_from_open",
    "timeframe_to_minutes",
    "timeframe_to_msecs",
    "timeframe_to_next_date",
    "timeframe_to_prev_date",
    "timeframe_to_seconds",
]
