"""ML features: enough of them, finite after warm-up, and strictly causal (no look-ahead)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tui_trader.signals.ml.features import FEATURES, WARMUP, build_features
from tui_trader.signals.ml.model import TrainConfig, train
from tui_trader.strategy.synthetic import synthetic_ohlcv


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    return synthetic_ohlcv(1200, "1h", seed=11)


def _scramble_future(df: pd.DataFrame, cut: int, seed: int) -> pd.DataFrame:
    """Bars after `cut` replaced by a wild, unrelated path (same timestamps)."""
    rng = np.random.default_rng(seed)
    out = df.copy()
    n = len(df) - cut - 1
    close = df["close"].iloc[cut] * np.exp(np.cumsum(rng.normal(0.01, 0.05, n)))
    out.loc[cut + 1 :, "close"] = close
    out.loc[cut + 1 :, "open"] = close * (1 + rng.normal(0, 0.02, n))
    out.loc[cut + 1 :, "high"] = np.maximum(out.loc[cut + 1 :, "open"], close) * 1.03
    out.loc[cut + 1 :, "low"] = np.minimum(out.loc[cut + 1 :, "open"], close) * 0.97
    out.loc[cut + 1 :, "volume"] = rng.gamma(1.0, 500.0, n)
    return out


def test_at_least_twenty_named_features(candles):
    feats = build_features(candles, "1h")
    assert list(feats.columns) == list(FEATURES)
    assert len(FEATURES) >= 20
    settled = feats.iloc[WARMUP:]
    assert settled.notna().all().all(), settled.columns[settled.isna().any()].tolist()
    # each kind named in the issue is there
    for name in (
        "ret_8",
        "rv_30",
        "rsi_14",
        "macd_hist_atr",
        "bb_pctb",
        "atr_pct",
        "vol_z_20",
        "body",
        "upper_wick",
        "vwap_dist_atr",
        "htf_trend",
        "tod_sin",
        "sess_london",
    ):
        assert name in FEATURES
    # features vary (a constant column would teach nothing)
    assert (settled.std() > 0).sum() >= 20


@pytest.mark.parametrize("cut", [200, 517, 518, 519, 900])
def test_changing_future_candles_never_changes_past_features(candles, cut):
    base = build_features(candles, "1h")
    changed = build_features(_scramble_future(candles, cut, seed=cut), "1h")
    np.testing.assert_array_equal(
        base.iloc[: cut + 1].to_numpy(), changed.iloc[: cut + 1].to_numpy()
    )
    # and the scramble did change the future, so the test can fail
    assert not np.allclose(
        base.iloc[cut + 2 :].to_numpy(), changed.iloc[cut + 2 :].to_numpy(), equal_nan=True
    )


def test_truncated_history_gives_the_same_past_features(candles):
    full = build_features(candles, "1h")
    part = build_features(candles.iloc[:640].copy(), "1h")
    np.testing.assert_array_equal(full.iloc[:640].to_numpy(), part.to_numpy())


def test_higher_timeframe_uses_only_closed_bars(candles):
    feats = build_features(candles, "1h")
    ret = feats["htf_ret_1"].to_numpy()
    hours = candles["date"].dt.hour.to_numpy()
    # a 4h bar closes with its 4th hourly bar (open hour 3, 7, 11 ...): the value may change
    # only on those bars and stays fixed on the three bars in between
    steps = np.flatnonzero(np.diff(ret[WARMUP:]) != 0) + WARMUP + 1
    assert len(steps) > 100
    assert set(hours[steps] % 4) == {3}


def test_predictions_do_not_change_when_the_future_does(candles):
    model = train(candles, "1h", TrainConfig(horizon=2, folds=3, max_iter=30, min_train=200)).model
    cut = 700
    base = model.predict_frame(candles)
    changed = model.predict_frame(_scramble_future(candles, cut, seed=1))
    pd.testing.assert_frame_equal(base.iloc[: cut + 1], changed.iloc[: cut + 1])
    assert not base.iloc[cut + 1 :].equals(changed.iloc[cut + 1 :])
