"""Fibonacci retracement levels of the latest swing: highest high / lowest low over a lookback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tui_trader.core.errors import UserError
from tui_trader.indicators.fib_levels import LEVELS, level_name
from tui_trader.indicators.inputs import column, positive_int, require_frame, to_frame

if TYPE_CHECKING:
    import pandas as pd

def _latest_extreme(values: np.ndarray, lookback: int, highest: bool) -> tuple[np.ndarray, ...]:
    """Per full window ending at each bar: the extreme and how many bars ago it was (latest)."""
    fill = -np.inf if highest else np.inf
    clean = np.where(np.isnan(values), fill, values)
    # Scan the reversed series with forward windows: the first extreme found is the latest
    # one, its offset is "bars ago", and contiguous rows make argmax ~15x faster.
    windows = np.lib.stride_tricks.sliding_window_view(clean[::-1].copy(), lookback)
    ago = (windows.argmax(axis=1) if highest else windows.argmin(axis=1))[::-1]
    extreme = clean[np.arange(lookback - 1, len(clean)) - ago]
    return np.where(np.isinf(extreme), np.nan, extreme), ago


def fibonacci_retracements(
    df: pd.DataFrame, lookback: int = 100, levels: Sequence[float] = LEVELS
) -> pd.DataFrame:
    """Retracement levels between the swing high and low of the last `lookback` bars.

    When the high came after the low (an up-swing, trend = 1) a level r sits at
    high - r * (high - low), measured down from the top; after a down-swing (trend = -1)
    at low + r * (high - low). Columns: swing_high, swing_low, trend, fib_0 ... fib_1000
    (see level_name). The first lookback-1 bars are NaN. The window ends at the current
    bar, so no look-ahead.
    """
    who = "fibonacci_retracements"
    lookback = positive_int(lookback, "lookback", who)
    try:
        ratios = [float(x) for x in levels]
    except (TypeError, ValueError):
        raise UserError(f"{who}: levels must be numbers such as 0.382, 0.618") from None
    require_frame(df, ("high", "low"), who)
    n = len(df)
    swing_high = np.full(n, np.nan)
    swing_low = np.full(n, np.nan)
    trend = np.full(n, np.nan)
    if n >= lookback:
        hi, hi_ago = _latest_extreme(column(df, "high"), lookback, highest=True)
        lo, lo_ago = _latest_extreme(column(df, "low"), lookback, highest=False)
        swing_high[lookback - 1 :] = hi
        swing_low[lookback - 1 :] = lo
        up = hi_ago <= lo_ago  # fewer bars ago = more recent
        trend[lookback - 1 :] = np.where(np.isnan(hi) | np.isnan(lo), np.nan, np.where(up, 1, -1))
    span = swing_high - swing_low
    cols: dict[str, np.ndarray] = {"swing_high": swing_high, "swing_low": swing_low, "trend": trend}
    for r in ratios:
        cols[level_name(r)] = np.where(trend > 0, swing_high - r * span, swing_low + r * span)
    return to_frame(cols, df.index)
