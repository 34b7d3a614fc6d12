"""Strategies: Freqtrade's interface, analysis, exits, loading, hot reload and the live runner.

from tui_trader.strategy import IStrategy, IntParameter, informative

The names below are imported when first used: importing one module of this package (the
loader, the rule compiler) does not load all the others (FX sessions and their time zones,
informative pairs, the data provider...), which a backtest command pays for at each start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.lazy import lazy_exports

# imported now: the name is also a submodule's, which would shadow a lazily imported function
from tui_trader.strategy.informative import informative

if TYPE_CHECKING:
    from tui_trader.indicators import qtpylib
    from tui_trader.strategy.dataprovider import DataProvider
    from tui_trader.strategy.errors import StrategyError
    from tui_trader.strategy.fx_columns import add_fx_sessions
    from tui_trader.strategy.helpers import stoploss_from_absolute, stoploss_from_open
    from tui_trader.strategy.informative import merge_informative_pair, resample_ohlcv
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

_WHERE = {
    "DataProvider": "tui_trader.strategy.dataprovider",
    "StrategyError": "tui_trader.strategy.errors",
    "add_fx_sessions": "tui_trader.strategy.fx_columns",
    "stoploss_from_absolute": "tui_trader.strategy.helpers",
    "stoploss_from_open": "tui_trader.strategy.helpers",
    "merge_informative_pair": "tui_trader.strategy.informative",
    "resample_ohlcv": "tui_trader.strategy.informative",
    "IStrategy": "tui_trader.strategy.interface",
    "Strategy": "tui_trader.strategy.interface",
    "PairLocks": "tui_trader.strategy.locks",
    "BaseParameter": "tui_trader.strategy.parameters",
    "BooleanParameter": "tui_trader.strategy.parameters",
    "CategoricalParameter": "tui_trader.strategy.parameters",
    "DecimalParameter": "tui_trader.strategy.parameters",
    "IntParameter": "tui_trader.strategy.parameters",
    "RealParameter": "tui_trader.strategy.parameters",
    "detect_parameters": "tui_trader.strategy.parameters",
    "timeframe_to_minutes": "tui_trader.strategy.timeframes",
    "timeframe_to_msecs": "tui_trader.strategy.timeframes",
    "timeframe_to_next_date": "tui_trader.strategy.timeframes",
    "timeframe_to_prev_date": "tui_trader.strategy.timeframes",
    "timeframe_to_seconds": "tui_trader.strategy.timeframes",
    "StrategyTrade": "tui_trader.strategy.trade",
    "TradeOrder": "tui_trader.strategy.trade",
    "Trade": "tui_trader.strategy.trade:StrategyTrade",
    "Order": "tui_trader.strategy.trade:TradeOrder",
    "qtpylib": "tui_trader.indicators.qtpylib:",  # the module, without loading numpy for every importer
}

__getattr__ = lazy_exports(__name__, _WHERE)


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
