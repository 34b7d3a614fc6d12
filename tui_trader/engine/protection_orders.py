"""A position's stop and take-profit as reduce-only orders, one-cancels-other when both:
placed for a chat provider's position (chat_orders.py) and for a copy of one (copy/chat.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.orders import Order, OrderRequest

if TYPE_CHECKING:
    from tui_trader.engine.ports import EnginePort


async def place_protection(
    engine: EnginePort,
    symbol: str,
    venue: str | None,
    position_side: Side,
    qty: Decimal,
    stop: Decimal | None,
    take_profit: Decimal | None,
    *,
    source: str,
    tag: str,
) -> list[Order]:
    """Place them for `qty` of a `position_side` position, as `source` (also the actor); [] when
    there is neither. A refusal by the engine raises UserError; a venue's rejection is an order
    in the list (`rejection`)."""
    common: dict[str, Any] = {"venue": venue, "reduce_only": True, "source": source, "tag": tag}
    side = position_side.opposite
    legs = []
    if stop is not None:
        legs.append(OrderRequest(symbol, side, qty, OrderType.STOP, stop_price=stop, **common))
    if take_profit is not None:
        legs.append(OrderRequest(symbol, side, qty, OrderType.LIMIT, price=take_profit, **common))
    if len(legs) == 2:
        return list(await engine.place_oco(legs[0], legs[1], actor=source))
    return [await engine.place(legs[0], actor=source)] if legs else []


def rejection(orders: list[Order]) -> str | None:
    """The first rejected leg's reason, None when none was rejected."""
    refused = [o for o in orders if o.status is OrderStatus.REJECTED]
    return (refused[0].reason or "no reason given") if refused else None
