"""Commands for many venues as one: the consolidated quote (`quote SYMBOL --all-venues`), the
spread scanner (`scan spreads`), and stopping / starting a paper venue to rehearse an outage
(`venue stop|start NAME`; a live venue's `venue reconnect NAME` is in venue_commands.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_trader.core.enums import ConnectionState
from tui_trader.core.errors import UsageError, UserError
from tui_trader.engine import params as P
from tui_trader.engine.commands import command
from tui_trader.engine.scanner import SIMULATED_NOTE, simulated
from tui_trader.engine.venue_commands import venue_named

if TYPE_CHECKING:
    from tui_trader.engine.ports import EnginePort


@command("market.consolidated")
async def _consolidated(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """One symbol on every venue that lists it: params {"symbol", "depth"?}."""
    symbol = (P.text(params, "symbol", required=True, max_len=64) or "").strip().upper()
    depth = P.integer(params, "depth", 10, low=1, high=50)
    doc = engine.scanner.consolidated(symbol, depth)
    if not doc["venues"]:
        raise UsageError(f"no venue lists {symbol}; configured: {', '.join(engine.venues)}")
    return dict(doc)


@command("scan.spreads")
async def _spreads(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """The scanner's latest result, fresh: params {"triangular"?: bool, "min_bps"?: number}."""
    triangular = P.flag(params, "triangular")
    min_bps = P.decimal(params, "min_bps")
    engine.scanner.scan()
    doc = engine.scanner.latest()
    rows = doc["triangles"] if triangular else doc["spreads"]
    if min_bps is not None:
        rows = [r for r in rows if r["net_bps"] >= float(min_bps)]
    out = {
        "mode": "triangular" if triangular else "cross_venue",
        "scanned_at": doc["scanned_at"],
        "alert_bps": doc["alert_bps"],
        "transfer_cost_bps": engine.settings.routing.scanner.transfer_cost_bps,
        "rows": rows,
    }
    if triangular and any(simulated(engine, name) for name in engine.venues):
        out["note"] = SIMULATED_NOTE
    return out


@command("venue.stop")
async def _stop(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """Stop a paper venue (an outage rehearsal): no quotes, orders refused, until `venue.start`."""
    venue = _paper(engine, params)
    if venue.state is not ConnectionState.CONNECTED:
        raise UserError(f"{venue.name} is already stopped")
    await venue.close()  # says so itself (a connection event: status, the status bar, notifications)
    await engine.audit(actor, "venue_stop", {"venue": venue.name})
    return {"venue": venue.name, "state": venue.state.value}


@command("venue.start")
async def _start(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    venue = _paper(engine, params)
    if venue.state is ConnectionState.CONNECTED:
        raise UserError(f"{venue.name} is already running")
    await engine.reconnect_venue(venue.name)
    await engine.audit(actor, "venue_start", {"venue": venue.name})
    return {"venue": venue.name, "state": venue.state.value}


def _paper(engine: EnginePort, params: dict[str, Any]) -> Any:
    venue = venue_named(engine, params)
    if venue.kind != "paper":
        raise UsageError(
            f"{venue.name} is a {venue.kind} venue: only paper venues are stopped and started from here "
            f"(to rehearse an outage); `tui-trader venue reconnect {venue.name}` reconnects it with its keys "
            "read again"
        )
    return venue
