"""Where a leader's fills come from: another tui-trader daemon, or an exchange account.

Each leader runs until stopped, reconnecting with backoff, and hands every fill it learns of to
the desk in order: first the fills since the desk's catch-up point (what happened while the
follower or the link was down, within max_delay_s), then the live ones. The same fill may come
twice (history and stream overlap, a leader that repeats itself); the desk keeps one.

- DaemonLeader: the leader's TCP control port, logged in as the viewer the leader made for
  you (`[serve.users.NAME]`, its token in your keyring). It subscribes to `fill` events first,
  then asks `fills since`, so nothing falls between the two. The wire is the daemon's own
  newline-delimited JSON (docs/daemon.md); a viewer can read, never trade.
- ExchangeLeader: an exchange account through a read-only API key (ccxt), its trades polled
  every `poll_s` seconds per symbol from a cursor that starts at the catch-up point.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.core.encoding import WireError, decode_dataclass, to_jsonable
from tui_trader.core.enums import Side
from tui_trader.core.errors import UserError
from tui_trader.core.fills import Fill
from tui_trader.venues.resilience import Backoff, stop_tasks

if TYPE_CHECKING:
    from tui_trader.config.copy import CopySettings
    from tui_trader.secrets.credentials import Credentials

log = logging.getLogger(__name__)

MAX_LINE = 16 * 1024 * 1024
REQUEST_TIMEOUT_S = 10.0
EQUITY_TTL_S = 10.0


@dataclass(frozen=True)
class LeaderFill:
    """One execution in the leader's account, as the follower sees it."""

    key: str  # unique for the leader: "<leader venue>:<fill id>"
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    ts: datetime
    fee: Decimal = Decimal(0)  # in the quote currency (0 when the leader paid it in a third one)

    @classmethod
    def of(cls, fill: Fill) -> LeaderFill:
        key = f"{fill.venue}:{fill.fill_id}"
        return cls(key, fill.symbol, fill.side, fill.quantity, fill.price, fill.ts, fill.quote_fee)


OnFill = Callable[[LeaderFill, bool], Awaitable[None]]  # (fill, from history)
Since = Callable[[], datetime]


class Leader:
    """The common loop: connect, catch up, follow; on any failure wait and do it again."""

    def __init__(self, name: str, cfg: CopySettings, credentials: Credentials | None) -> None:
        self.name = name
        self.cfg = cfg
        self.credentials = credentials
        self.state = "stopped"
        self.detail = ""
        self.connects = 0
        self.backoff = Backoff(0.5, 30.0)

    async def run(self, on_fill: OnFill, since: Since) -> None:
        while True:
            self.state, self.detail = "connecting", ""
            try:
                await self.follow(on_fill, since)
                self._lost("the leader closed the connection")
            except asyncio.CancelledError:
                self.state = "stopped"
                raise
            except (OSError, ConnectionError) as exc:
                self._lost(f"cannot reach the leader: {exc.strerror or exc}" if isinstance(exc, OSError) else str(exc))
            except UserError as exc:
                self._lost(str(exc))
            except Exception as exc:  # a bug in one leader must not take the desk down
                log.exception("copy %s: leader loop failed", self.name)
                self._lost(f"internal error: {type(exc).__name__}")
            finally:
                await self.close()
            await asyncio.sleep(self.backoff.next_delay())

    def _lost(self, why: str) -> None:
        self.state, self.detail = "disconnected", why
        log.warning("copy %s: %s", self.name, why)

    def connected(self, detail: str) -> None:
        self.state, self.detail = "connected", detail
        self.connects += 1
        self.backoff.reset()

    async def follow(self, on_fill: OnFill, since: Since) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        return None

    async def equity(self) -> float | None:
        """The leader's equity (scale_by = "equity"); None when it cannot be known."""
        return None


# -- another tui-trader daemon ----------------------------------------------------------------------


class LineClient:
    """The daemon's JSON-lines wire: requests by id, events into a queue."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._task = asyncio.create_task(self._read(), name="copy-leader-reader")
        self.closed: str | None = None

    async def request(self, cmd: str, **params: Any) -> Any:
        if self.closed is not None:
            raise UserError(self.closed)
        req_id = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = fut
        line = json.dumps({"id": req_id, "cmd": cmd, "params": to_jsonable(params)}, separators=(",", ":"))
        try:
            self.writer.write(line.encode() + b"\n")
            await self.writer.drain()
            answer = await asyncio.wait_for(fut, REQUEST_TIMEOUT_S)
        except TimeoutError:
            raise UserError(f"the leader did not answer {cmd!r} within {REQUEST_TIMEOUT_S:g} s") from None
        finally:
            self._pending.pop(req_id, None)
        if not answer.get("ok"):
            raise UserError(f"the leader refused {cmd!r}: {str(answer.get('error') or 'no reason given')[:200]}")
        return answer.get("result")

    async def _read(self) -> None:
        why = "the leader closed the connection"
        try:
            while True:
                line = await self.reader.readline()
                if not line:
                    break
                try:
                    msg = json.loads(line)
                except ValueError:
                    why = "the leader sent something that is not JSON"
                    break
                if not isinstance(msg, dict):
                    continue
                if "event" in msg:
                    self.events.put_nowait(msg)
                    continue
                fut = self._pending.get(msg.get("id"))  # type: ignore[arg-type]
                if fut is not None and not fut.done():
                    fut.set_result(msg)
                elif msg.get("id") is None and msg.get("ok") is False:
                    why = f"the leader hung up: {str(msg.get('error'))[:200]}"
        except (ConnectionError, OSError, ValueError) as exc:
            why = f"connection to the leader broke: {exc}"
        finally:
            self.closed = why
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(UserError(why))
            self.events.put_nowait(None)

    async def close(self) -> None:
        await stop_tasks(self._task)
        with contextlib.suppress(Exception):
            self.writer.close()


class DaemonLeader(Leader):
    def __init__(self, name: str, cfg: CopySettings, credentials: Credentials | None) -> None:
        super().__init__(name, cfg, credentials)
        self.client: LineClient | None = None
        self._equity: tuple[float, float] | None = None  # (loop time, equity)

    async def follow(self, on_fill: OnFill, since: Since) -> None:
        token = self.credentials.secret if self.credentials is not None else ""
        if not token:
            raise UserError(f"no login token for copy.{self.name}: run `tui-trader keys set copy.{self.name}`")
        reader, writer = await asyncio.open_connection(self.cfg.host, self.cfg.port, limit=MAX_LINE)
        self.client = client = LineClient(reader, writer)
        answer = await client.request("auth", user=self.cfg.user, token=token)
        role = ((answer or {}).get("identity") or {}).get("role")
        hello = await client.request("hello", client=f"copy:{self.name}")
        await client.request("subscribe", kinds=["fill"])  # first: nothing falls between it and the history
        start = since()
        history = await client.request("fills", since=to_jsonable(start), limit=10_000)
        where = f"{self.cfg.host}:{self.cfg.port}"
        self.connected(f"{where} as {self.cfg.user} ({role or '?'}), leader pid {hello.get('pid')}")
        for item in history or []:
            await on_fill(LeaderFill.of(_fill(item)), True)
        while True:
            msg = await client.events.get()
            if msg is None:
                return
            if msg.get("event") == "fill":
                data = msg.get("data") or {}
                await on_fill(LeaderFill.of(_fill(data.get("fill"))), False)

    async def equity(self) -> float | None:
        loop = asyncio.get_running_loop()
        if self._equity is not None and loop.time() - self._equity[0] < EQUITY_TTL_S:
            return self._equity[1]
        if self.client is None or self.client.closed is not None:
            return None
        status = await self.client.request("status")
        value = float(status.get("equity") or 0.0)
        self._equity = (loop.time(), value)
        return value

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None


def _fill(data: Any) -> Fill:
    try:
        return decode_dataclass(Fill, data)
    except (TypeError, ValueError, KeyError, WireError) as exc:
        raise UserError(f"the leader sent a fill this follower cannot read ({type(exc).__name__})") from None


# -- an exchange account through a read-only key ----------------------------------------------------


class ExchangeLeader(Leader):
    def __init__(self, name: str, cfg: CopySettings, credentials: Credentials | None, clock: Any) -> None:
        super().__init__(name, cfg, credentials)
        self.clock = clock
        self.account: Any = None
        self.cursor: dict[str, datetime] = {}

    async def follow(self, on_fill: OnFill, since: Since) -> None:
        from tui_trader.venues.ccxt.venue import CcxtVenue

        if self.credentials is None or not self.credentials.api_key:
            raise UserError(f"no API key for copy.{self.name}: run `tui-trader keys set copy.{self.name}` (read-only)")
        assert self.cfg.exchange is not None  # the settings require it for an exchange leader
        self.account = CcxtVenue(f"copy.{self.name}", self.cfg.exchange, self.clock, credentials=self.credentials)
        try:
            await self.account.open_account()
        except Exception as exc:
            raise UserError(f"the leader's exchange: {exc}") from None
        symbols = self.cfg.symbols or self.cfg.exchange.symbols
        if not symbols:
            raise UserError(f"copy.{self.name}: list the symbols to follow (symbols, or exchange.symbols)")
        start = since()
        self.cursor = {s: start for s in symbols}
        every = f"every {self.cfg.poll_s:g} s"
        self.connected(f"{self.cfg.exchange.exchange} account, polling {', '.join(symbols)} {every}")
        first = True
        while True:
            for symbol in symbols:
                try:
                    fills = await self.account.fetch_account_trades(symbol, self.cursor[symbol])
                except Exception as exc:
                    raise UserError(f"the leader's exchange: {exc}") from None
                for fill in fills:
                    await on_fill(LeaderFill.of(fill), first)
                if fills:  # venue times are not strictly increasing: keep a minute back (ids dedupe)
                    newest = max(f.ts for f in fills)
                    self.cursor[symbol] = max(self.cursor[symbol], newest - timedelta(minutes=1))
            first = False
            await asyncio.sleep(self.cfg.poll_s)

    async def close(self) -> None:
        if self.account is not None:
            with contextlib.suppress(Exception):
                await self.account.close()
            self.account = None


def make_leader(name: str, cfg: CopySettings, credentials: Credentials | None, clock: Any) -> Leader:
    if cfg.leader == "daemon":
        return DaemonLeader(name, cfg, credentials)
    if cfg.leader == "exchange":
        return ExchangeLeader(name, cfg, credentials, clock)
    raise UserError(f"copy.{name}: unknown leader kind {cfg.leader!r}")
