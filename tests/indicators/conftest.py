"""Seeded candle frames for the indicator tests (random walks with real UTC dates)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest


def _candles(
    n: int = 1000, freq: str = "15min", seed: int = 7, start: str = "2024-01-04 00:00"
) -> pd.DataFrame:
    """OHLCV random walk; the index deliberately does not start at 0 to catch misalignment."""
    rng = np.random.default_rng(seed)
    close = 100.0 + np.cumsum(rng.normal(0.0, 0.6, n))
    open_ = np.r_[close[0], close[:-1]] + rng.normal(0.0, 0.1, n)
    high = np.maximum(open_, close) + rng.exponential(0.3, n)
    low = np.minimum(open_, close) - rng.exponential(0.3, n)
    volume = rng.integers(1, 500, n).astype(float)
    dates = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    frame = pd.DataFrame(
        {"date": dates, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    )
    frame.index = pd.RangeIndex(500, 500 + n)
    return frame


@pytest.fixture
def make_candles() -> Callable[..., pd.DataFrame]:
    return _candles


@pytest.fixture
def candles() -> pd.DataFrame:
    """~10 days of 15-minute bars with Saturdays removed (a gap, like FX weekends)."""
    frame = _candles()
    return frame[frame["date"].dt.day_of_week != 5]
