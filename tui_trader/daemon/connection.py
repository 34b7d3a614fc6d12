"""One client of the control API, and the budgets that keep it from hurting the engine.

- Reading: lines are assembled here with a byte cap and two clocks: an idle timeout between
  requests and a deadline for a line that has started (a half-sent line cannot hold a slot).
  A TCP client that has not authenticated yet gets a few KiB and a few seconds, no more.
- Writing never waits: answers and events go into the socket's buffer; a client that lets
  more than `max_outbound` bytes pile up unread is disconnected (a slow reader can never stall
  the engine or another client). The event pump waits for the buffer to drain between
  batches; meanwhile market data coalesces in its mailbox and a backlog of orders and fills
  beyond `EVENT_BACKLOG` disconnects it too.
- At most `MAX_INFLIGHT` requests of one connection run at once; beyond that the connection
  is not read, so a flood backs up in the client's own socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tui_trader.core.errors import UsageError, UserError
from tui_trader.daemon.protocol import (
    AUTH,
    BAD_JSON,
    BAD_REQUEST,
    BUSY,
    INTERNAL,
    MAX_AUTH_REQUEST,
    MAX_REQUEST,
    REFUSED,
    TOO_LONG,
    ProtocolError,
    dumps,
    encode_event,
    error,
    loads,
    ok,
)
from tui_trader.daemon.roles import OWNER, Identity

if TYPE_CHECKING:
    from tui_trader.engine.bus import EventBus, Subscription

log = logging.getLogger(__name__)

MAX_INFLIGHT = 16
EVENT_BACKLOG = 10_000  # orders, fills, notices queued for one subscriber
READ_CHUNK = 64 * 1024
STREAM_LIMIT = 64 * 1024  # what asyncio buffers per connection before it stops reading


class Host(Protocol):
    """What a connection needs from the server that accepted it."""

    @property
    def bus(self) -> EventBus: ...

    def check_token(self, given: object) -> bool: ...

    async def login(self, peer: str, user: object, token: object) -> Identity | str:
        """A `[serve.users]` login over TCP: its identity, or why it was refused."""
        ...

    async def execute_encoded(self, conn: Connection, req_id: Any, cmd: str, params: dict[str, Any]) -> bytes: ...


@dataclass(frozen=True)
class Budgets:
    idle_s: float = 600.0
    read_s: float = 10.0
    auth_s: float = 5.0
    max_outbound: int = 32 * 1024 * 1024
    max_request: int = MAX_REQUEST


class ReadTimeout(Exception):
    """The peer went quiet: idle between requests, or in the middle of a line."""


class LineTooLong(Exception):
    """The line went past the byte cap; its rest is skipped up to the next newline."""


class LineReader:
    """Newline-delimited requests with a byte cap, an idle timeout and a per-line deadline."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.buf = bytearray()
        self.started: float | None = None  # when the pending partial line began
        self.skipping = False  # dropping the rest of an over-long line

    async def line(self, max_bytes: int, idle_s: float, line_s: float, until: float | None = None) -> bytes | None:
        """The next line (with its newline), None at end of stream."""
        while True:
            at = self.buf.find(b"\n")
            if at >= 0:
                line = bytes(self.buf[: at + 1])
                del self.buf[: at + 1]
                self.started = time.monotonic() if self.buf else None
                if self.skipping:
                    self.skipping = False
                    continue
                if len(line) > max_bytes:
                    raise LineTooLong
                return line
            if len(self.buf) > max_bytes:
                self.buf.clear()
                self.skipping = True
                raise LineTooLong
            now = time.monotonic()
            wait = idle_s if self.started is None else self.started + line_s - now
            if until is not None:
                wait = min(wait, until - now)
            if wait <= 0:
                raise ReadTimeout("partial" if self.started is not None else "idle")
            try:
                chunk = await asyncio.wait_for(self.reader.read(READ_CHUNK), wait)
            except TimeoutError:
                raise ReadTimeout("partial" if self.started is not None else "idle") from None
            if not chunk:
                return None
            if self.started is None:
                self.started = time.monotonic()
            if self.skipping and b"\n" not in chunk:
                continue  # still inside the over-long line: keep nothing
            self.buf += chunk


def tune_socket(sock: socket.socket | None) -> None:
    """TCP keepalive, so a peer that vanished (half-open) is noticed within about two minutes."""
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for opt, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 5)):
            if hasattr(socket, opt):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, opt), value)


class Connection:
    """One attached client (a TUI, a CLI call, a script)."""

    def __init__(
        self,
        server: Host,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        transport: str,
        peer: str,
        budgets: Budgets | None = None,
    ) -> None:
        self.server = server
        self.lines = LineReader(reader)
        self.writer = writer
        self.transport = transport
        self.peer = peer
        self.budgets = budgets or Budgets()
        self.client = "remote"
        self.identity: Identity = OWNER  # a `tui-trader serve` session narrows it with session.attach
        self.sub: Subscription | None = None
        self._pump: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_INFLIGHT)
        self.closed = False
        self.authenticated = False
        self.dropped: str | None = None  # why the daemon hung up, if it did

    @property
    def actor(self) -> str:
        if not self.identity.owner:  # a serve session: who and with which role, in every audit row
            return f"{self.identity.label}:{self.client}"
        return f"{self.client}@{self.transport}"

    # -- writing (never waits) -------------------------------------------------------------------

    def send(self, payload: bytes) -> bool:
        """Queue bytes for the client; disconnect it if it has let too much pile up unread."""
        if self.closed:
            return False
        try:
            self.writer.write(payload)
        except (ConnectionError, OSError, RuntimeError):
            self.close()
            return False
        backlog = self.writer.transport.get_write_buffer_size()
        if backlog > self.budgets.max_outbound:
            self.drop(f"slow reader: {backlog:,} bytes unread (limit {self.budgets.max_outbound:,})")
            return False
        return True

    def reply_error(self, req_id: Any, message: str, exit_code: int, kind: str) -> None:
        self.send(dumps(error(req_id, message, exit_code, kind)))

    def drop(self, reason: str) -> None:
        """Hang up on the client with one last line saying why (if it still fits)."""
        if self.closed:
            return
        self.dropped = reason
        log.warning("disconnected %s (%s): %s", self.peer, self.client, reason)
        with contextlib.suppress(Exception):
            if self.writer.transport.get_write_buffer_size() < self.budgets.max_outbound:
                self.writer.write(dumps(error(None, f"disconnected: {reason}", 1, BUSY)))
        self.close()

    # -- reading --------------------------------------------------------------------------------

    async def serve(self, authenticated: bool) -> None:
        self.authenticated = authenticated
        auth_until = None if authenticated else time.monotonic() + self.budgets.auth_s
        b = self.budgets
        while not self.closed:
            cap = b.max_request if self.authenticated else MAX_AUTH_REQUEST
            idle = b.idle_s if self.sub is None else 10 * 365 * 86400.0  # a subscriber may only listen
            try:
                # the authentication deadline ends with authentication: a TCP client that logged
                # in and then listens quietly must not time out (or, subscribed, spin) after it
                line = await self.lines.line(cap, idle, b.read_s, None if self.authenticated else auth_until)
            except LineTooLong:
                self.reply_error(None, f"request longer than {cap:,} bytes; it was skipped", 2, TOO_LONG)
                if not self.authenticated:
                    self.drop("unauthenticated client sent too much")
                continue
            except ReadTimeout as exc:
                if self.authenticated and str(exc) == "idle" and self.sub is not None:
                    continue  # it subscribed while we waited: a listener may stay quiet
                if not self.authenticated:
                    self.drop(f"no authentication within {b.auth_s:g} s")
                elif str(exc) == "partial":
                    self.drop(f"a request line did not arrive whole within {b.read_s:g} s")
                else:
                    self.drop(f"idle for {b.idle_s:g} s")
                break
            except (ConnectionError, OSError):
                break
            if line is None:
                break
            if not line.strip():
                continue
            try:
                msg = loads(line)
            except ProtocolError as exc:
                self.reply_error(None, str(exc), 2, BAD_JSON)
                if not self.authenticated:
                    self.drop("unauthenticated client sent something other than auth")
                continue
            req_id = msg.get("id")
            if req_id is not None and (isinstance(req_id, bool) or not isinstance(req_id, int | str)):
                self.reply_error(None, "id must be a number or a string", 2, BAD_REQUEST)
                continue
            if not self.authenticated:
                await self._authenticate(req_id, msg)
                continue
            await self._slots.acquire()
            task = asyncio.create_task(self._run(req_id, msg))
            self._tasks.add(task)
            task.add_done_callback(self._done)

    async def _authenticate(self, req_id: Any, msg: dict[str, Any]) -> None:
        """The daemon's token (the owner), or a user and token of a `[serve.users]` login (that
        user with that role, for good: a copy-trading follower's viewer login)."""
        params = msg.get("params")
        token = params.get("token") if isinstance(params, dict) else None
        user = params.get("user") if isinstance(params, dict) else None
        why = "authentication failed: wrong or missing token"
        if msg.get("cmd") == "auth" and user is None and self.server.check_token(token):
            self.authenticated = True
            self.send(dumps(ok(req_id, {"authenticated": True})))
            return
        if msg.get("cmd") == "auth" and user is not None:
            found = await self.server.login(self.peer, user, token)
            if isinstance(found, Identity):
                self.identity = found
                self.authenticated = True
                self.send(dumps(ok(req_id, {"authenticated": True, "identity": found.as_dict()})))
                return
            why = found
        log.warning("refused %s client %s: %s", self.transport, self.peer, why)
        self.send(dumps(error(req_id, why, 1, AUTH)))
        self.close()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()

    async def _run(self, req_id: Any, msg: dict[str, Any]) -> None:
        cmd = msg.get("cmd")
        try:
            if not isinstance(cmd, str) or not cmd:
                raise UsageError("cmd must be a command name (a string); `status`, `hello`, ...")
            params = msg.get("params")
            if params is None:
                params = {}
            if not isinstance(params, dict):
                raise UsageError(f"params of {cmd[:40]!r} must be a JSON object")
            payload = await self.server.execute_encoded(self, req_id, cmd, params)
        except UsageError as exc:
            payload = dumps(error(req_id, str(exc), exc.exit_code, BAD_REQUEST))
        except UserError as exc:
            payload = dumps(error(req_id, str(exc), exc.exit_code, REFUSED))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: never kill the connection (or the daemon) for one command
            log.exception("command %r from %s failed", cmd, self.actor)
            payload = dumps(error(req_id, f"internal error in {str(cmd)[:40]!r}: {type(exc).__name__}", 1, INTERNAL))
        self.send(payload)

    # -- events -----------------------------------------------------------------------------------

    def subscribe(self, kinds: list[str] | None) -> None:
        if self.sub is not None:
            self.sub.close()
        self.sub = self.server.bus.subscribe(f"client:{self.peer}", kinds, limit=EVENT_BACKLOG)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._pump_events(), name=f"pump-{self.peer}")

    def unsubscribe(self) -> None:
        if self.sub is not None:
            self.sub.close()
            self.sub = None

    async def _pump_events(self) -> None:
        while not self.closed and self.sub is not None:
            sub = self.sub
            events = await sub.wait()
            if not events:
                if self.sub is None or self.sub.closed:
                    return
                continue
            if not self.send(b"".join(dumps(encode_event(e)) for e in events)):
                return
            # Let the socket drain before the next batch: market data coalesces meanwhile.
            if not await self._drained():
                return
            if sub.overflowed:
                self.drop(f"fell behind the event stream (more than {EVENT_BACKLOG:,} events waiting)")
                return

    async def _drained(self) -> bool:
        low = max(self.budgets.max_outbound // 4, 64 * 1024)
        deadline = time.monotonic() + self.budgets.read_s * 3
        while self.writer.transport.get_write_buffer_size() > low:
            if self.closed:
                return False
            if time.monotonic() > deadline:
                self.drop(f"slow reader: events not read for {self.budgets.read_s * 3:g} s")
                return False
            await asyncio.sleep(0.05)
        return not self.closed

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.sub is not None:
            self.sub.close()
        if self._pump is not None and self._pump is not asyncio.current_task():
            self._pump.cancel()
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        with contextlib.suppress(Exception):
            transport = self.writer.transport
            if transport.get_write_buffer_size() > 64 * 1024:
                transport.abort()  # a reader that does not read would hold the socket open forever
            else:
                self.writer.close()  # the last line (why) still goes out
        self.lines.reader.feed_eof()  # the read loop ends now, not when the peer notices
