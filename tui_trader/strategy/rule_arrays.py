"""A rule strategy's signal columns over a whole history, from arrays: no DataFrame, no pandas.

What `analyze(strategy, frame)` gives a compiled TOML rule file in its signal and tag columns
(enter_long, exit_long, enter_short, exit_short as 0/1, enter_tag, exit_tag as a str or None),
computed from the candles' float64 arrays: every indicator with the same TA-Lib call, inputs
and parameters as the frame path (`rule_live.LiveRules`'s arrays), each `@TF`'s bars built by
`rules.resample_arrays` and aligned as `RuleStrategy.populate_indicators` aligns them (a base
row sees the last higher bar its own close has closed), then the conditions on whole columns
as `RuleStrategy._evaluate` judges them (a comparison with NaN is False, a crossing as
`indicators.crossed`). The pandas-free backtest of a rule strategy (`backtest.arrays`) reads
its signals here; `tests/strategy/test_strategy_rule_arrays.py` checks them column by column
against `analyze` on every bundled rule file and on generated ones.

The strategies it takes are `rule_live.unsupported`'s (TA-Lib indicators only, RuleStrategy's
own evaluation, no @informative methods).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tui_trader.strategy.rule_live import _COMPARE, _SECTIONS, LiveRules, unsupported
from tui_trader.strategy.rule_spec import OHLCV, Compare, Group, Number, Param, Ref
from tui_trader.strategy.rules import resample_arrays
from tui_trader.strategy.timeframes import timeframe_to_seconds

if TYPE_CHECKING:
    from tui_trader.strategy.interface import IStrategy
    from tui_trader.strategy.rules import RuleStrategy

__all__ = ["rule_signals", "unsupported"]

Columns = dict[str, np.ndarray]


def rule_signals(strategy: IStrategy, times: np.ndarray, bars: Columns) -> Columns:
    """The analysed frame's enter_long/exit_long/enter_short/exit_short (bool) and enter_tag/
    exit_tag (object: a str or None) columns for candles opening at `times` (int64 ns) with
    float64 `bars` (open, high, low, close, volume). The strategy must be one `unsupported`
    says None for."""
    why = unsupported(strategy)
    if why is not None:
        raise ValueError(f"rule_signals: {why}")
    live = LiveRules(strategy)  # type: ignore[arg-type]  # unsupported() checked the type
    n = len(times)
    columns: Columns = {**bars, **live._compute(bars)}
    if live.timeframes:
        base_ns = timeframe_to_seconds(strategy.timeframe) * 1_000_000_000
        for tf in live.timeframes:
            columns.update(_higher(live, tf, times, bars, base_ns))
    out: Columns = {
        "enter_long": np.zeros(n, dtype=bool),
        "exit_long": np.zeros(n, dtype=bool),
        "enter_short": np.zeros(n, dtype=bool),
        "exit_short": np.zeros(n, dtype=bool),
        "enter_tag": np.full(n, None, dtype=object),
        "exit_tag": np.full(n, None, dtype=object),
    }
    rules: RuleStrategy = live.strategy
    for section, signal, tag_col in _SECTIONS:
        rule = live.spec.rules.get(section)
        if rule is None:
            continue
        group, tag = rule
        mask = _evaluate(rules, group, columns, n)
        out[signal] = mask
        if tag:
            out[tag_col][mask] = tag
    if not strategy.can_short:  # as analyze's normalisation
        out["enter_short"] = np.zeros(n, dtype=bool)
        out["exit_short"] = np.zeros(n, dtype=bool)
    return out


def _higher(live: LiveRules, tf: str, times: np.ndarray, bars: Columns, base_ns: int) -> Columns:
    """Every column of the `tf` bars (candles and indicators) on the base rows, named
    "column@tf": a row holds the last higher bar its own candle's close has closed (NaN
    before the first)."""
    opens, higher = resample_arrays(times, bars, tf)
    higher.update(live._compute(higher))
    inf_ns = timeframe_to_seconds(tf) * 1_000_000_000
    pos = np.searchsorted(opens + (inf_ns - base_ns), times, side="right") - 1
    seen = pos >= 0
    take = np.maximum(pos, 0)
    out: Columns = {}
    for name, values in higher.items():
        arr = np.asarray(values, dtype=np.float64)[take]
        arr[~seen] = np.nan
        out[f"{name}@{tf}"] = arr
    return out


def _operand(strategy: RuleStrategy, operand: Ref | Number | Param, columns: Columns) -> Any:
    if isinstance(operand, Number):
        return float(operand.value)
    if isinstance(operand, Param):
        return float(getattr(strategy, operand.name).value)
    if operand.key not in columns and operand.column in OHLCV and operand.timeframe is None:
        raise KeyError(operand.key)
    return columns[operand.key]


def _evaluate(strategy: RuleStrategy, node: Compare | Group, columns: Columns, n: int) -> np.ndarray:
    """A bool mask per row, as `RuleStrategy._evaluate` gives it on the frame."""
    from tui_trader.indicators.cross import cross_flags

    if isinstance(node, Group):
        parts = [_evaluate(strategy, item, columns, n) for item in node.items]
        result = parts[0]
        for part in parts[1:]:
            result = (result & part) if node.kind == "all" else (result | part)
        return result
    left, right = _operand(strategy, node.left, columns), _operand(strategy, node.right, columns)
    if np.ndim(left) == 0:
        left = np.full(n, left)
    if node.op in _COMPARE:
        with np.errstate(invalid="ignore"):
            return np.asarray(_COMPARE[node.op](left, right), dtype=bool)
    direction = "above" if node.op == "crosses_above" else "below"
    return cross_flags(left, right, direction)
