"""Best-price routing of `--venue auto` orders.

A routed order is a *parent* the engine works itself (venue "auto", never sent anywhere) and
*children* on real venues. The parent is stored before any child is sent; each child's id is
added to the parent (stored) before the child itself is stored and sent through the risk
checks and the OMS, like any order. So after a crash the parent lists every child that may
exist: a listed id with no stored order was never sent; a stored child is settled by
reconciliation like any order; only what no child can still fill is routed again.

Failover: a child that ends with a part unfilled for a venue's reason (refused, dropped,
cancelled after `child_timeout_s` without filling) hands that part to the next best venue,
as `[routing] failover` allows. An unsettled child (sent, no answer, `unknown`) is waited
for, never replaced: the rest moves only once its venue has said what it did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from tui_trader.core.enums import OrderStatus, OrderType
from tui_trader.core.errors import UserError
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.engine import market_view as mv
from tui_trader.engine.route_choice import ChooserPort, VenueChooser
from tui_trader.engine.route_state import AUTO, Route, is_child, is_parent
from tui_trader.risk.checks import RiskRejection
from tui_trader.routing.plan import Leg, RoutePlan
from tui_trader.store.db import StoreWriteError
from tui_trader.venues.resilience import stop_tasks

if TYPE_CHECKING:
    from tui_trader.core.events import Event
    from tui_trader.engine.bus import EventBus
    from tui_trader.engine.identity import Origin
    from tui_trader.execution.emulator import OrderEmulator
    from tui_trader.execution.ids import ClientOrderIds
    from tui_trader.execution.oms import OrderManager
    from tui_trader.execution.portfolio import Portfolio
    from tui_trader.store.db import Store

log = logging.getLogger(__name__)
RESUME_WAIT_S = 10.0  # after a restart, how long a parent waits for venues to quote before giving up
_FINAL_ROUTE_TYPES = (OrderType.MARKET, OrderType.LIMIT)


class RoutingPort(ChooserPort, Protocol):
    bus: EventBus
    oms: OrderManager | None
    store: Store | None
    emulator: OrderEmulator | None
    portfolio: Portfolio
    new_id: ClientOrderIds

    def _check(
        self, req: OrderRequest, venue_name: str, *, automated: bool = False, new_orders: int = 1
    ) -> OrderRequest: ...

    async def _reject(
        self, req: OrderRequest, venue: str, rej: RiskRejection, actor: str, meta: dict[str, Any] | None = None
    ) -> Order: ...

    async def audit(self, actor: str, action: str, detail: dict[str, Any]) -> None: ...

    def notify(self, level: str, message: str, source: str = "engine") -> None: ...


class Router:
    def __init__(self, engine: RoutingPort) -> None:
        self.engine = engine
        self._locks: dict[str, asyncio.Lock] = {}
        self._dirty: dict[str, bool] = {}  # parent id -> resuming after a restart
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.chooser = VenueChooser(engine)
        self._started_at = 0.0

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Follow children's reports, and pick up parents a restart left working."""
        self.engine.bus.on(self._on_event, kinds=("order",), name="router")
        self._started_at = self.engine.clock.monotonic()
        for order in self._oms.open_orders():
            if is_parent(order):
                self._dirty[order.client_order_id] = True
        self._task = asyncio.create_task(self._work(), name="router")
        self._wake.set()

    async def stop(self) -> None:
        self.engine.bus.off(self._on_event)
        await stop_tasks(self._task)
        self._task = None

    @property
    def _oms(self) -> OrderManager:
        assert self.engine.oms is not None
        return self.engine.oms

    def _lock(self, parent_id: str) -> asyncio.Lock:
        return self._locks.setdefault(parent_id, asyncio.Lock())

    # -- placing -----------------------------------------------------------------------------------

    async def place(self, req: OrderRequest, actor: str, origin: Origin) -> Order:
        """Route `req` (venue "auto"): plan, store the parent, send the children."""
        e = self.engine
        await self.chooser.refresh_balances(mv.listing(e, req.symbol))
        plan, why, refusal = self._decide(req, origin)
        if refusal is not None:
            return await e._reject(req, AUTO, refusal, actor)
        assert plan is not None
        cid = req.client_order_id or e.new_id()
        parent = Order.from_request(req, cid, AUTO, e.clock.now())
        parent.status = OrderStatus.ACCEPTED
        route = Route.new(e.settings.routing.failover)
        route.note(_plan_note(plan, why))
        parent.meta["route"] = route.to_meta()
        parent.reason = route.summary()
        try:
            await self._oms.track(parent)
        except StoreWriteError as exc:
            raise UserError(f"order refused, nothing was sent: {exc}") from None
        await e.audit(actor, "route", {"client_order_id": cid, "plan": plan.describe(), "skipped": why})
        if why:
            e.notify("warning", f"routed order {cid}: {_reasons(why)} not used; {plan.describe()}", "router")
        async with self._lock(cid):
            await self._send(parent, plan.legs, actor, origin.automated)
            if e.emulator is not None:
                await e.emulator.settle()
            await self._follow(parent, resuming=False)
        return parent.copy()

    async def _send(self, parent: Order, legs: list[Leg], actor: str, automated: bool) -> None:
        for leg in legs:
            try:
                await self._send_leg(parent, leg, actor, automated)
            except StoreWriteError as exc:
                route = Route.of(parent)
                route.done = True
                route.note(f"stopped: the database cannot be written ({exc})")
                await self._save(parent, route)
                raise UserError(f"routed order {parent.client_order_id} stopped: {exc}") from None

    async def _send_leg(self, parent: Order, leg: Leg, actor: str, automated: bool) -> Order:
        """One child: its id joins the parent (stored) first, then it is checked and sent."""
        e = self.engine
        cid = e.new_id()
        route = Route.of(parent)
        route.children.append(cid)
        await self._save(parent, route)
        req = OrderRequest(
            leg.symbol,
            parent.side,
            leg.quantity,
            parent.type,
            parent.price if parent.type is OrderType.LIMIT and leg.symbol == parent.symbol else None,
            None,
            parent.time_in_force,
            leg.venue,
            post_only=parent.post_only,
            reduce_only=parent.reduce_only,
            extended_hours=bool(parent.meta.get("extended_hours")),
            source=parent.source,
            strategy=parent.strategy,
            tag=parent.tag,
            client_order_id=cid,
        )
        link = {"route_parent": parent.client_order_id}
        try:
            checked = e._check(req, leg.venue, automated=automated, new_orders=1)
        except RiskRejection as rej:
            return await e._reject(req, leg.venue, rej, actor, meta=link)
        child = Order.from_request(checked, cid, leg.venue, e.clock.now())
        child.meta.update(link, expected_price=leg.price)
        assert e.emulator is not None
        return await e.emulator.place(child, new_id=e.new_id)

    def check(self, req: OrderRequest, origin: Origin) -> dict[str, Any]:
        """A dry run of `place` (the confirmation's): the plan from the market and the balances
        known now, the checks; nothing recorded or sent."""
        plan, why, refusal = self._decide(req, origin)
        if refusal is not None:
            return {"ok": False, "venue": AUTO, "code": refusal.code, "message": refusal.message}
        assert plan is not None
        return {"ok": True, "venue": AUTO, "request": req, "route": _plan_note(plan, why)}

    def _decide(
        self, req: OrderRequest, origin: Origin
    ) -> tuple[RoutePlan | None, dict[str, str], RiskRejection | None]:
        """The plan for `req`, or why it is refused: not routable, no venue can take it, or the
        order as a whole fails the checks on the plan's best venue (children must not slip past
        an order-size limit)."""
        e = self.engine
        refusal = _unroutable(req)
        if refusal:
            return None, {}, RiskRejection("route_refused", refusal)
        plan, why = self.chooser.decide(req)
        if not plan.legs:
            listed = mv.listing(e, req.symbol)
            reason = (
                f"no venue lists {req.symbol}"
                if not listed
                else "no venue can take it now: " + _reasons({**why, **plan.excluded})
            )
            return None, why, RiskRejection("route_none", reason)
        best = plan.legs[0]
        try:
            e._check(req.with_(venue=best.venue), best.venue, automated=origin.automated, new_orders=len(plan.legs))
        except RiskRejection as rej:
            return None, why, rej
        return plan, why, None

    # -- following ---------------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        order = getattr(event, "order", None)
        if order is not None and is_child(order):
            self.chooser.balances.pop(order.venue, None)  # it may have moved money: fetch again before routing
            self._dirty.setdefault(order.meta["route_parent"], False)
            self._wake.set()

    async def _work(self) -> None:
        while True:
            waiter = asyncio.ensure_future(self._wake.wait())
            try:  # asyncio.wait, not wait_for: a stop during a wake-up must not be swallowed
                await asyncio.wait({waiter}, timeout=1.0)
            finally:
                waiter.cancel()
            self._wake.clear()
            dirty, self._dirty = self._dirty, {}
            for pid, resuming in dirty.items():
                try:
                    await self._refresh(pid, resuming)
                except Exception:
                    log.exception("routed order %s: following it failed", pid)
            try:
                await self._time_out_children()
            except Exception:
                log.exception("router: checking children's time-outs failed")

    async def _refresh(self, pid: str, resuming: bool) -> None:
        parent = self._oms.orders.get(pid)
        if parent is None or not parent.is_open:
            return
        async with self._lock(pid):
            if not parent.is_open:
                return
            again = await self._follow(parent, resuming=resuming)
        if again:  # after a restart, venues not quoting yet: look again shortly
            self._dirty[pid] = True

    async def _follow(self, parent: Order, *, resuming: bool) -> bool:
        """Bring the parent up to date with its children; route again what a venue dropped (or a
        restart interrupted). True when it should be looked at again soon (waiting for quotes)."""
        route = Route.of(parent)
        children = await self._children(parent, route)
        self._aggregate(parent, children)
        open_children = [c for c in children if c.is_open]
        committed = sum((c.quantity if c.is_open else c.filled_quantity for c in children), Decimal(0))
        rest = parent.quantity - committed
        if parent.filled_quantity >= parent.quantity:
            return await self._finish(parent, route, OrderStatus.FILLED, None)
        if open_children or rest <= 0:
            return await self._progress(parent, route)
        # every child is settled and part of the order is in none of them
        if route.cancel:
            return await self._finish(parent, route, OrderStatus.CANCELLED, f"cancelled: {_filled(parent)}")
        if route.done:
            return await self._finish(parent, route, None, None)
        failed = [c for c in children if c.client_order_id not in route.settled and c.filled_quantity < c.quantity]
        for c in failed:
            route.settled.append(c.client_order_id)
        stop = _why_stop(failed, route.failover)
        if stop:
            route.note(stop)
            return await self._finish(parent, route, None, None)
        if not resuming:  # a child a restart interrupted says nothing about its venue
            for c in failed:
                route.tried[c.venue] = _venue_reason(c)
        if not failed and not resuming:
            route.note(f"{rest} could not be routed")
            return await self._finish(parent, route, None, None)
        if resuming:
            age = (self.engine.clock.now() - parent.created_at).total_seconds()
            if age > self.engine.settings.routing.resume_within_s:
                route.note(f"stopped by a restart ({age:.0f} s after it was placed): {rest} not sent")
                return await self._finish(parent, route, None, None)
        return await self._reroute(parent, route, rest, failed, resuming)

    async def _reroute(self, parent: Order, route: Route, rest: Decimal, failed: list[Order], resuming: bool) -> bool:
        e = self.engine
        req = OrderRequest(
            parent.symbol,
            parent.side,
            rest,
            parent.type,
            parent.price,
            time_in_force=parent.time_in_force,
            reduce_only=parent.reduce_only,
            post_only=parent.post_only,
        )
        await self.chooser.refresh_balances(mv.listing(e, parent.symbol))
        other = route.failover == "any" and parent.type is OrderType.MARKET and bool(failed)
        plan, why = self.chooser.decide(req, exclude=dict(route.tried), other_quotes=other)
        cause = "; ".join(f"{c.venue} {c.status.value} {c.client_order_id} ({_venue_reason(c)})" for c in failed)
        cause = cause or "restarted mid-route"
        if not plan.legs:
            waiting = resuming and self.engine.clock.monotonic() - self._started_at < RESUME_WAIT_S
            if waiting:
                return True
            route.note(f"{cause}: no other venue can take the {rest} left ({_reasons({**why, **plan.excluded})})")
            return await self._finish(parent, route, None, None)
        route.note(f"{cause}: {plan.describe()}")
        e.notify("warning", f"routed order {parent.client_order_id}: {route.notes[-1]}", "router")
        await e.audit("router", "reroute", {"client_order_id": parent.client_order_id, "why": cause,
                                            "plan": plan.describe()})
        await self._save(parent, route)
        await self._send(parent, plan.legs, "router", parent.strategy is not None)
        return await self._follow(parent, resuming=False)

    async def _children(self, parent: Order, route: Route) -> list[Order]:
        out: list[Order] = []
        gone: list[str] = []
        for cid in route.children:
            child = self._oms.orders.get(cid)
            if child is None and self.engine.store is not None:
                child = await self.engine.store.get_order(cid)
            if child is None:
                gone.append(cid)  # listed, never stored: never sent
            else:
                out.append(child)
        if gone:
            route.children = [c for c in route.children if c not in gone]
            route.note(f"child {', '.join(gone)} was never sent (interrupted before it was stored)")
        return out

    def _aggregate(self, parent: Order, children: list[Order]) -> None:
        filled = sum((c.filled_quantity for c in children), Decimal(0))
        value = sum((c.filled_quantity * (c.average_price or Decimal(0)) for c in children), Decimal(0))
        parent.filled_quantity = parent.quantity if filled == parent.quantity else filled  # 3, not 3.00000
        parent.average_price = _tidy(value / filled) if filled else None
        parent.fees = sum((c.fees for c in children), Decimal(0))
        parent.meta["venues"] = sorted({c.venue for c in children if c.filled_quantity > 0})

    async def _progress(self, parent: Order, route: Route) -> bool:
        status = OrderStatus.PARTIALLY_FILLED if parent.filled_quantity > 0 else parent.status
        if status is not parent.status:
            parent.transition(status, self.engine.clock.now())
        await self._save(parent, route)
        return False

    async def _finish(self, parent: Order, route: Route, status: OrderStatus | None, reason: str | None) -> bool:
        """The parent is done: filled, cancelled, or stopped with what its children filled."""
        if status is None:
            status = OrderStatus.REJECTED if parent.filled_quantity == 0 else OrderStatus.CANCELLED
        route.done = True
        if reason:
            route.note(reason)
        if parent.filled_quantity > 0 and not (reason and "filled" in reason):
            route.note(_filled(parent))
        parent.transition(status, self.engine.clock.now(), None)
        await self._save(parent, route)
        self._locks.pop(parent.client_order_id, None)
        return False

    async def _save(self, parent: Order, route: Route) -> None:
        parent.meta["route"] = route.to_meta()
        parent.reason = route.summary()
        parent.updated_at = self.engine.clock.now()
        await self._oms.save_tracked(parent)

    async def _time_out_children(self) -> None:
        """A market child its venue has not acknowledged after `child_timeout_s` is cancelled (the
        venue is slow or stalled): once the venue confirms, the rest goes to the next venue; never
        before. An acknowledged child is the venue's to fill (a stock order queued for the open)."""
        e = self.engine
        timeout = e.settings.routing.child_timeout_s
        now = e.clock.now()
        for child in list(self._oms.open_orders()):
            if not is_child(child) or child.type is not OrderType.MARKET or child.meta.get("route_timeout"):
                continue
            if child.status.value not in ("new", "unknown"):
                continue
            if (now - child.created_at).total_seconds() < timeout:
                continue
            await self._oms.annotate(child.client_order_id, route_timeout=f"no fill after {timeout:g} s")
            with contextlib.suppress(Exception):
                await self._oms.cancel(child.client_order_id)

    # -- cancelling --------------------------------------------------------------------------------

    async def cancel(self, parent: Order, *, children: bool = True) -> Order:
        """Stop routing `parent` and cancel its working children."""
        async with self._lock(parent.client_order_id):
            route = Route.of(parent)
            route.cancel = True
            await self._save(parent, route)
        if children:
            for cid in list(route.children):
                child = self._oms.orders.get(cid)
                if child is not None and child.is_open:
                    with contextlib.suppress(KeyError):
                        await self._oms.cancel(cid)
        await self._refresh(parent.client_order_id, False)
        return parent.copy()


# -- helpers ----------------------------------------------------------------------------------------

def _tidy(price: Decimal) -> Decimal:
    """An average to 10 decimals without trailing zeros (and never in exponent form)."""
    q = price.quantize(Decimal("1e-10"))
    return q.to_integral_value() if q == q.to_integral_value() else q.normalize()


def _unroutable(req: OrderRequest) -> str:
    if req.type not in _FINAL_ROUTE_TYPES:
        return f"--venue auto routes market and limit orders; a {req.type.value} order needs a venue"
    if req.stop_loss is not None or req.take_profit is not None or req.oco_id:
        return "--venue auto does not route brackets or OCO pairs: give the venue"
    if req.trail_amount is not None or req.trail_percent is not None:
        return "--venue auto does not route trailing stops: give the venue"
    return ""


def _reasons(why: dict[str, str]) -> str:
    return ", ".join(f"{v} ({r})" for v, r in why.items())


def _plan_note(plan: RoutePlan, why: dict[str, str]) -> str:
    text = f"routed {plan.describe()}"
    if why:
        text += f"; not used: {_reasons(why)}"
    return text


def _filled(parent: Order) -> str:
    avg = f" @ {parent.average_price:.8g}" if parent.average_price is not None else ""
    return f"{parent.filled_quantity} of {parent.quantity} filled{avg}"


def _venue_reason(child: Order) -> str:
    return str(child.meta.get("route_timeout") or child.reason or child.status.value)


def _why_stop(failed: list[Order], failover: str) -> str:
    """Why the rest of the order is not routed again (empty: it is)."""
    for c in failed:
        if c.meta.get("reject_code"):
            return f"child {c.client_order_id} refused by the risk checks ({c.reason}): the rest is not sent"
        if c.meta.get("cancelled_by_user"):
            return f"child {c.client_order_id} cancelled by the user: the rest is not sent"
    if failed and failover == "off":
        c = failed[0]
        return f"{c.venue} {c.status.value} {c.client_order_id} ({_venue_reason(c)}); failover is off: rest not sent"
    return ""
