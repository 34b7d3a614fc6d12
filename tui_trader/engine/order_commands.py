"""Risk and order commands for the in-process client and the daemon: reset breakers, read risk
state, place an OCO pair, modify a working order."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UserError
from tui_trader.core.orders import Order
from tui_trader.engine.commands import command

if TYPE_CHECKING:
    from tui_trader.engine.ports import EnginePort


@command("risk.reset")
async def reset(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """Clear tripped breakers: params {"which": "daily_loss" | "max_drawdown" | "consecutive_losses"}."""
    cleared = await engine.reset_breakers(params.get("which"), actor)
    return {"cleared": cleared}


@command("risk.state")
async def state(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    return engine.risk_state()


@command("order.oco")
async def oco(engine: EnginePort, params: dict[str, Any], actor: str) -> list[str]:
    """Place two OrderRequests (params "first", "second") as a one-cancels-other pair."""
    legs = await engine.place_oco(params["first"], params["second"], actor)
    return [o.client_order_id for o in legs]


@command("order.modify")
async def modify(engine: EnginePort, params: dict[str, Any], actor: str) -> Order:
    """Change a working limit order: params {"id", "price"?, "quantity"?} (numbers as strings)."""
    cid = str(params.get("id") or "")
    if not cid:
        raise UserError("which order? give its client order id")
    price, quantity = _decimal(params, "price"), _decimal(params, "quantity")
    return await engine.modify(cid, price=price, quantity=quantity, actor=actor)


def _decimal(params: dict[str, Any], key: str) -> Decimal | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise UserError(f"{key} {value!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise UserError(f"{key} must be a positive number, not {value}")
    return number
