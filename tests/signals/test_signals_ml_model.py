"""Direction model: labels, purged walk-forward splits, and honest out-of-sample numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tui_trader.core.errors import DataError
from tui_trader.signals.ml.model import TrainConfig, make_labels, train, walk_forward_splits

FAST = {"max_iter": 40, "folds": 4, "min_train": 250}


def walk(n: int, seed: int, ar: float = 0.0) -> pd.DataFrame:
    """A seeded random walk (ar=0) or a walk with autocorrelated returns (ar>0)."""
    rng = np.random.default_rng(seed)
    eps = rng.normal(0, 0.005, n)
    r = np.zeros(n)
    for i in range(1, n):
        r[i] = ar * r[i - 1] + eps[i]
    close = 100 * np.exp(np.cumsum(r))
    open_ = np.r_[100.0, close[:-1]]
    wick = np.abs(rng.normal(0, 0.002, n)) * close
    return pd.DataFrame(
        {
            "date": pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) + wick,
            "low": np.minimum(open_, close) - wick,
            "close": close,
            "volume": rng.gamma(2.0, 50.0, n),
        }
    )


def test_labels_and_dead_zone():
    close = np.array([100.0, 101.0, 100.5, 100.5, 99.0])
    y, fwd = make_labels(close, 1)
    assert y[:2].tolist() == [1.0, 0.0]
    assert np.isnan(y[2])  # no move: the dead zone at 0 leaves it unlabelled
    assert np.isnan(y[-1]) and np.isnan(fwd[-1])  # the future of the last bar is unknown
    y2, _ = make_labels(close, 2, dead_zone=0.004)
    assert y2[:3].tolist() == [1.0, 0.0, 0.0]  # +0.5 %, -0.5 %, -1.5 % over two bars
    y3, _ = make_labels(close, 2, dead_zone=0.006)
    assert np.isnan(y3[0]) and np.isnan(y3[1])  # inside a 0.6 % dead zone: not labelled
    assert y3[2] == 0.0 and np.isnan(y3[-2])


def test_walk_forward_splits_purge_and_embargo():
    rows = np.arange(100, 1000)
    cfg = TrainConfig(horizon=5, embargo=3)
    splits = walk_forward_splits(rows, 4, cfg.gap(), 50)
    assert len(splits) == 4
    for train_rows, test_rows in splits:
        # no training label (bar s looks at s + horizon) reaches into the test block, plus embargo
        assert train_rows.max() + cfg.horizon + 3 < test_rows.min()
        assert np.all(np.diff(test_rows) == 1)
    tests = np.concatenate([t for _, t in splits])
    assert len(np.unique(tests)) == len(tests)  # each bar is tested once


def test_random_walk_claims_no_skill():
    result = train(walk(3000, seed=5), "1h", TrainConfig(horizon=1, **FAST))
    rep = result.report
    assert abs(rep.metrics["auc"] - 0.5) < 0.04
    assert rep.edge is False
    assert rep.verdict.startswith("no edge over baseline")
    # baselines are reported next to the model, out of sample on the same rows
    assert set(rep.baselines) == {"majority", "last_move"}
    assert abs(rep.baselines["majority"]["accuracy"] - 0.5) < 0.05
    assert rep.metrics["test_rows"] > 2000


def test_learnable_data_shows_skill():
    """The same pipeline finds the signal in autocorrelated returns (so the test above can fail)."""
    rep = train(walk(3000, seed=5, ar=0.35), "1h", TrainConfig(horizon=1, **FAST)).report
    assert rep.metrics["auc"] > 0.55
    assert rep.metrics["log_loss"] < rep.baselines["majority"]["log_loss"]
    assert rep.top_features[0][0] in ("ret_1", "ret_2", "body", "bb_pctb", "range_pos_20", "rsi_14")


def test_calibrated_probabilities_stay_near_the_base_rate_without_signal():
    model = train(walk(2500, seed=9), "1h", TrainConfig(horizon=1, **FAST)).model
    cols = model.predict_frame(walk(800, seed=10))
    conf = cols["ml_confidence"].dropna()
    assert len(conf) == 800 - model.warmup
    assert conf.between(0.5, 1.0).all()
    assert conf.median() < 0.56  # calibration pulls noise toward 0.5
    assert set(cols["ml_prediction"].unique()) <= {-1, 0, 1}
    assert (cols["ml_prediction"].iloc[: model.warmup] == 0).all()


def test_too_little_data_is_one_clear_error():
    with pytest.raises(DataError, match="not enough candles"):
        train(walk(300, seed=1), "1h", TrainConfig(horizon=4))


def test_the_first_training_in_a_process_runs_on_one_openmp_thread():
    """The thread limit must hold on the first `signals train` of a process: threadpoolctl only
    limits OpenMP runtimes already loaded, so a limit set before sklearn loads its runtime is
    lost (training then fans out over every core: ~10x slower on a busy 2-core machine)."""
    import os
    import subprocess
    import sys

    code = """
import threadpoolctl
import tui_trader.signals.ml.model as model
from tui_trader.strategy.synthetic import synthetic_ohlcv
seen = []
real = model._train
def spy(*args, **kwargs):
    import sklearn.ensemble  # what training loads: its OpenMP runtime is in the process from here
    seen.extend(i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "openmp")
    return real(*args, **kwargs)
model._train = spy
model.train(synthetic_ohlcv(1500, "1h", seed=3), "1h", model.TrainConfig(horizon=4, max_iter=10))
print(seen)
"""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    seen = out.stdout.strip()
    assert seen not in ("", "[]"), out.stderr[-500:]
    assert set(eval(seen)) == {1}, seen
