"""Reconciliation with a venue by client order id: at start, after every reconnect, and while
an order's fate is unknown. The venue is the truth; where its answer is ambiguous nothing is
guessed and the order stays as it is until the next reconcile.

- open orders the venue has that we do not know are imported (flagged `external`) first, so
  their fills, fetched next, apply to them;
- orders we show as done (rejected, cancelled) that the venue shows working are mis-stated:
  corrected to working (an earlier ambiguous answer, or a bug, must not hide a live order);
- fills the venue has that we do not are applied (each fill id once), through the OMS's own
  report queue: one task writes fills, so reconciling never races a streamed fill;
- our open orders the venue no longer lists as open are looked up by client order id and
  settled as the venue says (filled, cancelled, expired, rejected); a lookup that fails leaves
  them open;
- an order whose submission is unknown (`unknown`, or `new` found at a restart) is settled
  as never sent only when the venue says "not found" after a delay its semantics make final
  (`not_found_final_after_s`: for Binance the request's recvWindow, after which it refuses
  the request; 60 s elsewhere); until then it stays `unknown`. It is never sent again.

Fills are fetched from a venue time that covers every fill we may lack: the newest fill the
last complete fetch returned (minus `SAFETY`); at the first reconcile of a session, the newest
stored fill for the venue (minus `RESTART_MARGIN`), or the whole history if our orders for
the venue have no stored fill; never later than the creation of an order being imported,
corrected or settled from an unknown submission.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from tui_trader.core.enums import OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.events import ExecutionReport, NoticeEvent, OrderEvent
from tui_trader.core.orders import Order, can_transition
from tui_trader.execution.oms import OrderManager
from tui_trader.venues.base import Venue, VenueOrder

log = logging.getLogger(__name__)

# Venue timestamps of fills are not strictly increasing (matching engines, shards, latency).
SAFETY = timedelta(seconds=60)
# After a restart the newest stored fill proves nothing about older ones missed before it.
RESTART_MARGIN = timedelta(hours=1)
# Where a venue says nothing about it: how long after sending a "not found" is believed.
DEFAULT_NOT_FOUND_FINAL_S = 60.0

# Per OMS (one per engine session) and venue: the newest venue time a complete fetch reached.
_horizons: weakref.WeakKeyDictionary[OrderManager, dict[str, datetime]] = weakref.WeakKeyDictionary()

# A venue's order status word -> ours, for the ones that end an order. Anything else (open,
# new, pending_*, held ...) means the order exists and is not done.
FINAL_WORDS = {
    "closed": OrderStatus.FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}
UNSENT = (OrderStatus.NEW, OrderStatus.UNKNOWN)


@dataclass(slots=True)
class ReconcileReport:
    venue: str
    fills_applied: int = 0
    orders_settled: list[str] = field(default_factory=list)
    orders_imported: list[str] = field(default_factory=list)
    orders_corrected: list[str] = field(default_factory=list)  # mis-stated: done here, working there
    unsettled: list[str] = field(default_factory=list)  # the venue's answer left them open
    fills_since: datetime | None = None  # the venue time fills were fetched from (None: all)

    @property
    def changed(self) -> bool:
        return bool(self.fills_applied or self.orders_settled or self.orders_imported or self.orders_corrected)


def not_found_final_after(venue: Venue) -> float:
    """Seconds after sending from which the venue's "no such order" is final."""
    value = getattr(venue, "not_found_final_after_s", None)
    return DEFAULT_NOT_FOUND_FINAL_S if value is None else float(value)


def sent_at(order: Order) -> datetime:
    raw = order.meta.get("sent_at")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else order.created_at


async def reconcile(oms: OrderManager, venue: Venue, now: datetime) -> ReconcileReport:
    report = ReconcileReport(venue.name)
    # Ours to settle: open, sent (not held by the engine: emulated orders were never sent) and
    # not being submitted now; an order sent after the snapshot below is not missing from it.
    candidates = [
        o
        for o in oms.open_orders()
        if o.venue == venue.name and not o.meta.get("held") and not oms.in_flight(o.client_order_id)
    ]
    # 1. The venue's open orders first: a fill made after this snapshot is still among the
    #    fills fetched below, so an order missing from it and filled is settled as filled.
    open_before = {o.client_order_id for o in oms.open_orders() if o.venue == venue.name}
    venue_open = {o.client_order_id: o for o in await venue.fetch_open_orders()}
    # 2. Orders only the venue knows, before the fills, so their fills are applied too; and
    #    orders we show as done that the venue shows working.
    imported: dict[str, VenueOrder] = {}
    corrected: list[Order] = []
    for cid, vo in venue_open.items():
        ours = oms.orders.get(cid) or await oms.store.get_order(cid)
        if ours is None:
            order = _imported(venue.name, vo, now)
            oms.orders[cid] = order
            await _save(oms, order)
            imported[cid] = vo
            report.orders_imported.append(cid)
        elif not ours.is_open and not ours.meta.get("held"):
            if cid in open_before or _filled_by_its_fills(ours, vo):
                # The listing is older than what settled it here (a fill or a cancel that came
                # in while it was asked for): not an answer about it. The next reconcile asks again.
                report.unsettled.append(cid)
                continue
            await _correct(oms, ours, vo, now)
            corrected.append(ours)
            report.orders_corrected.append(cid)
    # 3. Missed fills, applied in venue time order through the OMS queue.
    settling = [o.created_at for o in candidates if o.status in UNSENT] + [o.created_at for o in corrected]
    since, fetch = await _fills_since(oms, venue.name, imported.values(), settling)
    report.fills_since = since
    recorded = getattr(venue, "recorded_fills", None)
    if callable(recorded):  # a venue that reports only cumulative fills counts on from what we hold
        recorded({o.client_order_id: (o.filled_quantity, o.average_price)
                  for o in oms.open_orders() if o.venue == venue.name})  # fmt: skip
    if fetch:
        fills = sorted(await venue.fetch_fills(since), key=lambda f: f.ts)
        for fill in fills:
            if oms.has_seen_fill(fill.venue, fill.fill_id):
                continue
            known = fill.client_order_id in oms.orders or await oms.store.get_order(fill.client_order_id)
            made = None if known else _venue_made(venue, fill.client_order_id)
            if not known and made is None:
                continue  # another client's order the venue no longer lists as open
            oms.on_report(
                ExecutionReport(
                    venue.name, fill.client_order_id, None, fill.ts, fill.venue_order_id, None, fill, order=made
                )
            )
            report.fills_applied += 1
        await oms.flush()
        if fills:
            horizons = _horizons.setdefault(oms, {})
            horizons[venue.name] = max(fills[-1].ts, horizons.get(venue.name, fills[-1].ts))
    # An imported order whose earlier fills lie beyond what the venue returned keeps its count.
    for cid, vo in imported.items():
        order = oms.orders[cid]
        if Decimal(vo.filled_quantity) > order.filled_quantity:
            order.filled_quantity = Decimal(vo.filled_quantity)
            order.transition(OrderStatus.PARTIALLY_FILLED, now)
            await _save(oms, order)
    # 4. Our open orders vs the venue's.
    for order in candidates:
        if not order.is_open:
            continue  # a fill above completed it
        await _settle(oms, venue, order, venue_open.get(order.client_order_id), now, report)
    if report.changed:
        msg = (
            f"{venue.name}: reconciled {report.fills_applied} missed fills, settled {len(report.orders_settled)} "
            f"orders, imported {len(report.orders_imported)} unknown orders"
            + (f", corrected {len(report.orders_corrected)} mis-stated orders" if report.orders_corrected else "")
        )
        log.info(msg)
        level = "warning" if report.orders_imported or report.orders_corrected else "info"
        oms.bus.publish(NoticeEvent(now, level, msg, "reconcile"))
        await oms.store.audit(
            now,
            "engine",
            "reconcile",
            {
                "venue": venue.name,
                "fills": report.fills_applied,
                "settled": report.orders_settled,
                "imported": report.orders_imported,
                "corrected": report.orders_corrected,
                "unsettled": report.unsettled,
            },
        )
    return report


async def _settle(
    oms: OrderManager, venue: Venue, order: Order, listed: VenueOrder | None, now: datetime, report: ReconcileReport
) -> None:
    """One of our open orders, as the venue sees it."""
    cid = order.client_order_id
    found = listed
    if found is None and order.filled_quantity < order.quantity:
        try:
            found = await venue.fetch_order(cid, order.symbol)
        except Exception as exc:  # ambiguous: leave it as it is, the next reconcile asks again
            log.warning("%s: looking up %s failed (%s); left %s", venue.name, cid, exc, order.status.value)
            report.unsettled.append(cid)
            return
        if not order.is_open:
            return  # a report the order manager applied meanwhile settled it
    if found is not None:
        final = FINAL_WORDS.get(found.status.lower())
        if found.venue_order_id and not order.venue_order_id:
            order.venue_order_id = found.venue_order_id
        if final is None or Decimal(found.filled_quantity) > order.filled_quantity:
            # working there (or done, but its fills are not in the venue's history yet)
            if order.status in UNSENT:
                order.transition(OrderStatus.ACCEPTED, now, f"found at {venue.name} by client order id")
                await _save(oms, order)
                report.orders_settled.append(cid)
                if order.meta.get("cancel_requested") and final is None:
                    await venue.cancel_order(order.copy())  # the trader cancelled it while unknown
            if final is not None:
                report.unsettled.append(cid)
            return
        if final is OrderStatus.FILLED and order.filled_quantity < order.quantity:
            report.unsettled.append(cid)  # the venue says filled; the fills are still to come
            return
        if not can_transition(order.status, final):  # e.g. "rejected" after partial fills
            final = OrderStatus.CANCELLED
        order.transition(final, now, None if final is OrderStatus.FILLED else f"{final.value} at {venue.name}")
    elif order.filled_quantity >= order.quantity:
        order.transition(OrderStatus.FILLED, now)
    elif order.status in UNSENT and order.filled_quantity == 0:
        age = (now - sent_at(order)).total_seconds()
        window = not_found_final_after(venue)
        if window > 0 and age < window:
            report.unsettled.append(cid)  # it may still arrive: stays unknown
            return
        cancelled = bool(order.meta.get("cancel_requested"))
        reason = (
            f"never reached the venue ({venue.name}): not found by client order id {age:.0f}s after it "
            f"was sent (a not-found is final there after {window:g}s)"
        )
        order.transition(
            OrderStatus.CANCELLED if cancelled else OrderStatus.REJECTED,
            now,
            reason + ("; cancelled by you meanwhile" if cancelled else ""),
        )
    else:
        order.transition(OrderStatus.CANCELLED, now, f"no longer at {venue.name} (not found by client order id)")
    await _save(oms, order)
    report.orders_settled.append(cid)


def _filled_by_its_fills(order: Order, listed: VenueOrder) -> bool:
    """Filled here by fills the venue sent, more than its listing counts: the listing is stale."""
    return order.status is OrderStatus.FILLED and order.filled_quantity > Decimal(listed.filled_quantity)


async def _correct(oms: OrderManager, order: Order, vo: VenueOrder, now: datetime) -> None:
    """We show it done; the venue shows it working: the venue is right."""
    was = order.status.value
    filled = Decimal(vo.filled_quantity)
    order.status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.ACCEPTED
    order.reason = f"corrected by reconcile: working at {order.venue}, not {was}"
    order.updated_at = now
    order.venue_order_id = order.venue_order_id or vo.venue_order_id
    oms.orders[order.client_order_id] = order  # back among the open orders
    log.warning("%s: order %s was %s here but is working there; corrected", order.venue, order.client_order_id, was)
    await _save(oms, order)


async def _fills_since(
    oms: OrderManager, venue: str, imported: Iterable[VenueOrder], settling: Iterable[datetime] = ()
) -> tuple[datetime | None, bool]:
    """(since, whether to fetch at all): a venue time no fill we lack can be older than."""
    bounds = [vo.ts for vo in imported] + [ts - SAFETY for ts in settling]
    horizon = _horizons.get(oms, {}).get(venue)
    if horizon is not None:
        bounds.append(horizon - SAFETY)
    else:  # first reconcile of this session: what the database knows
        newest = await _newest_stored_fill(oms, venue)
        if newest is not None:
            bounds.append(newest - RESTART_MARGIN)
        elif await _has_orders(oms, venue):
            return None, True  # our orders here and never a fill stored: the whole history
    if not bounds:
        return None, False  # nothing of ours at this venue: no fill can be missing
    return min(bounds), True


async def _newest_stored_fill(oms: OrderManager, venue: str) -> datetime | None:
    return await oms.store.newest_fill_ts(venue)


async def _has_orders(oms: OrderManager, venue: str) -> bool:
    return any(o.venue == venue for o in oms.orders.values()) or await oms.store.has_orders(venue)


def _venue_made(venue: Venue, client_order_id: str) -> Order | None:
    """An order the venue made itself (a liquidation, an ADL) that the venue adapter recognised:
    taken in with its fills, as the stream would have."""
    made = getattr(venue, "venue_made_order", None)
    return None if made is None else made(client_order_id)


def _imported(venue: str, vo: VenueOrder, now: datetime) -> Order:
    """A venue order we did not place; its fills (applied next) bring its filled quantity."""
    return Order(
        client_order_id=vo.client_order_id,
        venue=venue,
        symbol=vo.symbol,
        side=Side(vo.side),
        type=OrderType(vo.type),
        quantity=Decimal(vo.quantity),
        price=None if vo.price is None else Decimal(vo.price),
        stop_price=None,
        time_in_force=TimeInForce.GTC,
        created_at=vo.ts,
        updated_at=now,
        status=OrderStatus.ACCEPTED,
        venue_order_id=vo.venue_order_id,
        source="venue",
        meta={"external": True},
    )


async def _save(oms: OrderManager, order: Order) -> None:
    await oms.store.save_order(order)
    oms.bus.publish(OrderEvent(order.copy()))
