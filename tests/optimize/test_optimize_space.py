"""Search spaces from declared parameters and `--space` narrowing."""

from __future__ import annotations

import numpy as np
import pytest

from tui_trader.core.errors import UsageError
from tui_trader.optimize.space import build_space


def test_space_comes_from_optimizable_parameters(strategy):
    space = build_space(strategy)
    assert space.names == ["buy_fast", "buy_slow"]  # sell_mode has optimize=False
    assert space.dimensions[0].choices == tuple(range(2, 13))
    assert space.grid_size() == 11 * 31
    assert space.fixed == {}


def test_narrowing_by_short_name_with_step_and_fixing(strategy):
    space = build_space(strategy, ["fast=3:5", "slow=10:40:10", "sell_mode=never"])
    assert space.dimensions[0].choices == (3, 4, 5)
    assert space.dimensions[1].choices == (10, 20, 30, 40)
    # a non-optimized parameter named on the command line is searched or fixed as asked
    assert space.fixed == {"sell_mode": "never"}
    grid = list(space.grid())
    assert len(grid) == 12 and len({tuple(p.values()) for p in grid}) == 12


def test_narrowing_categorical_choices(strategy):
    space = build_space(strategy, ["fast=4", "slow=20", "sell_mode=cross,never"])
    assert space.names == ["sell_mode"]
    assert space.fixed == {"buy_fast": 4, "buy_slow": 20}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("nope=1:2", "no such parameter"),
        ("fast=1:5", "leaves the declared range"),
        ("fast=5:3", "LOW <= HIGH"),
        ("fast=a:b", "expected numbers"),
        ("fast", "NAME=LOW:HIGH"),
        ("fast=2:8:1.5", "whole number"),
        ("sell_mode=maybe", "not one of"),
    ],
)
def test_bad_narrowing_is_one_clear_usage_error(strategy, item, message):
    with pytest.raises(UsageError, match=message):
        build_space(strategy, [item])


def test_nothing_left_to_search(strategy):
    with pytest.raises(UsageError, match="nothing to optimize"):
        build_space(strategy, ["fast=4", "slow=20"])


def test_sampling_is_seeded(strategy):
    space = build_space(strategy)
    a = [space.sample(np.random.default_rng(5)) for _ in range(3)]
    b = [space.sample(np.random.default_rng(5)) for _ in range(3)]
    assert a == b


@pytest.mark.parametrize("method", ["tpe", "nsga2"])
def test_samplers_reach_both_ends_of_a_decimal_parameter(method: str) -> None:
    """[1.5, 3.0] in tenths: optuna's float step (1.6 - 1.5 = 0.10000000000000009) used to
    trim the range to 2.9; the samplers now draw positions on the ladder."""
    import optuna

    from tui_trader.optimize.search import _distribution, _snap
    from tui_trader.optimize.space import Dimension

    dim = Dimension("x", "decimal", tuple(round(1.5 + i / 10, 1) for i in range(16)), decimals=1)
    dist = _distribution(dim)
    sampler = optuna.samplers.TPESampler(seed=1) if method == "tpe" else optuna.samplers.NSGAIISampler(seed=1)
    study = optuna.create_study(sampler=sampler)
    seen = set()
    for _ in range(200):
        trial = study.ask({"x": dist})
        value = _snap(dim, trial.params["x"])
        seen.add(value)
        study.tell(trial, -abs(value - 3.0))
    assert {1.5, 3.0} <= seen and seen <= set(dim.choices)
