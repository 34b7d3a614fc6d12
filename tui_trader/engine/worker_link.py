"""The engine's end of one strategy worker's socket: frames handed on as they arrive.

An asyncio Protocol, not a StreamReader: each frame is decoded in `data_received` and given to
the worker's handle there and then, so a bar's decisions reach the strategy host in the same
turn of the event loop that read them (a reading task would take a turn more, and a header and
a body read each). Writes go straight to the socket (asyncio's transport sends at once when
nothing is queued). See strategy/wire.py for the frames.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from tui_trader.strategy import wire

log = logging.getLogger(__name__)


class WorkerLink(asyncio.Protocol):
    """Calls `on_frame(message)` for each frame, `on_broken(why)` once for a frame that is not
    one of ours (nothing more is read after it), `on_lost()` when the socket closes."""

    def __init__(
        self,
        on_frame: Callable[[dict[str, Any]], None],
        on_broken: Callable[[str], None],
        on_lost: Callable[[], None],
    ) -> None:
        self.on_frame = on_frame
        self.on_broken = on_broken
        self.on_lost = on_lost
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buf = bytearray()
        self._broken = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._broken:
            return
        buf = self._buf
        buf += data
        size = wire.HEADER.size
        while len(buf) >= size:
            try:
                end = size + wire.size_of(bytes(buf[:size]))
                if len(buf) < end:
                    return
                message = wire.decode(bytes(buf[size:end]))
            except wire.WireError as exc:
                self._broken = True
                buf.clear()
                self.on_broken(str(exc))
                return
            del buf[:end]
            self.deliver(message)

    def deliver(self, message: dict[str, Any]) -> None:
        """Hand on one message as read (an in-process worker's, which needs no bytes)."""
        if self._broken:
            return
        try:
            self.on_frame(message)
        except Exception:  # the handle's own bug: logged, the link reads on
            log.exception("strategy worker frame %s", message.get("op"))

    def eof_received(self) -> bool:
        return False  # close our end too

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.closed.done():
            self.closed.set_result(None)
        self.on_lost()

    def send(self, frame: bytes) -> bool:
        """Write a frame; False when the socket is already closed."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return False
        transport.write(frame)
        return True

    async def close(self, timeout: float = 3.0) -> None:
        """Close after what is written has gone out (at most `timeout`)."""
        if self.transport is not None:
            self.transport.close()
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        except TimeoutError:
            if self.transport is not None:
                self.transport.abort()
