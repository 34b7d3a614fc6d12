"""The ccxt adapter's orders: submit once, cancel, amend.

An order is sent once. What comes back decides what it is (`errors.submit_outcome`):
refused (rejected, with the exchange's reason), refused by the rate limiter or for its clock
(nothing was made: sent once more after Retry-After or a clock correction, at most once),
already there ("Duplicate order sent": looked up by our client id), or unknown (a timeout, a
5xx, an answer we cannot read). An unknown order is looked up once at once; if that does not
find it, `create_order` raises `OutcomeUnknown` and the engine keeps it `unknown` and keeps
asking. It is never sent a second time: a second market order with the same client id is
accepted by Binance once the first has filled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.enums import OrderStatus, OrderType
from tui_trader.core.events import ExecutionReport
from tui_trader.core.instrument import Instrument
from tui_trader.core.orders import Order
from tui_trader.venues.base import Emit, OutcomeUnknown, VenueCapabilities, VenueError, VenueOrder
from tui_trader.venues.ccxt import convert, exchanges
from tui_trader.venues.ccxt.errors import Outcome, auth_refusal, keys_refused, submit_outcome
from tui_trader.venues.ratelimit import RATE_LIMIT_TRIES, RateGate
from tui_trader.venues.resilience import ConnectionMonitor, TokenBucket
from tui_trader.venues.streams import StreamBoard

log = logging.getLogger(__name__)

ORDER_TYPES = {OrderType.MARKET: "market", OrderType.LIMIT: "limit"}


class CcxtOrders:
    """Mixed into CcxtVenue, whose client, buckets and lookups it uses."""

    name: str
    exchange_id: str
    settings: VenueSettings
    clock: Clock
    capabilities: VenueCapabilities
    instruments: dict[str, Instrument]
    monitor: ConnectionMonitor
    streams: StreamBoard
    rate_gate: RateGate
    order_bucket: TokenBucket
    clock_offset_ms: int | None
    _ex: Any
    _emit: Emit
    _cid_by_vid: dict[str, str]
    _symbol_by_cid: dict[str, str]
    _working: dict[str, Decimal]
    counters: dict[str, int]

    if TYPE_CHECKING:  # provided by CcxtVenue, AccountHistory and CcxtStreams

        async def _rest(self, fn: Any, *args: Any, what: str, attempts: int = 5, **kw: Any) -> Any: ...

        def _safe(self, exc: BaseException) -> str: ...

        async def _sync_clock(self) -> int | None: ...

        def _rate_limited(self, status: int, headers: dict[str, str]) -> None: ...

        async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrder | None: ...

        @property
        def _owes(self) -> str: ...

    # -- submit ----------------------------------------------------------------------------------

    def _order_args(self, order: Order) -> tuple[str, str, str, float, float | None, dict[str, Any]]:
        typ = ORDER_TYPES.get(order.type)
        if typ is None:
            raise VenueError(f"{order.type.value} orders are emulated by the engine, not sent to {self.exchange_id}")
        inst = self.instruments.get(order.symbol)
        qty = inst.round_qty(order.quantity) if inst else order.quantity
        price = None if order.price is None else (inst.round_price(order.price) if inst else order.price)
        create_param, _ = exchanges.client_id_params(self.exchange_id)
        params: dict[str, Any] = {create_param: order.client_order_id}
        in_base = exchanges.MARKET_BUY_IN_BASE.get(self.exchange_id)
        if in_base and order.type is OrderType.MARKET and order.side.value == "buy":
            params.update(in_base(str(qty)))
        if order.post_only:
            params["postOnly"] = True
        if order.reduce_only:
            params["reduceOnly"] = True
        if order.type is OrderType.LIMIT and order.time_in_force.value in ("ioc", "fok"):
            params["timeInForce"] = order.time_in_force.value.upper()
        return order.symbol, typ, order.side.value, float(qty), None if price is None else float(price), params

    async def create_order(self, order: Order) -> None:
        cid = order.client_order_id
        try:
            symbol, typ, side, qty, price, params = self._order_args(order)
        except VenueError as exc:  # nothing was sent
            self._reject(cid, str(exc))
            return
        self._symbol_by_cid[cid] = symbol
        clock_fixed = False
        for attempt in range(RATE_LIMIT_TRIES + 1):  # sent again only after a refusal that made nothing
            if refusal := await self.rate_gate.admit(self.order_bucket):
                self._reject(cid, refusal)
                return
            sent = time.monotonic()
            try:
                res = await self._ex.create_order(symbol, typ, side, qty, price, params)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outcome = submit_outcome(exc)
                if outcome is Outcome.CLOCK and not clock_fixed:
                    clock_fixed = True
                    offset = await self._sync_clock()  # refused before matching: nothing made
                    log.warning("%s: %s refused for its timestamp (offset now %s ms); sending once more",
                                self.name, cid, offset)
                    continue
                if outcome is Outcome.RATE_LIMITED:  # refused by the limiter: nothing was made
                    if not self.rate_gate.closed:  # no 429/418 status seen (an error body): back off anyway
                        self._rate_limited(429, {})
                    if attempt < RATE_LIMIT_TRIES - 1 and not self.rate_gate.refusal():
                        continue  # a short wait (the gate holds the retry until Retry-After)
                    self._reject(cid, self.rate_gate.refusal() or f"not sent: {self._safe(exc)}")
                    return
                await self._settle_refusal(order, outcome, exc)
                return
            self.rate_gate.ok()
            self._accepted(cid, res, sent)
            return
        self._reject(cid, f"not sent: {self.rate_gate.describe() or 'refused too often'}")  # pragma: no cover

    def _accepted(self, cid: str, res: dict[str, Any], sent: float) -> None:
        vid = None if res.get("id") is None else str(res["id"])
        if vid:
            self._cid_by_vid[vid] = cid
        status = convert.STATUS.get(res.get("status") or "open", OrderStatus.ACCEPTED)
        if res.get("status") in (None, "open"):
            self._working.setdefault(cid, Decimal(0))
        # the private stream owes us this order's news: if it does not come, the stream is dead
        self.streams.expect(self._owes, cid, since=sent)
        self._emit(
            ExecutionReport(
                self.name,
                cid,
                OrderStatus.ACCEPTED if res.get("status") == "closed" else status,
                self.clock.now(),
                vid,
            )
        )

    async def _settle_refusal(self, order: Order, outcome: Outcome, exc: BaseException) -> None:
        cid = order.client_order_id
        if outcome is Outcome.AUTH:
            self._reject(cid, auth_refusal(self.name, self.exchange_id, exc, running=True))
            return
        if outcome is Outcome.KEYS_REFUSED:
            self._reject(cid, f"not made: {keys_refused(self.name)}")
            return
        if outcome is Outcome.CLOCK:
            self._reject(
                cid,
                f"clock: {self.name} refused the order's timestamp twice ({self._safe(exc)}); "
                f"its clock differs from ours by {self.clock_offset_ms} ms as last measured: "
                "check this machine's time (NTP); the order was not made",
            )
            return
        if outcome is Outcome.REFUSED:
            self._reject(cid, self._safe(exc))
            return
        # exists (duplicate client id) or unknown: ask, never send again
        why = "the venue already has this client order id" if outcome is Outcome.EXISTS else self._safe(exc)
        log.warning("%s: submit %s: %s; looking it up by client order id", self.name, cid, why)
        existing = await self._lookup(cid, order.symbol)
        if existing is not None:
            self.counters["found_by_client_id"] += 1
            self._report_found(existing)
            return
        raise OutcomeUnknown(f"{self.name}: {why}")

    def _reject(self, cid: str, reason: str) -> None:
        self._emit(ExecutionReport(self.name, cid, OrderStatus.REJECTED, self.clock.now(), None, reason))

    def _report_found(self, vo: VenueOrder) -> None:
        if vo.venue_order_id:
            self._cid_by_vid[vo.venue_order_id] = vo.client_order_id
        status = convert.STATUS.get(vo.status, OrderStatus.ACCEPTED)
        if vo.status == "open":
            self._working.setdefault(vo.client_order_id, Decimal(vo.filled_quantity))
        self._emit(ExecutionReport(self.name, vo.client_order_id, status, self.clock.now(), vo.venue_order_id))

    async def _lookup(self, cid: str, symbol: str) -> VenueOrder | None:
        """One look by client id; a failed look is not a "not found"."""
        try:
            return await self.fetch_order(cid, symbol)
        except Exception as exc:
            log.info("%s: lookup of %s failed: %s", self.name, cid, exc)
            return None

    # -- cancel and amend ------------------------------------------------------------------------

    async def cancel_order(self, order: Order) -> None:
        import ccxt

        _, param = exchanges.client_id_params(self.exchange_id)
        await self.order_bucket.take()
        sent = time.monotonic()
        try:
            vid = order.venue_order_id
            if not param and not vid:  # cancel by venue id only: find it by ours first
                found = await self.fetch_order(order.client_order_id, order.symbol)
                vid = found.venue_order_id if found else None
                if not vid:
                    raise VenueError(f"{self.name}: order {order.client_order_id} not found")
            await self._rest(
                self._ex.cancel_order,
                vid or "",
                order.symbol,
                {param: order.client_order_id} if param else {},
                what="cancel order",
            )
        except VenueError as exc:
            self._emit(
                ExecutionReport(
                    self.name,
                    order.client_order_id,
                    None,
                    self.clock.now(),
                    order.venue_order_id,
                    f"cancel refused: {exc}",
                )
            )
            return
        except ccxt.BaseError as exc:  # pragma: no cover - _rest wraps these
            raise VenueError(self._safe(exc)) from None
        self._working.pop(order.client_order_id, None)
        self.streams.expect(self._owes, order.client_order_id, since=sent)
        self._emit(
            ExecutionReport(
                self.name,
                order.client_order_id,
                OrderStatus.CANCELLED,
                self.clock.now(),
                order.venue_order_id,
                "cancelled",
            )
        )

    async def amend_order(
        self, order: Order, quantity: Decimal | None = None, price: Decimal | None = None
    ) -> None:
        """Change price/quantity in place where the exchange can (`capabilities.amend`)."""
        if not self.capabilities.amend:
            raise VenueError(f"{self.exchange_id} cannot amend orders; cancel and replace instead")
        symbol, typ, side, qty, px, params = self._order_args(order)
        await self.order_bucket.take()
        await self._rest(
            self._ex.edit_order,
            order.venue_order_id,
            symbol,
            typ,
            side,
            float(quantity) if quantity is not None else qty,
            float(price) if price is not None else px,
            params,
            what="amend order",
        )

