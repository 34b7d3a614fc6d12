"""Rows <-> domain objects. Decimals are stored as text so nothing is lost to floats."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from tui_trader.core.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.fills import Fill
from tui_trader.core.isotime import iso
from tui_trader.core.orders import Order
from tui_trader.core.positions import Position
from tui_trader.store.json_text import json_text

ORDER_COLUMNS = (
    "client_order_id",
    "venue",
    "symbol",
    "side",
    "type",
    "quantity",
    "price",
    "stop_price",
    "time_in_force",
    "status",
    "filled_quantity",
    "average_price",
    "fees",
    "venue_order_id",
    "reason",
    "source",
    "strategy",
    "tag",
    "post_only",
    "reduce_only",
    "parent_id",
    "oco_id",
    "meta",
    "created_at",
    "updated_at",
)
FILL_COLUMNS = (
    "venue",
    "fill_id",
    "client_order_id",
    "venue_order_id",
    "symbol",
    "side",
    "quantity",
    "price",
    "fee",
    "fee_currency",
    "liquidity",
    "ts",
)
POSITION_COLUMNS = ("venue", "symbol", "quantity", "average_price", "realized_pnl", "fees", "updated_at", "funding")


def _s(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


def _d(v: str | None) -> Decimal | None:
    return None if v is None else Decimal(v)


def order_row(o: Order) -> tuple[Any, ...]:
    return (
        o.client_order_id,
        o.venue,
        o.symbol,
        str(o.side),  # a StrEnum's str is its value, without Enum.value's two Python calls
        str(o.type),
        str(o.quantity),
        _s(o.price),
        _s(o.stop_price),
        str(o.time_in_force),
        str(o.status),
        str(o.filled_quantity),
        _s(o.average_price),
        str(o.fees),
        o.venue_order_id,
        o.reason,
        o.source,
        o.strategy,
        o.tag,
        int(o.post_only),
        int(o.reduce_only),
        o.parent_id,
        o.oco_id,
        json_text(o.meta) if o.meta else "{}",  # most orders have none
        iso(o.created_at),
        iso(o.updated_at),
    )


def order_from_row(r: Any) -> Order:
    return Order(
        client_order_id=r["client_order_id"],
        venue=r["venue"],
        symbol=r["symbol"],
        side=Side(r["side"]),
        type=OrderType(r["type"]),
        quantity=Decimal(r["quantity"]),
        price=_d(r["price"]),
        stop_price=_d(r["stop_price"]),
        time_in_force=TimeInForce(r["time_in_force"]),
        created_at=datetime.fromisoformat(r["created_at"]),
        updated_at=datetime.fromisoformat(r["updated_at"]),
        status=OrderStatus(r["status"]),
        filled_quantity=Decimal(r["filled_quantity"]),
        average_price=_d(r["average_price"]),
        fees=Decimal(r["fees"]),
        venue_order_id=r["venue_order_id"],
        reason=r["reason"],
        source=r["source"],
        strategy=r["strategy"],
        tag=r["tag"],
        post_only=bool(r["post_only"]),
        reduce_only=bool(r["reduce_only"]),
        parent_id=r["parent_id"],
        oco_id=r["oco_id"],
        meta=json.loads(r["meta"] or "{}"),
    )


def fill_row(f: Fill) -> tuple[Any, ...]:
    return (
        f.venue,
        f.fill_id,
        f.client_order_id,
        f.venue_order_id,
        f.symbol,
        f.side.value,
        str(f.quantity),
        str(f.price),
        str(f.fee),
        f.fee_currency,
        f.liquidity.value,
        iso(f.ts),
    )


def fill_from_row(r: Any) -> Fill:
    return Fill(
        fill_id=r["fill_id"],
        client_order_id=r["client_order_id"],
        venue=r["venue"],
        symbol=r["symbol"],
        side=Side(r["side"]),
        quantity=Decimal(r["quantity"]),
        price=Decimal(r["price"]),
        fee=Decimal(r["fee"]),
        fee_currency=r["fee_currency"],
        liquidity=Liquidity(r["liquidity"]),
        ts=datetime.fromisoformat(r["ts"]),
        venue_order_id=r["venue_order_id"],
    )


def position_row(p: Position, at: datetime) -> tuple[Any, ...]:
    return (
        p.venue,
        p.symbol,
        str(p.quantity),
        str(p.average_price),
        str(p.realized_pnl),
        str(p.fees),
        at.isoformat(),
        str(p.funding),
    )


def position_from_row(r: Any) -> Position:
    return Position(
        venue=r["venue"],
        symbol=r["symbol"],
        quantity=Decimal(r["quantity"]),
        average_price=Decimal(r["average_price"]),
        realized_pnl=Decimal(r["realized_pnl"]),
        fees=Decimal(r["fees"]),
        funding=Decimal(r["funding"]),
    )
