"""Reconciling a venue with our orders: after each reconnect (then its balances read again:
engine/cash_reread.py), and again and again while an order's fate is unknown (a submission
whose answer was lost, a venue answer that left an order unsettled), until the venue's own
answers settle it."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from tui_trader.core.enums import ConnectionState, OrderStatus
from tui_trader.core.events import ConnectionEvent, Event
from tui_trader.engine.cash_reread import CashReader
from tui_trader.execution.reconcile import ReconcileReport, reconcile
from tui_trader.venues.resilience import Backoff, in_background, stop_tasks

if TYPE_CHECKING:
    from tui_trader.core.fills import Fill
    from tui_trader.core.orders import Order
    from tui_trader.engine.ports import EnginePort

log = logging.getLogger(__name__)


class Reconciler:
    """One reconcile at a time per venue. A request while one runs makes one more run after it
    (the running one may have read the venue too early)."""

    def __init__(self, engine: EnginePort, *, base_s: float = 0.5, cap_s: float = 15.0) -> None:
        self.engine = engine
        self.base_s = base_s
        self.cap_s = cap_s
        self._running: set[str] = set()
        self._again: set[str] = set()
        self._settling: set[str] = set()  # venues with a settle loop running
        self._loops: set[asyncio.Task[None]] = set()  # ... those loops
        self._stopped = False
        self.last: dict[str, ReconcileReport] = {}
        self.fills_applied: dict[str, int] = {}  # per venue, since the start
        self.cash = CashReader(engine)  # balances read again once a venue is back

    def install(self) -> None:
        """Reconcile each venue that reports `connected` after a reconnect, and settle every
        order whose submission became unknown."""
        self._stopped = False
        self.engine.bus.on(self._on_event, name="reconcile-after-reconnect", kinds=frozenset({"connection"}))
        assert self.engine.oms is not None
        self.engine.oms.on_unknown.append(lambda order: self.settle(order.venue))
        self.engine.oms.fill_listeners.append(self._on_fill)

    def _on_fill(self, order: Order, fill: Fill, position: object, realized: object) -> None:
        """A fill made before its venue's last balances read (which gave no time), heard of
        after it: it may be in them; they are read again (`Portfolio.unsure`)."""
        if fill.venue in self.engine.portfolio.unsure and not self._stopped:
            self.cash.recheck(fill.venue)

    def _on_event(self, event: Event) -> None:
        if self._stopped:
            return
        if isinstance(event, ConnectionEvent) and event.state is ConnectionState.CONNECTED and event.attempt > 0:
            in_background(self._recovered(event.venue), f"reconcile-{event.venue}")

    async def _recovered(self, venue_name: str) -> None:
        """A venue back after a reconnect: reconciled (its private streams count as back then,
        quiet as they may be: `StreamBoard.read_back`), then its balances read again (what
        changed while it was away: deposits, withdrawals, trades made elsewhere)."""
        await self.reconcile_now(venue_name)
        venue = self.engine.venues.get(venue_name)
        board = getattr(venue, "streams", None)
        if board is not None and hasattr(board, "read_back"):
            board.read_back()  # its private streams are back: what they missed is read back
        await self.cash.reread(venue_name, "reconnect")
        confirm_s = getattr(venue, "read_back_again_s", 0.0)
        if confirm_s and not self._stopped:
            task = asyncio.get_running_loop().create_task(
                self._read_back_again(venue_name, confirm_s), name=f"read-back-again-{venue_name}"
            )
            self._loops.add(task)
            task.add_done_callback(self._loops.discard)

    async def _read_back_again(self, venue_name: str, delay_s: float) -> None:
        """Once more, `delay_s` after the reconcile a reconnect made, where the venue shows us no
        answer to its private subscribe (ccxt): that reconcile may have read the venue before
        the subscribe landed there, and a fill pushed in between went to no socket (it was found
        only when the stream owed news of it, `stall_after_s` later, or never for a resting
        order). A positive answer after the subscribe has surely landed: what it missed, read."""
        await asyncio.sleep(delay_s)
        venue = self.engine.venues.get(venue_name)
        if self._stopped or venue is None or venue.state is not ConnectionState.CONNECTED:
            return  # down again: its next reconnect reads back
        try:
            report = await self.reconcile_now(venue_name)
        except Exception as exc:  # the next reconnect, or the stream's own watch, catches up
            log.warning("%s: read back after the resubscribe failed: %s", venue_name, exc)
            return
        if report is not None and report.fills_applied:
            log.info("%s: %d fill(s) made while its private streams subscribed again, read back", venue_name,
                     report.fills_applied)  # fmt: skip

    async def run(self, venue_name: str) -> ReconcileReport | None:
        """Reconcile `venue_name` now (or once more after the run in progress)."""
        venue = self.engine.venues.get(venue_name)
        if venue is None or self.engine.oms is None:
            return None
        if venue_name in self._running:
            self._again.add(venue_name)
            return None
        self._running.add(venue_name)
        try:
            while True:
                self._again.discard(venue_name)
                report = await reconcile(self.engine.oms, venue, self.engine.clock.now())
                self.last[venue_name] = report
                self.fills_applied[venue_name] = self.fills_applied.get(venue_name, 0) + report.fills_applied
                if venue_name not in self._again:
                    break
        finally:
            self._running.discard(venue_name)
        if report.unsettled:
            self.settle(venue_name)
        return report

    async def reconcile_now(self, venue_name: str) -> ReconcileReport | None:
        """Reconcile `venue_name` and wait until no run is left (the one a reconnect started,
        then ours): its last report."""
        await self.run(venue_name)
        while venue_name in self._running:
            await asyncio.sleep(0.05)
        return self.last.get(venue_name)

    def settle(self, venue_name: str) -> None:
        """Keep reconciling `venue_name`, backing off, while any of our orders there is unsettled."""
        if venue_name not in self._settling and not self._stopped:
            self._settling.add(venue_name)
            task = asyncio.get_running_loop().create_task(self._settle(venue_name), name=f"settle-{venue_name}")
            self._loops.add(task)
            task.add_done_callback(self._loops.discard)

    async def stop(self) -> None:
        """The engine stops: no venue is asked again (a settle loop went on reconciling a closed
        venue after the stop, and one that lost its cancel kept the stop's event loop waiting)."""
        self._stopped = True
        await stop_tasks(*self._loops, *self.cash.tasks)

    def _unsettled(self, venue_name: str) -> list[Order]:
        oms = self.engine.oms
        if oms is None:
            return []
        report = self.last.get(venue_name)
        waiting = set(report.unsettled) if report else set()
        return [
            o
            for o in oms.open_orders()
            if o.venue == venue_name
            and not oms.in_flight(o.client_order_id)
            and (o.status in (OrderStatus.UNKNOWN, OrderStatus.NEW) or o.client_order_id in waiting)
        ]

    async def _settle(self, venue_name: str) -> None:
        backoff = Backoff(self.base_s, self.cap_s)
        try:
            while not self._stopped and self._unsettled(venue_name):
                await asyncio.sleep(backoff.next_delay())
                try:
                    await self.run(venue_name)
                except Exception as exc:  # the venue is down or answers nonsense: ask again later
                    log.warning("%s: reconcile for unsettled orders failed: %s", venue_name, exc)
        finally:
            self._settling.discard(venue_name)


def reconcile_after_reconnect(engine: EnginePort) -> Reconciler:
    """Install a `Reconciler` on `engine` (kept for callers of the earlier hook)."""
    reconciler = Reconciler(engine)
    reconciler.install()
    return reconciler
