"""The list of every indicator (TA-Lib and ours) with groups, parameters and outputs.

The rule-based strategy builder reads it to offer indicator choices and to validate
rule files; `get_indicator` turns a name from such a file into the function to call.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tui_trader.core.errors import UserError
from tui_trader.indicators.fib_levels import LEVELS, level_name


@dataclass(frozen=True, slots=True)
class IndicatorInfo:
    """One indicator as the strategy builder shows it."""

    name: str  # what to call: ta.<name>(dataframe, **parameters)
    group: str  # TA-Lib's group names, plus "Support and Resistance" and "Sessions"
    source: str  # "talib" or "custom"
    description: str
    inputs: tuple[str, ...]  # DataFrame columns read
    parameters: dict[str, Any] = field(hash=False)  # name -> default
    outputs: tuple[str, ...]  # one -> a Series; several -> DataFrame columns
    lookahead: tuple[str, ...] = ()  # outputs that peek at future bars: never for signals


_OHLC = ("date", "high", "low", "close")

# name, module, group, inputs, outputs, look-ahead outputs
_CUSTOM: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("session_vwap", "vwap", "Volume Indicators", (*_OHLC, "volume"), ("vwap",), ()),
    (
        "fibonacci_retracements",
        "fibonacci",
        "Support and Resistance",
        ("high", "low"),
        ("swing_high", "swing_low", "trend", *(level_name(x) for x in LEVELS)),
        (),
    ),
    (
        "pivot_points",
        "pivots",
        "Support and Resistance",
        _OHLC,
        ("pivot", "r1", "r2", "r3", "s1", "s2", "s3"),  # camarilla adds r4, s4
        (),
    ),
    (
        "supertrend",
        "trend",
        "Overlap Studies",
        ("high", "low", "close"),
        ("supertrend", "direction"),
        (),
    ),
    (
        "ichimoku",
        "trend",
        "Overlap Studies",
        ("high", "low", "close"),
        ("tenkan", "kijun", "senkou_a", "senkou_b", "chikou"),
        ("chikou",),
    ),
    (
        "keltner_channels",
        "volatility",
        "Volatility Indicators",
        ("high", "low", "close"),
        ("upper", "mid", "lower"),
        (),
    ),
    ("stoch_rsi", "momentum", "Momentum Indicators", ("close",), ("k", "d"), ()),
    (
        "session_ranges",
        "sessions",
        "Sessions",
        ("date", "high", "low"),
        tuple(
            f"{p}{s}{q}"
            for s in ("asia", "london", "new_york")
            for p, q in (("", "_high"), ("", "_low"), ("in_", ""))
        ),
        (),
    ),
)


def _custom_function(module: str, name: str) -> Callable[..., Any]:
    return getattr(importlib.import_module(f"tui_trader.indicators.{module}"), name)


@cache
def _custom_info(row: tuple) -> IndicatorInfo:
    name, module, group, inputs, outputs, lookahead = row
    func = _custom_function(module, name)
    params = {
        p.name: p.default
        for p in list(inspect.signature(func).parameters.values())[1:]
        if p.default is not inspect.Parameter.empty
    }
    doc = (func.__doc__ or "").strip().splitlines()
    return IndicatorInfo(
        name=name,
        group=group,
        source="custom",
        description=doc[0] if doc else name,
        inputs=inputs,
        parameters=params,
        outputs=outputs,
        lookahead=lookahead,
    )


@cache
def _all() -> tuple[IndicatorInfo, ...]:
    from tui_trader.indicators.talib_wrappers import talib_names

    infos = [_custom_info(row) for row in _CUSTOM]
    infos.extend(_talib_info(name) for name in talib_names())
    return tuple(sorted(infos, key=lambda i: (i.group, i.name)))


@cache
def _talib_info(name: str) -> IndicatorInfo:
    from tui_trader.indicators.talib_wrappers import spec

    s = spec(name)
    return IndicatorInfo(
        name=name,
        group=s.group,
        source="talib",
        description=s.display_name,
        inputs=s.columns,
        parameters=dict(s.parameters),
        outputs=s.outputs,
    )


def list_indicators(group: str | None = None, source: str | None = None) -> list[IndicatorInfo]:
    """Every indicator, sorted by group then name; filter by group or source ("talib"/"custom")."""
    return [
        info
        for info in _all()
        if (group is None or info.group == group) and (source is None or info.source == source)
    ]


def indicator_groups() -> dict[str, list[str]]:
    """Group name -> indicator names, in display order (for pick lists)."""
    groups: dict[str, list[str]] = {}
    for info in _all():
        groups.setdefault(info.group, []).append(info.name)
    return groups


CUSTOM_NAMES = frozenset(row[0] for row in _CUSTOM)
"""Our own indicators' names (pandas code); every other name is TA-Lib's."""


def get_indicator(name: str) -> Callable[..., Any]:
    """The function for an indicator name (TA-Lib names case-insensitive); UserError if unknown."""
    for row in _CUSTOM:
        if row[0] == name:
            return _custom_function(row[1], name)
    from tui_trader.indicators.talib_wrappers import talib_names, wrapper

    if name.upper() in talib_names():
        return wrapper(name.upper())
    known = [row[0] for row in _CUSTOM] + sorted(talib_names())
    import difflib

    close = difflib.get_close_matches(name, known, n=1) or difflib.get_close_matches(
        name.upper(), known, n=1
    )
    hint = f"did you mean {close[0]}?" if close else "see list_indicators() for the names"
    raise UserError(f"unknown indicator {name!r}; {hint}")


def info(name: str) -> IndicatorInfo:
    """The IndicatorInfo for a name (as get_indicator resolves it)."""
    func = get_indicator(name)
    wanted = getattr(func, "__name__", name)
    # the one indicator, not the whole catalog (~200 TA-Lib specs and our modules: ~14 ms of
    # loading a rule file)
    for row in _CUSTOM:
        if row[0] == wanted:
            return _custom_info(row)
    from tui_trader.indicators.talib_wrappers import talib_names

    if wanted in talib_names():
        return _talib_info(wanted)
    for item in _all():
        if item.name == wanted:
            return item
    raise UserError(f"unknown indicator {name!r}")  # unreachable for names get_indicator knows
