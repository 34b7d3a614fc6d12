"""Volatility envelopes TA-Lib lacks: Keltner channels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.errors import UserError
from tui_trader.indicators.inputs import column, positive_int, require_frame, to_frame

if TYPE_CHECKING:
    import pandas as pd


def keltner_channels(
    df: pd.DataFrame, period: int = 20, multiplier: float = 2.0, atr_period: int = 10
) -> pd.DataFrame:
    """Keltner channels: EMA(close, period) +/- multiplier * ATR(atr_period), no look-ahead.

    Both averages are TA-Lib's (EMA seeded with an SMA, Wilder ATR). Columns upper, mid,
    lower; NaN until both averages exist.
    """
    import talib

    who = "keltner_channels"
    period = positive_int(period, "period", who)
    atr_period = positive_int(atr_period, "atr_period", who)
    try:
        mult = float(multiplier)
    except (TypeError, ValueError):
        raise UserError(f"{who}: multiplier must be a number, got {multiplier!r}") from None
    require_frame(df, ("high", "low", "close"), who)
    high, low, close = column(df, "high"), column(df, "low"), column(df, "close")
    mid = talib.EMA(close, timeperiod=period)
    atr = talib.ATR(high, low, close, timeperiod=atr_period)
    return to_frame({"upper": mid + mult * atr, "mid": mid, "lower": mid - mult * atr}, df.index)
