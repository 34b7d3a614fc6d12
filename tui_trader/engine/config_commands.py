"""Configuration commands: re-read the config file and apply what can change in flight.

`config.reload` is what the TUI's "Reload config" runs. In the daemon it is the daemon's own
reload (SIGHUP does the same); in the TUI's own engine it re-reads the config file and applies
the risk settings. An invalid file is refused whole, in one line, and the running settings stay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import ConfigError, UserError
from tui_trader.engine.commands import command

if TYPE_CHECKING:
    from tui_trader.engine.ports import EnginePort


@command("config.reload")
async def reload(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    if engine.reloader is not None:
        result = await engine.reloader()
        if not result.get("reloaded"):
            raise UserError(f"config reload refused, the running config stays: {result.get('error')}")
        return result
    if engine.config_file is None:
        raise UserError("this engine has no config file to reload")
    from tui_trader.config import load_settings

    try:
        new = load_settings(engine.config_file)
    except ConfigError as exc:
        await engine.audit(actor, "config_reload_refused", {"error": str(exc)})
        raise UserError(f"config reload refused, the running config stays: {exc}") from None
    applied: list[str] = []
    changed: dict[str, Any] = {}
    if new.risk != engine.settings.risk:
        changed = await engine.apply_risk_settings(new.risk, actor)
        applied.append("risk")
    strategies: dict[str, list[str]] = {}
    if new.strategies != engine.settings.strategies and engine.strategies is not None:
        engine.settings = engine.settings.model_copy(update={"strategies": new.strategies})
        strategies = await engine.strategies.apply_config(new.strategies)  # added start, removed stop
        applied.append("strategies")
    return {"reloaded": True, "applied": applied, "changed": changed, "strategies": strategies}
