"""A rule strategy's signals over a whole history from arrays (strategy/rule_arrays.py) equal
`analyze`'s signal and tag columns, cell for cell: on every bundled rule file and on generated
rule files covering every operator, operand, group, tag, timeframe suffix and indicator form,
over seeded random histories with gaps, with default and changed parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_strategy_rule_live import SEEDS, TOML_FILES, _history, generated_rules

from tui_trader.strategy.analysis import analyze
from tui_trader.strategy.rule_arrays import rule_signals
from tui_trader.strategy.rules import compile_rules

SIGNALS = ("enter_long", "exit_long", "enter_short", "exit_short")


def arrays_of(df: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    times = df["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    return times, {c: df[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close", "volume")}


def assert_same(strategy: Any, df: pd.DataFrame) -> dict[str, int]:
    full = analyze(strategy, df.copy(), {"pair": "BTC/USDT", "timeframe": strategy.timeframe})
    got = rule_signals(strategy, *arrays_of(df))
    for col in SIGNALS:
        assert got[col].dtype == bool
        assert np.array_equal(got[col], full[col].to_numpy() != 0), col
    for col in ("enter_tag", "exit_tag"):
        want = full[col].to_numpy(dtype=object)
        assert [None if v is None else v for v in want] == got[col].tolist(), col
    return {col: int(got[col].sum()) for col in SIGNALS}


@pytest.mark.parametrize("path", TOML_FILES, ids=lambda p: p.stem)
def test_every_bundled_rule_strategy_equals_analyze(path: Any) -> None:
    cls = compile_rules(path)
    strategy = cls()
    fired = assert_same(strategy, _history(6_000, strategy.timeframe, seed=3))
    assert fired["enter_long"] > 0 and fired["exit_long"] > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_rule_strategies_equal_analyze(seed: int) -> None:
    strategy = compile_rules(generated_rules(seed))()
    assert_same(strategy, _history(3_000, strategy.timeframe, seed=seed))
    for name, param in type(strategy).rules.parameters.items():  # other parameter values
        values = list(param.range)
        getattr(strategy, name).value = values[len(values) // 3]
    assert_same(strategy, _history(3_000, strategy.timeframe, seed=seed + 100))


def test_a_strategy_it_cannot_take_is_refused() -> None:
    text = generated_rules(0).replace('[indicators]\n', '[indicators]\nst = { fn = "supertrend" }\n', 1)
    strategy = compile_rules(text)()
    with pytest.raises(ValueError, match="not a TA-Lib function"):
        rule_signals(strategy, *arrays_of(_history(100, strategy.timeframe, seed=1)))
