"""Parse and validate rule-based strategy TOML into a RuleSpec, with line numbers for errors.

The strategy builder shows RuleErrors inline, so every check names the line it is about.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from tui_trader.core.errors import UserError
from tui_trader.strategy.parameters import (
    BaseParameter,
    BooleanParameter,
    CategoricalParameter,
    DecimalParameter,
    IntParameter,
    RealParameter,
)
from tui_trader.strategy.timeframes import is_multiple, timeframe_to_seconds

OPERATORS = (">=", "<=", ">", "<", "crosses_above", "crosses_below")
GROUPS = ("all", "any")
SECTIONS = ("entry", "exit", "entry_short", "exit_short")
OHLCV = ("open", "high", "low", "close", "volume")
_STRATEGY_KEYS = {
    "name",
    "timeframe",
    "stoploss",
    "minimal_roi",
    "trailing",
    "can_short",
    "startup_candle_count",
    "description",
    "use_exit_signal",
    "exit_profit_only",
    "ignore_roi_if_entry_signal",
}
_TRAILING_KEYS = {"positive", "offset", "only_offset_reached"}
_PARAM_TYPES = {
    "int": IntParameter,
    "decimal": DecimalParameter,
    "real": RealParameter,
    "categorical": CategoricalParameter,
    "bool": BooleanParameter,
    "boolean": BooleanParameter,
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REF = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\.(?P<output>[A-Za-z0-9_]+))?(?:@(?P<tf>\w+))?$"
)


@dataclass(frozen=True)
class RuleError:
    line: int  # 1-based; 0 when the whole file is concerned
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class Ref:
    column: str  # "close", "rsi_14" or "bb.upperband"
    timeframe: str | None = None

    @property
    def key(self) -> str:
        return f"{self.column}@{self.timeframe}" if self.timeframe else self.column


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Param:
    name: str


Operand = Ref | Number | Param


@dataclass(frozen=True)
class Compare:
    left: Operand
    op: str
    right: Operand
    text: str


@dataclass(frozen=True)
class Group:
    kind: str  # all | any
    items: tuple[Compare | Group, ...]


@dataclass(frozen=True)
class Indicator:
    name: str
    fn: str
    params: dict[str, Any]  # values may be "$param"
    output: str | None
    outputs: tuple[str, ...]
    source: str  # talib | custom


@dataclass
class RuleSpec:
    name: str = ""
    timeframe: str = ""
    description: str = ""
    stoploss: float = -0.10
    minimal_roi: dict[str, float] = field(default_factory=dict)
    trailing: dict[str, Any] | None = None
    can_short: bool = False
    startup_candle_count: int | None = None
    flags: dict[str, bool] = field(default_factory=dict)
    parameters: dict[str, BaseParameter] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)
    rules: dict[str, tuple[Group, str | None]] = field(default_factory=dict)

    def columns(self) -> set[str]:
        cols = set(OHLCV)
        for ind in self.indicators.values():
            if len(ind.outputs) > 1 and ind.output is None:
                cols.update(f"{ind.name}.{o}" for o in ind.outputs)
            else:
                cols.add(ind.name)
        return cols

    def timeframes(self) -> set[str]:
        return {ref.timeframe for ref in self.refs() if ref.timeframe}

    def refs(self) -> set[Ref]:
        """Every column a rule reads (with its `@TF`)."""
        found: set[Ref] = set()

        def walk(node: Compare | Group) -> None:
            if isinstance(node, Group):
                for item in node.items:
                    walk(item)
            else:
                found.update(side for side in (node.left, node.right) if isinstance(side, Ref))

        for group, _ in self.rules.values():
            walk(group)
        return found


class _Lines:
    """Finds the line of a key or value in the source, for error messages."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, *needles: str, after: int = 0) -> int:
        for needles_try in (needles, needles[-1:]):
            for i, line in enumerate(self.lines[after:], start=after + 1):
                code = line.split("#", 1)[0] if "#" not in needles_try[-1] else line
                if all(n in code for n in needles_try):
                    return i
        return after or 0

    def section(self, name: str) -> int:
        return self.find(f"[{name}]") or self.find(f"{name} =") or self.find(name)


def parse(text: str) -> tuple[RuleSpec, list[RuleError]]:
    """Parse rule TOML; the spec is usable only when the error list is empty."""
    errors: list[RuleError] = []
    spec = RuleSpec()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        return spec, [RuleError(int(match.group(1)) if match else 0, f"not valid TOML: {exc}")]
    lines = _Lines(text)

    def err(line: int, message: str) -> None:
        errors.append(RuleError(line, message))

    for key in doc:
        if key not in ("strategy", "parameters", "indicators", *SECTIONS):
            err(
                lines.section(key),
                f"unknown section [{key}]; use [strategy], [parameters], "
                f"[indicators], {', '.join(f'[{s}]' for s in SECTIONS)}",
            )
    _parse_strategy(doc.get("strategy"), spec, lines, err)
    _parse_parameters(doc.get("parameters", {}), spec, lines, err)
    _parse_indicators(doc.get("indicators", {}), spec, lines, err)
    for section in SECTIONS:
        if section in doc:
            _parse_section(section, doc[section], spec, lines, err)
    if not any(s in spec.rules for s in ("entry", "entry_short")):
        err(0, 'no [entry] (or [entry_short]) conditions: add e.g. all = ["rsi_14 < 30"]')
    if ("entry_short" in spec.rules or "exit_short" in spec.rules) and not spec.can_short:
        err(
            lines.section("entry_short") or lines.section("exit_short"),
            "short rules need can_short = true in [strategy]",
        )
    return spec, errors


def _parse_strategy(table: Any, spec: RuleSpec, lines: _Lines, err: Any) -> None:
    if not isinstance(table, dict):
        err(0, "missing [strategy] table with name and timeframe")
        return
    at = lines.section("strategy")
    for key in table:
        if key not in _STRATEGY_KEYS:
            err(
                lines.find(key, after=at),
                f"unknown [strategy] key {key!r}; known: {', '.join(sorted(_STRATEGY_KEYS))}",
            )
    name = table.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        err(
            lines.find("name", after=at) or at,
            "[strategy] name must be a word (letters, digits, _)",
        )
    else:
        spec.name = name
    tf = table.get("timeframe")
    try:
        timeframe_to_seconds(str(tf))
        spec.timeframe = str(tf)
    except UserError as exc:
        err(
            lines.find("timeframe", after=at) or at,
            str(exc) if tf else '[strategy] needs a timeframe, e.g. "5m"',
        )
    spec.description = str(table.get("description", ""))
    stoploss = table.get("stoploss", -0.10)
    if (
        not isinstance(stoploss, int | float)
        or isinstance(stoploss, bool)
        or not -1 <= stoploss < 0
    ):
        err(
            lines.find("stoploss", after=at),
            "stoploss must be a negative ratio, e.g. -0.05 for 5 %",
        )
    else:
        spec.stoploss = float(stoploss)
    roi = table.get("minimal_roi", {})
    if not isinstance(roi, dict):
        err(lines.find("minimal_roi", after=at), "minimal_roi must be a table of minutes = ratio")
    else:
        for minutes, ratio in roi.items():
            try:
                float(minutes)
                spec.minimal_roi[str(minutes)] = float(ratio)
            except (TypeError, ValueError):
                err(
                    lines.find(f'"{minutes}"', after=at) or lines.find("minimal_roi"),
                    f"minimal_roi entry {minutes!r} = {ratio!r}: keys are minutes, values ratios",
                )
    trailing = table.get("trailing")
    if trailing is not None:
        line = lines.find("trailing", after=at)
        if not isinstance(trailing, dict) or set(trailing) - _TRAILING_KEYS:
            err(line, "trailing must be a table with positive, offset, only_offset_reached")
        else:
            spec.trailing = dict(trailing)
    spec.can_short = bool(table.get("can_short", False))
    for flag in ("use_exit_signal", "exit_profit_only", "ignore_roi_if_entry_signal"):
        if flag in table:
            spec.flags[flag] = bool(table[flag])
    startup = table.get("startup_candle_count")
    if startup is not None:
        if not isinstance(startup, int) or startup < 0:
            err(
                lines.find("startup_candle_count", after=at),
                "startup_candle_count must be a whole number >= 0",
            )
        else:
            spec.startup_candle_count = startup


def _parse_parameters(table: Any, spec: RuleSpec, lines: _Lines, err: Any) -> None:
    if not isinstance(table, dict):
        err(lines.section("parameters"), "[parameters] must be a table")
        return
    for name, body in table.items():
        line = lines.find(f"parameters.{name}") or lines.find(f"{name} =")
        if not _NAME.match(name) or not isinstance(body, dict):
            err(
                line,
                f"parameter {name!r} must be a table like "
                '{ type = "int", low = 10, high = 40, default = 30 }',
            )
            continue
        body = dict(body)
        cls = _PARAM_TYPES.get(str(body.pop("type", "")))
        if cls is None:
            err(line, f"parameter {name}: type must be one of {', '.join(_PARAM_TYPES)}")
            continue
        try:
            if cls in (CategoricalParameter,):
                param: BaseParameter = cls(body.pop("categories", []), **body)
            elif cls is BooleanParameter:
                param = cls(**body)
            else:
                param = cls(body.pop("low", None), body.pop("high", None), **body)
            param.validate(param.default)
            param.name = name
            spec.parameters[name] = param
        except (UserError, TypeError, ValueError) as exc:
            err(line, f"parameter {name}: {exc}")


def _parse_indicators(table: Any, spec: RuleSpec, lines: _Lines, err: Any) -> None:
    from tui_trader.indicators.catalog import get_indicator, info

    if not isinstance(table, dict):
        err(lines.section("indicators"), "[indicators] must be a table")
        return
    for name, body in table.items():
        line = (
            lines.find(f"{name} =")
            or lines.find(f"indicators.{name}")
            or lines.section("indicators")
        )
        if not _NAME.match(name) or name in OHLCV:
            err(line, f"indicator name {name!r} must be a word and not one of {', '.join(OHLCV)}")
            continue
        if not isinstance(body, dict) or "fn" not in body:
            err(line, f'indicator {name} needs fn, e.g. {name} = {{ fn = "RSI", timeperiod = 14 }}')
            continue
        params = dict(body)
        fn = str(params.pop("fn"))
        output = params.pop("output", None)
        try:
            get_indicator(fn)
            meta = info(fn)
        except UserError as exc:
            err(line, str(exc))
            continue
        from tui_trader.indicators.talib_wrappers import spec as talib_spec

        allowed = set(meta.parameters)
        if meta.source == "talib":
            allowed |= set(talib_spec(meta.name).input_keys)
        for key, value in params.items():
            if key not in allowed:
                err(
                    line,
                    f"{meta.name} has no parameter {key!r}; "
                    f"it takes {', '.join(sorted(allowed)) or 'none'}",
                )
            if (
                isinstance(value, str)
                and value.startswith("$")
                and value[1:] not in spec.parameters
            ):
                err(line, f"unknown parameter {value}: declare it under [parameters]")
        if output is not None and output not in meta.outputs:
            err(line, f"{meta.name} outputs {', '.join(meta.outputs)}, not {output!r}")
        bad = set(meta.lookahead) & ({output} if output else set(meta.outputs))
        if bad and (output or len(meta.outputs) == 1):
            err(
                line,
                f"{meta.name} output {', '.join(bad)} looks into the future; pick another output",
            )
        spec.indicators[name] = Indicator(
            name, meta.name, params, output, meta.outputs, meta.source
        )


def _parse_section(section: str, table: Any, spec: RuleSpec, lines: _Lines, err: Any) -> None:
    at = lines.section(section)
    if not isinstance(table, dict):
        err(at, f"[{section}] must be a table with all = [...] or any = [...]")
        return
    tag = table.get("tag")
    kinds = [k for k in table if k in (*GROUPS, "when")]
    for key in table:
        if key not in (*GROUPS, "when", "tag"):
            err(lines.find(key, after=at), f"[{section}] key {key!r}: use all, any, when or tag")
    if len(kinds) != 1:
        err(at, f'[{section}] needs exactly one of all = [...], any = [...] or when = "..."')
        return
    kind = kinds[0]
    body = table[kind]
    node = _parse_node({"all": [body]} if kind == "when" else {kind: body}, spec, lines, err, at)
    if isinstance(node, Group):
        spec.rules[section] = (node, str(tag) if tag is not None else None)


def _parse_node(
    node: Any, spec: RuleSpec, lines: _Lines, err: Any, at: int
) -> Compare | Group | None:
    if isinstance(node, str):
        return _parse_compare(node, spec, lines, err, at)
    if isinstance(node, dict) and len(node) == 1 and next(iter(node)) in GROUPS:
        kind, items = next(iter(node.items()))
        if not isinstance(items, list) or not items:
            err(
                lines.find(f"{kind} =", after=at) or at,
                f"{kind} needs a non-empty list of conditions",
            )
            return None
        parsed = [_parse_node(item, spec, lines, err, at) for item in items]
        return Group(kind, tuple(p for p in parsed if p is not None))
    err(at, f'a condition is a string like "rsi_14 < 30" or {{ any = [...] }}, not {node!r}')
    return None


def _parse_compare(text: str, spec: RuleSpec, lines: _Lines, err: Any, at: int) -> Compare | None:
    line = lines.find(f'"{text}"', after=at) or lines.find(text, after=at) or at
    parts = text.split()
    if len(parts) != 3 or parts[1] not in OPERATORS:
        err(
            line,
            f"condition {text!r}: write LEFT OPERATOR RIGHT with one of {', '.join(OPERATORS)}",
        )
        return None
    left = _parse_operand(parts[0], spec, line, err)
    right = _parse_operand(parts[2], spec, line, err)
    if left is None or right is None:
        return None
    if isinstance(left, Number | Param) and isinstance(right, Number | Param):
        err(line, f"condition {text!r} compares two constants")
        return None
    return Compare(left, parts[1], right, text)


def _parse_operand(token: str, spec: RuleSpec, line: int, err: Any) -> Operand | None:
    try:
        return Number(float(token))
    except ValueError:
        pass
    if token.startswith("$"):
        if token[1:] not in spec.parameters:
            err(line, f"unknown parameter {token}: declare it under [parameters]")
            return None
        return Param(token[1:])
    match = _REF.match(token)
    if not match:
        err(
            line,
            f"cannot read {token!r}: use a column (close), an indicator (rsi_14, bb.upperband), "
            "a timeframe suffix (rsi_14@1h), a number or a $parameter",
        )
        return None
    column = match["name"] + (f".{match['output']}" if match["output"] else "")
    tf = match["tf"]
    if column not in spec.columns():
        ind = spec.indicators.get(match["name"])
        hint = (
            (f"{ind.fn} outputs: " + ", ".join(f"{ind.name}.{o}" for o in ind.outputs))
            if ind
            else "define it under [indicators]"
        )
        err(line, f"unknown column {column!r}; {hint}")
        return None
    ind = spec.indicators.get(match["name"])
    if ind is not None and ind.output is None and match["output"]:
        from tui_trader.indicators.catalog import info as catalog_info

        if match["output"] in catalog_info(ind.fn).lookahead:
            err(
                line,
                f"{column} looks into the future (it is shifted back from later bars): a rule "
                "on it would trade on prices not yet known; use another output",
            )
            return None
    if tf and spec.timeframe:
        try:
            if not is_multiple(tf, spec.timeframe):
                err(
                    line,
                    f"{token}: {tf} must be a whole multiple of the strategy timeframe "
                    f"{spec.timeframe}",
                )
                return None
        except UserError as exc:
            err(line, f"{token}: {exc}")
            return None
        if tf == spec.timeframe:
            tf = None
    return Ref(column, tf)
