"""A broker reached over signed REST only, whose orders are polled: the shared half of the
Robinhood Crypto and Webull adapters (`venues.robinhood`, `venues.webull`).

What the broker adds is its wire: how a request is signed (`venues.signed_http`), what an
order looks like (`venues.broker_order`), which endpoints list orders. moomoo's adapter uses
these rules over moomoo's own client instead of HTTP. Everything that makes an order safe is
here, once:

- **send once**: before an order leaves, its intent (and the broker-side client id, where the
  broker needs its own form of ours) is written to `HOME/<venue>_ids.jsonl` (`venues.idmap`,
  fsynced). The answer decides: accepted (the broker's order id), refused (4xx: the broker's
  words; nothing was made), rate limited (429: nothing was made; sent again after the gate's
  wait, as `ratelimit` allows), refused signature (401: nothing was made; one line naming the
  keys and the clock). A lost answer (timeout, connection cut, 5xx, an answer without an order
  id) may mean the order exists: it is looked for **by its client order id** among the
  broker's orders, once now and then by the engine's reconciliation; it is never sent again.
- **polling** instead of a stream: every `poll_interval_s` the working orders are read (each
  fill once: `venues.seen`) and the subscribed symbols' quotes. A failed poll makes the venue
  `reconnecting` with backoff; the first poll that works again makes it `connected` after a
  reconnect, which the engine answers with a reconciliation. A poll loop that stops reporting
  for `stall_after_s` (hung) is restarted by the watchdog.
- **fills** are the broker's executions, each with an id stable across reads (the subclass
  says how), so the poll and a reconciliation count each once. A broker that shows only an
  order's cumulative filled quantity and average price (Webull) gets a fill per increase:
  id `<order id>:<cumulative quantity>`, the quantity and price of the increase over the last
  cumulative this session saw, or, after a restart, over what the engine has recorded for the
  order (`recorded_fills`, called by the reconciliation before it asks for fills).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.enums import ConnectionState, Liquidity, OrderStatus
from tui_trader.core.errors import ConfigError, UserError
from tui_trader.core.events import ExecutionReport, NoticeEvent, TickerEvent
from tui_trader.core.fills import Fill
from tui_trader.core.hours import MarketHours, SessionState
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Candle, Ticker
from tui_trader.core.orders import Order
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.base import Emit, OutcomeUnknown, VenueCapabilities, VenueError, VenueOrder
from tui_trader.venues.broker_order import BrokerOrder, Execution
from tui_trader.venues.idmap import Fingerprint, OrderIdMap
from tui_trader.venues.ratelimit import RATE_LIMIT_TRIES, RateGate
from tui_trader.venues.resilience import (
    Backoff,
    ConnectionMonitor,
    TokenBucket,
    cancel_tasks,
    stop_tasks,
    watchdog_pause,
)
from tui_trader.venues.seen import SeenIds
from tui_trader.venues.signed_http import SignedHttp
from tui_trader.venues.streams import StreamBoard

log = logging.getLogger(__name__)

ORDERS = "orders"  # the polled order "stream" on the stream board
END_STATUS = {"filled": None, "canceled": OrderStatus.CANCELLED, "rejected": OrderStatus.REJECTED,
              "expired": OrderStatus.EXPIRED}  # fmt: skip
# Each poll asks for orders changed since the last poll began, minus this: the broker's clock
# may differ from ours (a signed request more than ~30 s off is refused anyway), and an order
# read twice counts once (fills by id, ends by state).
POLL_OVERLAP = timedelta(seconds=35)
LOOKUP_BEFORE = timedelta(minutes=2)  # an order is looked for among those made from this before it was sent


class PolledVenue(SignedHttp):
    """Subclasses set `kind`, `broker` and `fee_currency` and implement the wire hooks below."""

    kind = "polled"
    takes_keys = True  # `venue reconnect` reads them again (`reconnect_with`)
    broker = "the broker"
    fee_currency = "USD"
    min_poll_s = 0.0  # the broker's rate limits allow no faster order polling than this
    not_found_final_after_s = 60.0  # a broker answers an order in its request; a minute later "not found" is final

    def __init__(
        self,
        name: str,
        settings: VenueSettings,
        clock: Clock,
        *,
        credentials: Credentials | None = None,
        ids_path: Path | None = None,
        backoff: Backoff | None = None,
        order_rate: float | None = None,
        rest_timeout_s: float = 10.0,
        hours: MarketHours | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.clock = clock
        self.is_live = settings.is_live
        self._credentials = credentials or Credentials()
        self.capabilities = VenueCapabilities(
            stop=True, stop_limit=True, trailing_stop=False, post_only=False, ioc_fok=False, shorting=False
        )
        self.monitor = ConnectionMonitor(
            name, clock, stall_after_s=settings.stall_after_s,
            backoff=backoff or Backoff(settings.backoff_base_s, settings.backoff_cap_s),
        )  # fmt: skip
        self.streams = StreamBoard(self.monitor.stall_after_s)
        self.rate_gate = RateGate(name, base_s=settings.backoff_base_s, cap_s=max(120.0, settings.backoff_cap_s))
        rate = order_rate or settings.order_rate_per_s
        self.order_bucket = TokenBucket(rate, max(1.0, rate * 2))
        self.rest_timeout_s = rest_timeout_s
        self.ids = OrderIdMap(ids_path)
        self.hours = hours  # stocks: None is the NYSE calendar (core.hours)
        self.instruments: dict[str, Instrument] = {}
        self.counters = {"polls": 0, "poll_failures": 0, "rate_limited": 0, "found_by_client_id": 0,
                         "duplicate_fills": 0, "restarts": 0}  # fmt: skip
        self._emit: Emit = lambda event: None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closing = False
        self._symbols: list[str] = []
        self._working: dict[str, Decimal] = {}  # our cid -> filled quantity, orders still working
        self._vids: dict[str, str] = {}  # our cid -> the broker's order id
        self._seen = SeenIds()
        self._polled_at: datetime | None = None
        self._poll_ok = time.monotonic()
        self._marks: dict[str, tuple[Decimal, Decimal]] = {}  # our cid -> (cumulative, average) reported

    # -- the wire: each broker implements these -------------------------------------------------

    async def _setup(self) -> None:
        """After the credentials are checked: the account, and `self.instruments`."""
        raise NotImplementedError

    async def _quotes(self, symbols: Sequence[str]) -> list[Ticker]:
        raise NotImplementedError

    def _order_request(self, order: Order, inst: Instrument | None, broker_cid: str) -> tuple[str, str, dict[str, Any]]:
        """(method, path, body) that places `order`; a UserError refuses it before sending."""
        raise NotImplementedError

    def _placed_id(self, data: Any) -> str | None:
        """The broker's order id in its answer to a placed order."""
        raise NotImplementedError

    def _cancel_request(self, vid: str, order: Order) -> tuple[str, str, dict[str, Any] | None]:
        raise NotImplementedError

    def _parse(self, raw: dict[str, Any]) -> BrokerOrder:
        raise NotImplementedError

    async def _list_open(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def _list_since(self, since: datetime) -> list[dict[str, Any]]:
        """Orders changed (or made) since `since`."""
        raise NotImplementedError

    async def _get(self, vid: str, order_cid: str) -> dict[str, Any] | None:
        """One order by the broker's id; None when the broker says there is none."""
        raise NotImplementedError

    async def _find(self, broker_cid: str, since: datetime) -> dict[str, Any] | None:
        """Our order by the client id the broker holds, made after `since`; None: not there."""
        raise NotImplementedError

    def _broker_cid(self, cid: str) -> str:
        """The client order id the broker is given for ours (ours, unless its rules differ)."""
        return cid

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self.monitor.state

    def _check_credentials(self, keys: Credentials) -> None:
        """Raise ConfigError (one line) when `keys` lack what the broker needs."""
        raise NotImplementedError

    async def _same_account(self, keys: Credentials) -> None:
        """A read signed with `keys` (new ones, `reconnect_with`): raise VenueError (one line)
        if the broker refuses them or they are another account's than the one traded here."""
        raise NotImplementedError

    async def connect(self, emit: Emit) -> None:
        self._emit = emit
        self.monitor.emit = emit
        self._check_credentials(self._credentials)
        self.monitor.connecting()
        self._session = aiohttp.ClientSession()
        try:
            await self._setup()
        except BaseException:
            await self._session.close()
            self._session = None
            raise
        self.streams.add(ORDERS, private=True)
        every = max(self.settings.poll_interval_s, self.min_poll_s)
        self.monitor.connected(f"{self.kind} {'LIVE' if self.is_live else 'paper'}, polled every {every:g}s")
        self.monitor.message()
        self._polled_at = self.clock.now()
        self._start_polling()
        self._tasks["watchdog"] = asyncio.create_task(self._watchdog(), name=f"{self.name}-watchdog")

    async def close(self) -> None:
        self._closing = True
        await cancel_tasks(self._tasks)
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.monitor.closed()

    async def reconnect_with(self, credentials: Credentials | None) -> None:
        """`tui-trader venue reconnect NAME`: the keys read again from the keyring (new ones made
        at the broker, the old revoked), checked first by a read signed with them of the account
        traded here (`_same_account`): refused, another account's, or the broker unreachable,
        this raises one line and nothing changed (the old keys poll on). Then the poll starts
        again at once with them, not at the end of its backoff: the venue `reconnecting` until
        that poll is answered, then back, and the engine reconciles (each fill made meanwhile
        read back once: fills by their ids, `venues.seen`; the poll reads the orders changed
        since its last answer)."""
        keys = credentials or Credentials()
        try:
            self._check_credentials(keys)
        except ConfigError as exc:
            raise VenueError(str(exc)) from None
        try:
            await self._same_account(keys)
        except VenueError as exc:
            raise VenueError(keys.redact(str(exc))) from None
        self._credentials = keys
        self._check_credentials(keys)  # what the broker derives from them (Robinhood's signing key)
        self.monitor.reconnecting("reconnecting with the keys read again", now=True)
        await stop_tasks(self._tasks.pop("poll", None))
        self._poll_ok = time.monotonic()
        if not self._closing:
            self._start_polling()

    async def load_markets(self) -> dict[str, Instrument]:
        return dict(self.instruments)

    async def subscribe(self, symbols: Sequence[str]) -> None:
        for s in symbols:
            if s not in self._symbols and s in self.instruments:
                self._symbols.append(s)
                self.streams.add(f"quote:{s}", steady=True)

    def market_open(self, symbol: str, now: datetime) -> bool:
        """Crypto always; stocks in the NYSE's regular session (its calendar, `core.hours`), or
        its pre- and after-market with `extended_hours` (where only limit orders go)."""
        inst = self.instruments.get(symbol)
        if inst is None or inst.always_open:
            return True
        state = self.session(inst, now)
        return state.is_open or (self.settings.extended_hours and state.extended)

    def session(self, inst: Instrument, now: datetime) -> SessionState:
        from tui_trader.core.hours import hours_for

        return (self.hours or hours_for(inst)).state(now)

    async def fetch_candles(
        self, symbol: str, timeframe: str, since: datetime | None = None, limit: int = 500
    ) -> list[Candle]:
        raise VenueError(f"{self.broker}'s API serves no candles; chart {symbol} from another venue's data")

    def _notice(self, level: str, text: str) -> None:
        log.log(logging.WARNING if level != "info" else logging.INFO, "%s: %s", self.name, text)
        self._emit(NoticeEvent(self.clock.now(), level, text, self.name))

    # -- polling ----------------------------------------------------------------------------------

    def _start_polling(self) -> None:
        self._tasks["poll"] = asyncio.create_task(self._poll_loop(), name=f"{self.name}-poll")

    async def _poll_loop(self) -> None:
        while not self._closing:
            try:
                await self._poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.counters["poll_failures"] += 1
                why = self._safe(str(exc) or type(exc).__name__)
                self.streams.down(ORDERS, why)
                delay = self.monitor.reconnecting(f"polling {self.broker} failed: {why}")
                await asyncio.sleep(delay)
                continue
            self.counters["polls"] += 1
            self._poll_ok = time.monotonic()
            self.monitor.message()  # after failures: connected again, and the engine reconciles
            await asyncio.sleep(max(self.settings.poll_interval_s, self.min_poll_s))

    async def _poll_once(self) -> None:
        if self._symbols:
            for ticker in await self._quotes(list(self._symbols)):
                self.streams.message(f"quote:{ticker.symbol}")
                self._emit(TickerEvent(ticker))
        started = self.clock.now()
        if self._working or self._polled_at is None:
            since = (self._polled_at or started) - POLL_OVERLAP
            for raw in await self._list_since(since):
                self._apply(self._parse(raw))
        self._polled_at = started
        self.streams.message(ORDERS)

    async def _watchdog(self) -> None:
        """A poll loop that has not completed a poll for `stall_after_s` is restarted."""
        while not self._closing:
            await watchdog_pause(min(1.0, self.monitor.stall_after_s / 4))
            self.streams.silent()
            stuck = time.monotonic() - self._poll_ok > self.monitor.stall_after_s
            if stuck and self.monitor.state is ConnectionState.CONNECTED:
                self.counters["restarts"] += 1
                self.monitor.degraded(f"no poll completed for {self.monitor.stall_after_s:g}s; restarting it")
                task = self._tasks.pop("poll", None)
                if task is not None:
                    task.cancel()
                self._poll_ok = time.monotonic()
                if not self._closing:
                    self._start_polling()

    # -- applying what an order shows -----------------------------------------------------------

    def _cid(self, o: BrokerOrder) -> str:
        bcid = o.broker_client_id
        if bcid and self.ids.is_ours(bcid):
            return self.ids.cid_for(bcid, self.name)
        if bcid and self._broker_cid(bcid) == bcid and self.ids.intent(bcid) is not None:
            return bcid
        return f"ext-{self.name}-{o.venue_order_id}"

    def _fills(self, o: BrokerOrder, cid: str) -> list[Fill]:
        liquidity = Liquidity.MAKER if o.type == "limit" else Liquidity.TAKER
        return [
            Fill(
                x.fill_id,
                cid,
                self.name,
                o.symbol,
                o.side,
                x.quantity,
                x.price,
                x.fee,
                self.fee_currency,
                liquidity,
                x.ts,
                o.venue_order_id,
            )
            for x in (o.executions or self._increase(o, cid))
        ]

    def _increase(self, o: BrokerOrder, cid: str) -> tuple[Execution, ...]:
        """A broker without executions: the rise of the cumulative filled quantity over the last
        one reported (or recorded by the engine) is one fill, at the price that moves the average
        from the old to the new (rounded to the instrument's price step: the broker rounds its
        average)."""
        if o.average is None or o.filled <= 0:
            return ()
        done, avg = self._marks.get(cid, (Decimal(0), Decimal(0)))
        if o.filled <= done:
            return ()
        qty = o.filled - done
        price = (o.average * o.filled - avg * done) / qty if done else o.average
        inst = self.instruments.get(o.symbol)
        if inst is not None:  # the broker's average is rounded: the increase's price is on the price step
            price = inst.round_price(price)
        return (Execution(f"{o.venue_order_id}:{o.filled.normalize():f}", qty, price, o.last_fill or o.created),)

    def recorded_fills(self, recorded: dict[str, tuple[Decimal, Decimal | None]]) -> None:
        """What the engine has recorded of each of our open orders here (filled quantity,
        average price): where this session has reported nothing for an order yet (a restart),
        a broker without executions counts new fills from there."""
        for cid, (filled, avg) in recorded.items():
            if cid not in self._marks and filled > 0:
                self._marks[cid] = (filled, avg or Decimal(0))

    def _apply(self, o: BrokerOrder) -> None:
        """Report what is new about this order: fills never seen, and its end."""
        cid = self._cid(o)
        self._vids.setdefault(cid, o.venue_order_id)
        for fill in self._fills(o, cid):
            if not self._seen.first(fill.fill_id):
                self.counters["duplicate_fills"] += 1
                continue
            if cid in self._working:
                self._working[cid] += fill.quantity
            self._emit(ExecutionReport(self.name, cid, None, fill.ts, o.venue_order_id, None, fill))
        if not o.executions and o.average is not None and o.filled > self._marks.get(cid, (Decimal(0),))[0]:
            self._marks[cid] = (o.filled, o.average)
        if o.status == "open":
            self._working.setdefault(cid, o.filled)  # followed by the poll until it ends
            return
        self._working.pop(cid, None)
        status = END_STATUS.get(o.status)
        if status is not None:
            self._emit(ExecutionReport(self.name, cid, status, self.clock.now(), o.venue_order_id,
                                       o.reason or f"{self.kind}: {o.status}"))  # fmt: skip

    def _venue_order(self, o: BrokerOrder) -> VenueOrder:
        return VenueOrder(self._cid(o), o.venue_order_id, o.symbol, o.side.value, o.type, str(o.quantity),
                          str(o.filled), None if o.price is None else str(o.price), o.status, o.created)  # fmt: skip

    # -- orders -----------------------------------------------------------------------------------

    def _reject(self, cid: str, reason: str) -> None:
        self._emit(ExecutionReport(self.name, cid, OrderStatus.REJECTED, self.clock.now(), None, reason))

    async def create_order(self, order: Order) -> None:
        cid = order.client_order_id
        inst = self.instruments.get(order.symbol)
        bcid = self._broker_cid(cid)
        try:
            method, path, body = self._order_request(order, inst, bcid)
        except UserError as exc:
            self._reject(cid, str(exc))
            return
        fp = Fingerprint.of(order.symbol, order.side.value, order.quantity, order.type.value, order.price,
                            order.stop_price)  # fmt: skip
        for attempt in range(RATE_LIMIT_TRIES):  # sent again only after a 429 (which made nothing)
            if refusal := await self.rate_gate.admit(self.order_bucket):
                self._reject(cid, refusal)
                return
            sent = self.clock.now()
            self.ids.intend(cid, fp, sent)  # on disk before the order leaves
            if bcid != cid:
                self.ids.bind(cid, bcid)
            try:
                ans = await self._http(method, path, body=body)
            except (TimeoutError, aiohttp.ClientError) as exc:  # the answer is lost: it may exist
                await self._lost(order, sent, f"no answer ({type(exc).__name__})")
                return
            if ans.status == 429:
                self._rate_limited(ans)
                if attempt < RATE_LIMIT_TRIES - 1 and not self.rate_gate.refusal():
                    continue
                self._reject(cid, self.rate_gate.refusal() or f"not sent: {self.broker} is rate limiting us (HTTP 429)")
                return
            if ans.status >= 500:
                await self._lost(order, sent, f"HTTP {ans.status}")
                return
            if ans.status == 401:  # an unauthenticated request makes nothing
                self._reject(cid, self._auth_refused(ans))
                return
            if ans.status >= 400:
                self._reject(cid, f"{self.kind}: {self._safe(self._refused_text(ans)) or f'HTTP {ans.status}'}")
                return
            self.rate_gate.ok()
            vid = self._placed_id(ans.data)
            if not vid:
                await self._lost(order, sent, f"{self.broker}'s answer did not name the order")
                return
            self._vids[cid] = vid
            self._working.setdefault(cid, Decimal(0))
            self._emit(ExecutionReport(self.name, cid, OrderStatus.ACCEPTED, self.clock.now(), vid))
            if isinstance(ans.data, dict):
                with contextlib.suppress(Exception):  # the answer may already show fills
                    parsed = self._parse(ans.data)
                    if parsed.venue_order_id == vid and parsed.executions:
                        self._apply(parsed)
            return

    async def _lost(self, order: Order, sent: datetime, why: str) -> None:
        """The order may exist: one look for it by its client id now; if that does not settle
        it, the engine keeps asking (`OutcomeUnknown`). Never sent again."""
        cid = order.client_order_id
        log.warning("%s: submit %s: %s; looking for it by its client order id", self.name, cid, why)
        try:
            raw = await self._find(self._broker_cid(cid), sent - LOOKUP_BEFORE)
        except Exception as exc:  # a failed look is not a "not found"
            log.info("%s: looking for %s failed: %s", self.name, cid, exc)
            raw = None
        if raw is None:
            raise OutcomeUnknown(f"{self.name}: {why}; the order is looked for by its client order id "
                                 "until the broker's answer settles it")  # fmt: skip
        self.counters["found_by_client_id"] += 1
        found = self._parse(raw)
        self._vids[cid] = found.venue_order_id
        if found.status == "open":
            self._working.setdefault(cid, found.filled)
        self._emit(ExecutionReport(self.name, cid, OrderStatus.ACCEPTED, self.clock.now(), found.venue_order_id))
        self._apply(found)

    async def amend_order(self, order: Order, quantity: Decimal | None = None, price: Decimal | None = None) -> None:
        raise VenueError(f"{self.broker} orders are not amended here; the engine cancels and replaces")

    async def cancel_order(self, order: Order) -> None:
        cid = order.client_order_id
        vid = order.venue_order_id or self._vids.get(cid)
        if vid is None and cid.startswith(f"ext-{self.name}-"):
            vid = cid[len(f"ext-{self.name}-") :]
        if vid is None:
            found = await self.fetch_order(cid, order.symbol)
            vid = found.venue_order_id if found else None
        if vid is None:
            self._cancel_refused(order, f"{self.broker} does not know this order (yet)")
            return
        await self.order_bucket.take()
        try:
            await self._send_cancel(vid, order)
        except VenueError as exc:
            self._cancel_refused(order, str(exc))  # it may have filled or ended meanwhile: read it
        raw = await self._get(vid, cid)
        if raw is not None:
            self._apply(self._parse(raw))

    async def _send_cancel(self, vid: str, order: Order) -> None:
        method, path, body = self._cancel_request(vid, order)
        await self._call(method, path, body=body, what="cancel order")

    def _cancel_refused(self, order: Order, why: str) -> None:
        self._emit(ExecutionReport(self.name, order.client_order_id, None, self.clock.now(),
                                   order.venue_order_id, f"cancel refused: {why}"))  # fmt: skip

    # -- reconciliation ---------------------------------------------------------------------------

    async def fetch_open_orders(self) -> list[VenueOrder]:
        """The broker's working orders; each is followed by the poll from now on (after a
        restart the reconciliation is where this session learns them)."""
        out = []
        for o in map(self._parse, await self._list_open()):
            if o.status == "open":
                vo = self._venue_order(o)
                self._working.setdefault(vo.client_order_id, o.filled)
                self._vids.setdefault(vo.client_order_id, o.venue_order_id)
                out.append(vo)
        return out

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrder | None:
        vid = self._vids.get(client_order_id)
        if vid is not None:
            raw = await self._get(vid, client_order_id)
        else:
            intent = self.ids.intent(client_order_id)
            if intent is None:
                return None  # never sent from here
            raw = await self._find(self._broker_cid(client_order_id), intent.sent_at - LOOKUP_BEFORE)
        if raw is None:
            return None
        o = self._parse(raw)
        self._vids[client_order_id] = o.venue_order_id
        return self._venue_order(o)

    async def fetch_fills(self, since: datetime | None = None) -> list[Fill]:
        start = since or (self.clock.now() - timedelta(days=30))
        out: list[Fill] = []
        for o in map(self._parse, await self._list_since(start)):
            out += [f for f in self._fills(o, self._cid(o)) if since is None or f.ts >= since]
        return out
