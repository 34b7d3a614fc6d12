"""Risk and order commands for the in-process client and the daemon: reset breakers, read risk
state, place an OCO pair, modify a working order, and the dry-run pre-trade check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UsageError, UserError
from tui_trader.core.orders import Order
from tui_trader.engine import params as P
from tui_trader.engine.commands import command

if TYPE_CHECKING:
    from tui_trader.engine.ports import EnginePort


@command("risk.reset")
async def reset(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """Clear tripped breakers: params {"which": "daily_loss" | "max_drawdown" | "consecutive_losses"
    | "kill_switch" | "all"}."""
    cleared = await engine.reset_breakers(P.text(params, "which", max_len=40), actor)
    return {"cleared": cleared}


@command("risk.state")
async def state(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    return engine.risk_state()


@command("order.oco")
async def oco(engine: EnginePort, params: dict[str, Any], actor: str) -> list[Order]:
    """Place two orders (params "first", "second": OrderRequests, or their JSON objects from a
    client) as a one-cancels-other pair; returns both legs as placed."""
    source = actor.split("@", 1)[0]
    first = P.order_request(params.get("first"), source, "first")
    second = P.order_request(params.get("second"), source, "second")
    if first.symbol != second.symbol:
        raise UsageError(f"the two legs of an OCO trade one symbol, got {first.symbol} and {second.symbol}")
    return await engine.place_oco(first, second, actor)


@command("order.modify")
async def modify(engine: EnginePort, params: dict[str, Any], actor: str) -> Order:
    """Change a working limit order: params {"id", "price"?, "quantity"?} (numbers as strings);
    "dry_run": true checks the change (refused with the same message) without making it."""
    cid = P.text(params, "id", max_len=80)
    if not cid:
        raise UserError("which order? give its client order id")
    price, quantity = P.decimal(params, "price"), P.decimal(params, "quantity")
    dry_run = P.flag(params, "dry_run")
    return await engine.modify(cid, price=price, quantity=quantity, actor=actor, dry_run=dry_run)


@command("order.check")
async def check(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """Dry run of placing params["request"] (an OrderRequest, or its JSON object from a client):
    the same checks `place` runs, nothing recorded or sent. {"ok", "venue", "request"} or
    {"ok": False, "venue", "code", "message"}."""
    request = P.order_request(params.get("request"), actor.split("@", 1)[0], "request")
    return engine.check(request, actor)
