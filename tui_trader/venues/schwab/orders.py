"""The Schwab adapter's orders: submit once, cancel, and the market-hours rules.

Schwab takes no client order id. Before an order leaves, its intent (what it is, when it was
sent) is written to the persisted id map; Schwab's 201 answer names the new order in its
`Location` header, and the map binds our id to it. An answer that is lost (a timeout, a reset
connection, a 5xx) leaves the order `unknown`: it is looked for among the orders Schwab lists
as entered around that moment (`venues.idmap`), never sent again. A 429 and a 401 made
nothing: the 429 waits as Schwab asks and the order goes once more (while the wait is short);
the 401 refreshes the token and goes once more. A second order identical to one whose fate is
still unknown is not sent (the two could not be told apart).
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.enums import OrderStatus, OrderType
from tui_trader.core.errors import UserError
from tui_trader.core.events import ExecutionReport
from tui_trader.core.instrument import Instrument
from tui_trader.core.orders import Order
from tui_trader.venues.base import Emit, OutcomeUnknown, VenueError, VenueOrder
from tui_trader.venues.idmap import OrderIdMap
from tui_trader.venues.ratelimit import RATE_LIMIT_TRIES, RateGate
from tui_trader.venues.resilience import TokenBucket
from tui_trader.venues.schwab import convert
from tui_trader.venues.schwab.hours import MarketHours
from tui_trader.venues.streams import StreamBoard

log = logging.getLogger(__name__)

PRIVATE = "account"  # the ACCT_ACTIVITY subscription's stream name


class SchwabOrders:
    """Mixed into SchwabVenue, whose client, gate and id map it uses."""

    name: str
    settings: VenueSettings
    clock: Clock
    hours: MarketHours
    instruments: dict[str, Instrument]
    streams: StreamBoard
    rate_gate: RateGate
    order_bucket: TokenBucket
    ids: OrderIdMap
    account_hash: str
    counters: dict[str, int]
    _client: Any
    _emit: Emit
    _working: dict[str, Decimal]
    _orders: dict[str, dict[str, Any]]
    _auth_failed: str

    if TYPE_CHECKING:  # provided by SchwabVenue and SchwabHistory

        async def _send(self, fn: Any, *args: Any, what: str) -> Any: ...

        async def _call(self, fn: Any, *args: Any, what: str, attempts: int = 4) -> Any: ...

        def _rate_limited(self, resp: Any) -> None: ...

        def _error_text(self, resp: Any) -> str: ...

        async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrder | None: ...

        async def _order_json(self, vid: str) -> dict[str, Any] | None: ...

        def _apply(self, o: dict[str, Any]) -> None: ...

    def _session_check(self, order: Order) -> tuple[str | None, bool]:
        """(refusal, extended): outside the regular session only extended-hours limit orders go."""
        now = self.clock.now()
        if self.hours.open_at(now):
            return None, False
        if not (self.settings.extended_hours and self.hours.extended_at(now)):
            if self.settings.extended_hours:
                return "market closed: Schwab is outside the extended session; wait for the open", False
            hint = f"set extended_hours = true in [venues.{self.name}] for pre- and after-market limit orders"
            return f"market closed: Schwab is outside regular hours; wait for the open (or {hint})", False
        if order.type is not OrderType.LIMIT:
            return f"market closed: Schwab's extended sessions take limit orders only, not {order.type.value}", False
        return None, True

    def _reject(self, cid: str, reason: str) -> None:
        self._emit(ExecutionReport(self.name, cid, OrderStatus.REJECTED, self.clock.now(), None, reason))

    async def create_order(self, order: Order) -> None:
        import httpx

        cid = order.client_order_id
        if self._auth_failed:
            self._reject(cid, self._auth_failed)
            return
        refusal, extended = self._session_check(order)
        if refusal:
            self._reject(cid, refusal)
            return
        try:
            body = convert.order_request(order, self.instruments.get(order.symbol), extended)
        except UserError as exc:
            self._reject(cid, str(exc))
            return
        fp = convert.fingerprint_of_request(body)
        twin = self.ids.pending_like(fp)
        if twin is not None and twin.client_order_id != cid:
            self._reject(cid, f"not sent: an identical order ({twin.client_order_id}) is still of unknown fate at "
                              "Schwab, and Schwab takes no client order id to tell the two apart; wait until it "
                              "settles, or cancel it")  # fmt: skip
            return
        for attempt in range(RATE_LIMIT_TRIES):  # sent again only after a 429 (which made nothing)
            if refusal := await self.rate_gate.admit(self.order_bucket):
                self._reject(cid, refusal)
                return
            sent = time.monotonic()
            self.ids.intend(cid, fp, self.clock.now())  # on disk before the order leaves
            try:
                resp = await self._send(self._client.place_order, self.account_hash, body, what="place order")
            except (httpx.TransportError, TimeoutError) as exc:  # the answer is lost: unknown
                await self._ask(order, type(exc).__name__)
                return
            except VenueError as exc:  # the login expired (a refusal: nothing was sent)
                self.ids.forget(cid)
                self._reject(cid, str(exc))
                return
            status = resp.status_code
            if status == 429:
                self._rate_limited(resp)
                if attempt < RATE_LIMIT_TRIES - 1 and not self.rate_gate.refusal():
                    continue
                self.ids.forget(cid)
                self._reject(cid, self.rate_gate.refusal() or "not sent: Schwab is rate limiting us (HTTP 429)")
                return
            if status >= 500:
                await self._ask(order, f"HTTP {status}")
                return
            if status >= 400:
                self.ids.forget(cid)
                self._reject(cid, f"schwab: {self._error_text(resp) or f'HTTP {status}'}")
                return
            self.rate_gate.ok()
            vid = str(resp.headers.get("Location", "")).rstrip("/").rsplit("/", 1)[-1]
            if not vid.isdigit():  # a 201 without the order's address: find it like a lost answer
                await self._ask(order, "Schwab's answer did not name the order")
                return
            self.ids.bind(cid, vid)
            self._working.setdefault(cid, Decimal(0))
            self.streams.expect(PRIVATE, cid, since=sent)  # account activity owes news of it
            self._emit(ExecutionReport(self.name, cid, OrderStatus.ACCEPTED, self.clock.now(), vid))
            return

    async def _ask(self, order: Order, why: str) -> None:
        """The order may exist: one look among Schwab's recent orders now; if that does not
        settle it, the engine keeps asking (`OutcomeUnknown`). Never sent again."""
        cid = order.client_order_id
        log.warning("%s: submit %s: %s; looking for it among Schwab's orders", self.name, cid, why)
        try:
            found = await self.fetch_order(cid, order.symbol)
        except Exception as exc:  # a failed look (or an ambiguous one) is not a "not found"
            log.info("%s: looking for %s failed: %s", self.name, cid, exc)
            found = None
        if found is not None:
            self.counters["found_by_match"] += 1
            if found.status == "open":
                self._working.setdefault(cid, Decimal(found.filled_quantity))
            self._emit(ExecutionReport(self.name, cid, OrderStatus.ACCEPTED, self.clock.now(), found.venue_order_id))
            o = self._orders.get(found.venue_order_id or "")
            if o is not None:
                self._apply(o)  # its fills and end, if it already has them
            return
        raise OutcomeUnknown(f"{self.name}: {why}; Schwab takes no client order id, so the order is looked "
                             "for by what it is and when it was sent")  # fmt: skip

    # -- cancel -------------------------------------------------------------------------------

    async def amend_order(self, order: Order, quantity: Decimal | None = None, price: Decimal | None = None) -> None:
        raise VenueError("Schwab replaces orders under a new id; the engine cancels and replaces instead")

    async def cancel_order(self, order: Order) -> None:
        cid = order.client_order_id
        vid = order.venue_order_id or self.ids.vid_for(cid) or self.ids.external_vid(cid, self.name)
        if vid is None:
            found = await self.fetch_order(cid, order.symbol)
            vid = found.venue_order_id if found else None
        if vid is None:
            self._cancel_refused(order, "Schwab does not know this order (yet)")
            return
        await self.order_bucket.take()
        sent = time.monotonic()
        try:
            resp = await self._call(self._client.cancel_order, vid, self.account_hash, what="cancel order")
        except VenueError as exc:
            self._cancel_refused(order, str(exc))
            return
        if resp.status_code >= 400:
            self._cancel_refused(order, f"schwab: {self._error_text(resp) or f'HTTP {resp.status_code}'}")
            # it may have filled or ended meanwhile: read it
        self.streams.expect(PRIVATE, cid, since=sent)
        o = await self._order_json(vid)
        if o is not None:
            self._apply(o)  # CANCELED (or PENDING_CANCEL: account activity tells the end)

    def _cancel_refused(self, order: Order, why: str) -> None:
        self._emit(ExecutionReport(self.name, order.client_order_id, None, self.clock.now(),
                                   order.venue_order_id, f"cancel refused: {why}"))  # fmt: skip
