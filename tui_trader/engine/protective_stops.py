"""A real protective stop for every strategy position, kept by the engine, not by the strategy.

The level comes from the strategy's declared `stoploss` applied to its own sub-position's
average price (execution/ledger.py) and tightens to the trailing / `custom_stoploss` level its
trade state reports after each bar; it never loosens. The stop is an order placed through
`engine.place` as the strategy (reduce-only, `tag="stop_loss"`), so it passes the risk checks,
sits at the venue where the venue has native stops and is emulated by the engine elsewhere
(execution/emulator.py), and survives a restart like any order. It stays when the strategy
errors, is disabled or is removed; it goes when the strategy's sub-position is flat. While the
strategy exits on its own the stop is paused, so the exit is a pure exit.

All work runs on one task, in order, so two syncs of one position never interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.core.fills import Fill
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.core.positions import Position
from tui_trader.strategy.exits import stoploss_price
from tui_trader.venues.resilience import stop_tasks

if TYPE_CHECKING:
    from tui_trader.engine.ports import EnginePort

log = logging.getLogger(__name__)
ROLE = "protective_stop"
Key = tuple[str, str, str]  # (strategy, venue, symbol), as the sub-ledgers key them
CANCEL_WAIT_S = 5.0


class ProtectiveStops:
    def __init__(self, engine: EnginePort) -> None:
        self.engine = engine
        self.stoploss: dict[str, float] = {}  # strategy -> its declared stoploss (negative ratio)
        self.levels: dict[Key, float] = {}  # the tightest level the strategy's trade state reported
        self._paused: set[Key] = set()
        self._queued: set[Key] = set()
        self._jobs: asyncio.Queue[Key] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._running: tuple[Key, asyncio.Future[None]] | None = None  # the sync under way, and its end

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._work(), name="protective-stops")
        for key in self._known_keys():  # after a restart: check every position and stop
            self.request(key)

    async def stop(self) -> None:
        await stop_tasks(self._task)
        self._task = None

    async def settle(self) -> None:
        """Wait until every requested sync ran (tests, shutdown)."""
        await self._jobs.join()

    # -- what the strategy host reports ------------------------------------------------------

    def declare(self, strategy: str, stoploss: float | None) -> None:
        """The strategy's declared stoploss (read once from the strategy class, not evaluated)."""
        if stoploss:
            self.stoploss[strategy] = float(stoploss)
        else:
            self.stoploss.pop(strategy, None)

    def report_level(self, strategy: str, venue: str, symbol: str, level: float | None, long: bool) -> None:
        """The strategy's trade state says its stop is now at `level` (trailing, custom_stoploss)."""
        if not level or level <= 0:
            return
        key = (strategy, venue, symbol)
        known = self.levels.get(key)
        if known is None or (level > known if long else level < known):
            self.levels[key] = level
            self.request(key)

    async def pause(self, strategy: str, venue: str, symbol: str) -> None:
        """The strategy exits on its own: take its stop away first, so the exit is a pure exit.

        Paused, the position's queued syncs do nothing when they run; one under way (it may be
        placing a stop) is waited for, so the stop it places is cancelled here too. Syncs of
        other positions are not waited for: they never touch this position's stop."""
        key = (strategy, venue, symbol)
        self._paused.add(key)
        running = self._running
        if running is not None and running[0] == key:
            await asyncio.wait({running[1]})
        for stop in self._stops(key):
            await self._cancel(stop)

    def resume(self, strategy: str, venue: str, symbol: str) -> None:
        key = (strategy, venue, symbol)
        self._paused.discard(key)
        self.request(key)

    # -- triggers ----------------------------------------------------------------------------

    def on_fill(self, order: Order, fill: Fill, position: Position, realized: Decimal) -> None:
        """OMS fill listener (after the sub-ledgers booked it): re-check that symbol's stops."""
        for key in self._known_keys():
            if key[1:] == (fill.venue, fill.symbol):
                self.request(key)

    def request(self, key: Key) -> None:
        if key not in self._queued:
            self._queued.add(key)
            self._jobs.put_nowait(key)

    def _known_keys(self) -> set[Key]:
        keys = {k for k, p in self.engine.ledger.positions.items() if k[0] in self.stoploss and not p.is_flat}
        keys |= {self._key(o) for o in self._all_stops()}
        return keys

    # -- work ----------------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            key = await self._jobs.get()
            self._queued.discard(key)
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._running = (key, done)
            try:
                await self.sync(key)
            except Exception:
                log.exception("protective stop for %s failed", key)
            finally:
                self._running = None
                done.set_result(None)
                self._jobs.task_done()

    async def sync(self, key: Key) -> None:
        """Make the stop match the strategy's sub-position: one stop, its size, its level."""
        strategy, venue, symbol = key
        if key in self._paused:
            return
        engine = self.engine
        pos = engine.ledger.positions.get(key)
        stops = self._stops(key)
        if pos is None or pos.is_flat:
            for stop in stops:
                await self._cancel(stop)
            self.levels.pop(key, None)
            return
        stoploss = self.stoploss.get(strategy)
        inst = engine.instrument(venue, symbol)
        if stoploss is None or inst is None:
            return  # a strategy with no declared stoploss (or gone from the config): its stop stays
        long = pos.quantity > 0
        qty = inst.round_qty(abs(pos.quantity))
        if qty <= 0:
            return
        level = stoploss_price(float(pos.average_price), "long" if long else "short", stoploss)
        candidates = [level, self.levels.get(key) or level] + [float(s.stop_price or 0) for s in stops if s.stop_price]
        level = max(candidates) if long else min(candidates)  # never loosens
        price = inst.round_price(Decimal(str(level)))
        if len(stops) == 1 and stops[0].remaining == qty and stops[0].stop_price == price:
            return
        for stop in stops:
            if not await self._cancel(stop):
                self.request(key)  # the venue has not confirmed yet: try again later
                return
        await self._place(strategy, venue, symbol, long, qty, price)

    async def _place(self, strategy: str, venue: str, symbol: str, long: bool, qty: Decimal, price: Decimal) -> None:
        engine = self.engine
        side = Side.SELL if long else Side.BUY
        mid = engine.mid(symbol, venue)
        through = bool(mid) and (mid <= float(price) if long else mid >= float(price))
        req = OrderRequest(
            symbol,
            side,
            qty,
            OrderType.MARKET if through else OrderType.STOP,  # already through the stop: exit now
            stop_price=None if through else price,
            venue=venue,
            reduce_only=True,
            tag="stop_loss",
        )
        try:
            order: Order = await engine.place(req, actor=f"strategy:{strategy}")
        except UserError as exc:
            engine.notify("warning", f"strategy {strategy}: no protective stop on {symbol}: {exc}", "strategy")
            return
        if order.status is OrderStatus.REJECTED:
            engine.notify("warning", f"strategy {strategy}: no protective stop on {symbol}: {order.reason}", "strategy")
            return
        assert engine.oms is not None
        await engine.oms.annotate(order.client_order_id, role=ROLE)

    async def _cancel(self, stop: Order) -> bool:
        """Cancel a stop and wait (briefly) until it is final; True when it is. Its final
        status is stored with the order that follows (the exit, or the new stop), in one
        transaction, not with a commit of its own first (OrderManager.defer_final)."""
        engine = self.engine
        oms = engine.oms
        assert oms is not None
        oms.defer_final(stop.client_order_id)
        try:
            with contextlib.suppress(UserError, KeyError):
                await engine.cancel(stop.client_order_id, actor=f"strategy:{stop.strategy}")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + CANCEL_WAIT_S
            while True:
                await oms.flush()
                current = oms.orders.get(stop.client_order_id)
                if current is None or not current.is_open:
                    return True
                if loop.time() >= deadline:
                    return False
                await asyncio.sleep(0.02)
        finally:
            oms.defer_final(stop.client_order_id, on=False)

    # -- reading -----------------------------------------------------------------------------

    def _all_stops(self) -> list[Order]:
        oms = self.engine.oms
        return [o for o in oms.open_orders() if o.meta.get("role") == ROLE] if oms is not None else []

    @staticmethod
    def _key(order: Order) -> Key:
        return (order.strategy or "", order.venue, order.symbol)

    def _stops(self, key: Key) -> list[Order]:
        return [o for o in self._all_stops() if self._key(o) == key]

    def describe(self) -> list[dict[str, Any]]:
        """Each strategy position and its stop, for the strategies pane and the positions' owners."""
        out = []
        for key in sorted(self._known_keys()):
            pos = self.engine.ledger.positions.get(key)
            stops = self._stops(key)
            out.append(
                {
                    "strategy": key[0],
                    "venue": key[1],
                    "symbol": key[2],
                    "quantity": str(pos.quantity if pos is not None else 0),
                    "stop": str(stops[0].stop_price) if stops and stops[0].stop_price is not None else None,
                    "stop_order": stops[0].client_order_id if stops else None,
                    "emulated": bool(stops and stops[0].meta.get("held")),
                }
            )
        return out
