"""Reconciliation with a venue by client order id, at start and after reconnects.

- open orders the venue has that we do not know are imported (flagged `external`) first, so
  their fills, fetched next, apply to them;
- fills the venue has that we do not are applied (each fill id once), through the OMS's own
  report queue: one task writes fills, so reconciling never races a streamed fill;
- our open orders the venue no longer has open are settled (filled, or closed with a reason);
- orders we persisted but the venue never received are marked rejected.

Fills are fetched from a venue time that covers every fill we may lack: the newest fill the
last complete fetch returned (minus `SAFETY`); at the first reconcile of a session, the newest
stored fill for the venue (minus `RESTART_MARGIN`), or the whole history if our orders for
the venue have no stored fill; never later than the creation of an order being imported.
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
from tui_trader.core.orders import Order
from tui_trader.execution.oms import OrderManager
from tui_trader.venues.base import Venue, VenueOrder

log = logging.getLogger(__name__)

# Venue timestamps of fills are not strictly increasing (matching engines, shards, latency).
SAFETY = timedelta(seconds=60)
# After a restart the newest stored fill proves nothing about older ones missed before it.
RESTART_MARGIN = timedelta(hours=1)

# Per OMS (one per engine session) and venue: the newest venue time a complete fetch reached.
_horizons: weakref.WeakKeyDictionary[OrderManager, dict[str, datetime]] = weakref.WeakKeyDictionary()


@dataclass(slots=True)
class ReconcileReport:
    venue: str
    fills_applied: int = 0
    orders_settled: list[str] = field(default_factory=list)
    orders_imported: list[str] = field(default_factory=list)
    fills_since: datetime | None = None  # the venue time fills were fetched from (None: all)

    @property
    def changed(self) -> bool:
        return bool(self.fills_applied or self.orders_settled or self.orders_imported)


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
    venue_open = {o.client_order_id: o for o in await venue.fetch_open_orders()}
    # 2. Orders only the venue knows, before the fills, so their fills are applied too.
    imported: dict[str, VenueOrder] = {}
    for cid, vo in venue_open.items():
        if cid in oms.orders or await oms.store.get_order(cid) is not None:
            continue
        order = _imported(venue.name, vo, now)
        oms.orders[cid] = order
        await _save(oms, order)
        imported[cid] = vo
        report.orders_imported.append(cid)
    # 3. Missed fills, applied in venue time order through the OMS queue.
    since, fetch = await _fills_since(oms, venue.name, imported.values())
    report.fills_since = since
    if fetch:
        fills = sorted(await venue.fetch_fills(since), key=lambda f: f.ts)
        for fill in fills:
            if oms.has_seen_fill(fill.venue, fill.fill_id):
                continue
            known = fill.client_order_id in oms.orders or await oms.store.get_order(fill.client_order_id)
            if not known:
                continue  # another client's order the venue no longer lists as open
            oms.on_report(
                ExecutionReport(venue.name, fill.client_order_id, None, fill.ts, fill.venue_order_id, None, fill)
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
        if order.client_order_id in venue_open:
            if order.status is OrderStatus.NEW:
                order.transition(OrderStatus.ACCEPTED, now)
                await _save(oms, order)
            continue
        if order.filled_quantity >= order.quantity:
            order.transition(OrderStatus.FILLED, now)
        elif order.status is OrderStatus.NEW and order.filled_quantity == 0:
            order.transition(OrderStatus.REJECTED, now, "never reached the venue (found at restart)")
        else:
            order.transition(OrderStatus.CANCELLED, now, "no longer open at the venue (found at restart)")
        await _save(oms, order)
        report.orders_settled.append(order.client_order_id)
    if report.changed:
        msg = (
            f"{venue.name}: reconciled {report.fills_applied} missed fills, settled {len(report.orders_settled)} "
            f"orders, imported {len(report.orders_imported)} unknown orders"
        )
        log.info(msg)
        oms.bus.publish(NoticeEvent(now, "warning" if report.orders_imported else "info", msg, "reconcile"))
        await oms.store.audit(
            now,
            "engine",
            "reconcile",
            {
                "venue": venue.name,
                "fills": report.fills_applied,
                "settled": report.orders_settled,
                "imported": report.orders_imported,
            },
        )
    return report


async def _fills_since(oms: OrderManager, venue: str, imported: Iterable[VenueOrder]) -> tuple[datetime | None, bool]:
    """(since, whether to fetch at all): a venue time no fill we lack can be older than."""
    bounds = [vo.ts for vo in imported]
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
