"""Optimizer trials size like `tui-trader backtest` (same [risk] settings) and stay lean."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tui_trader.backtest import run_backtest
from tui_trader.config.risk import RiskSettings, SizingSettings
from tui_trader.optimize import optimize
from tui_trader.optimize.evaluate import daily_returns

PARAMS = {"buy_fast": 5, "buy_slow": 25}
SPACE = ["buy_fast=5:6", "buy_slow=25:30:5"]


def trial_for(result, params):
    return next(t for t in result.trials if t.params == params and not t.repeat)


@pytest.mark.parametrize(
    "risk",
    [None, RiskSettings(sizing=SizingSettings(mode="fixed_notional", notional=3_000.0))],
    ids=["defaults", "fixed_notional"],
)
def test_trial_metrics_equal_a_backtest_with_the_same_risk(strategy, candles, risk) -> None:
    result = optimize(strategy, candles, timeframe="5m", method="grid", jobs=1, risk=risk,
                      space=SPACE, verify=False)  # fmt: skip
    trial = trial_for(result, PARAMS)
    strategy.set_parameters(PARAMS)
    direct = run_backtest(strategy, candles, timeframe="5m", risk=risk)
    assert direct.metrics["trades"] > 5
    for key, value in direct.metrics.items():
        if key not in ("alpha", "beta"):  # lean trials skip the benchmark
            assert trial.metrics[key] == value, key
    assert trial.metrics["alpha"] is None


def test_sizing_settings_change_the_trials(strategy, candles) -> None:
    space = SPACE
    small = optimize(strategy, candles, timeframe="5m", method="grid", jobs=1, space=space,
                     verify=False)  # fmt: skip
    big = optimize(strategy, candles, timeframe="5m", method="grid", jobs=1, space=space,
                   verify=False,
                   risk=RiskSettings(sizing=SizingSettings(percent=0.5, max_percent=1.0)))  # fmt: skip
    # same trades, 25x the stake: the return scales with the stake
    a, b = trial_for(small, PARAMS).metrics, trial_for(big, PARAMS).metrics
    assert a["trades"] == b["trades"] > 5
    assert abs(b["total_return"]) > 10 * abs(a["total_return"]) > 0


def test_alpha_objective_keeps_the_benchmark(strategy, candles) -> None:
    result = optimize(strategy, candles, timeframe="5m", method="grid", jobs=1,
                      objectives="alpha", space=SPACE, verify=False)  # fmt: skip
    assert result.best is not None and result.best.metrics["beta"] is not None


def test_daily_returns_match_pandas_resample() -> None:
    rng = np.random.default_rng(4)
    idx = pd.date_range("2024-03-01 13:00", periods=5000, freq="5min", tz="UTC")
    keep = np.sort(rng.choice(len(idx), 3000, replace=False))  # gaps, whole missing days
    keep = keep[(keep < 1000) | (keep > 2000)]
    equity = pd.Series(1000 * np.exp(np.cumsum(rng.normal(0, 1e-3, len(keep)))), index=idx[keep])
    daily = equity.resample("1D").last().ffill().to_numpy()
    chained = np.concatenate([[equity.iloc[0]], daily])
    np.testing.assert_array_equal(daily_returns(equity), chained[1:] / chained[:-1] - 1.0)
