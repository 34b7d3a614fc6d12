"""Trend-following overlays TA-Lib lacks: Supertrend and the Ichimoku cloud."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tui_trader.core.errors import UserError
from tui_trader.indicators.inputs import (
    column,
    positive_int,
    require_frame,
    rolling,
    shift,
    to_frame,
)

if TYPE_CHECKING:
    import pandas as pd


def supertrend(df: pd.DataFrame, period: int = 10, multiplier: float = 3.0) -> pd.DataFrame:
    """Supertrend line and direction (1 up: line below price, -1 down: line above), no look-ahead.

    Bands are hl2 -/+ multiplier * ATR(period) (TA-Lib's Wilder ATR); the lower band only
    rises and the upper band only falls while price stays on their side, and the trend
    flips when the close crosses the previous bar's opposite band (TradingView's
    formulation). The first `period` bars have NaN line and direction 0. The recursion is
    one tight loop over Python floats: about 0.5 us per bar.
    """
    import pandas as pd
    import talib

    who = "supertrend"
    period = positive_int(period, "period", who)
    try:
        mult = float(multiplier)
    except (TypeError, ValueError):
        raise UserError(f"{who}: multiplier must be a number, got {multiplier!r}") from None
    require_frame(df, ("high", "low", "close"), who)
    high, low, close = column(df, "high"), column(df, "low"), column(df, "close")
    n = len(close)
    line = np.full(n, np.nan)
    direction = np.zeros(n, dtype=np.int8)
    if n > period:
        atr = talib.ATR(high, low, close, timeperiod=period)
        hl2 = (high + low) / 2.0
        lower = (hl2 - mult * atr).tolist()
        upper = (hl2 + mult * atr).tolist()
        closes = close.tolist()
        valid = np.flatnonzero(~np.isnan(atr))
        start = int(valid[0]) if len(valid) else n
        lines: list[float] = []
        dirs: list[int] = []
        trend = 1
        if start < n:  # on the first bar the "previous" bands are its own (Pine's nz())
            lo_prev, up_prev = lower[start], upper[start]
        for i in range(start, n):
            lo, up, c, c_prev = lower[i], upper[i], closes[i], closes[i - 1]
            if c_prev > lo_prev:
                lo = max(lo, lo_prev)
            if c_prev < up_prev:
                up = min(up, up_prev)
            if trend == -1 and c > up_prev:
                trend = 1
            elif trend == 1 and c < lo_prev:
                trend = -1
            lines.append(lo if trend == 1 else up)
            dirs.append(trend)
            lo_prev, up_prev = lo, up
        line[start:] = lines
        direction[start:] = dirs
    return pd.DataFrame({"supertrend": line, "direction": direction}, index=df.index)


def ichimoku(
    df: pd.DataFrame,
    tenkan: int = 9,
    kijun: int = 26,
    senkou_b: int = 52,
    displacement: int = 26,
) -> pd.DataFrame:
    """Ichimoku Kinko Hyo aligned to the bars: tenkan, kijun, senkou_a, senkou_b, chikou.

    tenkan/kijun are the midpoints of the highest high and lowest low over 9/26 bars.
    senkou_a ((tenkan + kijun) / 2) and senkou_b (52-bar midpoint) are shifted FORWARD by
    `displacement` bars: the value on bar t was computed at bar t - displacement, i.e. the
    cloud that sits under price now. It uses only past data. (TradingView draws it with an
    offset of displacement - 1; pass displacement=25 to match its chart.)

    chikou is the close shifted BACKWARD: the value on bar t is the close of bar
    t + displacement. It LOOKS AHEAD (NaN on the last `displacement` bars) and exists only
    for charts: never use chikou in entry or exit conditions, backtests would lie.
    """
    who = "ichimoku"
    tenkan = positive_int(tenkan, "tenkan", who)
    kijun = positive_int(kijun, "kijun", who)
    senkou_b = positive_int(senkou_b, "senkou_b", who)
    displacement = positive_int(displacement, "displacement", who)
    require_frame(df, ("high", "low", "close"), who)
    high, low = column(df, "high"), column(df, "low")

    def midpoint(window: int) -> np.ndarray:
        return (rolling(high, window, np.max) + rolling(low, window, np.min)) / 2.0

    tenkan_sen = midpoint(tenkan)
    kijun_sen = midpoint(kijun)
    return to_frame(
        {
            "tenkan": tenkan_sen,
            "kijun": kijun_sen,
            "senkou_a": shift((tenkan_sen + kijun_sen) / 2.0, displacement),
            "senkou_b": shift(midpoint(senkou_b), displacement),
            "chikou": shift(column(df, "close"), -displacement),
        },
        df.index,
    )
