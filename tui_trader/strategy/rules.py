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
from tui_trader.strategy.frames import frame_of, with_columns
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
    _inputs_cache: ClassVar[dict[str, set[str]] | None] = None  # per compiled class

    @classmethod
    def _inputs(cls) -> dict[str, set[str]]:
        """Indicator name -> earlier indicators it takes as an input column (price = "ema")."""
        cached = cls.__dict__.get("_inputs_cache")
        if cached is None:
            names = set(cls.rules.indicators)
            cached = {
                ind.name: {v for v in ind.params.values() if isinstance(v, str) and v in names}
                for ind in cls.rules.indicators.values()
            }
            cls._inputs_cache = cached
        return cached

    def _value(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("$"):
            return getattr(self, value[1:]).value
        return value

    def _compute(self, frame: pd.DataFrame, names: set[str] | None = None) -> dict[str, Any]:
        from tui_trader.indicators.catalog import get_indicator

        out: dict[str, Any] = {}
        work = frame
        for ind in self.rules.indicators.values():
            wanted = self._inputs().get(ind.name)
            if wanted:
                work = work.assign(**{k: v for k, v in out.items()
                                      if k in wanted and k not in work.columns})  # fmt: skip
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
        return out

    def populate_indicators(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        """Base indicators, then each `@TF`: bars resampled from these candles, their
        indicators, and each base row given the last higher bar closed by its own close
        (the same result as `resample_ohlcv` + `merge_closed`, in NumPy: the live runner
        evaluates this on every candle, inside the 5 ms budget)."""
        import numpy as np

        columns = self._compute(dataframe)
        timeframes = sorted(self.rules.timeframes(), key=timeframe_to_seconds)
        if timeframes:
            times = dataframe["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
            base_ns = timeframe_to_seconds(self.timeframe) * 1_000_000_000
            for tf in timeframes:
                higher = resample_bars(dataframe, times, tf)
                higher_cols = {"date": higher["date"], **{c: higher[c] for c in OHLCV}}
                higher_cols.update(self._compute(higher))
                inf_ns = timeframe_to_seconds(tf) * 1_000_000_000
                # a higher bar reaches the base row whose candle closes when it closes
                at = higher["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
                pos = np.searchsorted(at + (inf_ns - base_ns), times, side="right") - 1
                seen = pos >= 0
                take = np.maximum(pos, 0)
                for name, values in higher_cols.items():
                    columns[f"{name}@{tf}"] = _take(values, take, seen)
        return with_columns(dataframe, frame_of(columns, dataframe.index))

    def _operand(self, df: pd.DataFrame, operand: Ref | Number | Param) -> Any:
        import numpy as np

        if isinstance(operand, Number):
            return float(operand.value)
        if isinstance(operand, Param):
            return float(getattr(self, operand.name).value)
        return df[operand.key].to_numpy(dtype=np.float64, na_value=np.nan)

    def _evaluate(self, df: pd.DataFrame, node: Compare | Group) -> Any:
        """A boolean NumPy mask per row (a comparison with NaN is False)."""
        import numpy as np

        if isinstance(node, Group):
            parts = [self._evaluate(df, item) for item in node.items]
            result = parts[0]
            for part in parts[1:]:
                result = (result & part) if node.kind == "all" else (result | part)
            return result
        left, right = self._operand(df, node.left), self._operand(df, node.right)
        if np.ndim(left) == 0:
            left = np.full(len(df), left)
        if node.op in _COMPARE:
            with np.errstate(invalid="ignore"):
                return np.asarray(_COMPARE[node.op](left, right), dtype=bool)
        from tui_trader.indicators import crossed

        direction = "above" if node.op == "crosses_above" else "below"
        return crossed(left, right, direction).to_numpy(dtype=bool)

    def _apply(self, df: pd.DataFrame, section: str, signal: str, tag_col: str) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        rule = self.rules.rules.get(section)
        if rule is None:
            return df
        group, tag = rule
        mask = self._evaluate(df, group)
        df[signal] = mask.astype("int8")
        if tag:
            if tag_col in df.columns:
                values = df[tag_col].to_numpy(dtype=object, copy=True)
            else:
                values = np.full(len(df), None, dtype=object)
            values[mask] = tag
            # object, as analyze leaves tags: not inferred as pandas' "str" (~30 ms a year of 1m bars)
            df[tag_col] = pd.Series(values, index=df.index, dtype=object)
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


def resample_bars(dataframe: pd.DataFrame, times: Any, timeframe: str) -> pd.DataFrame:
    """`resample_ohlcv` in NumPy for sorted candles: `timeframe` bars (date = bucket open,
    epoch-aligned, weeks from Monday) holding first open, max high, min low, last close and
    summed volume of the candles inside; buckets without candles are left out."""
    import numpy as np
    import pandas as pd

    opens, cols = resample_arrays(
        times, {c: dataframe[c].to_numpy(dtype=np.float64) for c in OHLCV}, timeframe
    )
    dates = opens.astype("datetime64[ns]")
    return frame_of(
        {
            "date": pd.DatetimeIndex(dates).tz_localize("UTC").as_unit(_unit(dataframe["date"])).array,
            **cols,
        },
        pd.RangeIndex(len(opens)),
    )


def resample_arrays(
    times: Any, cols: dict[str, Any], timeframe: str
) -> tuple[Any, dict[str, Any]]:
    """The arrays of `resample_bars`: (bucket opens in epoch ns, the OHLCV float64 columns
    of the higher bars) from candle open times in epoch ns and their OHLCV columns. The live
    evaluation of a rule strategy builds its higher bars here too, from the window's arrays."""
    import numpy as np

    seconds = timeframe_to_seconds(timeframe)
    step = seconds * 1_000_000_000
    origin = 0 if seconds % 604_800 else 4 * 86_400 * 1_000_000_000  # 1970-01-05, a Monday
    bucket = (times - origin) // step
    starts = np.flatnonzero(np.diff(bucket, prepend=bucket[:1] - 1)) if len(times) else times
    ends = np.append(starts[1:], len(times)) - 1
    return bucket[starts] * step + origin, {
        "open": cols["open"][starts],
        "high": np.maximum.reduceat(cols["high"], starts) if len(starts) else starts,
        "low": np.minimum.reduceat(cols["low"], starts) if len(starts) else starts,
        "close": cols["close"][ends],
        "volume": np.add.reduceat(cols["volume"], starts) if len(starts) else starts,
    }


def _take(values: Any, index: Any, valid: Any) -> Any:
    """values[index] with rows that no higher bar has reached yet as NaN / NaT."""
    import numpy as np
    import pandas as pd

    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):
        dates = values.to_numpy(dtype="datetime64[ns]")[index]
        dates[~valid] = np.datetime64("NaT")
        # an array, never aligned by label; in the candles' own time unit
        return pd.DatetimeIndex(dates).tz_localize("UTC").as_unit(_unit(values)).array
    arr = np.asarray(values, dtype=np.float64)[index]
    arr[~valid] = np.nan
    return arr


def _unit(dates: Any) -> str:
    return str(getattr(dates.dtype, "unit", "ns"))
