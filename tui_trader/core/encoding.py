"""JSON-ready values: Decimals as strings, datetimes as ISO 8601 UTC, dataclasses and enums
flattened, and back (`decode`). Shared by `--json` output and the daemon's wire format (its
clients: attached TUIs, the CLI, a copy-trading follower)."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from tui_trader.core.errors import UserError

T = TypeVar("T")


class WireError(UserError):
    """JSON that is not what the wire format says it is."""


def to_jsonable(obj: Any) -> Any:
    """Decimals as strings, datetimes as ISO 8601 UTC, dataclasses and enums flattened."""
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, datetime):
        return obj.isoformat().replace("+00:00", "Z")
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, Path):
        return str(obj)
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, float) and obj != obj:  # NaN is not JSON
        return None
    return obj


# -- back from JSON --------------------------------------------------------------------------------


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(tp: Any, value: Any) -> Any:
    """Rebuild `value` (plain JSON) as type `tp`: dataclasses, Decimal, datetime, enums, containers."""
    if value is None:
        return None
    if tp is Any or tp is object:
        return value
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return decode(args[0], value) if len(args) == 1 else value
    if origin is typing.ClassVar:
        return value
    if origin in (list, set, frozenset):
        (arg,) = typing.get_args(tp) or (Any,)
        return origin(decode(arg, v) for v in value)
    if origin is tuple:
        items = typing.get_args(tp)
        if len(items) == 2 and items[1] is Ellipsis:
            return tuple(decode(items[0], v) for v in value)
        return tuple(decode(a, v) for a, v in zip(items, value, strict=False))
    if origin is dict:
        _, val_tp = typing.get_args(tp) or (str, Any)
        return {k: decode(val_tp, v) for k, v in value.items()}
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            return decode_dataclass(tp, value)
        if issubclass(tp, Enum):
            return tp(value)
        if tp is Decimal:
            return Decimal(str(value))
        if tp is datetime:
            return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
        if tp is float:
            return float(value)
        if tp is int and not isinstance(value, bool):
            return int(value)
    return value


def decode_dataclass(cls: type[T], data: dict[str, Any]) -> T:
    if not isinstance(data, dict):
        raise WireError(f"expected an object for {cls.__name__}, got {type(data).__name__}")
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data and f.init:
            kwargs[f.name] = decode(hints[f.name], data[f.name])
    return cls(**kwargs)
