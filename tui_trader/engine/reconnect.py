"""Reconcile a venue each time it comes back after a reconnect."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.enums import ConnectionState
from tui_trader.core.events import ConnectionEvent, Event
from tui_trader.execution.reconcile import reconcile
from tui_trader.venues.resilience import in_background

if TYPE_CHECKING:
    from tui_trader.engine.ports import EnginePort

def reconcile_after_reconnect(engine: EnginePort) -> None:
    """Engine hook: reconcile a venue each time it reports `connected` after a reconnect.

    Adapters emit `ConnectionEvent(state=CONNECTED, attempt>0)` when they come back; this
    subscribes to the bus and runs `execution.reconcile.reconcile` for that venue, so missed
    fills are applied and orders the venue knows but we do not are imported and flagged.
    """
    running: set[str] = set()
    again: set[str] = set()  # reconnected while a reconcile ran: it may have read too early

    async def run(venue_name: str) -> None:
        venue = engine.venues.get(venue_name)
        if venue is None or engine.oms is None:
            return
        if venue_name in running:
            again.add(venue_name)
            return
        running.add(venue_name)
        try:
            while True:
                again.discard(venue_name)
                await reconcile(engine.oms, venue, engine.clock.now())
                if venue_name not in again:
                    return
        finally:
            running.discard(venue_name)

    def on_event(event: Event) -> None:
        if (
            isinstance(event, ConnectionEvent)
            and event.state is ConnectionState.CONNECTED
            and event.attempt > 0
        ):
            in_background(run(event.venue), f"reconcile-{event.venue}")

    engine.bus.on(on_event, name="reconcile-after-reconnect", kinds=frozenset({"connection"}))
