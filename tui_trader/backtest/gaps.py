"""Missing candles filled as Freqtrade fills them when it loads data for a backtest.

A candle missing from the history becomes a flat candle at the previous close (open = high =
low = close) with no volume, so indicators and ROI steps count candles as Freqtrade does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OHLC = ("open", "high", "low", "close")


def fill_gaps(df: pd.DataFrame, bar_seconds: int) -> pd.DataFrame:
    """The frame on an unbroken grid of `bar_seconds` (the frame itself when it has no gap)."""
    if len(df) < 2:
        return df
    times = pd.DatetimeIndex(df["date"]).as_unit("ns").asi8
    step = int(bar_seconds) * 1_000_000_000
    slots = (times - times[0]) // step
    total = int(slots[-1]) + 1
    if total == len(df):
        return df
    close = np.full(total, np.nan)
    close[slots] = df["close"].to_numpy(dtype=np.float64)
    have = np.where(np.isnan(close), 0, np.arange(total))
    np.maximum.accumulate(have, out=have)
    close = close[have]
    out = {"date": pd.to_datetime(times[0] + np.arange(total, dtype=np.int64) * step, utc=True)}
    for col in OHLC[:3]:
        values = close.copy()
        values[slots] = df[col].to_numpy(dtype=np.float64)
        out[col] = values
    out["close"] = close
    volume = np.zeros(total)
    volume[slots] = df["volume"].to_numpy(dtype=np.float64)
    out["volume"] = volume
    filled = pd.DataFrame(out)
    filled.attrs.update(df.attrs)
    return filled
