"""Forex trading sessions (UTC hours) and their running high/low, for session-range strategies."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tui_trader.core.errors import UserError
from tui_trader.indicators.inputs import (
    NS_PER_DAY,
    NS_PER_HOUR,
    column,
    grouped_accumulate,
    require_frame,
    utc_ns,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

# name -> (start hour, end hour) in UTC; a bar is inside when start <= its open time < end.
SESSIONS: dict[str, tuple[int, int]] = {
    "asia": (0, 9),
    "london": (7, 16),
    "new_york": (12, 21),
}


def session_name(name: str) -> str:
    """Normalise a user-typed session name ('New York', 'new-york') or raise UserError."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = {"ny": "new_york", "newyork": "new_york", "tokyo": "asia"}.get(key, key)
    if key not in SESSIONS:
        raise UserError(f"unknown session {name!r}; use one of {', '.join(SESSIONS)}")
    return key


def session_mask(ns: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(inside, instance) per bar: inside the session, and an integer naming that day's session.

    Bars after a session ends share its instance number, so "the last completed session"
    is always the one with the bar's own instance number.
    """
    start, end = SESSIONS[session_name(name)]
    offset = ns - start * NS_PER_HOUR
    duration = ((end - start) % 24 or 24) * NS_PER_HOUR
    return (offset % NS_PER_DAY) < duration, offset // NS_PER_DAY


def in_session(df: pd.DataFrame, session: str) -> pd.Series:
    """True for bars whose open time falls inside `session` (asia, london, new_york)."""
    import pandas as pd

    require_frame(df, (), "in_session")
    inside, _ = session_mask(utc_ns(df, "in_session"), session)
    return pd.Series(inside, index=df.index, name=f"in_{session_name(session)}")


def session_ranges(
    df: pd.DataFrame, sessions: Iterable[str] = ("asia", "london", "new_york")
) -> pd.DataFrame:
    """Running high/low of each session and whether each bar is inside it.

    Columns per session S: ``S_high``, ``S_low`` and ``in_S``. Inside the session the
    high/low are those of the session so far (this bar included); outside it they hold the
    range of the most recent completed session, so London can trade a break of the Asia
    range. Before the first session in the data they are NaN. No look-ahead.
    """
    import pandas as pd

    require_frame(df, ("high", "low"), "session_ranges")
    ns = utc_ns(df, "session_ranges")
    high, low = column(df, "high"), column(df, "low")
    out: dict[str, np.ndarray] = {}
    for raw_name in sessions:
        name = session_name(raw_name)
        inside, instance = session_mask(ns, name)
        run_high = grouped_accumulate(np.fmax, np.where(inside, high, np.nan), instance)
        run_low = grouped_accumulate(np.fmin, np.where(inside, low, np.nan), instance)
        out[f"{name}_high"] = _hold_last(run_high, inside)
        out[f"{name}_low"] = _hold_last(run_low, inside)
        out[f"in_{name}"] = inside
    return pd.DataFrame(out, index=df.index)


def _hold_last(running: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Keep values on inside bars and carry the last inside value over the bars outside."""
    idx = np.where(inside, np.arange(len(inside)), -1)
    np.maximum.accumulate(idx, out=idx)
    held = np.where(idx >= 0, running[np.maximum(idx, 0)], np.nan)
    return held
