"""TA-Lib functions wrapped from talib's own function list, callable like talib or talib.abstract.

Three call styles, so a Freqtrade strategy ports by changing its import:

- ``RSI(close_array, timeperiod=14)``: arrays in, arrays out (as ``talib.RSI``);
- ``RSI(close_series, 14)``: Series in, Series out on the same index (a tuple for several outputs);
- ``RSI(dataframe, timeperiod=14)``: inputs taken from the frame's columns (as
  ``talib.abstract``); a Series out, or a DataFrame of the named outputs (``BBANDS`` ->
  upperband, middleband, lowerband). Override a column with ``price="open"`` or
  ``prices=["high", "low", "close"]``, exactly like talib.abstract.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from tui_trader.core.errors import DataError, UserError
from tui_trader.indicators.inputs import series_values


@dataclass(frozen=True, slots=True)
class TalibSpec:
    """What one TA-Lib function takes and returns, read from talib.abstract once."""

    name: str
    group: str
    display_name: str
    input_keys: tuple[str, ...]  # abstract's keys: price, prices, price0, periods ...
    default_columns: dict[str, str | list[str]]
    columns: tuple[str, ...]  # flattened default DataFrame columns, in call order
    parameters: dict[str, Any]
    outputs: tuple[str, ...]


@cache
def talib_names() -> frozenset[str]:
    """Every function name TA-Lib offers (about 200, the CDL* patterns included)."""
    import talib

    return frozenset(talib.get_functions())


@cache
def spec(name: str) -> TalibSpec:
    """The TalibSpec for `name`; UserError if TA-Lib has no such function."""
    if name not in talib_names():
        raise UserError(f"TA-Lib has no function {name!r}; see list_indicators() for the names")
    info = _info(name)
    inputs: dict[str, str | list[str]] = dict(info["input_names"])
    flat: list[str] = []
    for value in inputs.values():
        flat.extend(value if isinstance(value, list) else [value])
    return TalibSpec(
        name=name,
        group=info["group"],
        display_name=info["display_name"],
        input_keys=tuple(inputs),
        default_columns=inputs,
        columns=tuple(flat),
        parameters=dict(info["parameters"]),
        outputs=tuple(info["output_names"]),
    )


def _info(name: str) -> dict[str, Any]:
    """talib.abstract's `Function(name).info`, made without importing talib.abstract: that
    import makes all ~200 functions at once (~40 ms, most of a rule backtest's TA-Lib cost).
    `talib._ta_lib.Function(name, function)` is what abstract.Function builds; a TA-Lib where
    it differs falls back to abstract (tests/indicators check both agree on every function)."""
    import talib._ta_lib as ta_lib

    try:
        return dict(ta_lib.Function(name, getattr(ta_lib, name)).info)  # type: ignore[attr-defined]
    except Exception:  # another TA-Lib's constructor: the public way
        from talib import abstract

        return dict(abstract.Function(name).info)  # type: ignore[attr-defined]  # Cython, no stubs


def _frame_columns(s: TalibSpec, overrides: dict[str, Any]) -> list[str]:
    """The DataFrame columns to feed, after talib.abstract-style overrides (price="open")."""
    cols: list[str] = []
    for key in s.input_keys:
        value = overrides.get(key, s.default_columns[key])
        default = s.default_columns[key]
        if isinstance(default, list):
            given = [value] if isinstance(value, str) else list(value)
            if len(given) != len(default):
                raise UserError(
                    f"{s.name}: {key} needs {len(default)} column names ({', '.join(default)})"
                )
            cols.extend(given)
        elif isinstance(value, str):
            cols.append(value)
        else:
            raise UserError(f"{s.name}: {key} must be a column name, got {type(value).__name__}")
    return cols


def _as_float(values: Any, name: str) -> np.ndarray:
    try:
        return np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: inputs must be numeric arrays or Series ({exc})") from None


def _check_params(s: TalibSpec, params: dict[str, Any]) -> None:
    unknown = [k for k in params if k not in s.parameters]
    if unknown:
        known = ", ".join(s.parameters) or "none"
        raise UserError(f"{s.name}: unknown parameter {unknown[0]!r}; it takes: {known}")


def _call(raw: Callable[..., Any], s: TalibSpec, arrays: list[np.ndarray], params: dict) -> Any:
    if len(arrays) > 1 and len({len(a) for a in arrays}) > 1:
        lengths = sorted({len(a) for a in arrays})
        raise DataError(f"{s.name}: input arrays have different lengths {lengths}")
    try:
        return raw(*arrays, **params)
    except UserError:
        raise
    except Exception as exc:  # TA-Lib raises bare Exception for bad parameters
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
        raise UserError(f"{s.name}({shown}): {exc}; check the parameters") from None


def _make(name: str) -> Callable[..., Any]:
    import talib

    s = spec(name)
    raw = getattr(talib, name)
    param_names = list(s.parameters)
    n_inputs = len(s.columns)
    input_arg_names = list(inspect.signature(raw).parameters)[:n_inputs]

    def call_frame(df: Any, args: tuple, kwargs: dict) -> Any:
        import pandas as pd

        def column(col: str, cols: tuple[str, ...] | list[str]) -> np.ndarray:
            try:
                series = df[col]
            except KeyError:
                missing = ", ".join(c for c in cols if c not in df.columns)
                raise DataError(f"{name}: the DataFrame lacks column(s) {missing}") from None
            return series_values(series, name)

        out = call_columns(name, column, args, kwargs)
        if len(s.outputs) == 1:
            return pd.Series(out, index=df.index)
        # one 2-D block builds faster than a dict of columns (about 15 us on 200 bars)
        return pd.DataFrame(np.column_stack(out), index=df.index, columns=list(s.outputs))

    def call_arrays(args: tuple, kwargs: dict) -> Any:
        import pandas as pd

        inputs = list(args[:n_inputs])
        for arg_name in input_arg_names[len(inputs) :]:
            if arg_name in kwargs:
                inputs.append(kwargs.pop(arg_name))
        if len(inputs) != n_inputs:
            wanted = ", ".join(input_arg_names)
            raise UserError(f"{name}: needs {n_inputs} input array(s): {wanted}")
        params = dict(zip(param_names, args[n_inputs:], strict=False))
        if len(args) - n_inputs > len(param_names):
            raise UserError(f"{name}: too many positional parameters; it takes {param_names}")
        params.update(kwargs)
        _check_params(s, params)
        index = None
        arrays = []
        for value in inputs:
            if isinstance(value, pd.Series):
                index = value.index if index is None else index
                value = series_values(value, name)
            if not (isinstance(value, np.ndarray) and value.dtype == np.float64):
                value = _as_float(value, name)
            elif not value.flags.c_contiguous:
                value = np.ascontiguousarray(value)
            arrays.append(value)
        out = _call(raw, s, arrays, params)
        if index is None:
            return out
        if len(s.outputs) == 1:
            return pd.Series(out, index=index)
        return tuple(pd.Series(o, index=index, name=n) for o, n in zip(out, s.outputs, strict=True))

    def indicator(*args: Any, **kwargs: Any) -> Any:
        import pandas as pd

        if args and isinstance(args[0], pd.DataFrame):
            return call_frame(args[0], args[1:], kwargs)
        return call_arrays(args, kwargs)

    indicator.__name__ = indicator.__qualname__ = name
    indicator.__module__ = "tui_trader.indicators"
    indicator.__doc__ = (
        f"{s.display_name} (TA-Lib, {s.group}).\n\n"
        f"Inputs: {', '.join(s.columns)}. Parameters: "
        + (", ".join(f"{k}={v!r}" for k, v in s.parameters.items()) or "none")
        + f". Outputs: {', '.join(s.outputs)}.\n"
        "Call with arrays, Series (index kept) or a candle DataFrame (columns by name)."
    )
    indicator.spec = s  # type: ignore[attr-defined]
    return indicator


def call_columns(
    name: str,
    column: Callable[[str, tuple[str, ...] | list[str]], np.ndarray],
    args: tuple = (),
    kwargs: dict[str, Any] | None = None,
) -> Any:
    """TA-Lib `name` called as on a candle frame (parameters by position or name, inputs
    overridden with `price="open"`...), its inputs read by `column(col, all_cols)` as float64
    arrays: TA-Lib's raw output, an array or a tuple of them. The frame call goes through
    here, and so does the live evaluation of a rule strategy on a window's arrays."""
    s, cols, params = prepare(name, args, kwargs)
    arrays = [column(col, cols) for col in cols]
    return _call(_raw(name), s, arrays, params)


def prepare(
    name: str, args: tuple = (), kwargs: dict[str, Any] | None = None
) -> tuple[TalibSpec, tuple[str, ...] | list[str], dict[str, Any]]:
    """What call_columns works out before it calls TA-Lib: the function's spec, the columns
    it reads, in order, and its parameters (checked). Raises what call_columns raises."""
    s = spec(name)
    kwargs = dict(kwargs or {})
    param_names = list(s.parameters)
    overrides = {k: kwargs.pop(k) for k in list(kwargs) if k in s.input_keys}
    if len(args) > len(param_names):
        raise UserError(f"{name}: too many positional parameters; it takes {param_names}")
    params = dict(zip(param_names, args, strict=False)) if args else {}
    params.update(kwargs)
    _check_params(s, params)
    cols = _frame_columns(s, overrides) if overrides else s.columns
    return s, cols, params


def call_prepared(s: TalibSpec, arrays: list[np.ndarray], params: dict[str, Any]) -> Any:
    """call_columns' TA-Lib call on arrays already read (contiguous float64, as it reads
    them): the same C function, without TA-Lib's own check for pandas and polars inputs."""
    raw = _raw(s.name)
    return _call(getattr(raw, "__wrapped__", raw), s, arrays, params)


@cache
def _raw(name: str) -> Callable[..., Any]:
    import talib

    return getattr(talib, name)


@cache
def wrapper(name: str) -> Callable[..., Any]:
    """The wrapped TA-Lib function `name` (built on first use, then cached)."""
    if name not in talib_names():
        raise AttributeError(name)
    return _make(name)
