"""optimize(): exhaustive grid, seeded random/TPE, min-trades, Pareto front, indicator cache."""

from __future__ import annotations

import pytest

from tui_trader.optimize import optimize
from tui_trader.optimize.pareto import dominates, pareto_front

SMALL = ["fast=3:6", "slow=12:20:4"]  # 4 x 3 = 12 points


def _values(result):
    return [(t.number, t.params, t.status, t.values) for t in result.trials]


def test_grid_visits_every_point_exactly_once(strategy, candles):
    result = optimize(strategy, candles, timeframe="5m", method="grid", space=SMALL, jobs=1)
    seen = [(t.params["buy_fast"], t.params["buy_slow"]) for t in result.trials]
    assert sorted(seen) == [(f, s) for f in (3, 4, 5, 6) for s in (12, 16, 20)]
    assert result.best is not None
    assert result.best.value == max(t.value for t in result.completed)
    assert result.verified is True


def test_random_and_tpe_are_reproducible_with_a_seed(strategy, candles):
    for method in ("random", "tpe"):
        runs = [
            optimize(strategy, candles, timeframe="5m", method=method, trials=12, seed=11, jobs=1)
            for _ in range(2)
        ]
        assert _values(runs[0]) == _values(runs[1])
        assert len(runs[0].trials) == 12
    other = optimize(strategy, candles, timeframe="5m", method="random", trials=12, seed=12, jobs=1)
    assert [t.params for t in other.trials] != [t.params for t in runs[0].trials]


def test_random_never_repeats_a_point(strategy, candles):
    result = optimize(strategy, candles, timeframe="5m", method="random", trials=30, jobs=1,
                      space=SMALL, seed=1)  # fmt: skip
    assert len(result.trials) == 12  # the space has only 12 points: all of them, once
    assert len({tuple(t.params.values()) for t in result.trials}) == 12


def test_min_trades_rejects_trials(strategy, candles):
    loose = optimize(strategy, candles, timeframe="5m", method="grid", space=SMALL, jobs=1)
    counts = sorted(t.metrics["trades"] for t in loose.trials)
    limit = counts[len(counts) // 2]
    strict = optimize(strategy, candles, timeframe="5m", method="grid", space=SMALL, jobs=1,
                      min_trades=limit)  # fmt: skip
    for t in strict.trials:
        assert (t.status == "rejected") == (t.metrics["trades"] < limit)
        assert (t.values is None) == (t.status == "rejected")
    assert strict.best.metrics["trades"] >= limit
    none = optimize(strategy, candles, timeframe="5m", method="grid", space=SMALL, jobs=1,
                    min_trades=10**6)  # fmt: skip
    assert none.best is None and all(t.status == "rejected" for t in none.trials)


def test_pareto_front_on_a_toy_problem():
    points = [(1, 5), (2, 4), (3, 3), (2, 2), (1, 1), (3, 3), (0, 6)]
    both_max = pareto_front(points, ["maximize", "maximize"])
    assert both_max == [0, 1, 2, 5, 6]
    # maximize x, minimize y: (3, 3) beats everything with x < 3 and y >= 3
    assert pareto_front(points, ["maximize", "minimize"]) == [2, 3, 4, 5]
    assert dominates((2, 2), (1, 1), ["maximize", "maximize"])
    assert not dominates((1, 1), (1, 1), ["maximize", "maximize"])


def test_multi_objective_reports_a_correct_front(strategy, candles):
    result = optimize(strategy, candles, timeframe="5m", method="nsga2", trials=24, seed=3,
                      jobs=1, objectives="total_return,max_drawdown")  # fmt: skip
    dirs = result.directions
    assert dirs == ["maximize", "minimize"]
    front = {t.number for t in result.pareto}
    ok = [t for t in result.completed if not t.repeat]
    assert front
    for t in ok:
        beaten = any(dominates(o.values, t.values, dirs) for o in ok)
        assert beaten == (t.number not in front)
    doc = result.to_dict()
    assert len(doc["pareto"]) == len(front)


def test_indicator_cache_computes_each_value_once(strategy, candles):
    cls = type(strategy)
    space = ["fast=3:6", "slow=12:28:4"]  # 4 x 5 = 20 trials
    cls.calls = 0
    plain = optimize(strategy, candles, timeframe="5m", method="grid", space=space, jobs=1,
                     cache=False)  # fmt: skip
    assert cls.calls == 20  # one full analyze per trial
    cls.calls = 0
    cached = optimize(strategy, candles, timeframe="5m", method="grid", space=space, jobs=1,
                      verify=False)  # fmt: skip
    probes = 2 + 2 + 2  # base twice, then the lowest and highest other value of each parameter
    assert cls.calls - probes <= 1 + 4 + 5  # static columns once, then once per value
    assert cached.cache["populate_calls"] == cls.calls - probes
    assert cached.cache["columns"]["sma_fast"] == ["buy_fast"]
    assert cached.cache["columns"]["sma_slow"] == ["buy_slow"]
    assert cached.cache["columns"]["spread"] == []
    assert _values(cached) == _values(plain)  # same numbers as the plain backtest


def test_process_pool_gives_the_same_trials(strategy, candles):
    inline = optimize(strategy, candles, timeframe="5m", method="grid", space=SMALL, jobs=1)
    pooled = optimize(strategy, candles, timeframe="5m", method="grid", space=SMALL, jobs=2)
    assert pooled.workers == 2
    assert _values(pooled) == _values(inline)


def test_progress_callback_and_stop(strategy, candles):
    import threading

    stop = threading.Event()
    seen = []

    def on_progress(p):
        seen.append((p.done, p.total))
        if p.done == 3:
            stop.set()

    result = optimize(strategy, candles, timeframe="5m", method="grid", space=SMALL, jobs=1,
                      on_progress=on_progress, stop=stop)  # fmt: skip
    assert seen == [(1, 12), (2, 12), (3, 12)]
    assert result.stopped and len(result.trials) == 3


def test_user_objective_function(strategy, candles, tmp_path):
    module = tmp_path / "my_objective.py"
    module.write_text(
        "direction = 'maximize'\n"
        "def score(result):\n"
        "    return result.metrics['total_return'] - result.metrics['max_drawdown']\n"
    )
    result = optimize(strategy, candles, timeframe="5m", method="grid", space=SMALL, jobs=1,
                      objectives=[f"{module}:score"])  # fmt: skip
    for t in result.completed:
        assert t.value == pytest.approx(t.metrics["total_return"] - t.metrics["max_drawdown"])
