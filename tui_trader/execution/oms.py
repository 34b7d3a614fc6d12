"""The order manager: persists every order before sending it, applies venue reports in order,
keeps positions from fills, and never drops or double-counts a fill."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal

from tui_trader.bus import EventBus
from tui_trader.core.clock import Clock
from tui_trader.core.enums import OrderStatus
from tui_trader.core.events import ExecutionReport, FillEvent, NoticeEvent, OrderEvent, PositionEvent
from tui_trader.core.orders import Order, can_transition
from tui_trader.execution.portfolio import Portfolio
from tui_trader.store.db import Store
from tui_trader.venues.base import Venue

log = logging.getLogger(__name__)
ZERO = Decimal(0)


class OrderManager:
    def __init__(
        self, store: Store, bus: EventBus, clock: Clock, venues: dict[str, Venue], portfolio: Portfolio,
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock
        self.venues = venues
        self.portfolio = portfolio
        self.orders: dict[str, Order] = {}  # open orders, plus recent final ones
        self._reports: asyncio.Queue[ExecutionReport] = asyncio.Queue()
        self._acks: dict[str, asyncio.Future[Order]] = {}
        self._task: asyncio.Task[None] | None = None
        self.on_fill_hooks: list[Callable[[Order, Decimal], None]] = []

    # -- lifecycle ---------------------------------------------------------------------------

    async def restore(self) -> None:
        """Reload open orders and positions from the database after a restart."""
        for order in await self.store.load_orders(open_only=True):
            self.orders[order.client_order_id] = order
        for pos in await self.store.load_positions():
            self.portfolio.positions[(pos.venue, pos.symbol)] = pos

    def start(self) -> None:
        self._task = asyncio.create_task(self._process(), name="oms-reports")

    async def stop(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def flush(self) -> None:
        """Wait until every report received so far is applied and stored."""
        await self._reports.join()

    # -- commands --------------------------------------------------------------------------

    def open_orders(self) -> list[Order]:
        return [o for o in self.orders.values() if o.is_open]

    async def record_rejection(self, order: Order) -> Order:
        """Store an order refused before it reached a venue (risk, validation)."""
        await self.store.save_order(order)
        self.bus.publish(OrderEvent(order.copy()))
        return order

    async def submit(self, order: Order, *, wait_ack: float = 5.0) -> Order:
        """Persist, then send. Returns once the venue accepted or rejected it (or timed out)."""
        existing = self.orders.get(order.client_order_id) or await self.store.get_order(order.client_order_id)
        if existing is not None:  # an idempotent retry: never a second order
            return existing.copy()
        self.orders[order.client_order_id] = order
        await self.store.save_order(order)  # written before it is sent
        self.bus.publish(OrderEvent(order.copy()))
        ack: asyncio.Future[Order] = asyncio.get_running_loop().create_future()
        self._acks[order.client_order_id] = ack
        venue = self.venues[order.venue]
        try:
            await venue.create_order(order.copy())
        except Exception as exc:  # outcome unknown: reconciliation settles it by client order id
            log.warning("submit of %s failed: %s", order.client_order_id, exc)
            order.meta["submit_error"] = str(exc)
            await self.store.save_order(order)
            self.bus.publish(NoticeEvent(self.clock.now(), "warning", f"order {order.client_order_id}: venue did not confirm ({exc}); will reconcile", "oms"))
            self._acks.pop(order.client_order_id, None)
            return order.copy()
        try:
            return await asyncio.wait_for(asyncio.shield(ack), wait_ack)
        except TimeoutError:
            return order.copy()
        finally:
            self._acks.pop(order.client_order_id, None)

    async def cancel(self, client_order_id: str) -> Order:
        order = self.orders.get(client_order_id)
        if order is None or not order.is_open:
            raise KeyError(client_order_id)
        await self.venues[order.venue].cancel_order(order.copy())
        await self.flush()
        return order.copy()

    # -- venue reports ---------------------------------------------------------------------

    def on_report(self, report: ExecutionReport) -> None:
        """Called from the venue's emit: queue it; one task applies reports in arrival order."""
        self._reports.put_nowait(report)

    async def _process(self) -> None:
        while True:
            report = await self._reports.get()
            try:
                await self.apply(report)
            except Exception:
                log.exception("failed to apply report %s", report)
            finally:
                self._reports.task_done()

    async def apply(self, report: ExecutionReport) -> None:
        order = self.orders.get(report.client_order_id)
        if order is None:
            order = await self.store.get_order(report.client_order_id)
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
                return  # stale or duplicate status (out-of-order delivery)
            order.transition(report.status, now, report.reason)
            await self.store.save_order(order)
            self.bus.publish(OrderEvent(order.copy()))
        elif report.reason:
            self.bus.publish(NoticeEvent(now, "warning", f"order {order.client_order_id}: {report.reason}", "oms"))
        self._resolve_ack(order)

    async def _apply_fill(self, order: Order, report: ExecutionReport) -> None:
        fill = report.fill
        assert fill is not None
        if await self.store.has_fill(fill.venue, fill.fill_id):
            return  # a duplicate fill: counted once
        prev = order.filled_quantity
        order.filled_quantity = prev + fill.quantity
        order.average_price = ((order.average_price or ZERO) * prev + fill.price * fill.quantity) / order.filled_quantity
        order.fees += fill.fee
        new_status = OrderStatus.FILLED if order.filled_quantity >= order.quantity else OrderStatus.PARTIALLY_FILLED
        if can_transition(order.status, new_status):
            order.transition(new_status, fill.ts)
        position = self.portfolio.apply_fill(fill)
        await self.store.save_fill(fill, order, position, fill.ts)
        self.bus.publish(FillEvent(fill))
        self.bus.publish(OrderEvent(order.copy()))
        self.bus.publish(PositionEvent(position.copy()))
        for hook in self.on_fill_hooks:
            try:
                hook(order, fill.quantity)
            except Exception:
                log.exception("fill hook failed")

    def _resolve_ack(self, order: Order) -> None:
        ack = self._acks.get(order.client_order_id)
        if ack is not None and not ack.done() and order.status is not OrderStatus.NEW:
            ack.set_result(order.copy())
