"""The Alpaca adapter's orders: submit once, cancel, and the market-hours rules.

An order is sent once. Alpaca's answer decides what it is: 429 (the rate limiter refused it:
nothing made; sent once more after the wait Alpaca asks for, if short), 401 / 403 / other 4xx
(refused, with Alpaca's message), 422 "client_order_id must be unique" (it exists: looked up),
5xx or no answer (a timeout, a reset connection: unknown). An unknown order is looked up once
at once; if that does not find it, `create_order` raises `OutcomeUnknown` and the engine keeps
it `unknown` and keeps asking Alpaca by client order id. It is never sent a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.enums import AssetClass, OrderStatus, OrderType, TimeInForce
from tui_trader.core.events import ExecutionReport
from tui_trader.core.instrument import Instrument
from tui_trader.core.orders import Order
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.alpaca import convert
from tui_trader.venues.alpaca.hours import MarketClock
from tui_trader.venues.alpaca.streams import PRIVATE
from tui_trader.venues.base import Emit, OutcomeUnknown, VenueError, VenueOrder
from tui_trader.venues.ratelimit import RATE_LIMIT_TRIES, RateGate
from tui_trader.venues.resilience import TokenBucket
from tui_trader.venues.streams import StreamBoard

log = logging.getLogger(__name__)


class AlpacaOrders:
    """Mixed into AlpacaVenue, whose clients, buckets and lookups it uses."""

    name: str
    settings: VenueSettings
    clock: Clock
    hours: MarketClock
    instruments: dict[str, Instrument]
    streams: StreamBoard
    rate_gate: RateGate
    order_bucket: TokenBucket
    counters: dict[str, int]
    _trading: Any
    _credentials: Credentials
    _emit: Emit
    _cid_by_vid: dict[str, str]
    _working: dict[str, Decimal]

    if TYPE_CHECKING:  # provided by AlpacaVenue and AlpacaHistory

        def _safe(self, exc: BaseException) -> str: ...

        async def _rest(self, fn: Any, *args: Any, what: str, attempts: int = 5) -> Any: ...

        def _rate_limited(self, exc: Any) -> None: ...

        async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrder | None: ...

    # -- the order's shape ------------------------------------------------------------------------

    def _time_in_force(self, order: Order, qty: Decimal, crypto: bool, extended: bool) -> Any:
        from alpaca.trading.enums import TimeInForce as Tif

        tif = order.time_in_force
        if crypto:
            return Tif.IOC if tif is TimeInForce.IOC else Tif.GTC
        if extended or qty != qty.to_integral_value():  # Alpaca: fractional and extended are DAY only
            return Tif.DAY
        return {TimeInForce.DAY: Tif.DAY, TimeInForce.IOC: Tif.IOC, TimeInForce.FOK: Tif.FOK}.get(tif, Tif.GTC)

    def _order_request(self, order: Order, extended: bool) -> Any:
        from alpaca.trading.enums import OrderSide
        from alpaca.trading.requests import (
            LimitOrderRequest,
            MarketOrderRequest,
            StopLimitOrderRequest,
            StopOrderRequest,
        )

        inst = self.instruments.get(order.symbol)
        qty = inst.round_qty(order.quantity) if inst else order.quantity
        crypto = inst is not None and inst.asset_class is AssetClass.CRYPTO

        def px(value: Decimal | None) -> float | None:
            if value is None:
                return None
            return float(inst.round_price(value) if inst else value)

        common: dict[str, Any] = {
            "symbol": order.symbol,
            "qty": float(qty),
            "side": OrderSide(order.side.value),
            "time_in_force": self._time_in_force(order, qty, crypto, extended),
            "client_order_id": order.client_order_id,
        }
        if extended:
            common["extended_hours"] = True
        if order.type is OrderType.MARKET:
            return MarketOrderRequest(**common)
        if order.type is OrderType.LIMIT:
            return LimitOrderRequest(limit_price=px(order.price), **common)
        if order.type is OrderType.STOP:
            return StopOrderRequest(stop_price=px(order.stop_price), **common)
        if order.type is OrderType.STOP_LIMIT:
            return StopLimitOrderRequest(limit_price=px(order.price), stop_price=px(order.stop_price), **common)
        raise VenueError(f"{order.type.value} orders are emulated by the engine, not sent to Alpaca")

    def _session_check(self, order: Order) -> tuple[str | None, bool]:
        """(refusal, extended): outside the regular session only extended-hours limit orders go."""
        inst = self.instruments.get(order.symbol)
        if inst is not None and inst.always_open:
            return None, False
        if self.hours.open_at(self.clock.now()):
            return None, False
        if order.type is not OrderType.LIMIT:
            how = (
                "extended hours take limit orders only: use --type limit --price P"
                if self.settings.extended_hours
                else f"set extended_hours = true in [venues.{self.name}] to trade pre- and "
                "after-market with limit orders, or wait for the open"
            )
            return f"market closed: Alpaca takes no {order.type.value} orders outside regular hours; {how}", False
        if not self.settings.extended_hours:
            return "market closed: the regular session is over; set extended_hours = true to trade it", False
        return None, True

    # -- submit ----------------------------------------------------------------------------------

    async def create_order(self, order: Order) -> None:
        import requests
        from alpaca.common.exceptions import APIError

        cid = order.client_order_id
        refusal, extended = self._session_check(order)
        if refusal:
            self._reject(cid, refusal)
            return
        try:
            request = self._order_request(order, extended)
        except (ValueError, VenueError) as exc:  # alpaca-py's own validation (pydantic): nothing sent
            self._reject(cid, f"alpaca refused the order shape: {exc}".splitlines()[0])
            return
        for attempt in range(RATE_LIMIT_TRIES):  # sent again only after a 429, which made nothing
            if refusal := await self.rate_gate.admit(self.order_bucket):
                self._reject(cid, refusal)
                return
            sent = time.monotonic()
            try:
                placed = await asyncio.to_thread(self._trading.submit_order, request)
            except APIError as exc:
                status = exc.status_code or 0
                if status == 429:  # refused by the rate limiter: nothing was made
                    self._rate_limited(exc)
                    if attempt < RATE_LIMIT_TRIES - 1 and not self.rate_gate.refusal():
                        continue
                    self._reject(cid, self.rate_gate.refusal() or f"not sent: {self._message(exc)}")
                    return
                if status == 401:
                    self._reject(cid, f"authentication failed; run `tui-trader keys set {self.name}`")
                    return
                if "client_order_id" in str(exc) and "unique" in str(exc):  # Alpaca has it already
                    await self._ask(cid, "Alpaca already has this client order id")
                    return
                if 400 <= status < 500:
                    self._reject(cid, self._message(exc))
                    return
                await self._ask(cid, f"HTTP {status} {self._message(exc)}")  # 5xx: unknown
                return
            except requests.RequestException as exc:  # timeout / network: outcome unknown
                await self._ask(cid, self._safe(exc))
                return
            self.rate_gate.ok()
            vid = str(placed.id)
            self._cid_by_vid[vid] = cid
            status_ = convert.enum_value(placed.status)
            report = OrderStatus.REJECTED if status_ == "rejected" else OrderStatus.ACCEPTED
            if report is OrderStatus.ACCEPTED:
                self._working.setdefault(cid, Decimal(0))
                self.streams.expect(PRIVATE, cid, since=sent)  # trade_updates owes its news
            self._emit(ExecutionReport(self.name, cid, report, self.clock.now(), vid,
                                       "alpaca: rejected" if report is OrderStatus.REJECTED else None))
            return

    async def _ask(self, cid: str, why: str) -> None:
        """The order may exist: one look by client id now; if that does not settle it, the
        engine keeps asking (`OutcomeUnknown`). Never sent again."""
        log.warning("%s: submit %s: %s; looking it up by client order id", self.name, cid, why)
        existing = await self._lookup(cid)
        if existing is not None:
            self.counters["found_by_client_id"] += 1
            self._report_found(existing)
            return
        raise OutcomeUnknown(f"{self.name}: {why}")

    def _message(self, exc: BaseException) -> str:
        with contextlib.suppress(Exception):
            return self._credentials.redact(str(exc.message))  # type: ignore[attr-defined]
        return self._safe(exc)

    def _reject(self, cid: str, reason: str) -> None:
        self._emit(ExecutionReport(self.name, cid, OrderStatus.REJECTED, self.clock.now(), None, reason))

    def _report_found(self, vo: VenueOrder) -> None:
        if vo.venue_order_id:
            self._cid_by_vid[vo.venue_order_id] = vo.client_order_id
        if vo.status == "open":
            self._working.setdefault(vo.client_order_id, Decimal(vo.filled_quantity))
        status = convert.EVENT_STATUS.get(vo.status, OrderStatus.ACCEPTED)
        self._emit(ExecutionReport(self.name, vo.client_order_id, status, self.clock.now(), vo.venue_order_id))

    async def _lookup(self, cid: str) -> VenueOrder | None:
        """One look by client id; a failed look is not a "not found"."""
        try:
            return await self.fetch_order(cid, "")
        except Exception as exc:
            log.info("%s: lookup of %s failed: %s", self.name, cid, exc)
            return None

    # -- cancel and amend ------------------------------------------------------------------------

    async def amend_order(
        self, order: Order, quantity: Decimal | None = None, price: Decimal | None = None
    ) -> None:
        """Not in place here (`capabilities.amend` is false): the engine cancels and replaces."""
        raise VenueError("Alpaca does not amend orders in place; cancel and replace instead")

    async def cancel_order(self, order: Order) -> None:
        vid = order.venue_order_id
        if vid is None:
            found = await self._lookup(order.client_order_id)
            vid = found.venue_order_id if found else None
        if vid is None:
            self._cancel_refused(order, "Alpaca does not know this order")
            return
        await self.order_bucket.take()
        sent = time.monotonic()
        try:
            await self._rest(self._trading.cancel_order_by_id, vid, what="cancel order")
            after = await self._rest(self._trading.get_order_by_id, vid, what="order after cancel")
        except VenueError as exc:
            self._cancel_refused(order, str(exc))
            return
        self.streams.expect(PRIVATE, order.client_order_id, since=sent)
        if convert.enum_value(after.status) == "canceled":
            self._working.pop(order.client_order_id, None)
            self._emit(ExecutionReport(self.name, order.client_order_id, OrderStatus.CANCELLED,
                                       self.clock.now(), vid, "cancelled"))
        # otherwise Alpaca is still cancelling: the trade update says how it ended

    def _cancel_refused(self, order: Order, why: str) -> None:
        self._emit(ExecutionReport(self.name, order.client_order_id, None, self.clock.now(),
                                   order.venue_order_id, f"cancel refused: {why}"))
