"""Floor-trader pivot points (classic and Camarilla) from the previous period's high/low/close."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tui_trader.core.errors import UserError
from tui_trader.indicators.inputs import (
    column,
    group_index,
    period_keys,
    require_frame,
    to_frame,
    utc_ns,
)

if TYPE_CHECKING:
    import pandas as pd

METHODS = ("classic", "camarilla")


def previous_period_hlc(
    df: pd.DataFrame, period: str = "day", who: str = "previous_period_hlc"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bar: high, low and close of the previous UTC period present in the data (NaN at first).

    The previous period is complete by the time a bar of the next one exists, so this
    never looks ahead. A gap (weekend) means "previous" is the last period with bars.
    """
    require_frame(df, ("high", "low", "close"), who)
    keys = period_keys(utc_ns(df, who), period, who)
    high, low, close = column(df, "high"), column(df, "low"), column(df, "close")
    if len(keys) == 0:
        return high, low, close
    run, starts = group_index(keys)
    first = np.flatnonzero(starts)
    last = np.append(first[1:] - 1, len(keys) - 1)
    per_high = np.append(np.nan, np.fmax.reduceat(high, first))
    per_low = np.append(np.nan, np.fmin.reduceat(low, first))
    per_close = np.append(np.nan, close[last])
    # run r reads entry r of these arrays, which is period r-1 (entry 0 is the NaN pad).
    return per_high[run], per_low[run], per_close[run]


def pivot_points(df: pd.DataFrame, method: str = "classic", period: str = "day") -> pd.DataFrame:
    """Pivot levels for each bar from the previous `period`'s (day/week/month, UTC) H, L, C.

    classic:   pivot = (H+L+C)/3, r1 = 2P-L, s1 = 2P-H, r2 = P+(H-L), s2 = P-(H-L),
               r3 = H+2(P-L), s3 = L-2(H-P).
    camarilla: pivot = (H+L+C)/3, rN = C + (H-L)*1.1/d, sN = C - (H-L)*1.1/d, d = 12, 6, 4, 2.
    """
    who = "pivot_points"
    if method not in METHODS:
        raise UserError(f"{who}: unknown method {method!r}; use one of {', '.join(METHODS)}")
    h, lo, c = previous_period_hlc(df, period, who)
    p = (h + lo + c) / 3.0
    rng = h - lo
    if method == "classic":
        cols = {
            "pivot": p,
            "r1": 2 * p - lo,
            "r2": p + rng,
            "r3": h + 2 * (p - lo),
            "s1": 2 * p - h,
            "s2": p - rng,
            "s3": lo - 2 * (h - p),
        }
    else:
        cols = {"pivot": p}
        for n, d in enumerate((12, 6, 4, 2), start=1):
            cols[f"r{n}"] = c + rng * 1.1 / d
        for n, d in enumerate((12, 6, 4, 2), start=1):
            cols[f"s{n}"] = c - rng * 1.1 / d
    return to_frame(cols, df.index)
