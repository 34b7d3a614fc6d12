"""The forex sessions as strategy columns: `add_fx_sessions(dataframe)` adds one boolean column
per session (`session_sydney`, `session_tokyo`, `session_london`, `session_new_york`), how many
are open (`sessions_open`) and whether two overlap (`session_overlap`), from each candle's
`date` (core.fx_sessions: each session in its own city's time, daylight saving included)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.fx_sessions import SESSIONS, in_session

if TYPE_CHECKING:
    import pandas as pd


def add_fx_sessions(dataframe: pd.DataFrame) -> pd.DataFrame:
    """The columns above, added in place (and returned) for a frame with a UTC `date` column.
    Computed once per distinct hour, so a year of minutes costs a few thousand look-ups."""
    import pandas as pd

    dates = pd.to_datetime(dataframe["date"], utc=True)
    hours = dates.dt.floor("h")
    distinct = pd.Series(hours.unique())
    table = {name: {h: in_session(name, h.to_pydatetime()) for h in distinct} for name in SESSIONS}
    total = None
    for name in SESSIONS:
        column = hours.map(table[name]).astype(bool)
        dataframe[f"session_{name}"] = column.to_numpy()
        total = column.astype(int) if total is None else total + column.astype(int)
    assert total is not None
    dataframe["sessions_open"] = total.to_numpy()
    dataframe["session_overlap"] = (total >= 2).to_numpy()
    return dataframe
