"""Rule-based strategies: a TOML file compiled into a normal IStrategy subclass.

    [strategy]
    name = "rsi_trend"
    timeframe = "5m"
    stoploss = -0.05
    minimal_roi = { "0" = 0.04, "60" = 0.02 }

    [indicators]
    rsi_14 = { fn = "RSI", timeperiod = 14 }
    ema_50 = { fn = "EMA", timeperiod = 50 }

    [entry]
    all = ["rsi_14 crosses_above 30", "close@1h > ema_50@1h"]

The format is described in docs/strategies.md.
"""

from __future__ import annotations

import operator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tui_trader.strategy.errors import StrategyError
from tui_trader.strategy.informative import merge_closed, resample_ohlcv
from tui_trader.strategy.interface import IStrategy
from tui_trader.strategy.rule_spec import (
    OHLCV,
    Compare,
    Group,
    Indicator,
    Number,
    Param,
    Ref,
    RuleError,
    RuleSpec,
    parse,
)
from tui_trader.strategy.timeframes import timeframe_to_seconds

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RuleError", "RuleStrategy", "compile_rules", "validate_rules"]

_COMPARE = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le}


def validate_rules(text: str) -> list[RuleError]:
    """Every problem in a rule file, each with its line (for the builder's inline errors)."""
    return parse(text)[1]


def _looks_like_path(source: str | Path) -> bool:
    return isinstance(source, Path) or ("\n" not in source and source.endswith(".toml"))


def compile_rules(source: str | Path) -> type[IStrategy]:
    """A TOML file path (or the TOML text) -> an IStrategy subclass; StrategyError on problems."""
    path: Path | None = None
    if _looks_like_path(source):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise StrategyError(f"cannot read rule file: {exc.strerror}", file=str(path)) from None
    else:
        text = str(source)
    spec, errors = parse(text)
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise StrategyError(
            first.message + more, file=str(path) if path else "<rules>", line=first.line or None
        )
    attrs: dict[str, Any] = {
        "name": spec.name,
        "timeframe": spec.timeframe,
        "stoploss": spec.stoploss,
        "minimal_roi": dict(spec.minimal_roi),
        "can_short": spec.can_short,
        "startup_candle_count": spec.startup_candle_count
        if spec.startup_candle_count is not None
        else _startup(spec),
        "rules": spec,
        "rules_path": str(path) if path else None,
        "__doc__": spec.description or f"Rule-based strategy {spec.name}.",
        **spec.flags,
        **spec.parameters,
    }
    if spec.trailing is not None:
        attrs.update(
            trailing_stop=True,
            trailing_stop_positive=spec.trailing.get("positive"),
            trailing_stop_positive_offset=float(spec.trailing.get("offset", 0.0)),
            trailing_only_offset_is_reached=bool(spec.trailing.get("only_offset_reached", False)),
        )
    cls = type(spec.name, (RuleStrategy,), attrs)
    for name, param in spec.parameters.items():
        param.__set_name__(cls, name)
    return cls


def _lookback(ind: Indicator, spec: RuleSpec) -> int:
    params = {k: _param_high(v, spec) for k, v in ind.params.items()}
    if ind.source == "talib":
        from talib import abstract

        fn = abstract.Function(ind.fn)  # type: ignore[attr-defined]
        numeric = {
            k: v
            for k, v in params.items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        fn.set_parameters(numeric)
        return int(fn.lookback)
    ints = [v for v in params.values() if isinstance(v, int) and not isinstance(v, bool)]
    return max([*ints, 20])


def _param_high(value: Any, spec: RuleSpec) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        param = spec.parameters[value[1:]]
        return getattr(param, "high", param.default)
    return value


def _startup(spec: RuleSpec) -> int:
    """Bars needed before signals are meaningful: 2x the longest lookback, in base bars."""
    base = timeframe_to_seconds(spec.timeframe)
    longest = max((_lookback(i, spec) for i in spec.indicators.values()), default=0)
    ratio = max((timeframe_to_seconds(tf) // base for tf in spec.timeframes()), default=1)
    return int((2 * longest + 2) * ratio)


class RuleStrategy(IStrategy):
    """The base of every compiled rule file: indicators, then conditions, vectorized."""

    rules: ClassVar[RuleSpec]
    rules_path: ClassVar[str | None] = None

    def _value(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("$"):
            return getattr(self, value[1:]).value
        return value

    def _compute(self, frame: pd.DataFrame, names: set[str] | None = None) -> dict[str, Any]:
        from tui_trader.indicators.catalog import get_indicator

        out: dict[str, Any] = {}
        work = frame
        for ind in self.rules.indicators.values():
            if names is not None and ind.name not in names:
                continue
            params = {k: self._value(v) for k, v in ind.params.items()}
            result = get_indicator(ind.fn)(work, **params)
            if hasattr(result, "columns"):
                if ind.output:
                    out[ind.name] = result[ind.output]
                else:
                    out.update({f"{ind.name}.{c}": result[c] for c in result.columns})
            else:
                out[ind.name] = result
            # Later indicators may take an earlier one as input (price = "ema_fast").
            work = work.assign(**{k: v for k, v in out.items() if k not in work.columns})
        return out

    def populate_indicators(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        import pandas as pd

        columns = self._compute(dataframe)
        dataframe = pd.concat([dataframe, pd.DataFrame(columns, index=dataframe.index)], axis=1)
        for tf in sorted(self.rules.timeframes(), key=timeframe_to_seconds):
            higher = resample_ohlcv(dataframe[["date", *OHLCV]], tf)
            higher = pd.concat(
                [higher, pd.DataFrame(self._compute(higher), index=higher.index)], axis=1
            )
            higher = higher.rename(columns={c: f"{c}@{tf}" for c in higher.columns})
            dataframe = merge_closed(dataframe, higher, self.timeframe, tf, f"date@{tf}")
        return dataframe

    def _operand(self, df: pd.DataFrame, operand: Ref | Number | Param) -> Any:
        if isinstance(operand, Number):
            return operand.value
        if isinstance(operand, Param):
            return getattr(self, operand.name).value
        return df[operand.key]

    def _evaluate(self, df: pd.DataFrame, node: Compare | Group) -> pd.Series:
        import pandas as pd

        if isinstance(node, Group):
            parts = [self._evaluate(df, item) for item in node.items]
            result = parts[0]
            for part in parts[1:]:
                result = (result & part) if node.kind == "all" else (result | part)
            return result
        left, right = self._operand(df, node.left), self._operand(df, node.right)
        if not isinstance(left, pd.Series):
            left = pd.Series(float(left), index=df.index)
        if node.op in _COMPARE:
            return _COMPARE[node.op](left, right).fillna(False).astype(bool)
        from tui_trader.indicators import crossed

        return crossed(left, right, "above" if node.op == "crosses_above" else "below").fillna(
            False
        )

    def _apply(self, df: pd.DataFrame, section: str, signal: str, tag_col: str) -> pd.DataFrame:
        rule = self.rules.rules.get(section)
        if rule is None:
            return df
        group, tag = rule
        mask = self._evaluate(df, group).to_numpy(dtype=bool)
        df[signal] = mask.astype("int8")
        if tag:
            current = df[tag_col] if tag_col in df.columns else None
            values = df[signal].map({1: tag, 0: None}).astype(object)
            df[tag_col] = values if current is None else values.where(mask, current)
        return df

    def populate_entry_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        dataframe = self._apply(dataframe, "entry", "enter_long", "enter_tag")
        return self._apply(dataframe, "entry_short", "enter_short", "enter_tag")

    def populate_exit_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        dataframe = self._apply(dataframe, "exit", "exit_long", "exit_tag")
        return self._apply(dataframe, "exit_short", "exit_short", "exit_tag")
