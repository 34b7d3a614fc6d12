"""qtpylib-style helpers Freqtrade strategies lean on: crossings, typical price, Bollinger bands.

Same names and meanings as ``freqtrade.vendor.qtpylib.indicators``, so
``qtpylib.crossed_above(dataframe["ema_fast"], dataframe["ema_slow"])`` ports unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tui_trader.core.errors import UserError
from tui_trader.indicators.inputs import (
    positive_int,
    require_frame,
    rolling,
    series_values,
    to_frame,
)

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
    import pandas as pd

    if direction not in (None, "above", "below"):
        raise UserError(f"crossed: direction must be 'above', 'below' or None, not {direction!r}")
    s1 = _as_series(a)
    if isinstance(b, pd.Series) and not (b.index is s1.index or b.index.equals(s1.index)):
        b = b.reindex(s1.index)  # align by label, as pandas arithmetic would
    v1 = series_values(s1, "crossed")
    v2 = b if np.ndim(b) == 0 else series_values(b, "crossed") if isinstance(b, pd.Series) else _as_float(b)
    return pd.Series(cross_flags(v1, v2, direction), index=s1.index)


def cross_flags(v1: np.ndarray, b: Any, direction: str | None = None) -> np.ndarray:
    """`crossed` on float64 arrays (`b` an array or a number): a bool array, True on the bar
    where `v1` crosses `b`; the rule strategies' pandas-free evaluation calls it too."""
    flags = np.zeros(len(v1), dtype=bool)  # the first bar has no bar before it: never a crossing
    # this bar against the one before, as views (a year of 1m bars: no shifted copies, ~13 MB)
    now1, was1 = v1[1:], v1[:-1]
    now2: Any
    was2: Any
    if np.ndim(b) == 0:
        now2 = was2 = float(b)
    else:
        if len(b) != len(v1):
            raise UserError(f"crossed: {len(v1)} values against {len(b)}")
        now2, was2 = b[1:], b[:-1]
    after = flags[1:]
    if direction in (None, "above"):
        after |= (now1 > now2) & (was1 <= was2)
    if direction in (None, "below"):
        after |= (now1 < now2) & (was1 >= was2)
    return flags


def _as_float(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


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
    s = _as_series(series)
    values = series_values(s, "bollinger_bands")
    mid = rolling(values, window, np.mean)
    std = rolling(values, window, np.std)  # population (ddof=0)
    return to_frame({"lower": mid - stds * std, "mid": mid, "upper": mid + stds * std}, s.index)
