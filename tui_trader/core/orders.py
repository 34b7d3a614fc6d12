"""Orders: the request a user or strategy makes, and the order the OMS tracks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from tui_trader.core.enums import OrderStatus, OrderType, Side, TimeInForce


def shown_state(status: OrderStatus, meta: dict[str, Any] | None) -> str:
    """`held` for an open order the engine keeps back (bracket children waiting for their
    entry, the held leg of an OCO: not at the venue yet), else the status. The workstation and
    the CLI show this same word."""
    return "held" if status.is_open and (meta or {}).get("held") else status.value


# Legal state transitions (the OMS refuses anything else).
_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW: frozenset(
        {
            OrderStatus.UNKNOWN,
            OrderStatus.ACCEPTED,
            OrderStatus.REJECTED,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
        }
    ),
    OrderStatus.UNKNOWN: frozenset(
        {
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
            OrderStatus.REJECTED,
        }
    ),
    OrderStatus.ACCEPTED: frozenset(
        {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
            OrderStatus.REJECTED,
        }
    ),
    OrderStatus.PARTIALLY_FILLED: frozenset(
        {OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}
    ),
}


class InvalidTransition(ValueError):
    pass


def can_transition(old: OrderStatus, new: OrderStatus) -> bool:
    return old == new or new in _TRANSITIONS.get(old, frozenset())


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What a source asks for. Every source (keyboard, CLI, strategy, signal) builds one."""

    symbol: str
    side: Side
    quantity: Decimal
    type: OrderType = OrderType.MARKET
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    venue: str | None = None
    stop_loss: Decimal | None = None  # bracket children
    take_profit: Decimal | None = None
    trail_amount: Decimal | None = None  # trailing stop: absolute distance
    trail_percent: Decimal | None = None  # trailing stop: fraction, 0.02 = 2 %
    post_only: bool = False
    reduce_only: bool = False
    extended_hours: bool = False  # may trade in pre-market and after-hours (stock limit orders)
    # Derivatives: the leverage to trade at (the symbol's setting changes to it first), and
    # bracket legs as distances from the entry (`sl 20p`: 20 pips), resolved by the engine
    # against the limit price, or the touch for a market order, before the checks.
    leverage: Decimal | None = None
    stop_loss_offset: Decimal | None = None
    take_profit_offset: Decimal | None = None
    source: str = "manual"  # manual | cli | strategy:<name> | signal:<provider> ...
    strategy: str | None = None
    tag: str | None = None
    client_order_id: str | None = None  # caller-chosen id (idempotent retries)
    parent_id: str | None = None
    oco_id: str | None = None

    def with_(self, **changes: Any) -> OrderRequest:
        return replace(self, **changes)


@dataclass(slots=True)
class Order:
    """An order as the OMS tracks it. Mutated only by the OMS."""

    client_order_id: str
    venue: str
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    created_at: datetime
    updated_at: datetime
    status: OrderStatus = OrderStatus.NEW
    filled_quantity: Decimal = Decimal(0)
    average_price: Decimal | None = None
    fees: Decimal = Decimal(0)
    venue_order_id: str | None = None
    reason: str | None = None  # why rejected / cancelled / expired
    source: str = "manual"
    strategy: str | None = None
    tag: str | None = None
    post_only: bool = False
    reduce_only: bool = False
    parent_id: str | None = None
    oco_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # links, emulation notes, trailing state

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def state(self) -> str:
        """What a trader is shown: the status, or `held` for an order the engine keeps back."""
        return shown_state(self.status, self.meta)

    def transition(self, new: OrderStatus, at: datetime, reason: str | None = None) -> None:
        if not can_transition(self.status, new):
            raise InvalidTransition(f"order {self.client_order_id}: {self.status} -> {new} is not allowed")
        self.status = new
        self.updated_at = at
        if reason is not None:
            self.reason = reason

    def copy(self) -> Order:
        # Field by field, positionally: several copies an order, and `dataclasses.replace`
        # costs 7 us each where this costs 2 (meta is the last field: asserted below)
        new = Order(*_ORDER_FIELDS(self))
        new.meta = dict(self.meta)
        return new

    @classmethod
    def from_request(cls, req: OrderRequest, client_order_id: str, venue: str, at: datetime) -> Order:
        meta: dict[str, Any] = {}
        if req.stop_loss is not None:
            meta["stop_loss"] = str(req.stop_loss)
        if req.take_profit is not None:
            meta["take_profit"] = str(req.take_profit)
        if req.trail_amount is not None:
            meta["trail_amount"] = str(req.trail_amount)
        if req.trail_percent is not None:
            meta["trail_percent"] = str(req.trail_percent)
        if req.extended_hours:
            meta["extended_hours"] = True
        if req.leverage is not None:
            meta["leverage"] = str(req.leverage)
        return cls(
            client_order_id=client_order_id,
            venue=venue,
            symbol=req.symbol,
            side=req.side,
            type=req.type,
            quantity=req.quantity,
            price=req.price,
            stop_price=req.stop_price,
            time_in_force=req.time_in_force,
            created_at=at,
            updated_at=at,
            source=req.source,
            strategy=req.strategy,
            tag=req.tag,
            post_only=req.post_only,
            reduce_only=req.reduce_only,
            parent_id=req.parent_id,
            oco_id=req.oco_id,
            meta=meta,
        )


_ORDER_FIELD_NAMES = tuple(f.name for f in fields(Order))
assert _ORDER_FIELD_NAMES[-1] == "meta", "Order.copy passes every field but meta by position"
_ORDER_FIELDS = attrgetter(*_ORDER_FIELD_NAMES[:-1])


def as_placed(orders: list[Order]) -> list[Order]:
    """The orders as the trader placed them: a routed order's children (`--venue auto`) are left
    out while their parent is in the list, so a route counts once."""
    ids = {o.client_order_id for o in orders}
    return [o for o in orders if o.meta.get("route_parent") not in ids]


def legs_note(meta: dict[str, Any]) -> str:
    """" with stop-loss 2900 and take-profit 3100" for a bracket entry (from its meta), else ""."""
    labels = (("stop_loss", "stop-loss"), ("take_profit", "take-profit"))
    parts = [f"{label} {meta[key]}" for key, label in labels if meta.get(key)]
    return f" with {' and '.join(parts)}" if parts else ""


def trail_fields(distance: str, parse: Callable[[str, str], Decimal]) -> dict[str, Decimal]:
    """A trailing stop's distance as typed: `2%` -> {"trail_percent": 0.02} (a fraction of the
    price), `500` -> {"trail_amount": 500} (quote currency). `parse` is the front end's checked
    number parser; ValueError (one line) for 100 % or more."""
    if distance.endswith("%"):
        pct = parse(distance[:-1], "trail percent")
        if pct >= 100:
            raise ValueError(f"trail {distance} is not below 100%")
        return {"trail_percent": pct / 100}
    return {"trail_amount": parse(distance, "trail distance")}


def oco_partner(first: OrderRequest, price: Decimal) -> OrderRequest:
    """The other leg of a one-cancels-other pair with `first`: a limit pairs with a stop at
    `price`, a stop with a limit at `price`; same symbol, side, quantity, venue, time in force,
    reduce-only and source (when one fills the engine cancels the other). ValueError otherwise."""
    same = {
        "venue": first.venue, "time_in_force": first.time_in_force, "reduce_only": first.reduce_only,
        "source": first.source, "strategy": first.strategy, "tag": first.tag,
    }  # fmt: skip
    if first.type is OrderType.LIMIT:
        return OrderRequest(first.symbol, first.side, first.quantity, OrderType.STOP, stop_price=price, **same)  # type: ignore[arg-type]
    if first.type is OrderType.STOP:
        return OrderRequest(first.symbol, first.side, first.quantity, OrderType.LIMIT, price=price, **same)  # type: ignore[arg-type]
    raise ValueError(f"oco pairs a limit with a stop, not a {first.type.value} order")
