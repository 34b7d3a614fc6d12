"""RemoteClient: the EngineClient interface spoken to a daemon over its socket.

The TUI polls `snapshot()` 15 times a second; asking the daemon each time would be wasteful,
so the client keeps a local mirror: events from the subscription update it as they arrive and
a full snapshot replaces it `refresh_hz` times a second (2 by default). Events are re-published
on a local EventBus, so `subscribe()` behaves exactly like the in-process client's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.encoding import to_jsonable
from tui_trader.core.errors import NotRunningError, UserError
from tui_trader.core.events import (
    AccountEvent,
    BookEvent,
    ConnectionEvent,
    Event,
    FillEvent,
    NoticeEvent,
    OrderEvent,
    PositionEvent,
    SignalEvent,
    TickerEvent,
)
from tui_trader.core.market import Candle
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.daemon import auth
from tui_trader.daemon.protocol import (
    MAX_LINE,
    decode,
    decode_dataclass,
    decode_event,
    decode_snapshot,
    dumps,
    loads,
    raise_for,
    request,
)
from tui_trader.engine.bus import EventBus, Subscription

if TYPE_CHECKING:
    from tui_trader.engine import EngineSnapshot
    from tui_trader.home import Home

log = logging.getLogger(__name__)
KEEP = 50  # orders / fills / signals kept in the mirror, as the engine's snapshot does
SESSION_RETRIES = 20  # a restarted daemon learns the serve sessions again within a few seconds
CLOSE_WAIT_S = 2.0  # detaching waits this long for the socket to close, then drops what is unsent


def not_running(home_label: str) -> NotRunningError:
    return NotRunningError(f"no daemon running for {home_label}; start one with `tui-trader daemon`")


class RemoteClient:
    """Attach to a daemon: Unix socket by default, or 127.0.0.1:port with a token."""

    attached = True

    def __init__(
        self,
        socket_path: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        token: str | None = None,
        client: str = "tui",
        mirror: bool = True,
        refresh_hz: float = 2.0,
        timeout_s: float = 15.0,
        home_label: str | None = None,
        session_token: str | None = None,
    ) -> None:
        if socket_path is None and port is None:
            raise ValueError("RemoteClient needs a socket path or a TCP port")
        self.socket_path = socket_path
        self.host = host
        self.port = port
        self.token = token
        self.session_token = session_token  # a `tui-trader serve` session: this user, this role
        self.client = client
        self.mirror_enabled = mirror
        self.refresh_s = 1.0 / refresh_hz
        self.timeout_s = timeout_s
        self.home_label = home_label or str(socket_path.parent.parent if socket_path else f"{host}:{port}")
        self.bus = EventBus()
        self.connected = False
        self.daemon_info: dict[str, Any] = {}
        self._mirror: EngineSnapshot | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_task: asyncio.Task[None] | None = None
        self._refresh_task: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._closing = False
        self._fatal: str | None = None
        self._session_refusals = 0

    @classmethod
    def for_home(cls, home: Home, **kwargs: Any) -> RemoteClient:
        return cls(home.socket_path, home_label=str(home.root), **kwargs)

    @classmethod
    def for_tcp(cls, home: Home, port: int, **kwargs: Any) -> RemoteClient:
        token = auth.read_token(home.run_dir)
        if not token:
            raise UserError(
                f"no token for TCP: set {auth.ENV_TOKEN} or copy {auth.token_path(home.run_dir)} from the daemon's host"
            )
        return cls(None, port=port, token=token, home_label=f"127.0.0.1:{port}", **kwargs)

    @property
    def identity(self) -> dict[str, Any]:
        """Who the daemon says this connection is: user, role ("viewer" / "trader"), via, owner."""
        return dict(self.daemon_info.get("identity") or {"user": "owner", "role": "trader", "owner": True})

    # -- connection ----------------------------------------------------------------------------

    async def connect(self) -> None:
        try:
            if self.socket_path is not None:
                st = self.socket_path.stat()
                if st.st_uid != os.getuid():
                    raise UserError(f"{self.socket_path} belongs to uid {st.st_uid}, not you; refusing to talk to it")
                reader, writer = await asyncio.open_unix_connection(str(self.socket_path), limit=MAX_LINE)
            else:
                reader, writer = await asyncio.open_connection(self.host, self.port, limit=MAX_LINE)
        except (FileNotFoundError, ConnectionRefusedError):
            raise not_running(self.home_label) from None
        except OSError as exc:
            raise UserError(f"cannot reach the daemon at {self.home_label}: {exc.strerror or exc}") from None
        self._reader, self._writer = reader, writer
        self._fatal = None
        self._read_task = read = asyncio.create_task(self._read_loop(), name="remote-client-reader")
        # `connected` (requests may go) only once the daemon knows who this is: until its session
        # is attached the connection is the socket owner's, and a request sent meanwhile (a
        # viewer's keypress as the workstation reattached) ran with the owner's rights.
        if self.token is not None and self.port is not None:
            await self._request("auth", token=self.token)
        if self.session_token is not None:
            try:
                await self._request("session.attach", token=self.session_token)
                self._session_refusals = 0
            except UserError:
                self._session_refusals += 1
                writer.close()  # fail closed: never carry on as the owner
                raise
        self.daemon_info = await self._request("hello", client=self.client)
        self.connected = not read.done()

    async def start(self) -> None:
        if not self.connected:
            await self.connect()
        if self.mirror_enabled and self._refresh_task is None:
            await self._resync()
            self._refresh_task = asyncio.create_task(self._refresh_loop(), name="remote-client-refresh")

    async def _resync(self) -> None:
        await self.request("subscribe")
        self._mirror = decode_snapshot(await self.request("snapshot"))

    async def close(self) -> None:
        """Detach. The daemon keeps running."""
        self._closing = True
        for task in (self._refresh_task, self._read_task):
            if task is not None:
                await _end(task)
        self._refresh_task = self._read_task = None
        if self._writer is not None:
            self._writer.close()
            try:  # unsent bytes to a daemon that stopped reading would hold the close forever
                await asyncio.wait_for(self._writer.wait_closed(), CLOSE_WAIT_S)
            except TimeoutError:
                self._writer.transport.abort()
            except Exception:  # the connection is going away either way
                pass
        self.connected = False

    async def __aenter__(self) -> RemoteClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def request(self, cmd: str, *, answer_within_s: float | None = None, **params: Any) -> Any:
        """Send one command and return its JSON result (a daemon error raises UserError).
        `answer_within_s`: how long its answer may take (`timeout_s` unless given)."""
        if not self.connected:
            raise UserError(self._fatal or f"not connected to the daemon at {self.home_label}")
        return await self._request(cmd, answer_within_s=answer_within_s, **params)

    async def _request(self, cmd: str, *, answer_within_s: float | None = None, **params: Any) -> Any:
        if self._writer is None or self._read_task is None or self._read_task.done():
            raise UserError(self._fatal or f"not connected to the daemon at {self.home_label}")
        req_id = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = fut
        try:
            self._writer.write(dumps(request(req_id, cmd, to_jsonable(params))))
            await asyncio.wait_for(self._writer.drain(), self.timeout_s)  # a daemon that stopped reading
            response = await asyncio.wait_for(fut, answer_within_s or self.timeout_s)
        except TimeoutError:  # first: an OSError too (it read "lost connection" for a slow answer)
            waited = answer_within_s or self.timeout_s
            raise UserError(f"the daemon did not answer {cmd!r} within {waited:g} s") from None
        except (ConnectionError, OSError):
            raise UserError(self._fatal or f"lost connection to the daemon at {self.home_label}") from None
        finally:
            self._pending.pop(req_id, None)
        return raise_for(response)

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                # readline() does not yield while lines are buffered: without this, a burst from
                # the daemon (or a busy machine decoding slowly) starves the UI's event loop.
                await asyncio.sleep(0)
                msg = loads(line)
                if "event" in msg:
                    event = decode_event(msg)
                    if event is not None:
                        self._apply(event)
                        self.bus.publish(event)
                    continue
                fut = self._pending.get(msg.get("id"))  # type: ignore[arg-type]
                if fut is not None and not fut.done():
                    fut.set_result(msg)
                elif msg.get("id") is None and not msg.get("ok", True):
                    self._fatal = str(msg.get("error"))
        except (ConnectionError, OSError, ValueError, UserError) as exc:
            log.warning("daemon connection broke: %s", exc)
        finally:
            self.connected = False
            message = self._fatal or f"lost connection to the daemon at {self.home_label}"
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(UserError(message))
            if not self._closing:
                self._mark_disconnected(message)

    def _mark_disconnected(self, message: str) -> None:
        from tui_trader.core.clock import SystemClock
        from tui_trader.core.enums import ConnectionState

        now = SystemClock().now()
        if self._mirror is not None:
            self._mirror.venues = [
                dataclasses.replace(v, state=ConnectionState.DISCONNECTED, detail="daemon unreachable")
                for v in self._mirror.venues
            ]
        self.bus.publish(NoticeEvent(now, "error", message, "daemon"))

    async def _refresh_loop(self) -> None:
        while not self._closing:  # a cancel Python 3.11's wait_for swallowed still ends it
            await asyncio.sleep(self.refresh_s)
            if self._closing:
                return
            try:
                if not self.connected:
                    if self._session_refusals >= SESSION_RETRIES:
                        return  # the serve session ended: stay detached (the serve process ends us)
                    await self._reconnect()
                    continue
                self._mirror = decode_snapshot(await self.request("snapshot"))
            except UserError as exc:
                log.debug("snapshot refresh failed: %s", exc)

    async def _reconnect(self) -> None:
        """The daemon restarted (or the socket blipped): attach again and resync the mirror."""
        if self._writer is not None:
            self._writer.close()
        try:
            await self.connect()
            await self._resync()
        except UserError:
            return
        from tui_trader.core.clock import SystemClock

        self.bus.publish(NoticeEvent(SystemClock().now(), "info", "reattached to the daemon", "daemon"))

    # -- the local mirror --------------------------------------------------------------------------

    def _apply(self, event: Event) -> None:
        m = self._mirror
        if m is None:
            return
        if isinstance(event, TickerEvent):
            m.tickers.setdefault(event.ticker.venue, {})[event.ticker.symbol] = event.ticker
        elif isinstance(event, BookEvent):
            m.books.setdefault(event.book.venue, {})[event.book.symbol] = event.book
        elif isinstance(event, OrderEvent):
            self._apply_order(m, event.order)
        elif isinstance(event, FillEvent):
            if all(f.fill_id != event.fill.fill_id or f.venue != event.fill.venue for f in m.fills):
                m.fills.append(event.fill)
                del m.fills[:-KEEP]
        elif isinstance(event, PositionEvent):
            key = (event.position.venue, event.position.symbol)
            m.positions = [p for p in m.positions if (p.venue, p.symbol) != key]
            if not event.position.is_flat:
                m.positions.append(event.position)
        elif isinstance(event, AccountEvent):
            m.account = dataclasses.replace(m.account, ts=event.ts, equity=event.equity, cash=event.cash)
        elif isinstance(event, ConnectionEvent):
            m.venues = [
                dataclasses.replace(v, state=event.state, detail=event.detail) if v.name == event.venue else v
                for v in m.venues
            ]
        elif isinstance(event, SignalEvent):
            m.signals.append(event.signal)
            del m.signals[:-KEEP]

    @staticmethod
    def _apply_order(m: EngineSnapshot, order: Order) -> None:
        cid = order.client_order_id
        known = next((o for o in m.recent_orders if o.client_order_id == cid), None)
        if known is not None and known.updated_at > order.updated_at:
            return  # an event older than the snapshot we already hold
        m.recent_orders = [o for o in m.recent_orders if o.client_order_id != cid] + [order]
        del m.recent_orders[:-KEEP]
        m.open_orders = [o for o in m.open_orders if o.client_order_id != cid]
        if order.is_open:
            m.open_orders.append(order)

    # -- EngineClient ------------------------------------------------------------------------------

    async def snapshot(self) -> EngineSnapshot:
        if self._mirror is None:
            return decode_snapshot(await self.request("snapshot"))
        m = self._mirror
        return dataclasses.replace(
            m,
            venues=list(m.venues),
            instruments={v: dict(insts) for v, insts in m.instruments.items()},
            tickers={v: dict(quotes) for v, quotes in m.tickers.items()},
            books={v: dict(books) for v, books in m.books.items()},
            routes=dict(m.routes),
            positions=list(m.positions),
            open_orders=list(m.open_orders),
            recent_orders=list(m.recent_orders),
            fills=list(m.fills),
            signals=list(m.signals),
            extra=dict(m.extra),
        )

    def subscribe(self, name: str, kinds: Iterable[str] | None = None) -> Subscription:
        return self.bus.subscribe(name, kinds)

    async def place(self, request: OrderRequest) -> Order:
        return decode_dataclass(Order, await self.request("place", **to_jsonable(request)))

    async def cancel(self, client_order_id: str) -> Order:
        return decode_dataclass(Order, await self.request("cancel", id=client_order_id))

    async def cancel_all(self, symbol: str | None = None) -> list[Order]:
        return decode(list[Order], await self.request("cancel_all", symbol=symbol))

    async def flatten(self) -> dict[str, Any]:
        return await self.request("flatten")

    async def candles(self, symbol: str, timeframe: str, limit: int = 300) -> list[Candle]:
        return decode(list[Candle], await self.request("candles", symbol=symbol, timeframe=timeframe, limit=limit))

    async def call(self, command: str, **params: Any) -> Any:
        # a command told to wait for something (`wait_s`: a venue back after a reconnect) answers
        # once it has: that wait is not the daemon's silence
        within = self.timeout_s + float(params.get("wait_s") or 0)
        return await self.request("call", command=command, params=params, answer_within_s=within)


async def _end(task: asyncio.Task[Any]) -> None:
    """Cancel a task and wait for it, a bounded time: on Python 3.11 `asyncio.wait_for` can
    swallow a cancel that lands as its answer arrives, and the task then runs on."""
    for _ in range(3):
        task.cancel()
        done, _pending = await asyncio.wait({task}, timeout=CLOSE_WAIT_S)
        if done:
            if not task.cancelled():
                task.exception()  # read: an error while detaching is not news
            return
    log.warning("%s did not stop when cancelled; left behind", task.get_name())
