"""Named engine commands beyond the core ones (strategies, signals, arming live ...).

One registry serves the in-process client and the daemon's control API, so both offer the
same commands. Features register theirs with `@command("name")`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UsageError

if TYPE_CHECKING:
    from tui_trader.engine.ports import EnginePort

CommandFn = Callable[["EnginePort", dict[str, Any], str], Awaitable[Any]]
_COMMANDS: dict[str, CommandFn] = {}


def command(name: str) -> Callable[[CommandFn], CommandFn]:
    def deco(fn: CommandFn) -> CommandFn:
        _COMMANDS[name] = fn
        return fn

    return deco


def available() -> list[str]:
    return sorted(_COMMANDS)


async def dispatch(engine: EnginePort, name: str, params: dict[str, Any], actor: str) -> Any:
    fn = _COMMANDS.get(name)
    if fn is None:
        raise UsageError(f"unknown command {name[:40]!r}; available: {', '.join(available()) or 'none'}")
    return await fn(engine, params, actor)


@command("arm_live")
async def _arm_live(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """Allow (armed=true, the default) or forbid orders to live venues for this session."""
    from tui_trader.engine.params import flag

    armed = flag(params, "armed", True)
    engine.live_armed = armed
    await engine.audit(actor, "arm_live" if armed else "disarm_live", {})
    live = [name for name, venue in engine.venues.items() if venue.is_live]
    return {"armed": armed, "live_venues": live}
