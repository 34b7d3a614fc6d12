"""The control API: commands in, results and the live event stream out, over local sockets.

Each connection handles requests concurrently (responses carry the request id) and, after
`subscribe`, gets its own bus subscription: market data is coalesced while that client's
socket is busy, so a slow client never stalls the engine or the other clients. The budgets
each connection lives within (bytes, time, unread answers) are in connection.py. The owner's
Unix socket and TCP have separate capacities, so TCP clients can never lock the owner out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.encoding import to_jsonable
from tui_trader.core.errors import UsageError, UserError
from tui_trader.core.orders import as_placed
from tui_trader.daemon import auth
from tui_trader.daemon.connection import STREAM_LIMIT, Budgets, Connection, tune_socket
from tui_trader.daemon.protocol import (
    BUSY,
    EVENT_TYPES,
    PROTOCOL_VERSION,
    dumps,
    error,
    ok,
)
from tui_trader.daemon.roles import Identity, Role
from tui_trader.daemon.sessions import SessionRegistry
from tui_trader.engine import params as P

if TYPE_CHECKING:
    from tui_trader.daemon.logins import Logins
    from tui_trader.engine import Engine
    from tui_trader.engine.bus import EventBus

log = logging.getLogger(__name__)

Handler = Callable[["Connection", dict[str, Any]], Awaitable[Any]]
# Older names of the engine's strategy commands, still answered.
STRATEGY_ALIASES = {
    "enable_strategy": "strategies.enable",
    "disable_strategy": "strategies.disable",
    "reload_strategy": "strategies.reload",
}
EVENT_KINDS = frozenset(EVENT_TYPES)
SNAPSHOT_CACHE_S = 0.05  # a flood of `snapshot` requests costs one snapshot per 50 ms


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
        max_local_clients: int = 64,
        max_unauthenticated: int = 8,
        budgets: Budgets | None = None,
        on_reload: Callable[[], Awaitable[dict[str, Any]]] | None = None,
    ) -> None:
        self.engine = engine
        self.socket_path = socket_path
        self.token = token
        self.tcp_port = tcp_port
        self.capacity = {"unix": max_local_clients, "tcp": max_clients}
        self.max_unauthenticated = max_unauthenticated
        self.budgets = budgets or Budgets()
        self.on_reload = on_reload
        self.uid = os.getuid()
        self.started_at = time.time()
        self.connections: set[Connection] = set()
        self._servers: list[asyncio.AbstractServer] = []
        self._seq = 0
        self._snapshot: tuple[float, str] | None = None
        self.sessions = SessionRegistry(engine.audit)
        self._logins: Logins | None = None  # [serve.users] logins on the TCP port (made on first use)
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
            "snapshot": self._snapshot_handler,
            "candles": self._candles,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "call": self._call,
            "reload": self._reload,
            **self.sessions.handlers(),
        }

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        path = self.socket_path
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # stale socket from a killed daemon (the lock proves nobody owns it)
        old = os.umask(0o177)
        try:
            server = await asyncio.start_unix_server(
                lambda r, w: self._accept(r, w, "unix"), path=str(path), limit=STREAM_LIMIT
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
                lambda r, w: self._accept(r, w, "tcp"), host="127.0.0.1", port=self.tcp_port, limit=STREAM_LIMIT
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

    @property
    def bus(self) -> EventBus:
        return self.engine.bus

    def check_token(self, given: object) -> bool:
        return self.token is not None and auth.token_matches(self.token, given)

    async def login(self, peer: str, user: object, token: object) -> Identity | str:
        """A `[serve.users.NAME]` login on the TCP port (argon2, rate-limited per address): that
        user with that role for the connection's life, audited; else why not (one line)."""
        from tui_trader.daemon.logins import Logins

        address = peer.rsplit(":", 1)[0]
        if self._logins is None:
            self._logins = Logins({})
        self._logins.users = self.engine.settings.serve.users  # a reload adds or removes logins
        wait = self._logins.retry_after(address)
        if wait:
            return f"authentication refused: too many failed logins from {address}; try again in {wait:.0f} s"
        if not isinstance(user, str) or not isinstance(token, str) or not 0 < len(user) <= 64 or len(token) > 1024:
            await self._logins.check(address, "", "")  # counts as a failure, at the same cost
            return "authentication failed: a login needs a user name and its token"
        found = await self._logins.check(address, user, token)
        if found is None:
            await self.engine.audit("daemon", "login_refused", {"user": user[:64], "peer": peer, "via": "tcp"})
            return "authentication failed: wrong user or token"
        identity = Identity(found.name, Role(found.role), "tcp")
        await self.engine.audit(identity.label, "login", {**identity.as_dict(), "peer": peer})
        log.info("tcp login %s from %s", identity.label, peer)
        return identity

    def count(self, transport: str, *, authenticated: bool | None = None) -> int:
        return sum(
            1
            for c in self.connections
            if c.transport == transport and (authenticated is None or c.authenticated == authenticated)
        )

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, transport: str) -> None:
        self._seq += 1
        if transport == "unix":
            peer = f"unix#{self._seq}"
            uid = auth.peer_uid(writer.get_extra_info("socket"))
            if uid is not None and uid != self.uid:
                log.warning("refused %s: peer uid %s is not the daemon's uid %s", peer, uid, self.uid)
                await _refuse(writer, "permission denied: connect as the user running the daemon")
                return
        else:
            host, port = writer.get_extra_info("peername")[:2]
            peer = f"{host}:{port}"
            tune_socket(writer.get_extra_info("socket"))
        capacity = self.capacity[transport]
        if self.count(transport, authenticated=True) >= capacity:
            log.warning("refused %s: %d %s clients already attached", peer, capacity, transport)
            setting = "max_local_clients" if transport == "unix" else "max_clients"
            await _refuse(writer, f"too many {transport} clients ({capacity}); raise [daemon] {setting}")
            return
        if transport == "tcp" and self.count("tcp", authenticated=False) >= self.max_unauthenticated:
            log.warning("refused %s: %d connections still authenticating", peer, self.max_unauthenticated)
            await _refuse(writer, "too many connections waiting to authenticate; try again shortly")
            return
        conn = Connection(self, reader, writer, transport, peer, self.budgets)
        conn.authenticated = transport == "unix"
        self.connections.add(conn)
        log.info("client %s connected", peer)
        try:
            await conn.serve(authenticated=transport == "unix")
        finally:
            conn.close()
            self.connections.discard(conn)
            await self.sessions.connection_closed(conn)
            log.info("client %s (%s) disconnected", peer, conn.client)

    async def execute(self, conn: Connection, cmd: str, params: dict[str, Any]) -> Any:
        """A command's JSON-able result (UserError / UsageError for a refusal or a bad request)."""
        from tui_trader.engine.commands import available, dispatch

        P.require_object(params)
        await self.sessions.guard(conn, cmd, params)  # roles: what a viewer may not do is refused here
        handler = self.handlers.get(cmd)
        if handler is not None:
            return await handler(conn, params)
        name = STRATEGY_ALIASES.get(cmd, cmd)
        if name in available():  # every engine command is also a top-level command
            return to_jsonable(await dispatch(self.engine, name, params, conn.actor))
        known = sorted({*self.handlers, *available()})
        raise UsageError(f"unknown daemon command {cmd[:40]!r}; known: {', '.join(known)}")

    async def execute_encoded(self, conn: Connection, req_id: Any, cmd: str, params: dict[str, Any]) -> bytes:
        """The answer line for a request (the snapshot's JSON is shared by requests 50 ms apart)."""
        if cmd == "snapshot":
            now = time.monotonic()
            if self._snapshot is None or now - self._snapshot[0] > SNAPSHOT_CACHE_S:
                body = json.dumps(to_jsonable(self.engine.snapshot()), separators=(",", ":"), allow_nan=False)
                self._snapshot = (now, body)
            return f'{{"id":{json.dumps(req_id)},"ok":true,"result":{self._snapshot[1]}}}\n'.encode()
        return dumps(ok(req_id, await self.execute(conn, cmd, params)))

    # -- commands --------------------------------------------------------------------------------

    async def _hello(self, conn: Connection, p: dict[str, Any]) -> Any:
        from tui_trader import __version__

        conn.client = P.text(p, "client", max_len=40) or "remote"
        return {
            "protocol": PROTOCOL_VERSION,
            "version": __version__,
            "pid": os.getpid(),
            "mode": self.engine.mode,
            "identity": conn.identity.as_dict(),
        }

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
            "halt": _halt_detail(snap),
            "uptime_s": round(time.time() - self.started_at, 1),
            "venues": to_jsonable(snap.venues),
            "strategies": to_jsonable(snap.extra.get("strategies", [])),
            "clients": len(self.connections),
            "open_orders": len(as_placed(snap.open_orders)),
            # sent, outcome not yet known: being looked up by client order id (`orders` lists them)
            "unknown_orders": sum(1 for o in snap.open_orders if o.status.value == "unknown"),
            "positions": len(snap.positions),
            "equity": snap.account.equity,
            "cash": snap.account.cash,
            "day_pnl": snap.account.day_pnl,
            "currency": snap.account.currency,
            "balances": [
                {**to_jsonable(b), "total": b.total, "value": b.value} for b in snap.account.balances
            ],
            "commands": sorted({*self.handlers, *available()}),
        }

    async def _positions(self, conn: Connection, p: dict[str, Any]) -> Any:
        snap = self.engine.snapshot()
        if P.flag(p, "by_strategy"):  # each owner's part (strategy, or manual) and its P&L
            return snap.extra.get("ledger", [])
        out = []
        margin = {(m["venue"], m["symbol"]): m for m in snap.extra.get("margin", [])}
        for pos in snap.positions:
            doc = to_jsonable(pos)
            doc["unrealized_pnl"] = pos.unrealized_pnl
            doc["market_value"] = pos.market_value
            doc["owners"] = self.engine.ledger.owners(pos.venue, pos.symbol)
            if (pos.venue, pos.symbol) in margin:  # on margin: leverage, margin, liquidation, funding
                doc["margin"] = margin[(pos.venue, pos.symbol)]
            out.append(doc)
        return out

    async def _orders(self, conn: Connection, p: dict[str, Any]) -> Any:
        snap = self.engine.snapshot()
        return to_jsonable(snap.recent_orders if P.flag(p, "all") else snap.open_orders)

    async def _fills(self, conn: Connection, p: dict[str, Any]) -> Any:
        """The latest fills; with `since` (ISO 8601) every stored fill from then on, oldest first
        (a copy-trading follower catching up after a reconnect)."""
        limit = P.integer(p, "limit", 50, high=10_000)
        since = P.text(p, "since", max_len=40)
        if since is not None:
            try:
                start = datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError:
                raise UsageError(f"since {since!r} is not an ISO 8601 time") from None
            if start.tzinfo is None:
                raise UsageError("since needs a time zone (UTC: end it with Z)")
            assert self.engine.store is not None
            return to_jsonable(await self.engine.store.fills_since(start, limit))
        return to_jsonable(self.engine.fills[-limit:] if limit > 0 else [])

    async def _place(self, conn: Connection, p: dict[str, Any]) -> Any:
        req = P.order_request(p, conn.client)
        return to_jsonable(await self.engine.place(req, conn.actor))

    async def _cancel(self, conn: Connection, p: dict[str, Any]) -> Any:
        cid = P.text(p, "id", max_len=80) or P.text(p, "client_order_id", max_len=80)
        if not cid:
            raise UsageError("cancel needs an order id")
        return to_jsonable(await self.engine.cancel(cid, conn.actor))

    async def _cancel_all(self, conn: Connection, p: dict[str, Any]) -> Any:
        symbol = P.text(p, "symbol", max_len=64)
        return to_jsonable(await self.engine.cancel_all(conn.actor, symbol.upper() if symbol else None))

    async def _flatten(self, conn: Connection, p: dict[str, Any]) -> Any:
        return to_jsonable(await self.engine.flatten(conn.actor))

    async def _snapshot_handler(self, conn: Connection, p: dict[str, Any]) -> Any:
        return to_jsonable(self.engine.snapshot())

    async def _candles(self, conn: Connection, p: dict[str, Any]) -> Any:
        from tui_trader.strategy.timeframes import timeframe_to_seconds

        symbol = P.text(p, "symbol", required=True, max_len=64)
        timeframe = P.text(p, "timeframe", required=True, max_len=8)
        assert symbol is not None and timeframe is not None
        try:
            timeframe_to_seconds(timeframe)
        except UserError as exc:
            raise UsageError(str(exc)) from None
        candles = await self.engine.fetch_candles(symbol, timeframe, P.integer(p, "limit", 300, low=1, high=5000))
        return to_jsonable(candles)

    async def _subscribe(self, conn: Connection, p: dict[str, Any]) -> Any:
        kinds = P.names(p, "kinds", EVENT_KINDS)
        conn.subscribe(kinds or None)
        return {"subscribed": kinds or "all"}

    async def _unsubscribe(self, conn: Connection, p: dict[str, Any]) -> Any:
        conn.unsubscribe()
        return {"subscribed": None}

    async def _call(self, conn: Connection, p: dict[str, Any]) -> Any:
        from tui_trader.engine.commands import dispatch

        name = P.text(p, "command", required=True, max_len=64)
        assert name is not None
        params = p.get("params")
        params = P.require_object({} if params is None else params, "call params")
        return to_jsonable(await dispatch(self.engine, STRATEGY_ALIASES.get(name, name), params, conn.actor))

    async def _reload(self, conn: Connection, p: dict[str, Any]) -> Any:
        if self.on_reload is None:
            raise UserError("this daemon cannot reload its configuration")
        return await self.on_reload()


async def _refuse(writer: asyncio.StreamWriter, message: str) -> None:
    """One line saying why, then hang up (never waiting long on a peer that does not read)."""
    with contextlib.suppress(Exception):
        writer.write(dumps(error(None, message, 1, BUSY)))
        await asyncio.wait_for(writer.drain(), 1.0)
    writer.close()


def _halt_detail(snap: Any) -> dict[str, Any] | None:
    """Why new orders are refused, broken down: tripped breakers (with their reasons and
    times), protection locks, a database that cannot be written."""
    risk = snap.extra.get("risk") or {}
    if not snap.halted and not risk.get("locks"):
        return None
    return {
        "reason": snap.halted,
        "breakers": risk.get("breakers") or {},
        "locks": risk.get("locks") or [],
        "store_fault": risk.get("store_fault"),
    }
