"""Market regime: labels on synthetic markets, and proof that the future never leaks back."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from tui_trader.core.enums import Direction
from tui_trader.core.errors import DataError
from tui_trader.signals.regime import (
    Regime,
    RegimeParams,
    classify_regime,
    current_regime,
    regime_signal,
)

AT = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def candles(returns: np.ndarray, seed: int = 7, wick: float = 0.002) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(returns))
    spread = np.abs(rng.normal(wick, wick / 3, len(close)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + spread)
    low = np.minimum(open_, close) * (1 - spread)
    idx = pd.date_range("2025-01-01", periods=len(close), freq="1h", tz="UTC")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": 1.0}, index=idx
    )


def noise(n: int, scale: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, scale, n)


def test_trends_range_and_high_vol_are_recognised():
    base = noise(300, 0.004, 1)  # a quiet, directionless history to set the volatility quantile
    up = candles(np.r_[base, 0.004 + noise(80, 0.002, 2)])
    down = candles(np.r_[base, -0.004 + noise(80, 0.002, 3)])
    flat = candles(np.r_[base, noise(80, 0.004, 4)])
    storm = candles(np.r_[base, noise(40, 0.03, 5)])
    assert current_regime(up) is Regime.TREND_UP
    assert current_regime(down) is Regime.TREND_DOWN
    assert current_regime(flat) is Regime.RANGE
    assert current_regime(storm) is Regime.HIGH_VOL


def test_warm_up_is_none_then_labels():
    df = candles(noise(400, 0.01, 9))
    labels = classify_regime(df)
    params = RegimeParams()
    assert labels.iloc[: params.min_history].isna().all()
    assert set(labels.dropna()) <= {r.value for r in Regime}
    assert labels.iloc[-50:].notna().all()
    assert labels.index.equals(df.index)


@pytest.mark.parametrize("lookback", [500, None])
@pytest.mark.parametrize("cut", [150, 260, 390])
def test_changing_future_bars_never_changes_past_labels(cut, lookback):
    params = RegimeParams(vol_lookback=lookback)
    df = candles(noise(600, 0.01, 11))
    before = classify_regime(df, params)
    future = df.copy()
    rng = np.random.default_rng(cut)
    shock = np.exp(rng.normal(0, 0.2, len(df) - cut - 1))  # violent, random future
    for col in ("open", "high", "low", "close"):
        future.iloc[cut + 1 :, future.columns.get_loc(col)] *= shock
    after = classify_regime(future, params)
    pd.testing.assert_series_equal(before.iloc[: cut + 1], after.iloc[: cut + 1])
    assert not before.iloc[cut + 1 :].equals(after.iloc[cut + 1 :])  # the shock did matter later


def test_regime_signal_direction_and_strength():
    up = candles(np.r_[noise(300, 0.004, 1), 0.004 + noise(80, 0.002, 2)])
    sig = regime_signal(up, "BTC/USDT", AT, timeframe="1h")
    assert sig is not None and sig.source == "regime" and sig.direction is Direction.LONG
    assert 0 < sig.strength <= 1 and sig.meta["regime"] == "TREND_UP" and sig.timeframe == "1h"
    storm = candles(np.r_[noise(300, 0.004, 1), noise(40, 0.03, 5)])
    s2 = regime_signal(storm, "BTC/USDT", AT)
    assert s2 is not None and s2.direction is Direction.FLAT and s2.meta["regime"] == "HIGH_VOL"
    assert regime_signal(up.iloc[:50], "BTC/USDT", AT) is None


def test_missing_columns_is_data_error():
    with pytest.raises(DataError):
        classify_regime(pd.DataFrame({"close": [1.0, 2.0]}))
