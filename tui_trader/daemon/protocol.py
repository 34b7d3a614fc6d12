"""Wire format of the control API: newline-delimited JSON, and the decoders back to core types.

client -> daemon   {"id": 7, "cmd": "place", "params": {...}}
daemon -> client   {"id": 7, "ok": true, "result": ...}
                or {"id": 7, "ok": false, "error": "...", "exit_code": 1, "type": "refused"}
daemon -> client   {"event": "fill", "data": {...}}        (after `subscribe`)

Decimals travel as strings, datetimes as ISO 8601 UTC, enums as their values (`to_jsonable`).
`decode(cls, data)` rebuilds any core dataclass from its type hints, so new fields need no code.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from tui_trader.core import events as ev
from tui_trader.core.encoding import to_jsonable
from tui_trader.core.errors import UsageError, UserError

T = TypeVar("T")
PROTOCOL_VERSION = 1
MAX_LINE = 16 * 1024 * 1024  # an answer (a snapshot with books for many symbols) fits comfortably
MAX_REQUEST = 1024 * 1024  # a request is small; a longer line is refused and skipped
MAX_AUTH_REQUEST = 4096  # before authenticating, a TCP client may send this much
MAX_DEPTH = 32  # nesting of a request's JSON

# The `type` of an error answer: what kind of mistake it was (exit_code 2 = the request itself).
BAD_JSON = "bad_json"  # not a JSON object, or nested too deeply
BAD_REQUEST = "bad_request"  # a missing or wrong-typed field; unknown command
TOO_LONG = "too_long"  # the line was longer than MAX_REQUEST (it was skipped)
AUTH = "auth"  # authentication missing, wrong or too slow
REFUSED = "refused"  # a valid request the engine said no to (no such order, not running ...)
BUSY = "busy"  # too many clients; too slow a reader; a half-sent line timed out
INTERNAL = "internal"  # a bug: logged with its traceback in the daemon log

EVENT_TYPES: dict[str, type[ev.Event]] = {
    cls.kind: cls
    for cls in (
        ev.TickerEvent,
        ev.BookEvent,
        ev.TradeEvent,
        ev.CandleEvent,
        ev.OrderEvent,
        ev.FillEvent,
        ev.PositionEvent,
        ev.AccountEvent,
        ev.RiskEvent,
        ev.SignalEvent,
        ev.ConnectionEvent,
        ev.NoticeEvent,
    )
}


class ProtocolError(UserError):
    """The peer sent something that is not our wire format."""


# -- encoding ------------------------------------------------------------------------------------


def dumps(message: dict[str, Any]) -> bytes:
    return (json.dumps(to_jsonable(message), separators=(",", ":"), allow_nan=False) + "\n").encode()


def loads(line: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(line)
    except RecursionError:
        raise ProtocolError(f"a message may nest at most {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not a JSON line: {exc}") from None
    if not isinstance(doc, dict):
        raise ProtocolError(f"a message must be a JSON object, got {type(doc).__name__}")
    if _depth(doc) > MAX_DEPTH:
        raise ProtocolError(f"a message may nest at most {MAX_DEPTH} levels")
    return doc


def _depth(doc: Any) -> int:
    """How deeply `doc` nests (iterative: a hostile document cannot exhaust the stack)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            return level
        if isinstance(node, dict):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, level + 1) for v in node)
    return deepest


def request(req_id: int, cmd: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": req_id, "cmd": cmd, "params": params or {}}


def ok(req_id: Any, result: Any) -> dict[str, Any]:
    return {"id": req_id, "ok": True, "result": result}


def error(req_id: Any, message: str, exit_code: int = 1, kind: str = REFUSED) -> dict[str, Any]:
    """An error answer: one line of text (newlines folded), its exit code and its type."""
    line = " ".join(str(message).split())
    return {"id": req_id, "ok": False, "error": line, "exit_code": exit_code, "type": kind}


def encode_event(event: ev.Event) -> dict[str, Any]:
    return {"event": event.kind, "data": to_jsonable(event)}


def raise_for(response: dict[str, Any]) -> Any:
    """The result of a response, or the daemon's one-line error as a UserError (exit code kept)."""
    if response.get("ok"):
        return response.get("result")
    message = str(response.get("error") or "the daemon refused the request")
    if response.get("exit_code") == 2:
        raise UsageError(message)
    raise UserError(message)


# -- decoding ------------------------------------------------------------------------------------


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
        raise ProtocolError(f"expected an object for {cls.__name__}, got {type(data).__name__}")
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data and f.init:
            kwargs[f.name] = decode(hints[f.name], data[f.name])
    return cls(**kwargs)


def decode_event(message: dict[str, Any]) -> ev.Event | None:
    """An event pushed by the daemon; None for a kind this client does not know (newer daemon)."""
    cls = EVENT_TYPES.get(str(message.get("event")))
    if cls is None:
        return None
    return decode_dataclass(cls, message.get("data") or {})


def decode_snapshot(data: dict[str, Any]) -> Any:
    """An EngineSnapshot from the `snapshot` command's result."""
    from tui_trader.engine import EngineSnapshot

    return decode_dataclass(EngineSnapshot, data)
