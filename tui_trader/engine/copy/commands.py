"""Engine commands of copy trading: `copy.status` (a viewer may read it), `copy.start`,
`copy.stop` (per leader; the choice is kept across restarts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UsageError, UserError
from tui_trader.engine import params as P
from tui_trader.engine.commands import command

if TYPE_CHECKING:
    from tui_trader.engine.copy.desk import CopyDesk
    from tui_trader.engine.ports import EnginePort


def _desk(engine: EnginePort) -> CopyDesk:
    desk = getattr(engine, "copy", None)
    if desk is None:
        raise UserError("no copy trading configured: add a [copy.NAME] table (docs/social.md) and restart")
    return desk


@command("copy.status")
async def _status(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """Every leader (or one): state, what was mirrored or skipped and why, slippage, delay, P&L."""
    desk = getattr(engine, "copy", None)
    name = P.text(params, "name", max_len=64)
    if desk is None:
        if name:
            raise UserError(f"no copy leader {name!r}: no [copy.*] table: add one (docs/social.md)")
        return {"leaders": []}
    return desk.status(name) if name else desk.status()


async def _toggle(engine: EnginePort, params: dict[str, Any], actor: str, enabled: bool) -> dict[str, Any]:
    name = P.text(params, "name", required=True, max_len=64)
    if not name:
        raise UsageError("name the leader: copy.start / copy.stop need `name`")
    return await _desk(engine).set_enabled(name, enabled, actor)


@command("copy.start")
async def _start(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    return await _toggle(engine, params, actor, True)


@command("copy.stop")
async def _stop(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    return await _toggle(engine, params, actor, False)
