"""analyze(): the one code path from candles to signals, for the live runner and the backtester."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tui_trader.strategy.deadline import BARS_PER_TIMEOUT, StrategyTimeout, deadline, timeout_for
from tui_trader.strategy.errors import StrategyError, from_exception, locate
from tui_trader.strategy.frames import SIGNAL_COLUMNS, TAG_COLUMNS, no_tags, signal_frame, with_columns
from tui_trader.strategy.informative import (
    InformativeData,
    column_format,
    merge_closed,
    resample_ohlcv,
)

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.strategy.interface import IStrategy

T = TypeVar("T")
# Freqtrade v2 names, mapped onto v3 when a ported strategy still writes them.
_LEGACY = {"buy": "enter_long", "sell": "exit_long", "buy_tag": "enter_tag", "exit_tag": "exit_tag"}


def strategy_file(strategy: object) -> str | None:
    """The file a strategy comes from: a rule strategy's TOML file, a Python one's module."""
    rules_path = getattr(type(strategy), "rules_path", None)
    if isinstance(rules_path, str) and rules_path:
        return rules_path
    try:
        return inspect.getfile(type(strategy))
    except (TypeError, OSError):
        return None


def _informative_methods(strategy: IStrategy) -> list[tuple[Any, InformativeData]]:
    return [(getattr(strategy, attr), mark) for attr, mark in _informative_marks(type(strategy))]


_MARKS: weakref.WeakKeyDictionary[type, tuple[tuple[str, InformativeData], ...]] = weakref.WeakKeyDictionary()


def _informative_marks(cls: type) -> tuple[tuple[str, InformativeData], ...]:
    """The @informative methods of a class, looked up once (dir() of a strategy class costs
    15 µs, every candle live); a reloaded strategy is a new class, the old one is let go."""
    found = _MARKS.get(cls)
    if found is None:
        marks = []
        for attr in dir(cls):
            fn = getattr(cls, attr, None)
            for mark in getattr(fn, "_ft_informative", ()):
                marks.append((attr, mark))
        found = _MARKS[cls] = tuple(marks)
    return found


def _merge_informative(
    strategy: IStrategy, df: pd.DataFrame, metadata: dict[str, Any]
) -> pd.DataFrame:
    pair = metadata.get("pair", "")
    for method, mark in _informative_methods(strategy):
        asset = (mark.asset or pair).format(
            stake_currency=strategy.config.get("stake_currency", "")
        )
        dp = strategy.dp
        inf = dp.get_pair_dataframe(asset, mark.timeframe) if dp is not None else None
        if (inf is None or inf.empty) and asset == pair:
            inf = resample_ohlcv(df, mark.timeframe)
        if inf is None or inf.empty:
            raise StrategyError(
                f"no {mark.timeframe} data for {asset}: the runner or backtest must provide it"
            )
        inf = method(inf.copy(), {"pair": asset, "timeframe": mark.timeframe})
        renamed = inf.rename(columns={c: column_format(mark, c, asset) for c in inf.columns})
        df = merge_closed(
            df,
            renamed,
            strategy.timeframe,
            mark.timeframe,
            column_format(mark, "date", asset),
            ffill=mark.ffill,
        )
    return df


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Create the signal columns up front: `df.loc[mask, "enter_long"] = 1` then never has to
    enlarge the frame (slow in pandas) and unset rows are already 0 / None. The missing
    columns are added in one step (one insert per column costs ~0.1 ms each, per candle live),
    each of its final dtype: a dict of raw object arrays would make pandas scan every cell to
    infer a type (~15 ms for a year of 1-minute bars)."""
    missing = tuple(c for c in SIGNAL_COLUMNS + TAG_COLUMNS if c not in df.columns)
    if not missing:
        return df
    new = signal_frame(df.index, missing)
    if len(missing) == 1:
        df[missing[0]] = new[missing[0]]
        return df
    return with_columns(df, new)


def _all_none(nulls_only: Any) -> bool:
    """For an array of null cells: every one is None (the only null that is falsy; NaN and
    NaT are truthy, pd.NA refuses to be a bool)."""
    import numpy as np

    try:
        return bool(np.count_nonzero(nulls_only) == 0)
    except TypeError:
        return False


def _normalise(df: pd.DataFrame, can_short: bool = True) -> pd.DataFrame:
    """int8 0/1 signals and object tags with None for "no tag"; each column is only rewritten
    when it needs to be (the live runner runs this on every candle, the backtester once over
    the whole history: an untagged column costs one C-level null scan, not a Python one)."""
    import numpy as np
    import pandas as pd

    for old, new in _LEGACY.items():
        if old in df.columns and old != new and not df[new].any():
            df[new] = df[old]
    dtypes = dict(zip(df.columns, df.dtypes, strict=True))  # one look, not a column lookup each
    for col in SIGNAL_COLUMNS:
        if not can_short and col in ("enter_short", "exit_short"):
            if dtypes[col] != np.int8 or df[col].to_numpy().any():
                df[col] = np.zeros(len(df), dtype="int8")
            continue
        if dtypes[col] != np.int8:
            values = np.nan_to_num(df[col].to_numpy().astype("float64"), nan=0.0).astype("int8")
            df[col] = values
    for col in TAG_COLUMNS:
        column = df[col]
        is_object = dtypes[col] == np.dtype(object)
        nulls = column.isna().to_numpy()
        if nulls.all():
            if len(nulls) and not (is_object and _all_none(column.to_numpy())):
                df[col] = no_tags(df.index)  # NaN / NA / NaT -> None
            continue
        # only the tagged cells are read as objects: a tag column of a year of 1m bars is
        # 525,600 cells, a few thousand of them tagged
        tagged = np.flatnonzero(~nulls)
        tags = column.iloc[tagged].to_numpy(dtype=object)
        named = tags != ""
        if is_object and named.all() and _all_none(column.to_numpy()[nulls]):
            continue  # already object, with None (not NaN or "") for "no tag"
        values = np.full(len(nulls), None, dtype=object)
        values[tagged[named]] = tags[named]
        df[col] = pd.Series(values, index=df.index, dtype=object)
    return df


def analyze(
    strategy: IStrategy, dataframe: pd.DataFrame, metadata: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Run populate_indicators, populate_entry_trend, populate_exit_trend on `dataframe`
    (columns date, open, high, low, close, volume; one row per closed bar).

    The strategy gets the frame it was given, not a copy (a year of 1m bars would otherwise
    be copied once more), so it may add columns to it: pass a fresh frame per evaluation, or
    `df.copy(deep=False)` (free under pandas' copy-on-write) to keep yours as it is. The
    live runner builds a new frame per evaluation and `run_backtest` passes a shallow copy.

    The result has int8 0/1 enter_long/exit_long/enter_short/exit_short and object
    enter_tag/exit_tag columns. Any exception becomes a StrategyError at the strategy's line."""
    metadata = dict(metadata or {})
    metadata.setdefault("pair", "")
    metadata.setdefault("timeframe", strategy.timeframe)
    where = strategy_file(strategy)
    rows = len(dataframe)
    df = dataframe
    step = "populate_indicators"
    limit = timeout_for(rows)
    try:
        with deadline(limit):
            if _informative_methods(strategy):
                step = "informative"
                df = _merge_informative(strategy, df, metadata)
            step = "populate_indicators"
            df = strategy.populate_indicators(df, metadata)
            _check(df, rows, step, where)
            step = "populate_entry_trend"
            df = strategy.populate_entry_trend(_prepare(df), metadata)
            _check(df, rows, step, where)
            step = "populate_exit_trend"
            df = strategy.populate_exit_trend(df, metadata)
            _check(df, rows, step, where)
    except StrategyError:
        raise
    except StrategyTimeout as exc:
        raise _overran(strategy, step, limit, rows, exc) from None
    except Exception as exc:
        raise from_exception(exc, where, f"{strategy.name}.{step}") from exc
    return _normalise(df, can_short=bool(strategy.can_short))


def bounded(strategy: IStrategy, step: str, rows: int, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)`, one call of the strategy's own code outside `analyze` (the optimizer's
    indicator probe), under the same deadline as an evaluation of `rows` bars."""
    limit = timeout_for(rows)
    try:
        with deadline(limit):
            return fn(*args)
    except StrategyTimeout as exc:
        raise _overran(strategy, step, limit, rows, exc) from None


def _overran(strategy: IStrategy, step: str, limit: float | None, rows: int, exc: BaseException) -> StrategyError:
    file, line = locate(exc.__traceback__, strategy_file(strategy))
    return StrategyError(
        f"{strategy.name}.{step} did not return within {limit or 0:g} s ({rows:,} bars): an endless loop? "
        f"(the deadline is [engine] strategy_timeout_s per {BARS_PER_TIMEOUT:,} bars)",
        file=file,
        line=line,
    )


def _check(df: Any, rows: int, step: str, where: str | None) -> None:
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise StrategyError(
            f"{step} must return the dataframe, got {type(df).__name__}", file=where
        )
    if len(df) != rows:
        raise StrategyError(
            f"{step} changed the number of rows ({rows} -> {len(df)}); never drop or add rows",
            file=where,
        )
