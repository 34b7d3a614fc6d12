"""Anchored VWAP: the volume-weighted average typical price since the anchor (day or session)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tui_trader.core.errors import UserError
from tui_trader.indicators.inputs import (
    PERIODS,
    column,
    grouped_cumsum,
    period_keys,
    require_frame,
    utc_ns,
)
from tui_trader.indicators.sessions import SESSIONS, session_mask, session_name

if TYPE_CHECKING:
    import pandas as pd


def session_vwap(df: pd.DataFrame, anchor: str = "day") -> pd.Series:
    """VWAP of typical price (h+l+c)/3 restarting at each anchor, no look-ahead.

    `anchor` is "day" (UTC midnight), "week" (Monday UTC), "month", or a session name
    (asia, london, new_york): then it restarts at the session open and is NaN outside the
    session. Bars with zero volume so far give NaN; missing volume counts as zero.
    """
    import pandas as pd

    who = "session_vwap"
    require_frame(df, ("high", "low", "close", "volume"), who)
    ns = utc_ns(df, who)
    price = (column(df, "high") + column(df, "low") + column(df, "close")) / 3.0
    volume = np.nan_to_num(column(df, "volume"), nan=0.0)
    inside = None
    key = str(anchor).lower()
    if key in PERIODS:
        keys = period_keys(ns, key, who)
    else:
        try:
            key = session_name(key)
        except UserError:
            choices = ", ".join((*PERIODS, *SESSIONS))
            raise UserError(f"{who}: unknown anchor {anchor!r}; use one of {choices}") from None
        inside, keys = session_mask(ns, key)
        volume = np.where(inside, volume, 0.0)
    pv = grouped_cumsum(np.nan_to_num(price * volume, nan=0.0), keys)
    vol = grouped_cumsum(volume, keys)
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = np.where(vol > 0, pv / vol, np.nan)
    if inside is not None:
        vwap = np.where(inside, vwap, np.nan)
    return pd.Series(vwap, index=df.index, name="vwap")
