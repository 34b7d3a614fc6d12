"""Frames between the engine and a strategy worker: a 4-byte length, then one message.

JSON both ways, never pickle: the engine must be able to read whatever a worker sends without
running code from it (unpickling would hand a plugin the engine). A message is a JSON object,
except the one sent most often: a new bar, which travels as a fixed binary record (`B`, the
request's number, the bar's six float64 numbers, then "symbol<TAB>timeframe"), decoded into
the same dict the JSON form would give. The engine reads with asyncio (never blocking); the
worker, single-threaded, reads and writes with plain blocking calls.

Encoding: `encode` is json.dumps (any value a strategy hands over: `default=str`, NaN kept);
`encode_plain` is orjson, for the frames the worker and engine build themselves from strings,
ints, bools, None and finite floats (a bar's decisions, its answer): several times faster,
the same JSON. Decoding tries orjson and falls back to json for what only json writes (NaN,
Infinity, integers past 64 bits).
"""

from __future__ import annotations

import json
import math
import socket
import struct
from collections.abc import Sequence
from typing import Any

import orjson

HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024  # warm-up history for many symbols; anything larger is a broken peer
BAR = struct.Struct(">cQ6d")  # b"B", seq, open time in µs, open, high, low, close, volume
_BAR_TAG = b"B"


class WireError(Exception):
    """The peer sent something that is not a frame of ours (or too large a one)."""


def _framed(body: bytes) -> bytes:
    if len(body) > MAX_FRAME:
        raise WireError(f"a {len(body):,}-byte message is over the {MAX_FRAME:,}-byte limit")
    return HEADER.pack(len(body)) + body


def encode(message: dict[str, Any]) -> bytes:
    return _framed(json.dumps(message, separators=(",", ":"), allow_nan=True, default=str).encode())


def encode_plain(message: dict[str, Any], splice: dict[str, bytes] | None = None) -> bytes:
    """orjson, for a message of str, int, bool, None, finite float, lists and dicts of them
    (the caller's promise; a NaN or infinity goes through json, which keeps it). `splice`
    adds members whose values are already JSON text (the worker's state, serialised once to
    see whether it changed), without parsing and writing them again."""
    if not _finite(message):
        return encode({**message, **{k: json.loads(v) for k, v in (splice or {}).items()}})
    body = orjson.dumps(message)
    if splice:
        body = body[:-1] + b"".join(b',"%s":%s' % (k.encode(), v) for k, v in splice.items()) + b"}"
    return _framed(body)


def _finite(value: Any) -> bool:
    """No NaN or infinity anywhere in it. The scalars of a container are looked at in a loop,
    not a call each: a bar's decisions are read on the way to their order."""
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        return not isinstance(value, float) or math.isfinite(value)
    for item in items:
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is float:
            if not math.isfinite(item):
                return False
        elif not _finite(item):
            return False
    return True


def encode_bar(seq: int, symbol: str, timeframe: str, row: Sequence[float]) -> bytes:
    """A bar request: {"op": "bar", "seq", "s", "tf", "b": row} as a binary record."""
    return _framed(BAR.pack(_BAR_TAG, seq, *row) + f"{symbol}\t{timeframe}".encode())


def _decode_bar(body: bytes) -> dict[str, Any]:
    if len(body) < BAR.size:
        raise WireError(f"a {len(body)}-byte bar record is shorter than {BAR.size} bytes")
    _, seq, *row = BAR.unpack_from(body)
    symbol, tab, timeframe = body[BAR.size :].decode().partition("\t")
    if not tab:
        raise WireError("a bar record without its symbol and timeframe")
    return {"op": "bar", "seq": seq, "s": symbol, "tf": timeframe, "b": row}


def decode(body: bytes) -> dict[str, Any]:
    if body[:1] == _BAR_TAG:
        try:
            return _decode_bar(body)
        except UnicodeDecodeError as exc:
            raise WireError(f"not a bar record: {exc}") from None
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            message = json.loads(body)  # NaN, Infinity, a huge integer: json's own
        except (ValueError, UnicodeDecodeError) as exc:
            raise WireError(f"not a JSON frame: {exc}") from None
    if not isinstance(message, dict):
        raise WireError("a frame must hold a JSON object")
    return message


def size_of(header: bytes) -> int:
    (n,) = HEADER.unpack(header)
    if n > MAX_FRAME:
        raise WireError(f"a {n:,}-byte frame is over the {MAX_FRAME:,}-byte limit")
    return int(n)


# -- the worker's side: blocking ------------------------------------------------------------------


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(encode(message))


class Receiver:
    """Frames from a blocking socket: one recv for as many frames as have arrived (two
    syscalls a frame before: its header, then its body)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = bytearray()

    def pending(self) -> bool:
        """True when a whole message has already arrived (receive will not wait for it)."""
        buf = self._buf
        return len(buf) >= HEADER.size and len(buf) >= HEADER.size + size_of(bytes(buf[: HEADER.size]))

    def receive(self) -> dict[str, Any] | None:
        """The next message, None when the engine has gone (end of stream)."""
        buf = self._buf
        while True:
            if len(buf) >= HEADER.size:
                end = HEADER.size + size_of(bytes(buf[: HEADER.size]))
                if len(buf) >= end:
                    body = bytes(buf[HEADER.size : end])
                    del buf[:end]
                    return decode(body)
                want = end - len(buf)
            else:
                want = HEADER.size - len(buf)
            chunk = self.sock.recv(min(max(want, 1 << 16), 1 << 20))
            if not chunk:
                return None
            buf += chunk
