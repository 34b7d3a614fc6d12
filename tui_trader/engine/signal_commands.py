"""Signal commands for the in-process client and the daemon alike.

The signal service (pandas windows, the chat parser) is imported when a command needs it, not
with the engine: `tui-trader` paints its first screen ~0.1 s sooner."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UserError
from tui_trader.engine.commands import command

if TYPE_CHECKING:
    from tui_trader.engine.ports import EnginePort



@command("signals.recommendations")
async def _cmd_recommendations(
    engine: EnginePort, params: dict[str, Any], actor: str
) -> list[dict[str, Any]]:
    """Ranked recommendations (the same dicts as snapshot.extra["recommendations"])."""
    service = getattr(engine, "signal_service", None)
    if service is None:
        return []
    from tui_trader.engine.signal_service import recommendation_dict

    return [recommendation_dict(r) for r in service.recommendations()]


@command("signals.parse_chat")
async def _cmd_parse_chat(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """A pasted provider message -> a pending chat signal (or executed, for auto providers)."""
    text = str(params.get("text") or "").strip()
    if not text:
        raise UserError("paste a signal message, e.g. BTC/USDT LONG entry 64000 SL 63000 TP1 66000")
    provider = str(params.get("provider") or "paste")
    from tui_trader.engine.signal_service import ensure_service

    service = await ensure_service(engine)
    return (await service.chat.submit_chat(text, provider, origin="paste")).as_dict()


@command("signals.confirm")
async def _cmd_confirm(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """A pending chat signal -> an OrderRequest for the ticket to pre-fill (nothing is placed)."""
    from tui_trader.engine.params import decimal
    from tui_trader.engine.signal_service import ensure_service

    chat_id = str(params.get("id") or "")
    quantity = decimal(params, "quantity")
    service = await ensure_service(engine)
    return await service.chat.confirm(chat_id, quantity)


@command("signals.pending")
async def _cmd_pending(engine: EnginePort, params: dict[str, Any], actor: str) -> list[dict[str, Any]]:
    service = getattr(engine, "signal_service", None)
    return [] if service is None else [p.as_dict() for p in service.chat.pending.values()]


@command("signals.dismiss")
async def _cmd_dismiss(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    service = getattr(engine, "signal_service", None)
    item = None if service is None else service.chat.pending.get(str(params.get("id") or ""))
    if item is None:
        raise UserError(f"no pending chat signal {params.get('id')!r}")
    item.status = "dismissed"
    return item.as_dict()
