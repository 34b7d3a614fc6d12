"""Walk-forward windows, stitching of out-of-sample equity, and an end-to-end run."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from tui_trader.core.errors import DataError, UsageError
from tui_trader.optimize import walk_forward, windows
from tui_trader.optimize.walkforward import stitch_equity

T0 = pd.Timestamp("2024-01-01", tz="UTC")
DAY = pd.Timedelta(days=1)


def test_rolling_windows_slide_by_step():
    plan = windows(T0, T0 + 200 * DAY, train="90d", test="30d", step="30d")
    assert len(plan) == 3  # 90+30, then +30, +30; a fourth would end at day 210
    for k, w in enumerate(plan):
        assert w.train_start == T0 + 30 * k * DAY
        assert w.train_end == w.test_start == T0 + (90 + 30 * k) * DAY
        assert w.test_end == w.test_start + 30 * DAY
    # consecutive test windows touch: the out-of-sample stretch is continuous
    assert all(a.test_end == b.test_start for a, b in itertools.pairwise(plan))


def test_anchored_windows_keep_the_start():
    plan = windows(T0, T0 + 200 * DAY, train="90d", test="30d", anchored=True)
    assert [w.train_start for w in plan] == [T0] * 3
    assert [(w.train_end - T0).days for w in plan] == [90, 120, 150]


def test_step_longer_than_test_leaves_gaps_and_shorter_is_refused():
    plan = windows(T0, T0 + 200 * DAY, train="60d", test="20d", step="40d")
    assert [(w.test_start - T0).days for w in plan] == [60, 100, 140, 180]
    with pytest.raises(UsageError, match="overlap"):
        windows(T0, T0 + 200 * DAY, train="60d", test="30d", step="10d")
    with pytest.raises(UsageError, match="not a duration"):
        windows(T0, T0 + 200 * DAY, train="ninety", test="30d")
    with pytest.raises(DataError, match="at least"):
        windows(T0, T0 + 100 * DAY, train="90d", test="30d")


def test_stitching_compounds_segments():
    a = pd.Series([100.0, 110.0], index=[T0, T0 + DAY])
    b = pd.Series([100.0, 90.0], index=[T0 + 2 * DAY, T0 + 3 * DAY])
    c = pd.Series([100.0, 120.0], index=[T0 + 4 * DAY, T0 + 5 * DAY])
    out = stitch_equity([a, b, c])
    assert out.tolist() == pytest.approx([100.0, 110.0, 110.0, 99.0, 99.0, 118.8])
    assert list(out.index) == [*a.index, *b.index, *c.index]
    assert stitch_equity([]).empty


def test_walk_forward_end_to_end(strategy, candles):
    # 3000 five-minute bars = 10.4 days: train 3 days, test 2 days -> 3 windows
    result = walk_forward(strategy, candles, timeframe="5m", train="3d", test="2d",
                          method="grid", space=["fast=3:5", "slow=12:20:8"], jobs=1)  # fmt: skip
    assert len(result.windows) == 3
    for w in result.windows:
        assert w.trials == 6 and w.params is not None
        assert w.oos_equity.index[0] >= w.test_start and w.oos_equity.index[-1] < w.test_end
    first = result.windows[0].oos_equity
    assert result.oos_equity.iloc[: len(first)].tolist() == pytest.approx(first.tolist())
    assert result.oos_equity.index.is_monotonic_increasing
    assert result.oos_metrics["total_return"] == pytest.approx(
        result.oos_equity.iloc[-1] / result.oos_equity.iloc[0] - 1
    )
    doc = result.to_dict()
    assert len(doc["windows"]) == 3 and doc["equity"]
    assert "efficiency" in doc and "warning" in doc
