"""The Schwab streamer socket: level-one quotes and account activity, each watched.

schwab-py logs in (the socket address and ids come from GET /userPreference), subscribes and
decodes; we drive it and own the reconnects. One socket carries everything, so:

- the socket itself is alive while anything arrives; Schwab sends a heartbeat `notify`
  every few seconds, so nothing at all for `heartbeat_grace_s` is a dead socket: reconnect;
- each symbol's quotes are a steady stream during the regular session (`quote:SYM`);
- account activity (`account`) may be quiet for hours; it is silent when news it owes has
  not come within `stall_after_s`: an order Schwab acknowledged over REST, a cancel, an
  order REST shows changed (`venues.streams`). A silent account stream reconnects the socket.

An account-activity message is a doorbell: whatever its message type, we read the order it
names (its `SchwabOrderID`) over REST, or every working order when it names none, and report
what changed (`history._apply`). A login the streamer denies (code 3: the token expired)
refreshes the token and logs in again. Each reconnect ends with the engine's reconcile, which
brings back fills made while the socket was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.enums import Side
from tui_trader.core.events import BookEvent, TickerEvent, TradeEvent
from tui_trader.core.market import OrderBook, Ticker, TradePrint
from tui_trader.venues.base import Emit, VenueError
from tui_trader.venues.idmap import OrderIdMap
from tui_trader.venues.resilience import ConnectionMonitor, in_background, watchdog_pause
from tui_trader.venues.schwab.hours import MarketHours
from tui_trader.venues.schwab.imports import quiet_authlib
from tui_trader.venues.streams import PrivateProbe, StreamBoard

quiet_authlib()  # before schwab-py (and authlib) are imported below

log = logging.getLogger(__name__)

PRIVATE = "account"
QUOTE_FIELDS = ["BID_PRICE", "ASK_PRICE", "LAST_PRICE", "BID_SIZE", "ASK_SIZE", "LAST_SIZE",
                "QUOTE_TIME_MILLIS", "TRADE_TIME_MILLIS"]  # fmt: skip


def quote_fields() -> list[Any]:
    """The level-one fields we ask for, as schwab-py's enum (it sends their numbers)."""
    from schwab.streaming import StreamClient

    return [StreamClient.LevelOneEquityFields[name] for name in ["SYMBOL", *QUOTE_FIELDS]]


ORDER_ID_KEYS = ("SchwabOrderID", "schwabOrderID", "OrderID", "orderId")


def order_ids_in(data: Any) -> set[str]:
    """The order ids an account-activity payload names, wherever they sit in it."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ORDER_ID_KEYS and isinstance(value, str | int) and str(value).isdigit():
                found.add(str(value))
            else:
                found |= order_ids_in(value)
    elif isinstance(data, list):
        for item in data:
            found |= order_ids_in(item)
    return found


class SchwabStreams(PrivateProbe):
    """Mixed into SchwabVenue, whose client, monitor and REST helpers it uses."""

    name: str
    settings: VenueSettings
    clock: Clock
    monitor: ConnectionMonitor
    streams: StreamBoard
    hours: MarketHours
    ids: OrderIdMap
    rest_timeout_s: float
    heartbeat_grace_s: float
    counters: dict[str, int]
    _client: Any
    _emit: Emit
    _tasks: dict[str, asyncio.Task[None]]
    _closing: bool
    _symbols: list[str]
    _quotes: dict[str, dict[str, Any]]
    _working: dict[str, Decimal]
    _stream_ready: asyncio.Event
    _auth_failed: str

    if TYPE_CHECKING:  # provided by SchwabVenue and SchwabHistory

        async def _refresh_token(self, stale_access: str) -> None: ...

        def _access(self) -> str: ...

        async def _order_json(self, vid: str) -> dict[str, Any] | None: ...

        def _apply(self, o: dict[str, Any]) -> None: ...

    # -- the socket -------------------------------------------------------------------------------

    def _start_stream(self, resumed: bool = False) -> None:
        """The streamer's loop; `resumed`: after the venue was down (its first login is then a
        reconnect the engine reconciles)."""
        self.streams.add(PRIVATE, private=True)
        self._stream: Any = None
        self._heard = time.monotonic()
        self._pending: set[str] = set()
        self._pending_all = False
        self._wake = asyncio.Event()
        self._tasks["stream"] = asyncio.create_task(self._drive(first=not resumed), name=f"{self.name}-stream")
        self._tasks["refresher"] = asyncio.create_task(self._refresher(), name=f"{self.name}-refresher")

    def _make_stream(self) -> Any:
        from schwab.streaming import StreamClient

        venue = self

        class Watched(StreamClient):
            async def _receive(self) -> Any:  # every frame, heartbeats included, proves the socket
                msg = await super()._receive()
                venue._heard = time.monotonic()
                return msg

        stream = Watched(self._client, enforce_enums=False)
        stream.add_account_activity_handler(self._on_activity)
        stream.add_level_one_equity_handler(self._on_quotes)
        return stream

    async def _close_socket(self) -> None:
        stream = getattr(self, "_stream", None)
        socket = getattr(stream, "_socket", None)
        if socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket.close(), 2.0)

    async def _drive(self, first: bool = True) -> None:
        from schwab.streaming import UnexpectedResponseCode

        while not self._closing:
            used = self._access()
            try:
                self._stream = stream = self._make_stream()
                args = {"open_timeout": self.rest_timeout_s, "close_timeout": 1, "ping_interval": None}
                await asyncio.wait_for(stream.login(args), self.rest_timeout_s)
                await asyncio.wait_for(stream.account_activity_sub(), self.rest_timeout_s)
                if self._symbols:
                    await asyncio.wait_for(
                        stream.level_one_equity_subs(self._symbols, fields=quote_fields()), self.rest_timeout_s
                    )
                self._heard = time.monotonic()
                # Schwab answered the LOGIN and each SUBS with code 0 (schwab-py raises otherwise)
                self.streams.subscribed(PRIVATE, "login and subscription acknowledged; nothing to say since")
                self.streams.resubscribed(f"quote:{s}" for s in self._symbols)
                self._stream_ready.set()
                if not first:
                    self._reconnected()
                first = False
                while True:
                    await stream.handle_message()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._closing:
                    return
                await self._close_socket()
                self._stream_ready.clear()
                denied = isinstance(exc, UnexpectedResponseCode) and _code(exc) == 3  # LOGIN_DENIED
                if denied or _http_status(exc) == 401:  # the token expired before its time
                    try:
                        await self._refresh_token(used)
                    except VenueError as auth_exc:
                        self.streams.stopped(PRIVATE, "login expired")
                        log.error("%s", auth_exc)
                        return
                why = f"stream: {type(exc).__name__} {str(exc)[:120]}"
                first = False
                await self._down(why)

    async def _down(self, why: str) -> None:
        """The socket failed: everything on it is down until the next login."""
        await asyncio.sleep(self._mark_down(why))

    def _mark_down(self, why: str, *, now: bool = False) -> float:
        """Everything on the socket down until the next login, a reconnect begun; how long to
        wait before it (`now`: none, the trader asked for it)."""
        self.counters["reconnects"] += 1
        self.streams.dropped([PRIVATE, *(f"quote:{s}" for s in self._symbols)], "streamer socket lost; reconnecting")
        self._working.clear()  # the reconcile after the reconnect settles them; the probe relearns
        self._relearn = True
        log.info("%s: reconnecting (%s)", self.name, why)
        return self.monitor.reconnecting(why, now=now)

    def _reconnected(self) -> None:
        self.monitor.connected()  # attempt > 0: the engine reconciles (fills in the gap)

    async def _subscribe_quotes(self, symbols: list[str]) -> None:
        stream = getattr(self, "_stream", None)
        if symbols and stream is not None and self._stream_ready.is_set():
            try:
                await asyncio.wait_for(stream.level_one_equity_add(symbols, fields=quote_fields()), self.rest_timeout_s)
            except Exception as exc:  # the socket is failing: the reconnect subscribes all
                log.info("%s: quote subscribe failed: %s", self.name, exc)

    # -- the watchdog -----------------------------------------------------------------------------

    async def _watchdog(self) -> None:
        period = max(0.05, min(1.0, self.monitor.stall_after_s / 4))
        while not self._closing:
            await watchdog_pause(period)
            if not self._stream_ready.is_set():
                continue
            why = ""
            silent = self.streams.silent()
            if PRIVATE in silent:
                why = self.streams.summary()
            elif time.monotonic() - self._heard > self.heartbeat_grace_s:
                why = f"no message or heartbeat for {time.monotonic() - self._heard:.1f}s"
            elif silent and self.hours.open_at(self.clock.now()):
                why = self.streams.summary()
            if why:
                self.monitor.degraded(why)
                log.warning("%s: %s; reconnecting", self.name, why)
                await self._close_socket()  # the drive loop notices and reconnects
                continue
            if self._probe_due():
                self._probing = True
                in_background(self._probe_private(PRIVATE), f"{self.name}-probe")

    # -- messages -------------------------------------------------------------------------------

    def _on_activity(self, msg: dict[str, Any]) -> None:
        self.streams.message(PRIVATE)
        for item in msg.get("content") or []:
            kind = str(item.get("MESSAGE_TYPE", ""))
            if kind == "SUBSCRIBED":
                continue
            raw = item.get("MESSAGE_DATA")
            try:
                data = json.loads(raw) if isinstance(raw, str) and raw.strip() else raw
            except ValueError:
                data = None
                self.counters["malformed"] += 1
            ids = order_ids_in(data)
            for vid in ids:
                self.streams.arrived(PRIVATE, self.ids.cid_for(vid, self.name))
            if ids:
                self._pending |= ids
            else:
                self._pending_all = True
        self._wake.set()

    async def _refresher(self) -> None:
        """Read the orders account activity named (or every working one) and report changes."""
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            vids, every = set(self._pending), self._pending_all
            self._pending.clear()
            self._pending_all = False
            if every:
                vids |= {v for c in self._working if (v := self.ids.vid_for(c))}
            for vid in sorted(vids):
                try:
                    o = await self._order_json(vid)
                except Exception as exc:  # the probe and the next reconcile will ask again
                    log.info("%s: reading order %s failed: %s", self.name, vid, exc)
                    continue
                if o is not None:
                    self._apply(o)

    def _on_quotes(self, msg: dict[str, Any]) -> None:
        stamp = msg.get("timestamp")
        default_ts = datetime.fromtimestamp(int(stamp) / 1000, UTC) if stamp else self.clock.now()
        for item in msg.get("content") or []:
            symbol = str(item.get("key", ""))
            if symbol not in self._symbols:
                continue
            self.streams.message(f"quote:{symbol}")
            self.monitor.last_message = time.monotonic()
            q = self._quotes.setdefault(symbol, {})
            traded = "LAST_PRICE" in item or "TRADE_TIME_MILLIS" in item
            q.update({k: v for k, v in item.items() if k in QUOTE_FIELDS})  # "Change" delivery: merge
            bid, ask = float(q.get("BID_PRICE") or 0), float(q.get("ASK_PRICE") or 0)
            last = float(q.get("LAST_PRICE") or 0)
            if not (bid or ask or last):
                continue
            ts = _ms(q.get("QUOTE_TIME_MILLIS")) or default_ts
            last = last or (bid + ask) / 2
            self._emit(TickerEvent(Ticker(self.name, symbol, ts, bid or last, ask or last, last,
                                          float(q.get("BID_SIZE") or 0), float(q.get("ASK_SIZE") or 0))))  # fmt: skip
            bids = ((bid, float(q.get("BID_SIZE") or 0)),) if bid else ()
            asks = ((ask, float(q.get("ASK_SIZE") or 0)),) if ask else ()
            self._emit(BookEvent(OrderBook(self.name, symbol, ts, bids, asks)))
            if traded and q.get("LAST_PRICE"):
                mid = (bid + ask) / 2 if bid and ask else 0.0
                side = Side.BUY if not mid or last >= mid else Side.SELL  # the tick rule: prints carry no side
                self._emit(TradeEvent(TradePrint(self.name, symbol, _ms(q.get("TRADE_TIME_MILLIS")) or ts, last,
                                                 float(q.get("LAST_SIZE") or 0), side)))  # fmt: skip


def _ms(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC) if value else None
    except (TypeError, ValueError):
        return None


def _http_status(exc: BaseException) -> int | None:
    """schwab-py's login reads the user preferences itself and raises on a refusal."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _code(exc: Any) -> int | None:
    try:
        return int(exc.response["response"][0]["content"]["code"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
