"""`tui-trader venue reconnect NAME`: a live venue reconnected with its keys read again from
the keyring, on the running engine (new keys stored with `keys set`, a permission given to the
key at the exchange), without restarting the daemon and every other venue and strategy.

The keys are read here, inside the engine, from the keyring: never sent over the socket, never
in a log line, the audit log or the answer. The adapter reconnects the whole venue with them
(`KeyedVenue.reconnect_with`); once it is back the engine reconciles (as after any reconnect:
fills applied once, an order whose fate is unknown stays so until the venue answers) and reads
its balances again (its cash: engine/cash_reread.py); the answer says how the venue ended:
`connected`, or `degraded` saying why (keys refused again: the private streams stopped once
more, not retried)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from tui_trader.core.enums import ConnectionState
from tui_trader.core.errors import UsageError, UserError
from tui_trader.engine import params as P
from tui_trader.engine.commands import command
from tui_trader.engine.snapshot import NOT_DELIVERING, venue_streams
from tui_trader.venues.base import KeyedVenue, Venue, VenueError

if TYPE_CHECKING:
    from tui_trader.engine.ports import EnginePort
    from tui_trader.secrets import Credentials

SETTLE_S = 15  # how long the answer waits for the venue to be back (`wait_s`)


def venue_named(engine: EnginePort, params: dict[str, Any]) -> Venue:
    """The configured venue `params["name"]` names (a usage error, naming them, if none)."""
    name = P.text(params, "name", required=True, max_len=64) or ""
    venue = engine.venues.get(name)
    if venue is None:
        raise UsageError(f"no venue {name!r}; configured: {', '.join(engine.venues)}")
    return venue


@command("venue.reconnect")
async def _reconnect(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """Reconnect a live venue with its keys read again from the keyring: params {"name",
    "wait_s"?: seconds to wait for it to be back (default 15)}."""
    venue = venue_named(engine, params)
    wait_s = P.integer(params, "wait_s", SETTLE_S, low=1, high=300)
    if venue.kind == "paper":
        raise UsageError(
            f"{venue.name} is a paper venue: it has no keys to read again; "
            f"`tui-trader venue stop|start {venue.name}` takes it down and back"
        )
    if not isinstance(venue, KeyedVenue):
        raise UsageError(
            f"{venue.name} is a {venue.kind} venue: it cannot take new keys while running; "
            "restart the daemon to use them"
        )
    credentials = await _keys(engine, venue) if venue.takes_keys else None
    applied = engine.reconciler.fills_applied.get(venue.name, 0)
    cash_reads = engine.reconciler.cash.moved.get(venue.name, (0, ""))[0]
    try:
        await venue.reconnect_with(credentials)
    except VenueError as exc:  # the new client could not list the markets (keys refused there
        # too, where listing them is signed: KuCoin's): the old one streams on
        await engine.audit(actor, "venue_reconnect", {"venue": venue.name, "state": "failed", "detail": str(exc)})
        raise UserError(f"{exc}; nothing changed: {venue.name} runs on as it was ({venue.state.value})") from None
    state = await _settled(venue, wait_s)
    reconciled, cash = None, ""
    if state is ConnectionState.CONNECTED:  # the reconnect's reconcile, and ours after it
        report = await engine.reconciler.reconcile_now(venue.name)
        if engine.oms is not None:
            await engine.oms.flush()
        await engine.reconciler.cash.reread(venue.name, "reconnect")  # a notice and an audit row if it moved
        reads, moves = engine.reconciler.cash.moved.get(venue.name, (0, ""))
        cash = moves if reads > cash_reads else ""  # this one's, or the reconnect's own read
        reconciled = {
            "fills_applied": engine.reconciler.fills_applied.get(venue.name, 0) - applied,
            "unsettled": len(report.unsettled) if report else 0,  # orders still unknown: settled as it answers
        }
    detail = "" if state is ConnectionState.CONNECTED else _why(venue, state, wait_s)
    await engine.audit(actor, "venue_reconnect", {"venue": venue.name, "state": state.value, "detail": detail})
    return {"venue": venue.name, "state": state.value, "detail": detail, "reconciled": reconciled, "cash": cash}


async def _keys(engine: EnginePort, venue: Venue) -> Credentials:
    """The venue's keys, read from the keyring here: in a thread (the file keyring's Argon2
    takes a moment), never with a prompt (a daemon has no terminal)."""
    from tui_trader.secrets import load_credentials

    credentials = await asyncio.to_thread(load_credentials, venue.name, engine.home, prompt=False)
    if credentials is None or not credentials.fields_set():  # moomoo's: a trade password alone
        raise UserError(
            f"no keys for {venue.name} in the keyring: run `tui-trader keys set {venue.name}` first; nothing changed"
        )
    return credentials


async def _settled(venue: Venue, wait_s: float) -> ConnectionState:
    """The venue's state once it is back: `connected`, or `degraded` with its private streams
    stopped (the keys refused again); whatever it is after `wait_s` otherwise."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        state = venue.state
        if state is ConnectionState.CONNECTED:
            break
        if state is ConnectionState.DEGRADED and any(s.private and s.state == "stopped" for s in venue_streams(venue)):
            break
        await asyncio.sleep(0.1)
    return venue.state


def _why(venue: Venue, state: ConnectionState, wait_s: float) -> str:
    """Why the venue is not `connected`, in one line: its streams' reasons, each once; those
    stopped for good alone where there are some (a book still coming back beside them is not
    why: it is back in a moment)."""
    rows = venue_streams(venue)
    reasons = [s.detail for s in rows if s.state == "stopped" and s.detail] or [
        s.detail for s in rows if s.state in NOT_DELIVERING and s.detail
    ]
    why = "; ".join(dict.fromkeys(reasons)) or "no stream back yet"
    if state is ConnectionState.DEGRADED:
        return why
    return f"not back after {wait_s:g}s ({why}); `tui-trader status` shows how it goes on"
