"""OandaVenue: forex and metals at OANDA through its v20 REST API and its two streams (prices,
transactions), over aiohttp.

- The API token lives in the keyring (`tui-trader keys set NAME`: the token as the key); it is
  sent as a bearer header only and scrubbed from every message. The account is
  `options.account_id`, or the token's first account.
- `paper = true` (the default) is a practice account (api-fxpractice / stream-fxpractice), false
  the live one; `url_override` / `data_url_override` point both at another host (tests).
- An order is sent once, its client order id in `clientExtensions.id`. OANDA's answer decides:
  201 (created; its fill or cancel transactions are booked at once), 400 / 404 (refused with
  OANDA's reject reason), 429 (nothing made: sent again after the gate's wait), 401
  (authentication), 5xx or no answer (the order may exist: looked up by `@clientID` once, else
  `OutcomeUnknown`; never sent a second time).
- Transactions (fills, cancels, daily financing) come on the transactions stream and are
  deduplicated by transaction id. Each stream is watched on its own (OANDA heartbeats both every
  5 s): one silent for `stall_after_s` is reopened, even while the other flows (a hung
  transactions stream behind flowing prices went unnoticed). Each time the transactions stream
  speaks first after opening, and when its heartbeat names a transaction not seen, everything
  after the last transaction seen without a gap is read over REST (`transactions/sinceid`): an
  order's answer carrying newer ids does not move that mark past what the stream missed. The
  venue is back (`connected`, a reconnect when the transactions stream was renewed: the engine
  reconciles) only once every reopened stream has spoken.
- Candles: OANDA streams none. The `candles` timeframes (up to 1h) are read from
  `/v3/instruments/{name}/candles` at each bar's close, and after an outage from the last bar
  given, page after page, before the series goes on (`venues.candle_poll`); what cannot be
  read back is a hole, said. A period without prices has no candle at OANDA: no hole.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import aiohttp

from tui_trader.config.venues import VenueSettings
from tui_trader.core.cashflows import CashFlow
from tui_trader.core.clock import Clock
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, TimeInForce
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import CashFlowEvent, ExecutionReport, NoticeEvent, TickerEvent
from tui_trader.core.fills import Fill
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Candle
from tui_trader.core.orders import Order
from tui_trader.core.positions import Balance
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.backfill import Hole
from tui_trader.venues.base import Emit, OutcomeUnknown, VenueCapabilities, VenueError, VenueOrder
from tui_trader.venues.candle_poll import PolledCandles, polled_timeframes
from tui_trader.venues.oanda import convert
from tui_trader.venues.ratelimit import RateGate
from tui_trader.venues.resilience import Backoff, ConnectionMonitor, cancel_tasks, in_background, watchdog_pause

log = logging.getLogger(__name__)

HOSTS = {  # practice, live
    True: ("https://api-fxpractice.oanda.com", "https://stream-fxpractice.oanda.com"),
    False: ("https://api-fxtrade.oanda.com", "https://stream-fxtrade.oanda.com"),
}
_GRANULARITY = {"1m": "M1", "5m": "M5", "15m": "M15", "30m": "M30", "1h": "H1", "4h": "H4", "1d": "D"}
STREAMS = ("transactions", "pricing")
CANDLES_PAGE = 5000  # the most candles one request answers (OANDA's `count`: 500 by default, at most 5000)
_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.DAY: "GFD"}


class OandaVenue:
    kind = "oanda"
    takes_keys = True  # `venue reconnect` reads the token again (`reconnect_with`)
    # OANDA answers an order within its request; one it does not know a minute later never came.
    not_found_final_after_s = 60.0

    def __init__(
        self,
        name: str,
        settings: VenueSettings,
        clock: Clock,
        *,
        credentials: Credentials | None = None,
        rest_timeout_s: float = 10.0,
        stall_after_s: float | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.clock = clock
        self.is_live = not settings.paper
        self._credentials = credentials or Credentials()
        rest, stream = HOSTS[settings.paper]
        self.rest_url = (settings.url_override or rest).rstrip("/")
        self.stream_url = (settings.data_url_override or settings.url_override or stream).rstrip("/")
        self.account_id = str(settings.options.get("account_id") or "")
        self.rest_timeout_s = rest_timeout_s
        self.capabilities = VenueCapabilities(
            stop=True, stop_limit=False, trailing_stop=False, post_only=False, ioc_fok=True, shorting=True
        )
        self.monitor = ConnectionMonitor(
            name, clock, stall_after_s=stall_after_s or settings.stall_after_s,
            backoff=backoff or Backoff(settings.backoff_base_s, settings.backoff_cap_s),
        )
        self.rate_gate = RateGate(name, base_s=settings.backoff_base_s, cap_s=max(60.0, settings.backoff_cap_s))
        self.instruments: dict[str, Instrument] = {}
        self.currency = "USD"
        self.counters = {"reconnects": 0, "rate_limited": 0, "found_by_client_id": 0, "duplicates": 0}
        self._emit: Emit = lambda event: None
        self._session: aiohttp.ClientSession | None = None
        self._subscribed: list[str] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._seen: set[str] = set()  # transaction ids booked
        self._last_tx = "0"  # every transaction up to this id seen (read back from here)
        self._backfilling = asyncio.Lock()
        self._heard: dict[str, float] = {}  # stream -> when it last spoke (or was opened), monotonic
        self._down: set[str] = set()  # streams reopened that have not spoken yet
        self._cid_by_vid: dict[str, str] = {}
        self._flows: list[CashFlow] = []
        self._closing = False
        # bars read from OANDA's history: at each close, and from where they stopped after an outage
        self.candles = PolledCandles(
            name, clock, self.fetch_candles, lambda event: self._emit(event), self._candles_up,
            limit=lambda timeframe: CANDLES_PAGE, sparse=True,
        )  # fmt: skip
        self.monitor.on_recovered(self.candles.read)

    @property
    def holes(self) -> Sequence[Hole]:
        """The spans of candles an outage left that OANDA's history could not give back."""
        return self.candles.holes

    def _candles_up(self) -> bool:
        return self.monitor.state in (ConnectionState.CONNECTED, ConnectionState.DEGRADED)

    # -- REST ----------------------------------------------------------------------------------

    def _headers(self, credentials: Credentials | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {(credentials or self._credentials).api_key}",
            "Content-Type": "application/json",
            "Accept-Datetime-Format": "RFC3339",
        }

    def _safe(self, text: str) -> str:
        return self._credentials.redact(text.replace("\n", " "))[:300]

    async def _request(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, what: str, order: bool = False,
        attempts: int = 4, ok_404: bool = False, credentials: Credentials | None = None,
    ) -> dict[str, Any]:
        """One REST call (with the venue's token, or `credentials`'). A 429 waits on the rate
        gate and tries again (nothing was made); a 5xx or a lost answer is tried again unless
        `order` (then OutcomeUnknown: it may exist)."""
        assert self._session is not None, "connect first"
        backoff = Backoff(self.monitor.backoff.base_s, self.monitor.backoff.cap_s)
        for attempt in range(attempts):
            await self.rate_gate.wait()
            try:
                async with self._session.request(
                    method, self.rest_url + path, json=body, headers=self._headers(credentials),
                    timeout=aiohttp.ClientTimeout(total=self.rest_timeout_s),
                ) as resp:
                    text = await resp.text()
                    status = resp.status
                    headers = dict(resp.headers)
            except (TimeoutError, aiohttp.ClientError) as exc:
                if order:
                    raise OutcomeUnknown(f"{self.name}: {what}: no answer ({type(exc).__name__})") from None
                if attempt == attempts - 1:
                    raise VenueError(f"{self.name}: {what}: {self._safe(str(exc) or type(exc).__name__)}") from None
                await asyncio.sleep(backoff.next_delay())
                continue
            data = _json(text)
            if status == 429:
                self.counters["rate_limited"] += 1
                was_closed = self.rate_gate.closed
                self.rate_gate.hit(429, headers)
                if not was_closed:
                    self._emit(NoticeEvent(self.clock.now(), "warning", self.rate_gate.describe(), self.name))
                if attempt < attempts - 1:
                    continue
                raise VenueError(f"{self.name}: {what}: HTTP 429 {self.rate_gate.describe()}")
            self.rate_gate.ok()
            if status == 401:
                raise VenueError(f"{self.name}: {what}: authentication failed; run `tui-trader keys set {self.name}`")
            if status >= 500:
                if order:
                    raise OutcomeUnknown(f"{self.name}: {what}: HTTP {status}")
                if attempt < attempts - 1:
                    await asyncio.sleep(backoff.next_delay())
                    continue
            if status == 404 and ok_404:
                return {"_status": 404, **data}
            if status >= 400:
                reason = _reject_reason(data) or f"HTTP {status}"
                raise VenueError(f"{self.name}: {what}: {self._safe(reason)}")
            return data
        raise VenueError(f"{self.name}: {what} failed")  # pragma: no cover

    def _account(self, tail: str = "") -> str:
        return f"/v3/accounts/{self.account_id}{tail}"

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self.monitor.state

    async def connect(self, emit: Emit) -> None:
        self._emit = emit
        self.monitor.emit = emit
        if not self._credentials.api_key:
            raise ConfigError(
                f"venues.{self.name}: OANDA needs an API token; run `tui-trader keys set {self.name}` "
                f"({'practice' if self.settings.paper else 'live'} account token as the key)"
            )
        self.monitor.connecting()
        self._session = aiohttp.ClientSession()
        if not self.account_id:
            accounts = (await self._request("GET", "/v3/accounts", what="accounts")).get("accounts") or []
            if not accounts:
                raise VenueError(f"{self.name}: the token has no accounts")
            self.account_id = str(accounts[0]["id"])
        summary = (await self._request("GET", self._account("/summary"), what="account"))["account"]
        self.currency = summary.get("currency", "USD")
        self._last_tx = str(summary.get("lastTransactionID", "0"))
        await self._load_instruments()
        timeframes = polled_timeframes(self.name, self.settings.candles, _GRANULARITY)
        self.monitor.connected(f"oanda {'practice' if self.settings.paper else 'LIVE'}")
        self._start("transactions")
        self._tasks["watchdog"] = asyncio.create_task(self._watchdog(), name=f"{self.name}-watchdog")
        if timeframes:
            self.candles.want(self.settings.symbols, timeframes)
            self._tasks["candles"] = asyncio.create_task(self.candles.run(), name=f"{self.name}-candles")

    async def _load_instruments(self) -> None:
        names = ",".join(convert.instrument_name(s) for s in self.settings.symbols)
        path = self._account("/instruments") + (f"?instruments={names}" if names else "")
        rows = (await self._request("GET", path, what="instruments")).get("instruments") or []
        for row in rows:
            inst = convert.instrument(self.name, row)
            self.instruments[inst.symbol] = inst
        missing = [s for s in self.settings.symbols if s not in self.instruments]
        if missing:
            raise ConfigError(f"venues.{self.name}.symbols: {', '.join(missing)} not listed by OANDA")

    async def close(self) -> None:
        self._closing = True
        tasks = await cancel_tasks(self._tasks)  # at most 2 s: a stuck stream cannot hold a stop
        if self._session is not None:
            await self._session.close()  # a closed session ends any loop that kept running
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        self._tasks.clear()
        self.monitor.closed()

    async def reconnect_with(self, credentials: Credentials | None) -> None:
        """`tui-trader venue reconnect NAME`: the token read again from the keyring (a new one
        made at OANDA, the old one revoked). The account is read with it first: refused, or
        OANDA unreachable, this raises and nothing changed. Then both streams are opened again
        with it; once both have spoken the venue is back (a reconnect: the engine reconciles)
        and the transactions stream reads back what it missed (`_backfill`)."""
        credentials = credentials or Credentials()
        await self._request("GET", self._account("/summary"), what="account", credentials=credentials)
        self._credentials = credentials
        self.counters["reconnects"] += 1
        self.monitor.reconnecting("reconnecting with the token read again", now=True)
        for stream in STREAMS:
            if stream in self._tasks:
                self._down.add(stream)
                self._heard.pop(stream, None)
                self._restart(stream)

    async def load_markets(self) -> dict[str, Instrument]:
        return dict(self.instruments)

    async def subscribe(self, symbols: Sequence[str]) -> None:
        wanted = sorted({*self._subscribed, *(s for s in symbols if s in self.instruments)})
        if self._tasks.get("candles") is not None:
            self.candles.want(wanted, self.settings.candles)
        if wanted != self._subscribed:
            self._subscribed = wanted
            self._restart("pricing")

    def market_open(self, symbol: str, now: datetime) -> bool:
        return True  # OANDA refuses an order when the market is halted, with its reason

    # -- streams -------------------------------------------------------------------------------

    def _start(self, stream: str) -> None:
        self._tasks[stream] = asyncio.create_task(self._run_stream(stream), name=f"{self.name}-{stream}")

    def _restart(self, stream: str) -> None:
        task = self._tasks.pop(stream, None)
        if task is not None:
            task.cancel()
        if not self._closing:
            self._start(stream)

    async def _run_stream(self, stream: str) -> None:
        """Read one stream, reopening it after a drop. The transactions stream's first message
        on each connection reads back what it missed (`_backfill`, asked once the stream is
        OANDA's: nothing falls between the two)."""
        while not self._closing:
            try:
                first = True
                async for message in self._lines(stream):
                    self._heard[stream] = time.monotonic()
                    if first:
                        first = False
                        self._down.discard(stream)
                        if stream == "transactions":
                            in_background(self._backfill(), f"{self.name}-backfill")
                    self._alive()
                    self._on_message(stream, message)
                raise ConnectionError("stream closed by the server")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._closing:
                    return
                self._down.add(stream)
                self._heard.pop(stream, None)
                self.counters["reconnects"] += 1
                delay = self.monitor.reconnecting(f"{stream} stream: {self._safe(str(exc) or type(exc).__name__)}")
                await asyncio.sleep(delay)

    def _alive(self) -> None:
        """A message: the venue is back only when no reopened stream is still to speak (prices
        flowing do not make a hung transactions stream `connected`)."""
        if self._down:
            self.monitor.last_message = time.monotonic()
        else:
            self.monitor.message()

    async def _lines(self, stream: str) -> AsyncIterator[dict[str, Any]]:
        assert self._session is not None
        if stream == "pricing":
            if not self._subscribed:
                await asyncio.Event().wait()  # nothing to price yet: wait to be restarted
            names = ",".join(convert.instrument_name(s) for s in self._subscribed)
            url = f"{self.stream_url}{self._account('/pricing/stream')}?instruments={names}"
        else:
            url = f"{self.stream_url}{self._account('/transactions/stream')}"
        self._heard[stream] = time.monotonic()  # watched from its opening: one that never speaks is silent
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.rest_timeout_s)
        async with self._session.get(url, headers=self._headers(), timeout=timeout) as resp:
            if resp.status == 401:  # a revoked token: tried again with backoff, and said what fixes it
                raise VenueError(
                    f"authentication failed: the token was refused; run `tui-trader keys set {self.name}`, "
                    f"then `tui-trader venue reconnect {self.name}`"
                )
            if resp.status != 200:
                raise ConnectionError(f"HTTP {resp.status}")
            async for raw in resp.content:
                line = raw.strip()
                if line:
                    yield _json(line.decode())

    async def _watchdog(self) -> None:
        """A stream that sends nothing (not even its heartbeat) for `stall_after_s` is reopened,
        whatever the other one does."""
        while not self._closing:
            await watchdog_pause(min(1.0, self.monitor.stall_after_s / 4))
            now = time.monotonic()
            for stream in STREAMS:
                heard = self._heard.get(stream)
                if stream in self._tasks and heard is not None and now - heard > self.monitor.stall_after_s:
                    self._renew(stream, now - heard)

    def _renew(self, stream: str, silent_s: float) -> None:
        """Reopen a silent stream. The transactions stream is a renewal (`degraded`, an attempt):
        back, it is a reconnect the engine reconciles; its missed transactions are read back."""
        self._down.add(stream)
        self._heard.pop(stream, None)
        self.counters["reconnects"] += 1
        why = f"{stream} stream silent for {silent_s:.0f}s (no heartbeat); reopening it"
        if self.monitor.state in (ConnectionState.CONNECTED, ConnectionState.DEGRADED):
            (self.monitor.renewing if stream == "transactions" else self.monitor.degraded)(why)
        self._restart(stream)

    def _on_message(self, stream: str, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "PRICE":
            ticker = convert.ticker(self.name, msg)
            if ticker is not None:
                self._emit(TickerEvent(ticker))
        elif kind == "HEARTBEAT":
            last = str(msg.get("lastTransactionID") or "0")
            if stream == "transactions" and last.isdigit() and int(last) > int(self._last_tx):
                in_background(self._backfill(), f"{self.name}-backfill")  # named one we have not seen
        elif kind and "id" in msg:
            self._on_transaction(msg)

    async def _backfill(self) -> None:
        """Everything after the last transaction seen without a gap (fills never lost), one read
        at a time; what it returns is seen up to its newest id."""
        async with self._backfilling:
            since = self._last_tx
            path = self._account(f"/transactions/sinceid?id={since}")
            txs = (await self._request("GET", path, what="backfill")).get("transactions") or []
            for tx in txs:
                self._on_transaction(tx)
            newest = max((int(tx["id"]) for tx in txs), default=0)
            if newest > int(self._last_tx):
                self._last_tx = str(newest)

    # -- transactions --------------------------------------------------------------------------

    def _on_transaction(self, tx: dict[str, Any]) -> None:
        tid = str(tx["id"])
        if tid in self._seen:
            self.counters["duplicates"] += 1
            return
        self._seen.add(tid)
        while str(int(self._last_tx) + 1) in self._seen:  # OANDA numbers an account's transactions 1, 2, ...
            self._last_tx = str(int(self._last_tx) + 1)
        kind = tx.get("type")
        now = convert.ts(tx.get("time"))
        cid = str((tx.get("clientExtensions") or {}).get("id") or tx.get("clientOrderID") or "")
        vid = str(tx.get("orderID") or tx.get("id"))
        if kind in ("MARKET_ORDER", "LIMIT_ORDER", "STOP_ORDER") and cid:
            self._cid_by_vid[tid] = cid
            self._emit(ExecutionReport(self.name, cid, OrderStatus.ACCEPTED, now, tid))
        elif kind == "ORDER_FILL":
            cid = cid or self._cid_by_vid.get(vid, "")
            if cid:
                fill = convert.fill(self.name, {**tx, "accountCurrency": self.currency}, cid)
                self._emit(ExecutionReport(self.name, cid, OrderStatus.FILLED, now, vid, fill=fill))
        elif kind == "ORDER_CANCEL":
            cid = cid or self._cid_by_vid.get(vid, "")
            if cid:
                self._emit(ExecutionReport(self.name, cid, OrderStatus.CANCELLED, now, vid, str(tx.get("reason", ""))))
        elif kind in ("MARKET_ORDER_REJECT", "LIMIT_ORDER_REJECT", "STOP_ORDER_REJECT") and cid:
            self._emit(ExecutionReport(self.name, cid, OrderStatus.REJECTED, now, None, str(tx.get("rejectReason"))))
        elif kind == "DAILY_FINANCING":
            for flow in convert.financing(self.name, tx, self.currency):
                self._flows.append(flow)
                self._emit(CashFlowEvent(flow))

    # -- orders --------------------------------------------------------------------------------

    def _order_body(self, order: Order) -> dict[str, Any]:
        kind = convert.ORDER_TYPES.get(order.type)
        if kind is None:
            raise VenueError(f"{self.name}: OANDA takes market, limit and stop orders, not {order.type.value}")
        units = order.quantity * order.side.sign
        body: dict[str, Any] = {
            "type": kind,
            "instrument": convert.instrument_name(order.symbol),
            "units": str(units),
            "positionFill": "REDUCE_ONLY" if order.reduce_only else "DEFAULT",
            "clientExtensions": {"id": order.client_order_id, "tag": "tui-trader"},
        }
        if order.type is OrderType.MARKET:
            body["timeInForce"] = "IOC" if order.time_in_force is TimeInForce.IOC else "FOK"
        else:
            body["timeInForce"] = _TIF.get(order.time_in_force, "GTC")
            price = order.price if order.type is OrderType.LIMIT else order.stop_price
            body["price"] = str(price)
        return body

    async def create_order(self, order: Order) -> None:
        try:
            data = await self._request(
                "POST", self._account("/orders"), body={"order": self._order_body(order)}, what="create order",
                order=True,
            )
        except OutcomeUnknown:
            found = await self._lookup(order.client_order_id)
            if found is None:
                raise
            self.counters["found_by_client_id"] += 1
            return
        for key in ("orderCreateTransaction", "orderFillTransaction", "orderCancelTransaction"):
            tx = data.get(key)
            if tx:
                if key != "orderCreateTransaction" and not tx.get("clientOrderID"):
                    tx = {**tx, "clientOrderID": order.client_order_id}
                self._on_transaction(tx)

    async def _lookup(self, client_order_id: str) -> VenueOrder | None:
        with contextlib.suppress(VenueError):
            return await self.fetch_order(client_order_id, "")
        return None

    async def cancel_order(self, order: Order) -> None:
        data = await self._request(
            "PUT", self._account(f"/orders/@{order.client_order_id}/cancel"), what="cancel", ok_404=True
        )
        if data.get("_status") == 404:
            self._emit(ExecutionReport(self.name, order.client_order_id, None, self.clock.now(), order.venue_order_id,
                                       "cancel refused: unknown order"))
            return
        tx = data.get("orderCancelTransaction")
        if tx:
            self._on_transaction({**tx, "clientOrderID": order.client_order_id})

    async def amend_order(self, order: Order, quantity: Decimal | None = None, price: Decimal | None = None) -> None:
        raise VenueError("OANDA replaces an order under a new id: the engine cancels and replaces")

    async def fetch_open_orders(self) -> list[VenueOrder]:
        rows = (await self._request("GET", self._account("/pendingOrders"), what="open orders")).get("orders") or []
        return [convert.venue_order(r) for r in rows if (r.get("clientExtensions") or {}).get("id")]

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrder | None:
        data = await self._request("GET", self._account(f"/orders/@{client_order_id}"), what="order", ok_404=True)
        if data.get("_status") == 404 or "order" not in data:
            return None
        return convert.venue_order(data["order"])

    async def _transactions_since(self, since: datetime | None, kind: str) -> list[dict[str, Any]]:
        """Transactions of one type from `since` (OANDA pages them by id range)."""
        start = (since or datetime(2000, 1, 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        pages = (await self._request(
            "GET", self._account(f"/transactions?from={start}&type={kind}"), what="transactions"
        )).get("pages") or []
        out: list[dict[str, Any]] = []
        for page in pages:
            path = page.replace(self.rest_url, "") if page.startswith("http") else page
            out += (await self._request("GET", path, what="transactions")).get("transactions") or []
        return [t for t in out if t.get("type") == kind]

    async def fetch_fills(self, since: datetime | None = None) -> list[Fill]:
        fills = []
        for tx in await self._transactions_since(since, "ORDER_FILL"):
            cid = str(tx.get("clientOrderID") or self._cid_by_vid.get(str(tx.get("orderID")), ""))
            if cid:
                fills.append(convert.fill(self.name, {**tx, "accountCurrency": self.currency}, cid))
        return fills

    async def fetch_cash_flows(self, since: datetime | None = None) -> list[CashFlow]:
        """Daily financing (swap) booked by OANDA since `since`."""
        out: list[CashFlow] = []
        for tx in await self._transactions_since(since, "DAILY_FINANCING"):
            out += convert.financing(self.name, tx, self.currency)
        return out

    async def fetch_balances(self) -> dict[str, Balance]:
        acct = (await self._request("GET", self._account("/summary"), what="balances"))["account"]
        return {self.currency: Balance(self.currency, convert.dec(acct.get("balance")),
                                       convert.dec(acct.get("marginAvailable", acct.get("balance"))))}

    async def fetch_candles(
        self, symbol: str, timeframe: str, since: datetime | None = None, limit: int = 500
    ) -> list[Candle]:
        gran = _GRANULARITY.get(timeframe)
        if gran is None:
            raise VenueError(f"OANDA has no {timeframe} candles; use one of {', '.join(_GRANULARITY)}")
        query = f"granularity={gran}&price=M&count={min(limit, 5000)}"
        if since is not None:
            query = f"granularity={gran}&price=M&from={since.strftime('%Y-%m-%dT%H:%M:%SZ')}&count={min(limit, 5000)}"
        path = f"/v3/instruments/{convert.instrument_name(symbol)}/candles?{query}"
        rows = (await self._request("GET", path, what="candles")).get("candles") or []
        return [
            Candle(
                symbol, timeframe, convert.ts(r["time"]), float(r["mid"]["o"]), float(r["mid"]["h"]),
                float(r["mid"]["l"]), float(r["mid"]["c"]), float(r.get("volume", 0)), closed=bool(r.get("complete")),
            )
            for r in rows
        ]


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {"errorMessage": text[:200]}
    return data if isinstance(data, dict) else {}


def _reject_reason(data: dict[str, Any]) -> str:
    for key in ("orderRejectTransaction", "orderCancelTransaction"):
        tx = data.get(key) or {}
        if tx.get("rejectReason") or tx.get("reason"):
            return str(tx.get("rejectReason") or tx.get("reason"))
    return str(data.get("errorMessage") or "")
