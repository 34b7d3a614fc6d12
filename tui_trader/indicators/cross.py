"""qtpylib-style helpers Freqtrade strategies lean on: crossings, typical price, Bollinger bands.

Same names and meanings as ``freqtrade.vendor.qtpylib.indicators``, so
``qtpylib.crossed_above(dataframe["ema_fast"], dataframe["ema_slow"])`` ports unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tui_trader.indicators.inputs import positive_int, require_frame

if TYPE_CHECKING:
    import pandas as pd


def _as_series(values: Any, index: Any = None) -> pd.Series:
    import pandas as pd

    if isinstance(values, pd.Series):
        return values
    if np.ndim(values) == 0:
        return pd.Series(float(values), index=index, dtype=np.float64)
    return pd.Series(np.asarray(values, dtype=np.float64), index=index)


def crossed(a: Any, b: Any, direction: str | None = None) -> pd.Series:
    """True on the bar where `a` crosses `b` (above, below, or either when direction is None)."""
    s1 = _as_series(a)
    s2 = _as_series(b, s1.index)
    prev1, prev2 = s1.shift(1), s2.shift(1)
    above = (s1 > s2) & (prev1 <= prev2)
    below = (s1 < s2) & (prev1 >= prev2)
    if direction == "above":
        return above
    if direction == "below":
        return below
    return above | below


def crossed_above(a: Any, b: Any) -> pd.Series:
    """True on the bar where `a` moves from <= `b` to > `b` (b a Series, array or number)."""
    return crossed(a, b, "above")


def crossed_below(a: Any, b: Any) -> pd.Series:
    """True on the bar where `a` moves from >= `b` to < `b` (b a Series, array or number)."""
    return crossed(a, b, "below")


def typical_price(bars: pd.DataFrame) -> pd.Series:
    """(high + low + close) / 3 per bar: the usual input for Bollinger bands and VWAP."""
    require_frame(bars, ("high", "low", "close"), "typical_price")
    return (bars["high"] + bars["low"] + bars["close"]) / 3.0


def bollinger_bands(series: Any, window: int = 20, stds: float = 2.0) -> pd.DataFrame:
    """Rolling mean +/- `stds` population standard deviations (ddof=0, as TA-Lib's BBANDS).

    Returns a DataFrame with columns lower, mid, upper on the series' index; the first
    window-1 rows are NaN.
    """
    window = positive_int(window, "window", "bollinger_bands")
    import pandas as pd

    s = _as_series(series)
    rolling = s.rolling(window=window, min_periods=window)
    mid = rolling.mean()
    std = rolling.std(ddof=0)
    return pd.DataFrame(
        {"lower": mid - stds * std, "mid": mid, "upper": mid + stds * std}, index=s.index
    )
