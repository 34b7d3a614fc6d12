"""Every indicator a strategy needs, from one import: ``from tui_trader import indicators as ta``.

- All TA-Lib functions by their TA-Lib names, CDL* candlestick patterns included:
  ``ta.RSI(dataframe, timeperiod=14)``, ``ta.BBANDS(dataframe)`` (a DataFrame of
  upperband/middleband/lowerband), ``ta.EMA(dataframe["close"], 50)`` (a Series).
- Ones TA-Lib lacks: session_vwap, fibonacci_retracements, pivot_points, supertrend,
  keltner_channels, ichimoku, stoch_rsi, session_ranges, in_session.
- qtpylib-style helpers: crossed_above, crossed_below, crossed, typical_price, bollinger_bands.
- list_indicators() / indicator_groups() / get_indicator(name) for the strategy builder.

Importing this package is cheap: names resolve on first use (module ``__getattr__``), so
numpy, pandas and talib load only when a strategy actually computes something.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> submodule that defines it
_LAZY: dict[str, str] = {
    "session_vwap": "vwap",
    "SESSIONS": "sessions",
    "session_ranges": "sessions",
    "in_session": "sessions",
    "fibonacci_retracements": "fibonacci",
    "pivot_points": "pivots",
    "supertrend": "trend",
    "ichimoku": "trend",
    "keltner_channels": "volatility",
    "stoch_rsi": "momentum",
    "crossed": "cross",
    "crossed_above": "cross",
    "crossed_below": "cross",
    "typical_price": "cross",
    "bollinger_bands": "cross",
    "IndicatorInfo": "catalog",
    "list_indicators": "catalog",
    "indicator_groups": "catalog",
    "get_indicator": "catalog",
}

_SUBMODULES = frozenset(
    {
        "catalog",
        "cross",
        "fibonacci",
        "inputs",
        "momentum",
        "pivots",
        "qtpylib",
        "sessions",
        "talib_wrappers",
        "trend",
        "volatility",
        "vwap",
    }
)

__all__ = sorted(_LAZY)  # TA-Lib names resolve on attribute access; see list_indicators()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    elif name.isupper() and name.isidentifier():
        from tui_trader.indicators.talib_wrappers import wrapper

        value = wrapper(name)  # AttributeError if TA-Lib has no such function
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    from tui_trader.indicators.talib_wrappers import talib_names

    return sorted({*globals(), *_LAZY, *talib_names()})
