"""The order manager: persists every order before sending it, applies venue reports in order,
keeps positions from fills, and never drops or double-counts a fill."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from tui_trader.core.clock import Clock
from tui_trader.core.enums import OrderStatus
from tui_trader.core.events import EventSink, ExecutionReport, FillEvent, NoticeEvent, OrderEvent, PositionEvent
from tui_trader.core.fills import Fill
from tui_trader.core.isotime import iso
from tui_trader.core.orders import Order, can_transition
from tui_trader.core.positions import Position
from tui_trader.execution.eager import start_now
from tui_trader.execution.order_table import OrderTable
from tui_trader.execution.portfolio import Portfolio
from tui_trader.store.db import Store, StoreWriteError
from tui_trader.venues.base import Venue
from tui_trader.venues.resilience import stop_tasks

log = logging.getLogger(__name__)
ZERO = Decimal(0)
SEND_DRAIN_S = 5.0  # at stop, how long sends on the wire get to finish (the rest: the next start reconciles)


class OrderManager:
    def __init__(
        self,
        store: Store,
        bus: EventSink,
        clock: Clock,
        venues: dict[str, Venue],
        portfolio: Portfolio,
        minted: Callable[[str], bool] = lambda cid: False,
    ) -> None:
        self.store = store
        self.minted = minted  # ids the engine just made need no look-up in the database
        self.bus = bus
        self.clock = clock
        self.venues = venues
        self.portfolio = portfolio
        self.orders = OrderTable()  # open orders, plus the most recent final ones
        self._reports: deque[ExecutionReport] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._acks: dict[str, asyncio.Future[Order]] = {}
        self._sending: set[asyncio.Future[bool]] = set()  # sends whose caller may have stopped waiting
        self._task: asyncio.Task[None] | None = None
        # One drain of the queued reports at a time, in arrival order (`_drain_now`): `_busy`
        # while one runs, `_draining` its task once it waits for something (a write).
        self._busy = False
        self._draining: asyncio.Future[None] | None = None
        self.on_fill_hooks: list[Callable[[Order, Decimal], None]] = []
        self._seen_fills: set[tuple[str, str]] = set()  # (venue, fill_id); the DB also refuses repeats
        # (order, fill, position after it, P&L the fill realized): the risk engine's trade tracking
        self.fill_listeners: list[Callable[[Order, Fill, Position, Decimal], None]] = []
        # an order's submission outcome became unknown: the engine settles it with the venue
        self.on_unknown: list[Callable[[Order], None]] = []
        self._defer_final: set[str] = set()  # their final status stored with the next order (defer_final)

    # -- lifecycle ---------------------------------------------------------------------------

    async def restore(self) -> None:
        """Reload open orders and positions from the database after a restart."""
        for order in await self.store.load_orders(open_only=True):
            self.orders[order.client_order_id] = order
        for pos in await self.store.load_positions():
            self.portfolio.positions[(pos.venue, pos.symbol)] = pos
        self._seen_fills = await self.store.fill_ids()

    def start(self) -> None:
        self._task = asyncio.create_task(self._process(), name="oms-reports")

    async def stop(self) -> None:
        if self._sending:  # sends on the wire finish first (their answers are stored)
            _done, pending = await asyncio.wait(set(self._sending), timeout=SEND_DRAIN_S)
            for task in pending:  # left `new`: the next start's reconcile settles them
                task.cancel()
        await self.flush()
        await stop_tasks(self._task)
        self._task = None

    async def flush(self) -> None:
        """Wait until every report received so far is applied and stored."""
        if self._task is None:
            while self._reports:  # not started (tests, shutdown): apply inline
                await self.apply(self._reports.popleft())
            return
        self._drain_now()
        await self._idle.wait()

    # -- commands --------------------------------------------------------------------------

    def has_seen_fill(self, venue: str, fill_id: str) -> bool:
        return (venue, fill_id) in self._seen_fills

    def defer_final(self, client_order_id: str, on: bool = True) -> None:
        """The order's final status (its cancel, usually), once the venue reports it, stored
        in the transaction of the next order written rather than on its own
        (`Store.defer_order`): a protective stop's cancel, which an exit or a new stop follows
        at once. In memory and on the bus it is final at once, as ever. `on=False` takes it back."""
        if on:
            self._defer_final.add(client_order_id)
        else:
            self._defer_final.discard(client_order_id)

    def in_flight(self, client_order_id: str) -> bool:
        """Being submitted right now: a venue not listing it yet does not mean it never arrives."""
        return client_order_id in self._acks

    def open_orders(self) -> list[Order]:
        return self.orders.open()

    async def record_rejection(self, order: Order) -> Order:
        """Store an order refused before it reached a venue (risk, validation). Its id must be
        new: a refusal never overwrites a stored order (DuplicateOrderId)."""
        await self.store.insert_order(order)
        self.bus.publish(OrderEvent(order.copy()))
        return order

    async def submit(self, order: Order, *, wait_ack: float = 5.0) -> Order:
        """Persist, then send. Returns once the venue accepted or rejected it (or timed out)."""
        existing = self.orders.get(order.client_order_id)
        minted = existing is None and self.minted(order.client_order_id)
        if existing is None and not minted:
            existing = await self.store.get_order(order.client_order_id)  # a caller-chosen id may be old
        if existing is not None:  # an idempotent retry: never a second order
            return existing.copy()
        # Written before it is sent, and known in memory only once written: a failed write
        # (StoreWriteError) leaves no trace. An id the engine made is new: not looked up again.
        await self.store.insert_order(order, new=minted)
        self.orders[order.client_order_id] = order
        self.bus.publish(OrderEvent(order.copy()))
        return await self._send(order, order.copy(), wait_ack)

    async def hold(self, order: Order) -> Order:
        """Keep an order in the engine (emulated: trailing stop, bracket child, OCO leg) without sending it."""
        order.meta["held"] = True
        if order.status is OrderStatus.NEW:
            order.transition(OrderStatus.ACCEPTED, self.clock.now())
        await self.store.insert_order(order)  # in memory only once stored, as `submit`
        self.orders[order.client_order_id] = order
        self.bus.publish(OrderEvent(order.copy()))
        return order.copy()

    async def track(self, order: Order) -> Order:
        """Store and follow an order the engine works itself and never sends (a routed order's
        parent: its children are sent instead). Known in memory only once stored, as `submit`."""
        await self.store.insert_order(order)
        self.orders[order.client_order_id] = order
        self.bus.publish(OrderEvent(order.copy()))
        return order.copy()

    async def save_tracked(self, order: Order) -> None:
        """Store and publish a tracked order's new state."""
        await self.store.save_order(order)
        self.bus.publish(OrderEvent(order.copy()))

    async def release(self, client_order_id: str, *, wait_ack: float = 5.0, **outgoing: Any) -> Order:
        """Send a held order to its venue, as `outgoing` changes say (e.g. type=MARKET for a fired stop)."""
        order = self.orders[client_order_id]
        order.meta.pop("held", None)
        order.meta["released_at"] = self.clock.now().isoformat()
        if outgoing.get("type") is not None and outgoing["type"] != order.type:
            order.meta["released_as"] = str(outgoing["type"])
        await self.store.save_order(order)
        self.bus.publish(OrderEvent(order.copy()))
        return await self._send(order, replace(order.copy(), **outgoing), wait_ack)

    async def _send(self, order: Order, outgoing: Order, wait_ack: float) -> Order:
        cid = order.client_order_id
        ack: asyncio.Future[Order] = asyncio.get_running_loop().create_future()
        self._acks[cid] = ack
        order.meta["sent_at"] = iso(self.clock.now())  # stored with its next change
        # The send is a task of its own: a caller that stops waiting (a timeout, a client gone)
        # does not cut it off halfway, which left the order `new` and "in flight" for ever,
        # where no reconcile looks. It finishes, and the order settles as the venue's answer
        # says. An in-process venue (`answers_in_call`) is sent to at once, in this stack, up
        # to its first wait, where nothing can cancel it. Only such a venue: a network client
        # can start a timer in that stretch that captures the current task (aiohttp's does),
        # which would then be the caller's, and its timeout would cancel the caller, not the send.
        deliver = self._deliver(order, outgoing)
        if getattr(self.venues.get(order.venue), "answers_in_call", False):
            sending: asyncio.Future[bool] = start_now(deliver, name=f"send-{cid}")
        else:
            sending = asyncio.create_task(deliver, name=f"send-{cid}")
        if sending.done():
            delivered = sending.result()
        else:
            self._sending.add(sending)
            sending.add_done_callback(self._sending.discard)
            try:
                delivered = await asyncio.shield(sending)
            except asyncio.CancelledError:
                sending.add_done_callback(lambda _t: self._acks.pop(cid, None))
                raise
        if not delivered:
            return order.copy()
        self._drain_now()  # the venue's answer, if it came with the call, applied without a turn
        if ack.done():
            self._acks.pop(cid, None)
            return ack.result()
        try:
            # asyncio.wait, not wait_for: no timer bound to the current task (there may be none:
            # a strategy's decision is carried out where its frame is read) and the ack is left be
            done, _ = await asyncio.wait({ack}, timeout=wait_ack)
            return ack.result() if done else order.copy()
        finally:
            self._acks.pop(cid, None)

    async def _deliver(self, order: Order, outgoing: Order) -> bool:
        """Hand the order to its venue; False if the outcome is unknown (then it is `unknown`)."""
        try:
            await self.venues[order.venue].create_order(outgoing)
        except Exception as exc:  # the venue may or may not have it: unknown, never resent
            self._acks.pop(order.client_order_id, None)
            await self._unknown(order, exc)
            return False
        return True

    async def _unknown(self, order: Order, exc: BaseException) -> None:
        """The submission's outcome is unknown. The order is shown as `unknown` (the trader can
        cancel it) and settled by asking the venue; it is never sent again."""
        now = self.clock.now()
        cid = order.client_order_id
        log.warning("submit of %s: outcome unknown: %s", cid, exc)
        order.meta["submit_error"] = str(exc)
        if order.status is OrderStatus.NEW:  # a report may already have settled it
            order.transition(
                OrderStatus.UNKNOWN,
                now,
                f"{order.venue} did not confirm it ({exc}); looked up by client order id, never sent again",
            )
        await self.store.save_order(order)
        self.bus.publish(OrderEvent(order.copy()))
        if order.status is OrderStatus.UNKNOWN:
            self.bus.publish(
                NoticeEvent(
                    now,
                    "warning",
                    f"order {cid}: outcome unknown ({exc}); it is being looked up by its client order id "
                    f"and will not be sent again; `cancel {cid}` cancels it",
                    "oms",
                )
            )
            for hook in self.on_unknown:
                try:
                    hook(order.copy())
                except Exception:
                    log.exception("unknown-order hook failed")

    async def cancel(self, client_order_id: str) -> Order:
        order = self.orders.get(client_order_id)
        if order is None or not order.is_open:
            raise KeyError(client_order_id)
        await self.cancel_at_venue(order, "cancelled by user")
        await self.flush()
        return order.copy()

    async def cancel_at_venue(self, order: Order, reason: str) -> None:
        """Ask the venue to cancel (or cancel here an order the engine holds). An order whose
        submission is unknown is cancelled at the venue by client order id if it is there, and
        remembered as cancelled if it turns out it never arrived."""
        if order.meta.get("held"):  # never reached the venue: cancelled here
            await self.cancel_held(order, reason)
            return
        if order.status is OrderStatus.UNKNOWN and not order.meta.get("cancel_requested"):
            order.meta["cancel_requested"] = self.clock.now().isoformat()
            await self.store.save_order(order)
            self.bus.publish(OrderEvent(order.copy()))
        await self.venues[order.venue].cancel_order(order.copy())

    async def amended(self, client_order_id: str, *, price: Decimal | None, quantity: Decimal) -> Order:
        """The venue changed the order in place: store and publish its new price and quantity."""
        order = self.orders[client_order_id]
        order.price, order.quantity = price, quantity
        order.updated_at = self.clock.now()
        await self.store.save_order(order)
        self.bus.publish(OrderEvent(order.copy()))
        return order.copy()

    async def annotate(self, client_order_id: str, **meta: Any) -> None:
        """Add to an order's meta (e.g. which order it replaces) and store it."""
        order = self.orders.get(client_order_id)
        if order is not None:
            order.meta.update(meta)
            await self.store.save_order(order)
            self.bus.publish(OrderEvent(order.copy()))

    async def cancel_held(self, order: Order, reason: str) -> None:
        if order.is_open and order.meta.get("held"):
            order.transition(OrderStatus.CANCELLED, self.clock.now(), reason)
            await self.store.save_order(order)
            self.bus.publish(OrderEvent(order.copy()))

    # -- venue reports ---------------------------------------------------------------------

    def on_report(self, report: ExecutionReport) -> None:
        """Called from the venue's emit: queue it; one task applies reports in arrival order."""
        self._reports.append(report)
        self._idle.clear()
        self._wake.set()

    async def _process(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._reports or self._draining is not None:
                pending = self._draining or self._drain_now()
                if pending is not None and not pending.done():
                    await asyncio.wait({pending})  # never cancels the drain (a stop cancels this task)

    def _drain_now(self) -> asyncio.Future[None] | None:
        """Apply the queued reports now, in this stack, up to the first write that must wait for
        the database thread; the rest as a task of its own (`start_now`). One drain at a time:
        a second caller gets the running one (None while it runs without waiting). Not before
        `start` (then `flush` applies them)."""
        if self._busy:
            return self._draining
        if self._task is None or not self._reports:
            return None
        self._busy = True
        drain = start_now(self._drain(), name="oms-reports-drain")
        if drain.done():
            if not drain.cancelled() and drain.exception() is not None:
                log.error("applying reports failed", exc_info=drain.exception())
        else:
            self._draining = drain
        return drain

    async def _drain(self) -> None:
        try:
            while self._reports:
                report = self._reports.popleft()
                # A status a queued fill of the same order supersedes (accepted, then filled) need
                # not be written on its own: the fill's transaction stores the order. Only a fill:
                # a second status (the venue's "canceled" after our own cancel's) is a duplicate
                # that stores nothing, and the order would stay stored as it was (found by the soak).
                superseded = report.fill is None and any(
                    r.client_order_id == report.client_order_id and r.fill is not None for r in self._reports
                )
                try:
                    await self.apply(report, persist=not superseded)
                except StoreWriteError as exc:  # said once by the store; restart reconciles it
                    log.error("report for %s not stored: %s", report.client_order_id, exc)
                except Exception:
                    log.exception("failed to apply report %s", report)
            self._idle.set()
        finally:
            self._busy = False
            self._draining = None

    async def apply(self, report: ExecutionReport, *, persist: bool = True) -> None:
        order = self.orders.get(report.client_order_id)
        if order is None:
            order = await self.store.get_order(report.client_order_id)
            if order is None and report.order is not None:  # the venue's own (liquidation, ADL)
                order = report.order.copy()
                self.orders[order.client_order_id] = order
                self.bus.publish(OrderEvent(order.copy()))
                await self.store.save_order(order)
            if order is None:
                log.warning("report for unknown order %s ignored (reconciliation imports it)", report.client_order_id)
                return
            self.orders[order.client_order_id] = order
        now = report.ts
        if report.venue_order_id and not order.venue_order_id:
            order.venue_order_id = report.venue_order_id
        if report.fill is not None:
            await self._apply_fill(order, report)
        elif report.status is not None:
            if order.status == report.status or not can_transition(order.status, report.status):
                self._resolve_ack(order)  # a released held order is acknowledged by a duplicate ACCEPTED
                return  # stale or duplicate status (out-of-order delivery)
            if order.status is OrderStatus.UNKNOWN:
                order.reason = None  # the venue answered: "did not confirm" no longer applies
            order.transition(report.status, now, report.reason)
            # Publish first (state in memory is consistent); the write follows before the
            # next report is applied, so the database never lags by more than one report.
            self.bus.publish(OrderEvent(order.copy()))
            self._resolve_ack(order)
            if persist and order.status.is_final and order.client_order_id in self._defer_final:
                self._defer_final.discard(order.client_order_id)
                self.store.defer_order(order)
            elif persist:
                await self.store.save_order(order)
        elif report.reason:
            self.bus.publish(NoticeEvent(now, "warning", f"order {order.client_order_id}: {report.reason}", "oms"))
        self._resolve_ack(order)

    async def _apply_fill(self, order: Order, report: ExecutionReport) -> None:
        fill = report.fill
        assert fill is not None
        key = (fill.venue, fill.fill_id)
        if key in self._seen_fills:
            return  # a duplicate fill: counted once
        self._seen_fills.add(key)
        prev = order.filled_quantity
        order.filled_quantity = prev + fill.quantity
        order.average_price = (
            (order.average_price or ZERO) * prev + fill.price * fill.quantity
        ) / order.filled_quantity
        order.fees += fill.quote_fee
        new_status = OrderStatus.FILLED if order.filled_quantity >= order.quantity else OrderStatus.PARTIALLY_FILLED
        if order.status is OrderStatus.UNKNOWN:
            order.reason = None  # a fill proves it reached the venue
        if can_transition(order.status, new_status):
            order.transition(new_status, fill.ts)
        realized_before = self.portfolio.position(fill.venue, fill.symbol).realized_pnl
        position = self.portfolio.apply_fill(fill)
        self.bus.publish(FillEvent(fill))
        self.bus.publish(OrderEvent(order.copy()))
        self.bus.publish(PositionEvent(position.copy()))
        self._resolve_ack(order)
        for hook in self.on_fill_hooks:
            try:
                hook(order, fill.quantity)
            except Exception:
                log.exception("fill hook failed")
        realized = position.realized_pnl - realized_before
        for listener in self.fill_listeners:
            try:
                listener(order, fill, position, realized)
            except Exception:
                log.exception("fill listener failed")
        # Everything in memory (positions, risk, strategies) has seen the fill before the first
        # await; the write follows before the next report is applied.
        if not await self.store.save_fill(fill, order, position, fill.ts):
            log.error("fill %s was already stored although not seen in this session", fill.fill_id)

    def _resolve_ack(self, order: Order) -> None:
        ack = self._acks.get(order.client_order_id)
        if ack is not None and not ack.done() and order.status is not OrderStatus.NEW:
            ack.set_result(order.copy())
