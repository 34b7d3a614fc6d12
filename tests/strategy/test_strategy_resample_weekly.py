"""resample_ohlcv builds weekly bars from UTC candles (weeks open on Monday 00:00 UTC)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tui_trader.strategy.informative import resample_ohlcv


def hourly(start: str, hours: int) -> pd.DataFrame:
    return pd.DataFrame({
        "date": pd.date_range(start, periods=hours, freq="1h", tz="UTC"),
        "open": np.arange(hours, dtype=float),
        "high": np.arange(hours, dtype=float) + 1.0,
        "low": np.arange(hours, dtype=float) - 1.0,
        "close": np.arange(hours, dtype=float) + 0.5,
        "volume": 1.0,
    })  # fmt: skip


def test_weekly_bars_open_on_monday_utc() -> None:
    df = hourly("2024-01-03", 20 * 24)  # a Wednesday, 20 days
    out = resample_ohlcv(df, "1w")
    assert list(out["date"]) == [
        pd.Timestamp(d, tz="UTC") for d in ("2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22")
    ]
    assert (out["date"].dt.day_of_week == 0).all()
    # the first week holds Wed 00:00 .. Sun 23:00 = 120 hourly bars
    assert out["volume"].tolist() == [120.0, 168.0, 168.0, 24.0]
    assert out["open"].iloc[1] == 120.0 and out["close"].iloc[1] == 287.5
    assert out["high"].iloc[1] == 288.0 and out["low"].iloc[1] == 119.0


def test_daily_bars_still_start_at_midnight() -> None:
    out = resample_ohlcv(hourly("2024-01-03 05:00", 48), "1d")
    assert out["date"].iloc[0] == pd.Timestamp("2024-01-03", tz="UTC")
    assert out["volume"].tolist() == [19.0, 24.0, 5.0]
