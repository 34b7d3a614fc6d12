"""The control API: commands in, results and the live event stream out, over local sockets.

Each connection handles requests concurrently (responses carry the request id) and, after
`subscribe`, gets its own bus subscription: market data is coalesced while that client's
socket is busy, so a slow client never stalls the engine or the other clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from decimal import InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.encoding import to_jsonable
from tui_trader.core.errors import UsageError, UserError
from tui_trader.core.orders import OrderRequest
from tui_trader.daemon import auth
from tui_trader.daemon.protocol import (
    MAX_LINE,
    PROTOCOL_VERSION,
    ProtocolError,
    decode_dataclass,
    dumps,
    encode_event,
    error,
    loads,
    ok,
)

if TYPE_CHECKING:
    from tui_trader.engine import Engine
    from tui_trader.engine.bus import Subscription

log = logging.getLogger(__name__)

Handler = Callable[["Connection", dict[str, Any]], Awaitable[Any]]
STRATEGY_COMMANDS = ("enable_strategy", "disable_strategy", "reload_strategy", "reload_strategies")


class Connection:
    """One attached client (a TUI, a CLI call, a script)."""

    def __init__(
        self,
        server: ControlServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        transport: str,
        peer: str,
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.transport = transport
        self.peer = peer
        self.client = "remote"
        self.sub: Subscription | None = None
        self._pump: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self.closed = False

    @property
    def actor(self) -> str:
        return f"{self.client}@{self.transport}"

    async def send(self, payload: bytes) -> None:
        if self.closed:
            return
        async with self._lock:
            self.writer.write(payload)
            await self.writer.drain()

    async def serve(self, authenticated: bool) -> None:
        while not self.closed:
            try:
                line = await self.reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                await self.send(dumps(error(None, "message too long")))
                break
            except (ConnectionError, OSError):
                break
            if not line:
                break
            try:
                msg = loads(line)
            except ProtocolError as exc:
                await self.send(dumps(error(None, str(exc), 2)))
                if not authenticated:
                    break
                continue
            if not authenticated:
                if msg.get("cmd") == "auth" and self.server.check_token((msg.get("params") or {}).get("token")):
                    authenticated = True
                    await self.send(dumps(ok(msg.get("id"), {"authenticated": True})))
                    continue
                log.warning("refused %s client %s: missing or wrong token", self.transport, self.peer)
                await self.send(dumps(error(msg.get("id"), "authentication failed: wrong or missing token")))
                break
            task = asyncio.create_task(self._run(msg))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, msg: dict[str, Any]) -> None:
        req_id = msg.get("id")
        try:
            result = await self.server.execute(self, str(msg.get("cmd", "")), msg.get("params") or {})
            payload = dumps(ok(req_id, result))
        except UserError as exc:
            payload = dumps(error(req_id, str(exc), exc.exit_code))
        except Exception as exc:  # never kill the connection (or the daemon) for one command
            log.exception("command %r from %s failed", msg.get("cmd"), self.actor)
            payload = dumps(error(req_id, f"internal error in {msg.get('cmd')!r}: {type(exc).__name__}: {exc}"))
        with contextlib.suppress(ConnectionError, OSError):
            await self.send(payload)

    def subscribe(self, kinds: list[str] | None) -> None:
        if self.sub is not None:
            self.sub.close()
        self.sub = self.server.engine.bus.subscribe(f"client:{self.peer}", kinds)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._pump_events(), name=f"pump-{self.peer}")

    async def _pump_events(self) -> None:
        try:
            while not self.closed and self.sub is not None:
                events = await self.sub.wait()
                if not events:
                    if self.sub is None or self.sub.closed:
                        return
                    continue
                await self.send(b"".join(dumps(encode_event(e)) for e in events))
        except (ConnectionError, OSError):
            self.close()

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
            self.writer.close()


class ControlServer:
    """Unix socket (0600, same uid only) plus optional token-protected TCP on 127.0.0.1."""

    def __init__(
        self,
        engine: Engine,
        socket_path: Path,
        *,
        token: str | None = None,
        tcp_port: int | None = None,
        max_clients: int = 32,
        on_reload: Callable[[], Awaitable[dict[str, Any]]] | None = None,
    ) -> None:
        self.engine = engine
        self.socket_path = socket_path
        self.token = token
        self.tcp_port = tcp_port
        self.max_clients = max_clients
        self.on_reload = on_reload
        self.uid = os.getuid()
        self.started_at = time.time()
        self.connections: set[Connection] = set()
        self._servers: list[asyncio.AbstractServer] = []
        self._seq = 0
        self.handlers: dict[str, Handler] = {
            "hello": self._hello,
            "status": self._status,
            "positions": self._positions,
            "orders": self._orders,
            "fills": self._fills,
            "place": self._place,
            "cancel": self._cancel,
            "cancel_all": self._cancel_all,
            "flatten": self._flatten,
            "snapshot": self._snapshot,
            "candles": self._candles,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "call": self._call,
            "reload": self._reload,
        }
        for name in STRATEGY_COMMANDS:
            self.handlers[name] = self._strategy_command(name)

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        path = self.socket_path
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # stale socket from a killed daemon (the lock proves nobody owns it)
        old = os.umask(0o177)
        try:
            server = await asyncio.start_unix_server(
                lambda r, w: self._accept(r, w, "unix"), path=str(path), limit=MAX_LINE
            )
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        self._servers.append(server)
        if self.tcp_port is not None:
            if not self.token:
                raise UserError(
                    "TCP control needs a token; set TUI_TRADER_TOKEN or let the daemon create HOME/run/daemon.token"
                )
            tcp = await asyncio.start_server(
                lambda r, w: self._accept(r, w, "tcp"), host="127.0.0.1", port=self.tcp_port, limit=MAX_LINE
            )
            self._servers.append(tcp)
            self.tcp_port = tcp.sockets[0].getsockname()[1]
        log.info("control API on %s%s", path, f" and 127.0.0.1:{self.tcp_port}" if self.tcp_port is not None else "")

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for conn in list(self.connections):
            conn.close()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)
        self._servers.clear()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    def check_token(self, given: object) -> bool:
        return self.token is not None and auth.token_matches(self.token, given)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, transport: str) -> None:
        self._seq += 1
        if transport == "unix":
            peer = f"unix#{self._seq}"
            uid = auth.peer_uid(writer.get_extra_info("socket"))
            if uid is not None and uid != self.uid:
                log.warning("refused %s: peer uid %s is not the daemon's uid %s", peer, uid, self.uid)
                writer.write(dumps(error(None, "permission denied: connect as the user running the daemon")))
                with contextlib.suppress(Exception):
                    await writer.drain()
                writer.close()
                return
        else:
            host, port = writer.get_extra_info("peername")[:2]
            peer = f"{host}:{port}"
        if len(self.connections) >= self.max_clients:
            log.warning("refused %s: %d clients already attached", peer, len(self.connections))
            writer.write(dumps(error(None, f"too many clients ({self.max_clients}); raise [daemon] max_clients")))
            writer.close()
            return
        conn = Connection(self, reader, writer, transport, peer)
        self.connections.add(conn)
        log.info("client %s connected", peer)
        try:
            await conn.serve(authenticated=transport == "unix")
        finally:
            conn.close()
            self.connections.discard(conn)
            log.info("client %s (%s) disconnected", peer, conn.client)

    async def execute(self, conn: Connection, cmd: str, params: dict[str, Any]) -> Any:
        handler = self.handlers.get(cmd)
        if handler is None:
            raise UsageError(f"unknown daemon command {cmd!r}; known: {', '.join(sorted(self.handlers))}")
        if not isinstance(params, dict):
            raise UsageError("params must be a JSON object")
        return await handler(conn, params)

    # -- commands --------------------------------------------------------------------------------

    async def _hello(self, conn: Connection, p: dict[str, Any]) -> Any:
        from tui_trader import __version__

        conn.client = str(p.get("client") or "remote")[:40]
        return {"protocol": PROTOCOL_VERSION, "version": __version__, "pid": os.getpid(), "mode": self.engine.mode}

    async def _status(self, conn: Connection, p: dict[str, Any]) -> Any:
        from tui_trader import __version__
        from tui_trader.engine.commands import available

        snap = self.engine.snapshot()
        return {
            "pid": os.getpid(),
            "version": __version__,
            "home": str(self.socket_path.parent.parent),
            "mode": snap.mode,
            "live_armed": self.engine.live_armed,
            "halted": snap.halted,
            "uptime_s": round(time.time() - self.started_at, 1),
            "venues": to_jsonable(snap.venues),
            "strategies": await self._strategies(snap),
            "clients": len(self.connections),
            "open_orders": len(snap.open_orders),
            "positions": len(snap.positions),
            "equity": snap.account.equity,
            "cash": snap.account.cash,
            "day_pnl": snap.account.day_pnl,
            "commands": available(),
        }

    async def _strategies(self, snap: Any) -> Any:
        from tui_trader.engine.commands import available, dispatch

        if "strategies" in snap.extra:
            return to_jsonable(snap.extra["strategies"])
        for name in ("list_strategies", "strategies"):
            if name in available():
                try:
                    return to_jsonable(await dispatch(self.engine, name, {}, "daemon"))
                except Exception:
                    log.exception("listing strategies failed")
        return []

    async def _positions(self, conn: Connection, p: dict[str, Any]) -> Any:
        out = []
        for pos in self.engine.snapshot().positions:
            doc = to_jsonable(pos)
            doc["unrealized_pnl"] = pos.unrealized_pnl
            doc["market_value"] = pos.market_value
            out.append(doc)
        return out

    async def _orders(self, conn: Connection, p: dict[str, Any]) -> Any:
        snap = self.engine.snapshot()
        return to_jsonable(snap.recent_orders if p.get("all") else snap.open_orders)

    async def _fills(self, conn: Connection, p: dict[str, Any]) -> Any:
        limit = _int(p.get("limit", 50), "limit")
        return to_jsonable(self.engine.fills[-limit:] if limit > 0 else [])

    async def _place(self, conn: Connection, p: dict[str, Any]) -> Any:
        missing = [k for k in ("symbol", "side", "quantity") if not p.get(k)]
        if missing:
            raise UsageError(f"place needs {', '.join(missing)}")
        try:
            req = decode_dataclass(OrderRequest, {"source": conn.client, **p})
        except (ValueError, TypeError, InvalidOperation) as exc:
            raise UsageError(f"invalid order: {exc}") from None
        if req.quantity <= 0:
            raise UsageError(f"quantity must be positive, got {req.quantity}")
        return to_jsonable(await self.engine.place(req, conn.actor))

    async def _cancel(self, conn: Connection, p: dict[str, Any]) -> Any:
        cid = p.get("id") or p.get("client_order_id")
        if not cid:
            raise UsageError("cancel needs an order id")
        return to_jsonable(await self.engine.cancel(str(cid), conn.actor))

    async def _cancel_all(self, conn: Connection, p: dict[str, Any]) -> Any:
        return to_jsonable(await self.engine.cancel_all(conn.actor, p.get("symbol")))

    async def _flatten(self, conn: Connection, p: dict[str, Any]) -> Any:
        return to_jsonable(await self.engine.flatten(conn.actor))

    async def _snapshot(self, conn: Connection, p: dict[str, Any]) -> Any:
        return to_jsonable(self.engine.snapshot())

    async def _candles(self, conn: Connection, p: dict[str, Any]) -> Any:
        if not p.get("symbol") or not p.get("timeframe"):
            raise UsageError("candles needs symbol and timeframe")
        candles = await self.engine.fetch_candles(
            str(p["symbol"]), str(p["timeframe"]), _int(p.get("limit", 300), "limit")
        )
        return to_jsonable(candles)

    async def _subscribe(self, conn: Connection, p: dict[str, Any]) -> Any:
        kinds = p.get("kinds")
        conn.subscribe(list(kinds) if kinds else None)
        return {"subscribed": kinds or "all"}

    async def _unsubscribe(self, conn: Connection, p: dict[str, Any]) -> Any:
        if conn.sub is not None:
            conn.sub.close()
            conn.sub = None
        return {"subscribed": None}

    async def _call(self, conn: Connection, p: dict[str, Any]) -> Any:
        from tui_trader.engine.commands import dispatch

        name = p.get("command")
        if not name:
            raise UsageError("call needs a command name")
        return to_jsonable(await dispatch(self.engine, str(name), dict(p.get("params") or {}), conn.actor))

    async def _reload(self, conn: Connection, p: dict[str, Any]) -> Any:
        if self.on_reload is None:
            raise UserError("this daemon cannot reload its configuration")
        return await self.on_reload()

    def _strategy_command(self, name: str) -> Handler:
        async def run(conn: Connection, p: dict[str, Any]) -> Any:
            from tui_trader.engine.commands import available, dispatch

            if name not in available():
                raise UserError(f"{name} is not available: no strategy runner has registered it in this daemon")
            return to_jsonable(await dispatch(self.engine, name, p, conn.actor))

        return run


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be an integer, got {value!r}") from None
