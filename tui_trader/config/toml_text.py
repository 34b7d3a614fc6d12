"""Settings as TOML text (`tui-trader config show`): what tomllib reads back to the same values.

Tables become [section] / [section.sub] headers, tables inside arrays inline tables; an unset
value (None) is a comment line, since TOML has no null."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def key(name: str) -> str:
    return name if _BARE.match(name) else json.dumps(name)


def value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a TOML basic string
    if isinstance(v, Mapping):
        inner = ", ".join(f"{key(str(k))} = {value(x)}" for k, x in v.items() if x is not None)
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(x) for x in v if x is not None) + "]"
    return json.dumps(str(v))


def dumps(data: Mapping[str, Any]) -> str:
    """`data` (plain values and nested dicts) as a TOML document."""
    out: list[str] = []
    _table(data, (), out)
    return "\n".join(out).strip() + "\n"


def _table(data: Mapping[str, Any], path: tuple[str, ...], out: list[str]) -> None:
    plain = [(k, v) for k, v in data.items() if not isinstance(v, Mapping)]
    tables = [(k, v) for k, v in data.items() if isinstance(v, Mapping)]
    if path and (plain or not tables):
        out.append(f"[{'.'.join(key(p) for p in path)}]")
    for k, v in plain:
        out.append(f"# {key(str(k))} = (unset)" if v is None else f"{key(str(k))} = {value(v)}")
    if path and (plain or not tables):
        out.append("")
    for k, v in tables:
        _table(v, (*path, str(k)), out)
