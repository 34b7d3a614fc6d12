"""Momentum oscillators TA-Lib lacks in their usual form: the smoothed StochRSI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tui_trader.core.errors import DataError
from tui_trader.indicators.inputs import column, positive_int, rolling, series_values, to_frame

if TYPE_CHECKING:
    import pandas as pd


def stoch_rsi(
    df: Any,
    rsi_period: int = 14,
    stoch_period: int = 14,
    k: int = 3,
    d: int = 3,
    source: str = "close",
) -> pd.DataFrame:
    """Stochastic RSI as TradingView draws it: %K = SMA(k) of the stochastic of RSI, %D = SMA(d).

    stoch = 100 * (RSI - lowest RSI) / (highest RSI - lowest RSI) over `stoch_period` bars,
    NaN where that range is zero. TA-Lib's STOCHRSI is the unsmoothed "fast" variant; this
    one is what most charts show. Takes a candle DataFrame (column `source`) or a Series.
    Columns k and d, 0..100, no look-ahead.
    """
    import pandas as pd
    import talib

    who = "stoch_rsi"
    rsi_period = positive_int(rsi_period, "rsi_period", who)
    stoch_period = positive_int(stoch_period, "stoch_period", who)
    k = positive_int(k, "k", who)
    d = positive_int(d, "d", who)
    if isinstance(df, pd.DataFrame):
        if source not in df.columns:
            raise DataError(f"{who}: the DataFrame lacks column {source!r}")
        values, index = column(df, source), df.index
    elif isinstance(df, pd.Series):
        values, index = series_values(df, who), df.index
    else:
        raise DataError(f"{who}: expected a candle DataFrame or a Series, got {type(df).__name__}")
    rsi = talib.RSI(np.ascontiguousarray(values), timeperiod=rsi_period)
    lowest = rolling(rsi, stoch_period, np.min)
    span = rolling(rsi, stoch_period, np.max) - lowest
    with np.errstate(invalid="ignore", divide="ignore"):
        stoch = np.where(span > 0, 100.0 * (rsi - lowest) / span, np.nan)
    # clip: a mean of values <= 100 can round to 100 + 1e-14
    pct_k = np.clip(rolling(stoch, k, np.mean), 0.0, 100.0)
    pct_d = np.clip(rolling(pct_k, d, np.mean), 0.0, 100.0)
    return to_frame({"k": pct_k, "d": pct_d}, index)
