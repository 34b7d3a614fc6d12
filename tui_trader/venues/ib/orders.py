"""The IB adapter's orders: send once, cancel, look up, and what IB's messages say about them.

IB keeps our client order id as the order's `orderRef` (and on each execution), so an order
whose answer was lost is found by it among IB's open orders, completed orders and executions:
a positive answer only; "not there" stays `unknown` until it is final (never resent).

Placing an order writes one message to the socket; IB answers with the order's status
(PreSubmitted / Submitted: accepted) or an error for its id. Within `ack_timeout_s`:

- an IB rejection (201 rejected, 200 no such security, 103 duplicate id, 110 bad price tick,
  203 not allowed, 434 zero size): `rejected`, with IB's words;
- 399 (held until the market opens) and the like: accepted, with a notice;
- no answer, the socket closing, 100 (too many messages) or 1100 (IB's servers lost), or any
  code we do not know: the outcome is unknown, looked up by orderRef, never sent again.

No answer at all (while the Gateway answers its heartbeat) also makes order requests suspect:
the venue is `degraded` and refuses new orders until IB answers an order request (the lookup,
an order status, the open orders the watchdog keeps asking for); a lookup unanswered too opens
the socket again, once.

ib_async marks an order `Cancelled` by itself on any error for it; those statuses (their log
entry carries the error code) are ignored here: only IB's own order status or its 202
"Order Canceled" end an order. Fills are IB's executions, each with IB's `execId`, reported
once its commission report arrives (or after `COMMISSION_WAIT_S` without one).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.core.enums import OrderStatus, OrderType
from tui_trader.core.errors import UserError
from tui_trader.core.events import ExecutionReport
from tui_trader.core.fills import Fill
from tui_trader.core.orders import Order
from tui_trader.venues.base import OutcomeUnknown, VenueError, VenueOrder
from tui_trader.venues.ib import convert
from tui_trader.venues.seen import SeenIds

if TYPE_CHECKING:
    from tui_trader.config.venues import VenueSettings
    from tui_trader.core.clock import Clock
    from tui_trader.core.instrument import Instrument
    from tui_trader.venues.base import Emit
    from tui_trader.venues.ib.heartbeat import Heartbeat
    from tui_trader.venues.resilience import ConnectionMonitor, TokenBucket
    from tui_trader.venues.streams import StreamBoard

log = logging.getLogger(__name__)

PRIVATE = "orders"
REJECTS = frozenset({103, 110, 200, 201, 203, 434})
HELD = frozenset({399, 404})  # accepted, held (market closed, shares to locate)
CANCEL_REFUSED = frozenset({161, 10147, 10148})
COMMISSION_WAIT_S = 1.0


class IBOrders:
    """Mixed into IBVenue, whose connection it uses."""

    name: str
    settings: VenueSettings
    clock: Clock
    ib: Any
    account: str
    instruments: dict[str, Instrument]
    streams: StreamBoard
    monitor: ConnectionMonitor
    order_bucket: TokenBucket
    ack_timeout_s: float
    request_timeout_s: float
    counters: dict[str, int]
    _emit: Emit
    _contracts: dict[str, Any]
    _working: dict[str, Decimal]
    _link_lost: str
    _hung: bool
    heartbeat: Heartbeat
    _reconnecting: bool

    if TYPE_CHECKING:  # provided by IBVenue

        def _connected(self) -> bool: ...

        def _refusal(self) -> str: ...

        def _start_reconnect(self, why: str) -> None: ...

        def _regular(self, symbol: str, now: datetime) -> bool: ...

        def market_open(self, symbol: str, now: datetime) -> bool: ...

        def _notice(self, level: str, text: str) -> None: ...

        def _alive(self) -> None: ...

    def _init_orders(self) -> None:
        self._acks: dict[int, asyncio.Future[tuple[str, str]]] = {}  # orderId -> (outcome, words)
        self._cid_by_id: dict[int, str] = {}
        self._ended: set[str] = set()  # cids whose end (cancelled, rejected) was reported
        self._seen = SeenIds()
        self._waiting_fee: dict[str, asyncio.TimerHandle] = {}
        self._req_lock = asyncio.Lock()
        self._looked_up_fills: dict[str, list[Fill]] = {}  # cid -> its executions, from the last lookup
        self._orders_quiet = ""  # an order request IB left unanswered (the heartbeat answered), until one is
        self._orders_reopened = False  # the socket was opened again for it (once)

    # -- sending --------------------------------------------------------------------------------

    def _reject(self, cid: str, reason: str) -> None:
        self._emit(ExecutionReport(self.name, cid, OrderStatus.REJECTED, self.clock.now(), None, reason))

    async def create_order(self, order: Order) -> None:
        from ib_async import Order as IBOrder
        from ib_async import Stock

        cid = order.client_order_id
        refusal = self._refusal()
        if refusal:
            self._reject(cid, f"not sent: {refusal}")
            return
        now = self.clock.now()
        extended = False
        outside = self._contracts.get(order.symbol) is not None and not self._regular(order.symbol, now)
        if outside and self.settings.extended_hours and self.market_open(order.symbol, now):
            if order.type is not OrderType.LIMIT:
                self._reject(cid, f"market closed: outside regular hours this adapter sends limit orders only, "
                                  f"not {order.type.value}")  # fmt: skip
                return
            extended = True
        try:
            fields = convert.order_fields(order, self.instruments.get(order.symbol), extended)
        except UserError as exc:
            self._reject(cid, str(exc))
            return
        if fields["orderType"] == "MKT" and fields["tif"] == "GTC":
            fields["tif"] = "DAY"
        await self.order_bucket.take()
        contract = self._contracts.get(order.symbol) or Stock(order.symbol, "SMART", "USD")
        try:
            trade = self.ib.placeOrder(contract, IBOrder(account=self.account, **fields))
        except ConnectionError:  # raised before anything is written: nothing was sent
            self._reject(cid, "not sent: the connection to TWS / IB Gateway closed")
            return
        oid = int(trade.order.orderId)
        self._cid_by_id[oid] = cid
        self._working[cid] = Decimal(0)  # before any message about it can be read: fills count from here
        ack: asyncio.Future[tuple[str, str]] = asyncio.get_running_loop().create_future()
        self._acks[oid] = ack
        sent = time.monotonic()
        try:
            outcome, words = await asyncio.wait_for(asyncio.shield(ack), self.ack_timeout_s)
        except TimeoutError:
            outcome, words = "unknown", f"no answer from IB within {self.ack_timeout_s:g}s"
            if not self._hung:  # a hung Gateway says so itself; else the order requests are suspect
                self._orders_unanswered(f"order {cid}", self.ack_timeout_s, sent, reopen=False)
        finally:
            self._acks.pop(oid, None)
        if outcome == "ack":
            self.streams.arrived(PRIVATE, cid)
            self._emit(ExecutionReport(self.name, cid, OrderStatus.ACCEPTED, self.clock.now(), str(oid)))
            if words:
                self._notice("warning", f"{cid}: {words}")
        elif outcome == "reject":
            self._ended.add(cid)
            self._working.pop(cid, None)
            self._reject(cid, words)
        elif outcome == "cancelled":
            self._emit(ExecutionReport(self.name, cid, OrderStatus.ACCEPTED, self.clock.now(), str(oid)))
            self._end(cid, oid, OrderStatus.CANCELLED, words)
        else:
            log.info("%s: %s sent %.1fs ago: %s", self.name, cid, time.monotonic() - sent, words)
            silent = self.heartbeat.sent_at is not None and not self.heartbeat.answered_since(sent)
            if silent and self._connected():  # (closed: the lookup fails at once, saying so)
                self._working.pop(cid, None)  # a lookup would wait on the same silent socket
                raise OutcomeUnknown(f"{self.name}: {words}; IB Gateway has not answered its heartbeat either: the "
                                     f"order is looked for at IB by its orderRef ({cid}) once it answers")  # fmt: skip
            await self._ask(order, words)

    def _orders_unanswered(self, what: str, waited: float, since: float, *, reopen: bool) -> None:
        """IB left an order request (asked at `since`) unanswered: `degraded`, new orders
        refused; `reopen`: the socket is opened again (once a time), if the Gateway answered
        its heartbeat meanwhile (else the heartbeat decides whether it is hung, and says so)."""
        alive = self.heartbeat.answered_since(since)
        if not self._orders_quiet:
            says = "; it answers reqCurrentTime" if alive else ""
            self._orders_quiet = f"IB Gateway not answering order requests ({what} unanswered for {waited:g} s{says})"
            self._notice("warning", f"{self._orders_quiet}; new orders are refused unsent")
            if not self._reconnecting:
                self.monitor.degraded(f"{self._orders_quiet}; new orders refused")
        if reopen and alive and not self._orders_reopened:
            self._orders_reopened = True
            self._start_reconnect(self._orders_quiet)

    def _orders_answered(self) -> None:
        """IB answered an order request: the orders path works; `connected` (reconciled) when
        nothing else is wrong."""
        if not self._orders_quiet:
            return
        self._orders_quiet = ""
        self._orders_reopened = False
        self._notice("info", "IB Gateway answers order requests again")
        if not (self._hung or self._reconnecting or self._link_lost):
            self.monitor.recovered("IB Gateway answers order requests again")  # the engine reconciles on this

    def _fail_acks(self, why: str) -> None:
        """The socket went: every order still waiting for its answer is of unknown fate."""
        for ack in list(self._acks.values()):
            if not ack.done():
                ack.set_result(("unknown", f"the connection closed before IB answered ({why})"))

    async def _ask(self, order: Order, why: str) -> None:
        """The order may exist: one look by orderRef now; if that does not settle it, the
        engine keeps asking (`OutcomeUnknown`). Never sent again."""
        cid = order.client_order_id
        log.warning("%s: submit %s: %s; looking for it at IB by its orderRef", self.name, cid, why)
        try:
            found = await self.fetch_order(cid, order.symbol)
        except Exception as exc:  # a failed look is not a "not found"
            log.info("%s: looking for %s failed: %s", self.name, cid, exc)
            found = None
        self._working.pop(cid, None)
        if found is not None:
            self.counters["found_by_lookup"] += 1
            self._emit(ExecutionReport(self.name, cid, OrderStatus.ACCEPTED, self.clock.now(), found.venue_order_id))
            for fill in self._looked_up_fills.pop(cid, []):  # what it did while we could not hear
                self._apply_fill(fill)
            if found.status == "open":  # what IB says it has filled, all of it reported now
                self._working[cid] = Decimal(found.filled_quantity)
            if found.status == "canceled":
                self._end(cid, int(found.venue_order_id or 0), OrderStatus.CANCELLED, "ib: Cancelled")
            return
        raise OutcomeUnknown(f"{self.name}: {why}; the order is looked for at IB by its orderRef ({cid})")

    # -- cancel -------------------------------------------------------------------------------

    async def amend_order(self, order: Order, quantity: Decimal | None = None, price: Decimal | None = None) -> None:
        raise VenueError("the IB adapter cancels and replaces instead of modifying in place")

    async def cancel_order(self, order: Order) -> None:
        from ib_async import Order as IBOrder

        cid = order.client_order_id
        if not self._connected():
            self._cancel_refused(order, "not connected to TWS / IB Gateway (reconnecting); ask again when it is back")
            return
        oid = self._order_id_of(order)
        if oid is None:
            self._cancel_refused(order, "IB does not know this order (yet)")
            return
        trade = next((t for t in self.ib.trades() if t.order.orderId == oid and t.order.clientId
                      == self.settings.ib_client_id), None)  # fmt: skip
        await self.order_bucket.take()
        self.streams.expect(PRIVATE, cid, since=time.monotonic())
        try:
            self.ib.cancelOrder(trade.order if trade is not None else IBOrder(orderId=oid))
        except ConnectionError:
            self._cancel_refused(order, "the connection to TWS / IB Gateway closed; nothing was sent")

    def _order_id_of(self, order: Order) -> int | None:
        if order.venue_order_id and order.venue_order_id.isdigit():
            return int(order.venue_order_id)
        for oid, cid in self._cid_by_id.items():
            if cid == order.client_order_id:
                return oid
        for t in self.ib.trades():
            if t.order.orderRef == order.client_order_id and t.order.orderId:
                return int(t.order.orderId)
        return None

    def _cancel_refused(self, order: Order, why: str) -> None:
        self._emit(ExecutionReport(self.name, order.client_order_id, None, self.clock.now(),
                                   order.venue_order_id, f"cancel refused: {why}"))  # fmt: skip

    # -- what IB says ---------------------------------------------------------------------------

    def _cid_of_trade(self, trade: Any) -> str:
        return self._cid_by_id.get(int(trade.order.orderId or -1)) or convert.cid_of(trade.order, self.name)

    def _on_status(self, trade: Any) -> None:
        if trade.log and trade.log[-1].errorCode:
            return  # ib_async's own conclusion from an error: `_order_error` decides
        status = trade.orderStatus.status
        oid = int(trade.order.orderId or 0)
        cid = self._cid_of_trade(trade)
        self._orders_answered()
        self.streams.message(PRIVATE)
        self.streams.arrived(PRIVATE, cid)
        ack = self._acks.get(oid)
        if status in ("PreSubmitted", "Submitted", "Filled", "PendingCancel"):
            if ack is not None and not ack.done():
                ack.set_result(("ack", ""))
            if status == "Filled":
                self._working.pop(cid, None)
        elif status in ("Cancelled", "ApiCancelled"):
            if ack is not None and not ack.done():
                ack.set_result(("cancelled", f"ib: {status}"))
            else:
                self._end(cid, oid, OrderStatus.CANCELLED, f"ib: {status}")
        elif status == "Inactive":
            self._notice("warning", f"{cid}: IB shows the order Inactive (not working at the exchange)")

    def _end(self, cid: str, oid: int, status: OrderStatus, reason: str) -> None:
        self._working.pop(cid, None)
        if cid in self._ended:
            return
        self._ended.add(cid)
        self._emit(ExecutionReport(self.name, cid, status, self.clock.now(), str(oid), reason))

    def _order_error(self, oid: int, code: int, text: str) -> None:
        cid = self._cid_by_id.get(oid, "")
        ack = self._acks.get(oid)
        words = f"ib {code}: {' '.join(text.split())}"
        pending = ack is not None and not ack.done()
        if code in HELD:
            if pending:
                assert ack is not None
                ack.set_result(("ack", words))
            elif cid:
                self._notice("warning", f"{cid}: {words}")
            return
        if code == 202:  # Order Canceled: IB's own word
            if pending:
                assert ack is not None
                ack.set_result(("cancelled", words))
            elif cid:
                self._end(cid, oid, OrderStatus.CANCELLED, words)
            return
        if code in CANCEL_REFUSED and cid:
            self._emit(ExecutionReport(self.name, cid, None, self.clock.now(), str(oid), f"cancel refused: {words}"))
            return
        if code == 100:
            self.counters["pacing"] += 1
        if pending:
            assert ack is not None
            ack.set_result(("reject" if code in REJECTS else "unknown", words))
            return
        if cid:
            self._notice("warning", f"{cid}: {words}")
        else:
            log.info("%s: IB message %s for id %s: %s", self.name, code, oid, text)

    def _on_exec(self, trade: Any, fill: Any) -> None:
        self._alive()
        cid = self._cid_of_trade(trade) if trade is not None else ""
        self.streams.message(PRIVATE)
        if cid:
            self.streams.arrived(PRIVATE, cid)
        exec_id = fill.execution.execId
        if exec_id in self._seen or exec_id in self._waiting_fee:
            return
        loop = asyncio.get_running_loop()
        self._waiting_fee[exec_id] = loop.call_later(COMMISSION_WAIT_S, self._report_fill, trade, fill)

    def _on_commission(self, trade: Any, fill: Any, _report: Any) -> None:
        handle = self._waiting_fee.get(fill.execution.execId)
        if handle is not None:
            handle.cancel()
            self._report_fill(trade, fill)

    def _report_fill(self, trade: Any, fill: Any) -> None:
        self._waiting_fee.pop(fill.execution.execId, None)
        ours = convert.fill(self.name, trade.order if trade is not None else None, fill)
        if trade is not None and not fill.execution.orderRef:
            ours = _with_cid(ours, self._cid_of_trade(trade))
        self._apply_fill(ours)

    def _apply_fill(self, fill: Fill) -> None:
        if not self._first_sighting(fill.fill_id):
            return
        if fill.client_order_id in self._working:
            self._working[fill.client_order_id] += fill.quantity
        self._emit(ExecutionReport(self.name, fill.client_order_id, None, fill.ts, fill.venue_order_id, None, fill))

    def _first_sighting(self, fill_id: str) -> bool:
        if self._seen.first(fill_id):
            return True
        self.counters["duplicate_fills"] += 1
        return False

    # -- reconciliation: IB's answers to fresh requests -------------------------------------------

    async def _fresh(self, what: str, request: Any) -> Any:
        if not self._connected():
            raise VenueError(f"{self.name}: {what}: not connected to TWS / IB Gateway")
        async with self._req_lock:  # ib_async keys open/completed order requests by name
            asked = time.monotonic()
            try:
                answer = await asyncio.wait_for(request(), self.request_timeout_s)
            except TimeoutError:
                if not self._hung and self._connected():
                    self._orders_unanswered(f"the request for {what}", self.request_timeout_s, asked, reopen=True)
                raise VenueError(f"{self.name}: {what}: no answer from IB within {self.request_timeout_s:g}s") from None
        self._orders_answered()
        return answer

    async def _executions(self) -> list[Any]:
        """IB's executions (reqExecutions), each as ib_async keeps it. For an execution it
        already knows, ib_async answers a new Fill whose commission report stays empty (IB's
        report goes to the Fill it kept): read from the answer, its fee was 0."""
        fills = await self._fresh("executions", self.ib.reqExecutionsAsync)
        kept = self.ib.wrapper.fills
        return [kept.get(f.execution.execId, f) for f in fills]

    async def fetch_open_orders(self) -> list[VenueOrder]:
        trades = await self._fresh("open orders", self.ib.reqOpenOrdersAsync)
        out = [convert.venue_order(t, self.name) for t in trades]
        return [_with_order_cid(vo, self._cid_by_id) for vo in out if vo.status == "open"]

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrder | None:
        """Our order at IB by its orderRef: open, completed, or known by its executions. None:
        IB shows none; a failed request raises (the order stays as it is)."""
        open_ = await self._fresh("open orders", self.ib.reqOpenOrdersAsync)
        done = await self._fresh("completed orders", lambda: self.ib.reqCompletedOrdersAsync(False))
        fills = await self._executions()
        self._looked_up_fills[client_order_id] = [
            convert.fill(self.name, None, f) for f in fills if f.execution.orderRef == client_order_id
        ]
        mine = {int(t.order.permId or 0): t for t in [*done, *open_] if t.order.orderRef == client_order_id}
        filled = sum((convert.dec(f.execution.shares) for f in fills if f.execution.orderRef == client_order_id),
                     Decimal(0))  # fmt: skip
        if len(mine) > 1:
            raise VenueError(f"{self.name}: {len(mine)} orders at IB carry orderRef {client_order_id}; it stays "
                             "unknown: cancel the extra ones")  # fmt: skip
        if mine:
            vo = convert.venue_order(next(iter(mine.values())), self.name)
            if filled > Decimal(vo.filled_quantity):
                vo = _replace(vo, filled_quantity=str(filled))
            return vo
        ex = next((f for f in fills if f.execution.orderRef == client_order_id), None)
        if ex is not None:  # executions without the order: it exists and traded this much
            return VenueOrder(client_order_id, str(ex.execution.orderId), symbol,
                              "buy" if ex.execution.side == "BOT" else "sell", "market", str(filled), str(filled),
                              None, "open", ex.execution.time)  # fmt: skip
        return None

    async def fetch_fills(self, since: datetime | None = None) -> list[Fill]:
        """IB's executions (the current day's, or as many days as TWS keeps), from `since`."""
        fills = await self._executions()
        trades = {int(t.order.permId or 0): t for t in self.ib.trades()}
        out = []
        for f in fills:
            t = trades.get(int(f.execution.permId or 0))
            ours = convert.fill(self.name, t.order if t is not None else None, f)
            if since is None or ours.ts >= since:
                out.append(ours)
        return out


def _replace(vo: VenueOrder, **changes: Any) -> VenueOrder:
    from dataclasses import replace

    return replace(vo, **changes)


def _with_cid(fill: Fill, cid: str) -> Fill:
    from dataclasses import replace

    return replace(fill, client_order_id=cid)


def _with_order_cid(vo: VenueOrder, cids: dict[int, str]) -> VenueOrder:
    if vo.venue_order_id and vo.venue_order_id.isdigit() and int(vo.venue_order_id) in cids:
        return _replace(vo, client_order_id=cids[int(vo.venue_order_id)])
    return vo
