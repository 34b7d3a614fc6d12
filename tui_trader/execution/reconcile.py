"""Reconciliation with a venue by client order id, at start and after reconnects.

- fills the venue has that we do not are applied (each fill id once);
- our open orders the venue no longer has open are settled (filled, or closed with a reason);
- orders we persisted but the venue never received are marked rejected;
- open orders the venue has that we do not know are imported and flagged `external`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tui_trader.core.enums import OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.events import ExecutionReport, NoticeEvent, OrderEvent
from tui_trader.core.orders import Order
from tui_trader.execution.oms import OrderManager
from tui_trader.venues.base import Venue

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ReconcileReport:
    venue: str
    fills_applied: int = 0
    orders_settled: list[str] = field(default_factory=list)
    orders_imported: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.fills_applied or self.orders_settled or self.orders_imported)


async def reconcile(oms: OrderManager, venue: Venue, now: datetime) -> ReconcileReport:
    report = ReconcileReport(venue.name)
    # 1. Missed fills.
    for fill in await venue.fetch_fills(None):
        if oms.has_seen_fill(fill.venue, fill.fill_id):
            continue
        known = oms.orders.get(fill.client_order_id) or await oms.store.get_order(fill.client_order_id)
        if known is None:
            continue  # belongs to an order we will import below, or to another client
        await oms.apply(ExecutionReport(venue.name, fill.client_order_id, None, fill.ts, fill.venue_order_id, None, fill))
        report.fills_applied += 1
    # 2. Our open orders vs the venue's.
    venue_open = {o.client_order_id: o for o in await venue.fetch_open_orders()}
    # Orders the engine holds itself (emulated, meta["held"]) were never sent: nothing to settle.
    for order in [o for o in oms.open_orders() if o.venue == venue.name and not o.meta.get("held")]:
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
    # 3. Orders only the venue knows.
    for cid, vo in venue_open.items():
        if cid in oms.orders or await oms.store.get_order(cid) is not None:
            continue
        order = Order(
            client_order_id=cid, venue=venue.name, symbol=vo.symbol, side=Side(vo.side), type=OrderType(vo.type),
            quantity=Decimal(vo.quantity), price=None if vo.price is None else Decimal(vo.price), stop_price=None,
            time_in_force=TimeInForce.GTC, created_at=vo.ts, updated_at=now, status=OrderStatus.ACCEPTED,
            filled_quantity=Decimal(vo.filled_quantity), venue_order_id=vo.venue_order_id, source="venue",
            meta={"external": True},
        )
        oms.orders[cid] = order
        await _save(oms, order)
        report.orders_imported.append(cid)
    if report.changed:
        msg = (f"{venue.name}: reconciled {report.fills_applied} missed fills, settled {len(report.orders_settled)} "
               f"orders, imported {len(report.orders_imported)} unknown orders")
        log.info(msg)
        oms.bus.publish(NoticeEvent(now, "warning" if report.orders_imported else "info", msg, "reconcile"))
        await oms.store.audit(now, "engine", "reconcile", {
            "venue": venue.name, "fills": report.fills_applied, "settled": report.orders_settled,
            "imported": report.orders_imported,
        })
    return report


async def _save(oms: OrderManager, order: Order) -> None:
    await oms.store.save_order(order)
    oms.bus.publish(OrderEvent(order.copy()))
