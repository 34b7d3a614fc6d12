"""Frames between the engine and a strategy worker: a 4-byte length, then one JSON object.

JSON both ways, never pickle: the engine must be able to read whatever a worker sends without
running code from it (unpickling would hand a plugin the engine). Bars travel one at a time
as six numbers; a decision is a small object. The engine reads with asyncio (never blocking);
the worker, single-threaded, reads and writes with plain blocking calls.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024  # warm-up history for many symbols; anything larger is a broken peer


class WireError(Exception):
    """The peer sent something that is not a frame of ours (or too large a one)."""


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), allow_nan=True, default=str).encode()
    if len(body) > MAX_FRAME:
        raise WireError(f"a {len(body):,}-byte message is over the {MAX_FRAME:,}-byte limit")
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body)
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


def _exactly(sock: socket.socket, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket) -> dict[str, Any] | None:
    """The next message, None when the engine has gone (end of stream)."""
    header = _exactly(sock, HEADER.size)
    if header is None:
        return None
    body = _exactly(sock, size_of(header))
    if body is None:
        return None
    return decode(body)
