"""Risk commands for the in-process client and the daemon: reset breakers, read risk state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_trader.commands import command

if TYPE_CHECKING:
    from tui_trader.engine import Engine


@command("risk.reset")
async def reset(engine: Engine, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """Clear tripped breakers: params {"which": "daily_loss" | "max_drawdown" | "consecutive_losses"}."""
    cleared = await engine.reset_breakers(params.get("which"), actor)
    return {"cleared": cleared}


@command("risk.state")
async def state(engine: Engine, params: dict[str, Any], actor: str) -> dict[str, Any]:
    return engine.risk_state()


@command("order.oco")
async def oco(engine: Engine, params: dict[str, Any], actor: str) -> list[str]:
    """Place two OrderRequests (params "first", "second") as a one-cancels-other pair."""
    legs = await engine.place_oco(params["first"], params["second"], actor)
    return [o.client_order_id for o in legs]
