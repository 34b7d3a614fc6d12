"""Seeded synthetic candles: what `strategies check`, tests and benchmarks run strategies on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tui_trader.strategy.timeframes import timeframe_to_seconds

if TYPE_CHECKING:
    import pandas as pd

START = datetime(2025, 1, 1, tzinfo=UTC)


def synthetic_ohlcv(
    bars: int = 1000,
    timeframe: str = "5m",
    *,
    seed: int = 42,
    start: datetime = START,
    price: float = 100.0,
) -> pd.DataFrame:
    """A random walk with regimes (trends and ranges) so crossovers and breakouts happen."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    step = timeframe_to_seconds(timeframe)
    drift = np.repeat(rng.normal(0, 0.0015, bars // 50 + 1), 50)[:bars]
    returns = drift + rng.normal(0, 0.006, bars)
    close = price * np.exp(np.cumsum(returns))
    open_ = np.concatenate(([price], close[:-1]))
    spread = np.abs(rng.normal(0, 0.003, bars)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    volume = rng.gamma(2.0, 50.0, bars)
    dates = pd.date_range(start, periods=bars, freq=f"{step}s", tz="UTC")
    return pd.DataFrame(
        {"date": dates, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    )
