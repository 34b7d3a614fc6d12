"""Missing candles filled as Freqtrade fills them when it loads data for a backtest.

A candle missing from the history becomes a flat candle at the previous close (open = high =
low = close) with no volume, so indicators and ROI steps count candles as Freqtrade does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

OHLC = ("open", "high", "low", "close")


def fill_gaps(df: pd.DataFrame, bar_seconds: int) -> pd.DataFrame:
    """The frame on an unbroken grid of `bar_seconds` (the frame itself when it has no gap)."""
    import pandas as pd

    if len(df) < 2:
        return df
    times = pd.DatetimeIndex(df["date"]).as_unit("ns").asi8
    filled = fill_gap_arrays(times, {c: df[c] for c in (*OHLC, "volume")}, bar_seconds)
    if filled is None:
        return df
    grid, cols = filled
    out = pd.DataFrame({"date": pd.to_datetime(grid, utc=True), **cols})
    out.attrs.update(df.attrs)
    return out


def fill_gap_arrays(
    times: np.ndarray, cols: dict[str, object], bar_seconds: int
) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """(the unbroken grid of open times in int64 ns, its float64 OHLCV columns) for sorted
    candles with gaps, or None when there is no gap (or fewer than two candles)."""
    if len(times) < 2:
        return None
    step = int(bar_seconds) * 1_000_000_000
    slots = (times - times[0]) // step
    total = int(slots[-1]) + 1
    if total == len(times):
        return None
    close = np.full(total, np.nan)
    close[slots] = np.asarray(cols["close"], dtype=np.float64)
    have = np.where(np.isnan(close), 0, np.arange(total))
    np.maximum.accumulate(have, out=have)
    close = close[have]
    out: dict[str, np.ndarray] = {}
    for col in OHLC[:3]:
        values = close.copy()
        values[slots] = np.asarray(cols[col], dtype=np.float64)
        out[col] = values
    out["close"] = close
    volume = np.zeros(total)
    volume[slots] = np.asarray(cols["volume"], dtype=np.float64)
    out["volume"] = volume
    return times[0] + np.arange(total, dtype=np.int64) * step, out
