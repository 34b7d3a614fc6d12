"""The engine: the composition root shared by the TUI, the daemon and replays.

venue stream -> engine._ingest -> bus (market data, coalesced for slow consumers)
                               -> OMS (execution reports, never dropped)
command (place/cancel/flatten) -> pre-trade checks -> OMS -> venue
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.bus import EventBus
from tui_trader.config import Settings
from tui_trader.core.clock import Clock, SystemClock
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.events import (
    AccountEvent,
    BookEvent,
    ConnectionEvent,
    Event,
    ExecutionReport,
    NoticeEvent,
    RiskEvent,
    SignalEvent,
    TickerEvent,
)
from tui_trader.core.fills import Fill
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Candle, OrderBook, Ticker
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.core.positions import Position
from tui_trader.core.signals import Signal
from tui_trader.execution.emulator import OrderEmulator
from tui_trader.execution.ids import ClientOrderIds
from tui_trader.execution.oms import OrderManager
from tui_trader.execution.portfolio import AccountSnapshot, Portfolio
from tui_trader.execution.reconcile import reconcile
from tui_trader.risk.breakers import Trip
from tui_trader.risk.checks import CheckContext, PreTradeChecks, RiskRejection
from tui_trader.risk.manager import RiskManager
from tui_trader.risk.sessions import market_open
from tui_trader.store.db import Store
from tui_trader.venues.base import Venue, VenueError

if TYPE_CHECKING:
    from tui_trader.home import Home
    from tui_trader.marketdata import CandleFeed
    from tui_trader.strategy_host import StrategyHost

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VenueStatus:
    name: str
    kind: str
    state: ConnectionState
    is_live: bool
    detail: str = ""
    last_message_age: float | None = None


@dataclass(slots=True)
class EngineSnapshot:
    """Everything a screen needs, copied so the UI never shares mutable state with the engine."""

    ts: datetime
    mode: str  # "paper" or "live"
    venues: list[VenueStatus]
    instruments: dict[str, Instrument]
    tickers: dict[str, Ticker]
    books: dict[str, OrderBook]
    positions: list[Position]
    open_orders: list[Order]
    recent_orders: list[Order]
    fills: list[Fill]
    account: AccountSnapshot
    signals: list[Signal] = field(default_factory=list)
    halted: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Engine:
    RECENT = 200

    def __init__(
        self,
        settings: Settings,
        home: Home | None = None,
        *,
        clock: Clock | None = None,
        venues: dict[str, Venue] | None = None,
        in_memory: bool = False,
    ) -> None:
        self.settings = settings
        self.home = home
        self.clock: Clock = clock or SystemClock()
        self.bus = EventBus()
        self.portfolio = Portfolio()
        self._venues_override = venues
        self.venues: dict[str, Venue] = {}
        self.instruments: dict[str, dict[str, Instrument]] = {}
        self.tickers: dict[str, Ticker] = {}
        self.books: dict[str, OrderBook] = {}
        self.fills: list[Fill] = []
        self.signals: list[Signal] = []
        self.recent_orders: dict[str, Order] = {}
        self.halt_reason: str | None = None
        self.in_memory = in_memory or home is None
        self.store: Store | None = None
        self.oms: OrderManager | None = None
        self.risk = RiskManager(settings.risk, self.portfolio, self.clock, self._on_trip)
        self.risk.open_orders = lambda: self.oms.open_orders() if self.oms is not None else []
        self.checks = PreTradeChecks(
            settings.risk,
            self.portfolio,
            self.current_halt,
            open_orders=self.risk.open_orders,
            locks=self.risk.lock_for,
        )
        self.emulator: OrderEmulator | None = None  # trailing stops, OCO, brackets the venue lacks
        self.new_id = ClientOrderIds(self.clock)
        self._tasks: list[asyncio.Task[Any]] = []
        self._venue_detail: dict[str, str] = {}
        self._last_msg: dict[str, float] = {}
        self.started = False
        self.live_armed = False  # orders to a live venue need arming (--live, or the arm_live command)
        self.signal_service: Any = None  # signals.service.SignalService when enabled (lazy)
        self.snapshot_extras: list[Callable[[], dict[str, Any]]] = []  # add snapshot.extra entries
        self.candles: CandleFeed | None = None  # closed bars from trade prints
        self.strategies: StrategyHost | None = None  # configured strategies, live

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        from tui_trader.venues.registry import build_venues

        if self.home is not None:
            self.home.ensure()
        self.store = await Store.open(None if self.in_memory else self.home.db_file)  # type: ignore[union-attr]
        self.venues = self._venues_override or build_venues(self.settings, self.clock, self.home)
        self.oms = OrderManager(self.store, self.bus, self.clock, self.venues, self.portfolio, self.new_id.minted)
        self.oms.fill_listeners.append(self.risk.on_fill)
        self.emulator = OrderEmulator(self.oms, self.clock, self.tickers)
        await self.oms.restore()
        for order in await self.store.load_orders(limit=self.RECENT):
            self.recent_orders[order.client_order_id] = order
        self.fills = list(reversed(await self.store.load_fills(limit=self.RECENT)))
        self.oms.start()
        for name, venue in self.venues.items():
            await venue.connect(self._ingest)
            self.instruments[name] = await venue.load_markets()
            await venue.subscribe(list(self.instruments[name]))
            await reconcile(self.oms, venue, self.clock.now())
            await self.oms.flush()
            # Cash comes from the venue after reconciliation (it already includes missed fills).
            for ccy, bal in (await venue.fetch_balances()).items():
                self.portfolio.set_cash(ccy, bal.total)
        self.emulator.rearm([o for o in self.oms.open_orders() if o.meta.get("held")])
        self.emulator.start()
        self._tasks.append(asyncio.create_task(self._risk_loop(), name="risk-metrics"))
        self.bus.on(self._track, name="engine-state")
        from tui_trader.venues.resilience import reconcile_after_reconnect

        reconcile_after_reconnect(self)
        self._tasks.append(asyncio.create_task(self._equity_loop(), name="equity"))
        from tui_trader.marketdata import CandleFeed
        from tui_trader.strategy_host import StrategyHost

        self.candles = CandleFeed(self)
        self.strategies = StrategyHost(self)
        await self.strategies.start()  # before the feed, so it can ask for its timeframes
        self.candles.start()
        self.snapshot_extras.append(lambda: {"strategies": self.strategies.status()} if self.strategies else {})
        from tui_trader.signals.service import maybe_start

        self.signal_service = await maybe_start(self)  # None unless configured or a model exists
        self.started = True
        await self.audit("engine", "start", {"mode": self.mode, "venues": list(self.venues)})

    async def stop(self) -> None:
        if not self.started:
            if self.store is not None:
                await self.store.close()
            return
        self.started = False
        if self.signal_service is not None:
            await self.signal_service.stop()
        if self.strategies is not None:
            await self.strategies.stop()
        if self.candles is not None:
            await self.candles.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.emulator is not None:
            await self.emulator.stop()
        for venue in self.venues.values():
            with contextlib.suppress(Exception):
                await venue.close()
        assert self.oms is not None and self.store is not None
        await self.oms.stop()
        await self.record_equity()
        await self.audit("engine", "stop", {})
        await self.store.close()

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- state -------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return "live" if any(v.is_live for v in self.venues.values()) else "paper"

    def instrument(self, venue: str, symbol: str) -> Instrument | None:
        return self.instruments.get(venue, {}).get(symbol)

    def symbols(self) -> list[str]:
        seen: dict[str, None] = {}
        for insts in self.instruments.values():
            for s in insts:
                seen[s] = None
        return list(seen)

    def mid(self, symbol: str) -> float:
        t = self.tickers.get(symbol)
        return t.mid if t else 0.0

    def _ingest(self, event: Event) -> None:
        """Everything a venue emits arrives here first."""
        if isinstance(event, ExecutionReport):
            assert self.oms is not None
            self.oms.on_report(event)
            return
        if isinstance(event, TickerEvent):
            t = event.ticker
            self.tickers[t.symbol] = t
            self.portfolio.mark(t.symbol, t.mid)
            if self.emulator is not None:
                self.emulator.on_ticker(t)
            self._last_msg[t.venue] = self.clock.monotonic()
        elif isinstance(event, BookEvent):
            self.books[event.book.symbol] = event.book
        elif isinstance(event, ConnectionEvent):
            self._venue_detail[event.venue] = event.detail
        self.bus.publish(event)

    def _track(self, event: Event) -> None:
        from tui_trader.core.events import FillEvent, OrderEvent

        if isinstance(event, OrderEvent):
            self.recent_orders[event.order.client_order_id] = event.order
            if len(self.recent_orders) > self.RECENT * 2:
                for cid in list(self.recent_orders)[: self.RECENT]:
                    if not self.recent_orders[cid].is_open:
                        del self.recent_orders[cid]
        elif isinstance(event, FillEvent):
            self.fills.append(event.fill)
            del self.fills[: -self.RECENT]
            self.bus.publish(AccountEvent(self.clock.now(), *self._equity_cash()))
        elif isinstance(event, SignalEvent):
            self.signals.append(event.signal)
            del self.signals[: -self.RECENT]

    def _equity_cash(self) -> tuple[float, float]:
        snap = self.portfolio.snapshot(self.clock.now())
        return snap.equity, snap.cash

    def account(self) -> AccountSnapshot:
        return self.portfolio.snapshot(self.clock.now())

    def snapshot(self) -> EngineSnapshot:
        now_mono = self.clock.monotonic()
        statuses = [
            VenueStatus(
                name,
                v.kind,
                v.state,
                v.is_live,
                self._venue_detail.get(name, ""),
                (now_mono - self._last_msg[name]) if name in self._last_msg else None,
            )
            for name, v in self.venues.items()
        ]
        assert self.oms is not None
        instruments = {s: i for insts in self.instruments.values() for s, i in insts.items()}
        return EngineSnapshot(
            ts=self.clock.now(),
            mode=self.mode,
            venues=statuses,
            instruments=instruments,
            tickers=dict(self.tickers),
            books=dict(self.books),
            positions=[p.copy() for p in self.portfolio.positions.values() if not p.is_flat],
            open_orders=[o.copy() for o in self.oms.open_orders()],
            recent_orders=[o.copy() for o in list(self.recent_orders.values())[-50:]],
            fills=list(self.fills[-50:]),
            account=self.account(),
            signals=list(self.signals[-50:]),
            halted=self.current_halt(),
            extra={"risk": self.risk_state(), "live_armed": self.live_armed}
            | {k: v for extra in self.snapshot_extras for k, v in extra().items()},
        )

    def current_halt(self) -> str | None:
        """Why new entries are refused: a manual halt or a tripped circuit breaker."""
        return self.halt_reason or self.risk.halt_reason()

    def risk_state(self) -> dict[str, Any]:
        state = self.risk.state(self.current_halt())
        state["emulated"] = self.emulator.describe() if self.emulator is not None else []
        return state

    async def fetch_candles(
        self, symbol: str, timeframe: str, limit: int = 300, venue: str | None = None
    ) -> list[Candle]:
        venue_name = venue or self._venue_for(symbol)
        return await self.venues[venue_name].fetch_candles(symbol, timeframe, None, limit)

    def _venue_for(self, symbol: str, requested: str | None = None) -> str:
        if requested:
            return requested
        default = self.settings.engine.default_venue
        if symbol in self.instruments.get(default, {}):
            return default
        for name, insts in self.instruments.items():
            if symbol in insts:
                return name
        return default

    # -- commands ----------------------------------------------------------------------------

    async def audit(self, actor: str, action: str, detail: dict[str, Any]) -> None:
        if self.store is not None:
            await self.store.audit(self.clock.now(), actor, action, detail)

    async def place(self, req: OrderRequest, actor: str = "user") -> Order:
        """Every order from every source comes through here: checks, persistence, venue."""
        assert self.oms is not None
        venue_name = self._venue_for(req.symbol, req.venue)
        if venue_name not in self.venues:
            return await self._reject(
                req, venue_name, RiskRejection("unknown_venue", f"unknown venue {venue_name!r}"), actor
            )
        if self.venues[venue_name].is_live and not self.live_armed:
            return await self._reject(
                req,
                venue_name,
                RiskRejection(
                    "live_not_armed",
                    f"{venue_name} trades real money and live trading is not armed: "
                    "confirm arming in the TUI or start the daemon with --live",
                ),
                actor,
            )
        try:
            checked = self._check(req, venue_name)
        except RiskRejection as rej:
            return await self._reject(req, venue_name, rej, actor)
        cid = checked.client_order_id or self.new_id()
        order = Order.from_request(checked, cid, venue_name, self.clock.now())
        await self.audit(actor, "place", _describe(order))
        assert self.emulator is not None
        placed = await self.emulator.place(
            order, stop_loss=checked.stop_loss, take_profit=checked.take_profit, new_id=self.new_id
        )
        await self.emulator.settle()  # so the caller sees fills (and armed bracket children) that already happened
        current = self.oms.orders.get(placed.client_order_id)
        return current.copy() if current is not None else placed

    def _check(self, req: OrderRequest, venue_name: str) -> OrderRequest:
        """The pre-trade checks for `req` on `venue_name`; raises RiskRejection."""
        inst = self.instrument(venue_name, req.symbol)
        venue = self.venues[venue_name]
        is_open = inst is None or market_open(inst, self.clock.now(), venue)
        shorting = getattr(getattr(venue, "capabilities", None), "shorting", True)
        ctx = CheckContext(inst, self.mid(req.symbol), venue_name, is_open, shorting, self.books.get(req.symbol))
        return self.checks.check(req, ctx)

    async def modify(
        self,
        client_order_id: str,
        *,
        price: Decimal | None = None,
        quantity: Decimal | None = None,
        actor: str = "user",
    ) -> Order:
        """Change a working limit order's price and/or total quantity.

        The change passes the same checks as a new order first (the old order still counts
        towards the limits, so a change never slips past them); a refused change leaves the
        order as it was. A venue that amends in place keeps the order and its id; elsewhere
        the order is cancelled and, once the venue confirms, a replacement is placed (a new
        client id; its meta names the order it replaces). Returns the order as it now stands.
        """
        from tui_trader.core.errors import UserError

        assert self.oms is not None
        cid = client_order_id
        order = self.oms.orders.get(cid)
        if order is None or not order.is_open:
            raise UserError(f"no open order {cid}; `orders` lists the open ones")
        if price is None and quantity is None:
            raise UserError("nothing to change: give a new price, a new quantity or both")
        if order.meta.get("held") or order.parent_id or order.oco_id:
            raise UserError(f"{cid} is emulated or linked (trailing, bracket, OCO): cancel it and place a new one")
        if order.type not in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            raise UserError(f"only limit orders can be modified; {cid} is a {order.type.value} order")
        new_qty = order.quantity if quantity is None else quantity
        if new_qty <= order.filled_quantity:
            raise UserError(f"the new quantity {new_qty} must be above the {order.filled_quantity} already filled")
        req = OrderRequest(
            order.symbol,
            order.side,
            new_qty - order.filled_quantity,
            order.type,
            order.price if price is None else price,
            order.stop_price,
            order.time_in_force,
            order.venue,
            post_only=order.post_only,
            reduce_only=order.reduce_only,
            source=order.source,
            strategy=order.strategy,
            tag=order.tag,
        )
        try:
            self._check(req, order.venue)
        except RiskRejection as rej:
            await self.audit(actor, "modify_refused", {"client_order_id": cid, "code": rej.code})
            raise UserError(f"change refused, {cid} is unchanged: {rej.message}") from None
        await self.audit(
            actor,
            "modify",
            {"client_order_id": cid, "price": None if price is None else str(price), "quantity": str(new_qty)},
        )
        venue = self.venues[order.venue]
        if venue.capabilities.amend:
            try:
                await venue.amend_order(order.copy(), quantity=new_qty, price=req.price)
            except VenueError as exc:
                raise UserError(f"{order.venue} refused the change, {cid} is unchanged: {exc}") from None
            return await self.oms.amended(cid, price=req.price, quantity=new_qty)
        await self.oms.cancel(cid)
        cancelled = await self._until_final(cid)
        if cancelled.status is not OrderStatus.CANCELLED:
            state = "still working" if cancelled.is_open else cancelled.status.value
            raise UserError(f"{cid} could not be cancelled ({state}); nothing was placed in its place")
        replacement = await self.place(req, actor)
        await self.oms.annotate(replacement.client_order_id, replaces=cid)
        return self.oms.orders[replacement.client_order_id].copy()

    async def _until_final(self, client_order_id: str, timeout: float = 5.0) -> Order:
        """The order once the venue has settled it (some confirm a cancel only on their stream),
        or as it stands after `timeout` seconds."""
        assert self.oms is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.oms.flush()
            order = self.oms.orders[client_order_id]
            if not order.is_open or loop.time() >= deadline:
                return order.copy()
            await asyncio.sleep(0.02)

    async def _reject(self, req: OrderRequest, venue: str, rej: RiskRejection, actor: str) -> Order:
        assert self.oms is not None
        now = self.clock.now()
        order = Order.from_request(req, req.client_order_id or self.new_id(), venue, now)
        order.status = OrderStatus.REJECTED
        order.reason = rej.message
        order.meta["reject_code"] = rej.code
        await self.oms.record_rejection(order)
        self.bus.publish(RiskEvent(now, rej.code, rej.message, order.client_order_id))
        await self.audit(actor, "reject", {"code": rej.code, "reason": rej.message, **_describe(order)})
        return order

    async def cancel(self, client_order_id: str, actor: str = "user") -> Order:
        assert self.oms is not None
        await self.audit(actor, "cancel", {"client_order_id": client_order_id})
        try:
            return await self.oms.cancel(client_order_id)
        except KeyError:
            from tui_trader.core.errors import UserError

            raise UserError(f"no open order {client_order_id}; `orders` lists the open ones") from None

    async def cancel_all(self, actor: str = "user", symbol: str | None = None) -> list[Order]:
        assert self.oms is not None
        await self.audit(actor, "cancel_all", {"symbol": symbol})
        out = []
        for order in list(self.oms.open_orders()):
            if symbol is None or order.symbol == symbol:
                if order.meta.get("held"):  # emulated: never reached the venue
                    await self.oms.cancel_held(order, "cancelled by cancel all")
                else:
                    await self.venues[order.venue].cancel_order(order.copy())
                out.append(order)
        await self.oms.flush()
        return [o.copy() for o in out]

    async def flatten(self, actor: str = "user") -> dict[str, Any]:
        """The kill switch: cancel every open order, then close every position at market."""
        assert self.oms is not None
        await self.audit(actor, "flatten", {})
        self.bus.publish(RiskEvent(self.clock.now(), "kill_switch", f"flatten requested by {actor}"))
        cancelled = await self.cancel_all(actor)
        closing: list[Order] = []
        for pos in list(self.portfolio.open_positions()):
            side = Side.SELL if pos.quantity > 0 else Side.BUY
            req = OrderRequest(
                pos.symbol,
                side,
                abs(pos.quantity),
                OrderType.MARKET,
                venue=pos.venue,
                time_in_force=TimeInForce.IOC,
                reduce_only=True,
                source="kill_switch",
            )
            inst = self.instrument(pos.venue, pos.symbol)
            order = Order.from_request(req, self.new_id(), pos.venue, self.clock.now())
            if inst is None:
                continue
            closing.append(await self.oms.submit(order))
        await self.oms.flush()
        # Orders a venue has that the OMS does not know (placed elsewhere) go too.
        for name, venue in self.venues.items():
            with contextlib.suppress(Exception):
                for vo in await venue.fetch_open_orders():
                    if vo.client_order_id not in self.oms.orders or not self.oms.orders[vo.client_order_id].is_open:
                        now = self.clock.now()
                        await venue.cancel_order(
                            Order(
                                vo.client_order_id,
                                name,
                                vo.symbol,
                                Side(vo.side),
                                OrderType(vo.type),
                                Decimal(vo.quantity),
                                None,
                                None,
                                TimeInForce.GTC,
                                now,
                                now,
                                venue_order_id=vo.venue_order_id,
                            )
                        )
        if self.emulator is not None:
            await self.emulator.settle()
        left = [p.symbol for p in self.portfolio.open_positions()]
        result = {
            "cancelled": len(cancelled),
            "closing_orders": [o.client_order_id for o in closing],
            "still_open": left,
        }
        await self.audit(actor, "flatten_done", result)
        return result

    async def place_oco(self, first: OrderRequest, second: OrderRequest, actor: str = "user") -> list[Order]:
        """Two orders linked one-cancels-other: when one fills, the other is cancelled; never both."""
        oco = f"oco-{self.new_id()}"
        a_id, b_id = first.client_order_id or self.new_id(), second.client_order_id or self.new_id()
        legs = [first.with_(oco_id=oco, client_order_id=a_id), second.with_(oco_id=oco, client_order_id=b_id)]
        placed = []
        for req in legs:
            order = await self.place(req, actor)
            placed.append(order)
            if order.status.is_final and order.filled_quantity == 0:  # a refused leg takes the pair down
                for other in placed[:-1]:
                    with contextlib.suppress(KeyError):
                        await self.oms.cancel(other.client_order_id)  # type: ignore[union-attr]
                break
        return placed

    async def reset_breakers(self, which: str | None = None, actor: str = "user") -> list[str]:
        """Clear tripped circuit breakers (all or one: daily_loss, max_drawdown, consecutive_losses)."""
        from tui_trader.core.errors import UserError

        try:
            cleared = self.risk.breakers.reset(which)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        await self.audit(actor, "risk_reset", {"breaker": which or "all", "cleared": cleared})
        self.bus.publish(
            RiskEvent(
                self.clock.now(),
                "breaker_reset",
                f"breakers reset by {actor}: {', '.join(cleared) or 'none were tripped'}",
            )
        )
        return cleared

    def _on_trip(self, trip: Trip) -> None:
        """A circuit breaker tripped: tell everyone, audit it, and flatten if configured."""
        self.bus.publish(RiskEvent(trip.at, f"breaker:{trip.breaker}", trip.message))
        if not self.started:
            return

        async def react() -> None:
            await self.audit("risk", "breaker_trip", {"breaker": trip.breaker, "message": trip.message})
            if self.settings.risk.flatten_on_breaker:
                await self.flatten("breaker")

        task = asyncio.get_running_loop().create_task(react(), name=f"breaker-{trip.breaker}")
        self._tasks.append(task)

    async def _risk_loop(self) -> None:
        while True:
            try:
                await self.risk.refresh(self._daily_closes)
            except Exception:
                log.exception("risk metrics failed")
            await asyncio.sleep(1.0)

    async def _daily_closes(self, symbol: str) -> list[float]:
        venue = self._venue_for(symbol)
        candles = await self.venues[venue].fetch_candles(symbol, "1d", None, self.settings.risk.var_lookback_days + 1)
        return [c.close for c in candles]

    def publish_signal(self, signal: Signal) -> None:
        self.bus.publish(SignalEvent(signal))

    def notify(self, level: str, message: str, source: str = "engine") -> None:
        self.bus.publish(NoticeEvent(self.clock.now(), level, message, source))

    # -- background ---------------------------------------------------------------------------

    async def record_equity(self) -> None:
        if self.store is None:
            return
        snap = self.account()
        await self.store.record_equity(snap.ts, snap.equity, snap.cash, snap.gross_exposure, snap.net_exposure)

    async def _equity_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.engine.equity_snapshot_s)
            try:
                await self.record_equity()
            except Exception:
                log.exception("equity snapshot failed")


def _describe(order: Order) -> dict[str, Any]:
    return {
        "client_order_id": order.client_order_id,
        "venue": order.venue,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "quantity": str(order.quantity),
        "price": None if order.price is None else str(order.price),
        "stop_price": None if order.stop_price is None else str(order.stop_price),
        "source": order.source,
    }


__all__ = ["Decimal", "Engine", "EngineSnapshot", "VenueStatus"]
