"""Advanced orders the venue lacks, emulated by the engine: trailing stops, stops on venues
without them, OCO pairs and brackets. Every emulated order says so in `meta["emulated"]`.

Orders the engine holds live in the OMS and the database like any other (status accepted,
`meta["held"]`), so they show in the order list and survive a restart: `rearm` picks them up.

OCO guarantee (never both legs filled): at most one leg of a group sits at the venue; the
others are held. A held leg fires only after its venue sibling is cancelled with nothing
filled; a fill on any leg cancels the rest. Bracket children wait for their entry: when it
is done they arm as an OCO pair sized to what filled; an entry that ends unfilled takes its
children with it.

All work runs on one worker task, in order, so links are never processed concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from tui_trader.core.clock import Clock
from tui_trader.core.enums import OrderType, TimeInForce
from tui_trader.core.events import Event, NoticeEvent, OrderEvent
from tui_trader.core.market import Ticker
from tui_trader.core.orders import Order
from tui_trader.execution.oms import OrderManager
from tui_trader.execution.triggers import released_type, triggered, update_trail, watch_price
from tui_trader.store.db import StoreWriteError
from tui_trader.venues.base import VenueCapabilities

log = logging.getLogger(__name__)
Job = Callable[[], Awaitable[None]]


def _caps(oms: OrderManager, venue: str) -> VenueCapabilities:
    return getattr(oms.venues.get(venue), "capabilities", None) or VenueCapabilities()


def needs_holding(order: Order, caps: VenueCapabilities) -> str | None:
    """Why the engine must hold this order itself, or None when the venue does it natively."""
    if order.type is OrderType.TRAILING_STOP and not caps.trailing_stop:
        return "trailing stop emulated by the engine (the venue has no native trailing stops)"
    if order.type is OrderType.STOP and not caps.stop:
        return "stop emulated by the engine (the venue has no native stops)"
    if order.type is OrderType.STOP_LIMIT and not caps.stop_limit:
        return "stop-limit emulated by the engine (the venue has no native stop-limits)"
    return None


class OrderEmulator:
    def __init__(self, oms: OrderManager, clock: Clock, tickers: dict[tuple[str, str], Ticker]) -> None:
        self.oms = oms
        self.clock = clock
        self.tickers = tickers  # by (venue, symbol): an order watches its own venue's quotes
        self._jobs: asyncio.Queue[Job] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._firing: set[str] = set()
        self._sweep_queued = False
        self._dirty: set[str] = set()
        self._last_save = 0.0
        self._watch: set[str] = set()  # held orders that watch quotes
        self._placing: set[str] = set()  # bracket entries being submitted right now

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.oms.bus.on(self._on_event, kinds=("order",), name="emulator")
        self._task = asyncio.create_task(self._work(), name="order-emulator")
        self._queue_sweep()  # catch up with whatever happened while we were down

    async def stop(self) -> None:
        self.oms.bus.off(self._on_event)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for cid in list(self._dirty):
            order = self.oms.orders.get(cid)
            if order is not None:
                await self.oms.store.save_order(order)
        self._dirty.clear()

    async def settle(self) -> None:
        """Wait until venue reports and emulator work are both done (tests, flatten)."""
        for _ in range(50):
            await self.oms.flush()
            await self._jobs.join()
            await self.oms.flush()
            if self._jobs.empty():
                return

    async def _work(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                await job()
            except Exception:
                log.exception("order emulator job failed")
            finally:
                self._jobs.task_done()

    def _queue(self, job: Job) -> None:
        self._jobs.put_nowait(job)

    def _queue_sweep(self) -> None:
        if not self._sweep_queued:
            self._sweep_queued = True
            self._queue(self._sweep)

    def held(self) -> list[Order]:
        return [o for o in self.oms.open_orders() if o.meta.get("held")]

    # -- placing -----------------------------------------------------------------------------

    async def place(
        self,
        order: Order,
        *,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        new_id: Callable[[], str] | None = None,
    ) -> Order:
        """Send natively, or hold and emulate; with stop-loss / take-profit it becomes a bracket."""
        if (stop_loss is not None or take_profit is not None) and new_id is not None:
            self._placing.add(order.client_order_id)
            try:
                await self._create_children(order, stop_loss, take_profit, new_id)
                return await self._place(order)
            except StoreWriteError:
                # The entry (or a child) could not be stored: the children already stored wait
                # for an entry that never comes (a restart cancels them); memory forgets them.
                for cid in order.meta.get("children", []):
                    self._watch.discard(cid)
                    self.oms.orders.forget(cid)
                raise
            finally:
                self._placing.discard(order.client_order_id)
                self._queue_sweep()
        return await self._place(order)

    async def _place(self, order: Order) -> Order:
        caps = _caps(self.oms, order.venue)
        if order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK) and not caps.ioc_fok:
            order.meta["emulated"] = (
                f"{order.time_in_force.value} emulated by the engine (remainder cancelled after submit)"
            )
        if order.reduce_only and not caps.reduce_only:
            order.meta["emulated"] = "reduce-only enforced by the engine's pre-trade checks"
        why = needs_holding(order, caps)
        if why is None and order.oco_id and any(not o.meta.get("held") for o in self._group(order)):
            why = "OCO leg held by the engine until its sibling at the venue is cancelled"
        if why is not None:
            order.meta["emulated"] = why
            if order.type is OrderType.TRAILING_STOP:
                ticker = self.tickers.get((order.venue, order.symbol))
                if ticker is not None:
                    update_trail(order, watch_price(order.side, ticker))
                    order.stop_price = Decimal(str(round(order.meta["trail_stop"], 10)))
            self._watch.add(order.client_order_id)
            return await self.oms.hold(order)
        placed = await self.oms.submit(order)
        if order.time_in_force is TimeInForce.IOC and not caps.ioc_fok and order.is_open:
            with contextlib.suppress(KeyError):
                await self.oms.cancel(order.client_order_id)
        return placed

    async def _create_children(
        self,
        parent: Order,
        stop_loss: Decimal | None,
        take_profit: Decimal | None,
        new_id: Callable[[], str],
    ) -> None:
        now = self.clock.now()
        oco = (
            f"{parent.client_order_id}:oco"
            if stop_loss is not None and take_profit is not None
            else None
        )
        children: list[Order] = []
        for role, otype, price, stop in (
            ("stop_loss", OrderType.STOP, None, stop_loss),
            ("take_profit", OrderType.LIMIT, take_profit, None),
        ):
            if price is None and stop is None:
                continue
            children.append(
                Order(
                    client_order_id=new_id(),
                    venue=parent.venue,
                    symbol=parent.symbol,
                    side=parent.side.opposite,
                    type=otype,
                    quantity=parent.quantity,
                    price=price,
                    stop_price=stop,
                    time_in_force=TimeInForce.GTC,
                    created_at=now,
                    updated_at=now,
                    source=parent.source,
                    strategy=parent.strategy,
                    tag=parent.tag,
                    reduce_only=True,
                    parent_id=parent.client_order_id,
                    oco_id=oco,
                    meta={
                        "role": role,
                        "waiting_for": parent.client_order_id,
                        "emulated": "bracket child held by the engine until its entry fills",
                    },
                )
            )
        ids = [c.client_order_id for c in children]
        parent.meta["children"] = ids
        for child in children:
            if oco is not None:
                child.meta["oco_legs"] = ids
            self._watch.add(child.client_order_id)
            await self.oms.hold(child)

    # -- events ------------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if isinstance(event, OrderEvent):
            o = event.order
            if o.oco_id or o.meta.get("children") or (o.parent_id and o.meta.get("waiting_for")):
                self._queue_sweep()

    def on_ticker(self, ticker: Ticker) -> None:
        """Called for every quote: ratchet trailing stops and fire held orders that are hit."""
        for cid in list(self._watch):
            order = self.oms.orders.get(cid)
            if order is None or not order.is_open or not order.meta.get("held"):
                self._watch.discard(cid)
                continue
            if order.symbol != ticker.symbol or order.venue != ticker.venue:
                continue
            if order.meta.get("waiting_for") or order.client_order_id in self._firing:
                continue
            price = watch_price(order.side, ticker)
            if price <= 0:
                continue
            if order.type is OrderType.TRAILING_STOP and update_trail(order, price):
                order.stop_price = Decimal(str(round(order.meta["trail_stop"], 10)))
                self._dirty.add(order.client_order_id)
            if triggered(order, price):
                self._firing.add(order.client_order_id)
                order.meta["triggered_at"] = price
                self._queue(functools.partial(self._fire, order.client_order_id))
        if self._dirty and self.clock.monotonic() - self._last_save >= 1.0:
            self._last_save = self.clock.monotonic()
            self._queue(self._save_dirty)

    async def _save_dirty(self) -> None:
        for cid in list(self._dirty):
            self._dirty.discard(cid)
            order = self.oms.orders.get(cid)
            if order is not None and order.is_open:
                await self.oms.store.save_order(order)
                self.oms.bus.publish(OrderEvent(order.copy()))

    # -- work ----------------------------------------------------------------------------------

    def _group(self, order: Order) -> list[Order]:
        """The other legs of an order's OCO group that the OMS knows."""
        if not order.oco_id:
            return []
        return [
            o
            for o in self.oms.orders.values()
            if o.oco_id == order.oco_id and o.client_order_id != order.client_order_id
        ]

    async def _siblings(self, order: Order) -> list[Order]:
        out = self._group(order)
        known = {o.client_order_id for o in out}
        for cid in order.meta.get("oco_legs", []):
            if cid != order.client_order_id and cid not in known:
                stored = await self.oms.store.get_order(cid)
                if stored is not None:
                    out.append(stored)
        return out

    async def _cancel(self, order: Order, reason: str) -> None:
        if not order.is_open:
            return
        if order.meta.get("held"):
            await self.oms.cancel_held(order, reason)
        else:
            with contextlib.suppress(KeyError):
                await self.oms.cancel(order.client_order_id)
            await self.oms.flush()

    async def _fire(self, cid: str) -> None:
        """A held order was hit: clear its venue sibling first, then send it (or drop it)."""
        try:
            order = self.oms.orders.get(cid)
            if order is None or not order.is_open or not order.meta.get("held"):
                return
            siblings = await self._siblings(order)
            for sib in siblings:
                if sib.is_open and not sib.meta.get("held"):
                    await self._cancel(sib, "OCO: the other leg triggered")
            await self.oms.flush()
            if any(s.filled_quantity > 0 for s in siblings):
                await self.oms.cancel_held(order, "OCO: the other leg filled")
                return
            for sib in siblings:
                await self._cancel(sib, "OCO: the other leg triggered")
            rtype = released_type(order)
            await self.oms.release(
                cid,
                type=rtype,
                time_in_force=TimeInForce.GTC if rtype is OrderType.LIMIT else TimeInForce.IOC,
            )
            await self.oms.flush()
        finally:
            self._firing.discard(cid)

    async def _sweep(self) -> None:
        """Settle links: OCO legs whose sibling filled, bracket children whose entry is done."""
        self._sweep_queued = False
        for order in [o for o in self.oms.open_orders() if o.oco_id]:
            if not order.is_open:
                continue
            siblings = await self._siblings(order)
            if any(s.filled_quantity > 0 for s in siblings):
                await self._cancel(order, "OCO: the other leg filled")
        for child in [o for o in self.held() if o.meta.get("waiting_for")]:
            if not child.is_open or child.parent_id in self._placing:
                continue
            parent = self.oms.orders.get(child.parent_id or "") or await self.oms.store.get_order(
                child.parent_id or ""
            )
            if parent is None:
                await self.oms.cancel_held(child, "bracket entry not found")
            elif parent.status.is_final:
                if parent.filled_quantity > 0:
                    await self._arm_child(child, parent)
                else:
                    await self.oms.cancel_held(
                        child, f"bracket entry {parent.status.value} before it filled"
                    )
        await self.oms.flush()

    async def _arm_child(self, child: Order, parent: Order) -> None:
        """The entry is done: size the child to what filled and put it to work."""
        child.meta.pop("waiting_for", None)
        child.quantity = parent.filled_quantity
        caps = _caps(self.oms, child.venue)
        siblings = [s for s in await self._siblings(child) if s.is_open]
        sibling_at_venue = any(not s.meta.get("held") for s in siblings)
        ticker = self.tickers.get((child.venue, child.symbol))
        price = watch_price(child.side, ticker) if ticker is not None else 0.0
        native_stop = child.type is OrderType.STOP and caps.stop and not sibling_at_venue
        if native_stop and not (price and triggered(child, price)):
            child.meta["emulated"] = (
                "bracket stop-loss sent to the venue when the entry filled; its take-profit is held by the engine"
            )
            await self.oms.release(child.client_order_id)
            return
        child.meta["emulated"] = (
            "bracket leg held by the engine, sent to the venue when its price is reached"
        )
        await self.oms.store.save_order(child)
        self.oms.bus.publish(OrderEvent(child.copy()))
        if price and triggered(child, price):
            self._firing.add(child.client_order_id)
            child.meta["triggered_at"] = price
            await self._fire(child.client_order_id)

    # -- restart -------------------------------------------------------------------------------

    def rearm(self, held: list[Order]) -> None:
        """Put orders the engine held before a restart back to work (links come from the DB)."""
        for order in held:
            self.oms.orders[order.client_order_id] = order
            self._watch.add(order.client_order_id)
        if held:
            self.oms.bus.publish(
                NoticeEvent(
                    self.clock.now(), "info", f"re-armed {len(held)} emulated orders", "emulator"
                )
            )

    def describe(self) -> list[dict[str, Any]]:
        """Held orders and why, for the risk pane and order details."""
        return [
            {
                "client_order_id": o.client_order_id,
                "symbol": o.symbol,
                "type": o.type.value,
                "side": o.side.value,
                "emulated": o.meta.get("emulated", ""),
                "waiting_for": o.meta.get("waiting_for"),
                "stop": None if o.stop_price is None else str(o.stop_price),
            }
            for o in self.held()
        ]
