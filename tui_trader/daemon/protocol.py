"""Wire format of the control API: newline-delimited JSON, and the decoders back to core types.

client -> daemon   {"id": 7, "cmd": "place", "params": {...}}
daemon -> client   {"id": 7, "ok": true, "result": ...}
                or {"id": 7, "ok": false, "error": "...", "exit_code": 1, "type": "refused"}
daemon -> client   {"event": "fill", "data": {...}}        (after `subscribe`)

Decimals travel as strings, datetimes as ISO 8601 UTC, enums as their values (`to_jsonable`).
`decode(cls, data)` rebuilds any core dataclass from its type hints, so new fields need no code.
"""

from __future__ import annotations

import json
from typing import Any

from tui_trader.core import events as ev
from tui_trader.core.encoding import WireError, decode, decode_dataclass, to_jsonable
from tui_trader.core.errors import UsageError, UserError

__all__ = ["decode", "decode_dataclass"]  # re-exported: the wire's decoders live in core.encoding
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


class ProtocolError(WireError):
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
