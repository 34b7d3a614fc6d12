"""Risk state in the database, so a restart (clean or kill -9) resumes exactly where it stopped.

Restored at start before anything observes equity. Changes that must survive a crash (a trip, a
lock, a reset, a reload, each fill's effect on breakers and round trips) are staged on the store:
a fill's own transaction carries them, so a fill and the risk state it produced commit together.
Anything else staged is written a moment later. Slower drifts (peak equity, today's equity) are
compared every second and written when they changed. The daily bars the value at risk read are
kept too (their own row, written when a read changed them, never carried by an order's write),
so a restart asks the venues only for the bars since.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from tui_trader.risk.protections import ClosedTrade
from tui_trader.risk.trades import trade_from_state, trade_state
from tui_trader.store.db import Store, StoreWriteError

if TYPE_CHECKING:
    from tui_trader.core.clock import Clock
    from tui_trader.risk.manager import RiskManager

log = logging.getLogger(__name__)
DAILY_KEY = "daily"  # the risk_state row of the value at risk's daily bars


class RiskJournal:
    def __init__(self, risk: RiskManager, store: Store, clock: Clock) -> None:
        self.risk = risk
        self.store = store
        self.clock = clock
        self._last: dict[str, Any] | None = None
        self._flush: asyncio.Task[None] | None = None

    async def restore(self) -> bool:
        """Load the last stored state into the risk engine and start journaling. True if there was one."""
        state = await self.store.load_risk_state()
        closed = [trade_from_state(t) for t in await self.store.load_closed_trades(self.risk.trades.keep)]
        self.risk.restore_state(state, closed)
        self.risk.restore_daily(await self.store.load_risk_state(DAILY_KEY))
        self.risk.on_daily = self.daily
        self.risk.on_change = self.changed
        self.risk.on_closed = self.closed
        self._last = self.risk.export_state() if state else None
        return bool(state)

    def changed(self) -> None:
        state = self.risk.export_state()
        self._last = state
        self.store.stage(Store.risk_state_row(state, self.clock.now()), key=1)
        self._schedule()

    async def daily(self, bars: dict[str, Any]) -> None:
        """The daily bars, written now (from the risk loop, not staged: ~6 KB a symbol, which a
        staged row would add to the next order's write)."""
        try:
            await self.store.write_rows([Store.risk_state_row(bars, self.clock.now(), DAILY_KEY)])
        except StoreWriteError as exc:
            log.error("the daily bars were not written: %s (a restart reads them again)", exc)

    def closed(self, trade: ClosedTrade) -> None:
        self.store.stage(Store.closed_trade_row(trade_state(trade)))
        self._schedule()

    async def tick(self) -> None:
        """Write the state if what a restart needs drifted since the last write (the risk loop
        calls this every second). The current equity alone is not worth a write: it is
        observed again at start; a new peak or a new day is."""
        if _lasting(self.risk.export_state()) != _lasting(self._last):
            self.changed()
        await self.flush()

    async def flush(self) -> None:
        if self.store.has_staged:
            await self.store.write_rows([])

    def _schedule(self) -> None:
        if self._flush is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous caller): the next write carries the rows
        self._flush = loop.create_task(self._flush_soon(), name="risk-journal")

    async def _flush_soon(self) -> None:
        try:
            await asyncio.sleep(0)  # a write queued in this same turn (a fill) carries the rows
            await self.flush()
        except StoreWriteError as exc:
            log.error("risk state not written yet: %s (kept, retried with the next write)", exc)
        finally:
            self._flush = None

    async def close(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if self.risk.export_state() != self._last:
            self.changed()
            if self._flush is not None:
                self._flush.cancel()
                self._flush = None
        await self.flush()


def _lasting(state: dict[str, Any] | None) -> Any:
    if state is None:
        return None
    breakers = {k: v for k, v in (state.get("breakers") or {}).items() if k != "equity"}
    return {**state, "breakers": breakers}
