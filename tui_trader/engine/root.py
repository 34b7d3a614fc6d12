"""The engine: the composition root shared by the TUI, the daemon and replays.

venue stream -> engine._ingest -> bus (market data, coalesced for slow consumers)
                               -> OMS (execution reports, never dropped)
command (place/cancel/flatten) -> pre-trade checks -> OMS -> venue

Slightly over 500 lines on purpose: this is where the parts are wired together (start, stop,
ingest, reconnect); the trading commands are in engine/trading.py, the services in their own
modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.config import Settings
from tui_trader.config.risk import RiskSettings
from tui_trader.core.clock import Clock, SystemClock
from tui_trader.core.events import (
    AccountEvent,
    BookEvent,
    CashFlowEvent,
    ConnectionEvent,
    Event,
    ExecutionReport,
    FillEvent,
    NoticeEvent,
    OrderEvent,
    RiskEvent,
    SignalEvent,
    TickerEvent,
)
from tui_trader.core.fills import Fill
from tui_trader.core.heap import seconds_to_next_trim, trim
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Candle, OrderBook, Ticker
from tui_trader.core.orders import Order
from tui_trader.core.positions import Position
from tui_trader.core.signals import Signal
from tui_trader.engine import (  # noqa: F401  (registers commands)
    config_commands,
    market_commands,
    order_commands,
    performance_commands,
    position_adopt,
    routing_commands,
    signal_commands,
    venue_commands,
)
from tui_trader.engine.bus import EventBus
from tui_trader.engine.copy import commands as copy_commands  # noqa: F401  (registers commands)
from tui_trader.engine.derivatives import Derivatives
from tui_trader.engine.marketdata import CandleFeed
from tui_trader.engine.protective_stops import ProtectiveStops
from tui_trader.engine.reconnect import Reconciler
from tui_trader.engine.risk_journal import RiskJournal
from tui_trader.engine.route_state import is_parent
from tui_trader.engine.router import Router
from tui_trader.engine.scanner import SpreadScanner
from tui_trader.engine.snapshot import (
    EngineSnapshot,
    VenueStatus,
    venue_detail,
    venue_holes,
    venue_rate_limited,
    venue_streams,
)
from tui_trader.engine.strategy_host import StrategyHost
from tui_trader.engine.tape import TradeTape
from tui_trader.engine.trading import Trading
from tui_trader.execution.emulator import OrderEmulator
from tui_trader.execution.ids import ClientOrderIds
from tui_trader.execution.ledger import SubLedgers
from tui_trader.execution.oms import OrderManager
from tui_trader.execution.portfolio import AccountSnapshot, Portfolio
from tui_trader.execution.reconcile import reconcile
from tui_trader.home import HomeLock
from tui_trader.risk.breakers import Trip
from tui_trader.risk.checks import PreTradeChecks
from tui_trader.risk.manager import RiskManager
from tui_trader.store.db import Store, StoreWriteError
from tui_trader.venues.base import Venue
from tui_trader.venues.resilience import stop_tasks

if TYPE_CHECKING:
    from tui_trader.home import Home

log = logging.getLogger(__name__)


class Engine(Trading):
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
        self.portfolio = Portfolio(settings.engine.reporting_currency, settings.engine.default_venue)
        self._venues_override = venues
        self.venues: dict[str, Venue] = {}
        self.instruments: dict[str, dict[str, Instrument]] = {}
        # market state by (venue, symbol): two venues quoting one symbol keep their own prices
        self.tickers: dict[tuple[str, str], Ticker] = {}
        self.books: dict[tuple[str, str], OrderBook] = {}
        self.market_seen: dict[tuple[str, str], float] = {}  # monotonic time of the last quote or book
        self.fills: list[Fill] = []
        self.signals: list[Signal] = []
        self.recent_orders: dict[str, Order] = {}
        self.halt_reason: str | None = None
        self.in_memory = in_memory or home is None
        self.store: Store | None = None
        self.oms: OrderManager | None = None
        self.risk = RiskManager(settings.risk, self.portfolio, self.clock, self._on_trip)
        # a routed order's parent is never at a venue: its children are what count
        self.risk.open_orders = lambda: (
            [o for o in self.oms.open_orders() if not is_parent(o)] if self.oms is not None else []
        )
        self.risk.expected = self._strategy_symbols
        self.derivatives = Derivatives(self)  # leverage, margin, funding, the liquidation guard
        self.checks = PreTradeChecks(
            settings.risk,
            self.portfolio,
            self.current_halt,
            open_orders=self.risk.open_orders,
            locks=self.risk.lock_for,
            margin=self.derivatives,
        )
        self.emulator: OrderEmulator | None = None  # trailing stops, OCO, brackets the venue lacks
        self.ledger = SubLedgers()  # positions and P&L per strategy (and manual) and symbol
        self.risk_journal: RiskJournal | None = None
        self.stops: ProtectiveStops | None = None  # strategy positions' protective stops
        self.new_id = ClientOrderIds(self.clock)
        self._tasks: list[asyncio.Task[Any]] = []
        self._venue_detail: dict[str, str] = {}
        self._last_msg: dict[str, float] = {}
        self.started = False
        self.live_armed = False  # orders to a live venue need arming (--live, or the arm_live command)
        self.signal_service: Any = None  # signals.service.SignalService when enabled (lazy)
        self.copy: Any = None  # engine.copy.desk.CopyDesk when [copy.*] tables follow a leader
        self.leagues: Any = None  # engine.league_live.LiveLeagues: live league boards (with a home)
        self.snapshot_extras: list[Callable[[], dict[str, Any]]] = []  # add snapshot.extra entries
        self.candles: CandleFeed | None = None  # closed bars from trade prints
        self.tape = TradeTape()  # time and sales per market
        self.strategies: StrategyHost | None = None  # configured strategies, live
        self.config_file: Path | None = None  # what `config.reload` re-reads (set by the CLI)
        self.reloader: Callable[[], Awaitable[dict[str, Any]]] | None = None  # the daemon's fuller reload
        self._home_lock: HomeLock | None = None
        self.reconciler = Reconciler(self)  # after reconnects, and while an order's fate is unknown
        self.router = Router(self)  # `--venue auto` (engine/router.py)
        self.scanner = SpreadScanner(self)  # cross-venue and triangular spreads, live

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store, connect every venue, reconcile, start the services. A start that
        fails (keys, a venue that cannot load its markets) undoes what it began, so the caller
        (the daemon, the TUI) can say why in one line and exit instead of hanging."""
        try:
            await self._start()
        except BaseException:
            await self._abort_start()
            raise

    async def _cancel_tasks(self) -> None:
        await stop_tasks(*self._tasks)
        self._tasks.clear()

    async def _abort_start(self) -> None:
        await self._cancel_tasks()
        for part in (self.signal_service, self.strategies, self.candles, self.emulator):
            if part is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(part.stop(), 5.0)
        for venue in self.venues.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(venue.close(), 5.0)
        if self.oms is not None:
            with contextlib.suppress(Exception):
                await self.oms.stop()
        if self.store is not None:
            with contextlib.suppress(Exception):
                await self.store.close()
            self.store = None
        if self._home_lock is not None:
            self._home_lock.release()
            self._home_lock = None

    async def _start(self) -> None:
        from tui_trader.venues.registry import build_venues

        if self.home is not None:
            self.home.ensure()
        if self.home is not None and not self.in_memory:  # one engine per home (HomeBusy if not)
            self._home_lock = HomeLock(self.home.lock_path, "engine").acquire()
        self.store = await Store.open(None if self.in_memory else self.home.db_file)  # type: ignore[union-attr]
        self.new_id.after(await self.store.newest_order_id(self.new_id.prefix))  # ids made from now on are new
        self.venues = self._venues_override or build_venues(self.settings, self.clock, self.home)
        self.risk_journal = RiskJournal(self.risk, self.store, self.clock)
        await self.risk_journal.restore()  # before anything observes equity
        self.risk.ready = False  # until the venues' balances are in (below)
        b = self.risk.breakers
        self.portfolio.resume(b.day, b.day_start_equity, b.peak_equity)  # the account's day P&L too
        for owner, pos in await self.store.load_ledger():
            self.ledger.positions[(owner, pos.venue, pos.symbol)] = pos
        await self.derivatives.restore()
        self.oms = OrderManager(self.store, self.bus, self.clock, self.venues, self.portfolio, self.new_id.minted)
        self.oms.fill_listeners.append(self.risk.on_fill)
        self.oms.fill_listeners.append(self._book_fill)
        self.stops = ProtectiveStops(self)
        self.oms.fill_listeners.append(self.stops.on_fill)  # after the sub-ledgers booked the fill
        self.emulator = OrderEmulator(self.oms, self.clock, self.tickers)
        await self.oms.restore()
        for order in reversed(await self.store.load_orders(limit=self.RECENT)):  # oldest first, as they come
            self.recent_orders[order.client_order_id] = order
        self.fills = list(reversed(await self.store.load_fills(limit=self.RECENT)))
        # Before reconciliation: the fills and order changes it finds (made while the engine was
        # down) belong in the recent lists `fills` and `orders --all` show, not only the database.
        self.bus.on(self._track, name="engine-state")
        self.oms.start()
        for name, venue in self.venues.items():
            await venue.connect(self._ingest)
            self.instruments[name] = await venue.load_markets()
            self.derivatives.register(name, self.instruments[name])
            self.portfolio.know_quotes(self.instruments[name].values())
            await venue.subscribe(list(self.instruments[name]))
            report = await reconcile(self.oms, venue, self.clock.now())
            await self.oms.flush()
            if report.unsettled:  # `unknown` orders from before the restart: settled as the venue answers
                self.reconciler.settle(name)
            await self.derivatives.import_flows(name)
            # Cash comes from the venues after reconciliation (it already includes missed fills),
            # believed as a read again is (a fill booked while it is read: read again), summed
            # over venues: two venues holding USDT hold both amounts.
            await self.reconciler.cash.at_start(name)
        self.risk.ready = True
        self.risk.observe()
        await self._seed_ledger()
        from tui_trader.engine.market_hours import SessionNotes, preload_calendars

        await preload_calendars(self.instruments)
        self.snapshot_extras.append(SessionNotes(self.clock, self.instruments, self.venues))
        self.emulator.rearm([o for o in self.oms.open_orders() if o.meta.get("held")])
        self.emulator.start()
        self._tasks.append(asyncio.create_task(self._risk_loop(), name="risk-metrics"))
        self.reconciler.install()
        self.bus.on(self.tape.on_event, kinds={"trade"}, name="tape")
        self._tasks.append(asyncio.create_task(self._equity_loop(), name="equity"))
        self._tasks.append(asyncio.create_task(_heap_loop(), name="heap-trim"))
        self.candles = CandleFeed(self)
        self.strategies = StrategyHost(self)
        await self.strategies.start()  # before the feed, so it can ask for its timeframes
        self.stops.start()  # once the strategies declared their stoploss
        self.candles.start()
        self.snapshot_extras.append(lambda: {"strategies": self.strategies.status()} if self.strategies else {})
        self.snapshot_extras.append(self._margin_extra)
        from tui_trader.engine.signal_service import maybe_start

        self.signal_service = await maybe_start(self)  # None unless configured or a model exists
        self.router.start()  # after reconciliation: parents a restart interrupted carry on
        self.scanner.start()
        # the scanner's latest spreads, fees and venue problems (the Venues and Spreads panes)
        self.snapshot_extras.append(lambda: {"routing": self.scanner.latest()})
        from tui_trader.engine.copy.desk import maybe_start as start_copy

        self.copy = await start_copy(self)  # None unless a [copy.*] table follows a leader
        if self.home is not None:  # the League pane: the latest `league run` leaderboard
            from tui_trader.league.board import LatestBoard

            self.snapshot_extras.append(LatestBoard(self.home.root))
            from tui_trader.engine.league_live import LiveLeagues

            self.leagues = LiveLeagues(self)
            self.leagues.start()
        self.started = True
        await self.audit("engine", "start", {"mode": self.mode, "venues": list(self.venues)})

    async def reconnect_venue(self, name: str) -> None:
        venue = self.venues[name]
        await venue.connect(self._ingest)
        await venue.subscribe(list(self.instruments.get(name) or await venue.load_markets()))
        assert self.oms is not None
        await reconcile(self.oms, venue, self.clock.now())
        await self.oms.flush()
        await self.reconciler.cash.reread(name, "venue start")

    async def stop(self) -> None:
        try:
            await self._stop()
        finally:
            if self._home_lock is not None:
                self._home_lock.release()
                self._home_lock = None

    async def _stop(self) -> None:
        if not self.started:
            if self.store is not None:
                await self.store.close()
            return
        self.started = False
        await self.scanner.stop()
        await self.router.stop()
        if self.leagues is not None:
            await self.leagues.stop()
        if self.copy is not None:
            await self.copy.stop()
        if self.signal_service is not None:
            await self.signal_service.stop()
        if self.strategies is not None:
            await self.strategies.stop()
        if self.stops is not None:
            await self.stops.stop()
        if self.candles is not None:
            await self.candles.stop()
        await self.reconciler.stop()
        await self._cancel_tasks()
        if self.emulator is not None:
            await self.emulator.stop()
        await self.derivatives.stop()
        for venue in self.venues.values():
            with contextlib.suppress(Exception):
                await venue.close()
        assert self.oms is not None and self.store is not None
        await self.oms.stop()
        if self.risk_journal is not None:
            with contextlib.suppress(StoreWriteError):
                await self.risk_journal.close()
        with contextlib.suppress(StoreWriteError):  # a store that cannot write must not block the stop
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

    def ticker(self, symbol: str, venue: str | None = None) -> Ticker | None:
        """The quote of `symbol` on `venue` (default: the venue orders for it go to)."""
        return self.tickers.get((self.venue_for(symbol, venue), symbol))

    def book(self, symbol: str, venue: str | None = None) -> OrderBook | None:
        return self.books.get((self.venue_for(symbol, venue), symbol))

    def mid(self, symbol: str, venue: str | None = None) -> float:
        t = self.ticker(symbol, venue)
        return t.mid if t else 0.0

    def _ingest(self, event: Event) -> None:
        """Everything a venue emits arrives here first."""
        if isinstance(event, ExecutionReport):
            assert self.oms is not None
            self.oms.on_report(event)
            return
        if isinstance(event, TickerEvent):
            t = event.ticker
            self.tickers[(t.venue, t.symbol)] = t
            self.market_seen[(t.venue, t.symbol)] = self.clock.monotonic()
            self.portfolio.mark(t.venue, t.symbol, t.mark)
            if self.emulator is not None:
                self.emulator.on_ticker(t)
            if self.started or self.oms is not None:
                self.derivatives.on_mark(t)
            self._last_msg[t.venue] = self.clock.monotonic()
        elif isinstance(event, BookEvent):
            self.books[(event.book.venue, event.book.symbol)] = event.book
            self.market_seen[(event.book.venue, event.book.symbol)] = self.clock.monotonic()
        elif isinstance(event, ConnectionEvent):
            self._venue_detail[event.venue] = event.detail
        elif isinstance(event, CashFlowEvent):
            self.derivatives.on_cash_flow(event.flow)  # books and publishes it
            return
        self.bus.publish(event)

    def _track(self, event: Event) -> None:
        if isinstance(event, OrderEvent):
            self.recent_orders[event.order.client_order_id] = event.order
            if len(self.recent_orders) > self.RECENT * 2:
                for cid in list(self.recent_orders)[: self.RECENT]:
                    if not self.recent_orders[cid].is_open:
                        del self.recent_orders[cid]
        elif isinstance(event, FillEvent):
            self.fills.append(event.fill)
            del self.fills[: -self.RECENT]
            if self.risk.ready:  # not during start-up reconciliation: cash is not in yet
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
                venue_detail(self._venue_detail.get(name, ""), streams),
                (now_mono - self._last_msg[name]) if name in self._last_msg else None,
                streams,
                venue_rate_limited(v),
                venue_holes(v),
                self.portfolio.unread.get(name, ""),
                self.portfolio.unread_since.get(name),
                self.reconciler.cash.positions.rows(name),
                dict(self.portfolio.venue_cash.get(name, {})),
            )
            for name, v in self.venues.items()
            for streams in (venue_streams(v),)
        ]
        assert self.oms is not None
        tickers: dict[str, dict[str, Ticker]] = {name: {} for name in self.instruments}
        for (venue, symbol), t in self.tickers.items():
            tickers.setdefault(venue, {})[symbol] = t
        books: dict[str, dict[str, OrderBook]] = {name: {} for name in self.instruments}
        for (venue, symbol), b in self.books.items():
            books.setdefault(venue, {})[symbol] = b
        return EngineSnapshot(
            ts=self.clock.now(),
            mode=self.mode,
            venues=statuses,
            instruments={name: dict(insts) for name, insts in self.instruments.items()},
            tickers=tickers,
            books=books,
            routes={s: self.venue_for(s) for s in self.symbols()},
            positions=[p.copy() for p in self.portfolio.positions.values() if not p.is_flat],
            open_orders=[o.copy() for o in self.oms.open_orders()],
            recent_orders=[o.copy() for o in list(self.recent_orders.values())[-50:]],
            fills=list(self.fills[-50:]),
            account=self.account(),
            signals=list(self.signals[-50:]),
            halted=self.current_halt(),
            extra={
                "risk": self.risk_state(),
                "live_armed": self.live_armed,
                "ledger": self.ledger.rows(self.portfolio.marks),
            }
            | {k: v for extra in self.snapshot_extras for k, v in extra().items()},
        )

    def current_halt(self) -> str | None:
        """Why new entries are refused: the database cannot be written, a manual halt, or a
        tripped circuit breaker."""
        fault = self.store.fault if self.store is not None else None
        if fault:
            return f"the database cannot be written ({fault}): every new order is refused until it can"
        return self.halt_reason or self.risk.halt_reason()

    def risk_state(self) -> dict[str, Any]:
        state = self.risk.state(self.current_halt())
        state["emulated"] = self.emulator.describe() if self.emulator is not None else []
        state["store_fault"] = self.store.fault if self.store is not None else None
        state["protective_stops"] = self.stops.describe() if self.stops is not None else []
        return state

    async def fetch_candles(
        self, symbol: str, timeframe: str, limit: int = 300, venue: str | None = None
    ) -> list[Candle]:
        venue_name = venue or self.venue_for(symbol)
        return await self.venues[venue_name].fetch_candles(symbol, timeframe, None, limit)

    def venue_for(self, symbol: str, requested: str | None = None) -> str:
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

    async def apply_risk_settings(self, new: RiskSettings, actor: str = "user") -> dict[str, Any]:
        """A reload: new limits for every check, breaker and protection at once, audited.
        `new` is already validated (pydantic); trips and locks in force stay."""
        before = self.risk.limits()
        self.settings = self.settings.model_copy(update={"risk": new})
        self.checks.settings = new
        self.risk.reconfigure(new)
        after = self.risk.limits()
        changed = {k: {"from": before.get(k), "to": v} for k, v in after.items() if before.get(k) != v}
        await self.audit(actor, "risk_reload", {"changed": changed, "limits": after})
        summary = ", ".join(f"{k} {c['from']} -> {c['to']}" for k, c in changed.items()) or "limits unchanged"
        self.bus.publish(RiskEvent(self.clock.now(), "risk_reload", f"risk settings reloaded by {actor}: {summary}"))
        return changed

    def _on_trip(self, trip: Trip) -> None:
        """A circuit breaker tripped: tell everyone, audit it, and flatten if configured."""
        self.bus.publish(RiskEvent(trip.at, f"breaker:{trip.breaker}", trip.message))
        if not self.started:
            return

        async def react() -> None:
            await self.audit("risk", "breaker_trip", {"breaker": trip.breaker, "message": trip.message})
            if self.settings.risk.flatten_on_breaker:
                await self.flatten("breaker", halt=False)

        task = asyncio.get_running_loop().create_task(react(), name=f"breaker-{trip.breaker}")
        self._tasks.append(task)

    async def _risk_loop(self) -> None:
        while True:
            try:
                await self.risk.refresh(self._daily_closes)
            except Exception:
                log.exception("risk metrics failed")
            await self._store_watch()
            await asyncio.sleep(1.0)

    async def _store_watch(self) -> None:
        """Keep the risk state written, and lift the store halt once a write succeeds again."""
        assert self.store is not None
        was = self.store.fault
        if was and not await self.store.probe():
            return
        if was:
            self.bus.publish(RiskEvent(self.clock.now(), "store_ok", "the database takes writes again: orders allowed"))
            self.notify("info", "the database takes writes again: new orders are allowed", "store")
        if self.risk_journal is not None:
            try:
                await self.risk_journal.tick()
            except StoreWriteError as exc:
                log.error("risk state not written: %s", exc)

    def _margin_extra(self) -> dict[str, Any]:
        return {"margin": self.derivatives.rows(), "liquidation_guard": list(self.derivatives.actions)}

    # -- sub-ledgers ----------------------------------------------------------------------------

    def _book_fill(self, order: Order, fill: Fill, position: Position, realized: object) -> None:
        """OMS fill listener: the fill goes to its owner's sub-ledger, stored with the fill."""
        for owner, pos in self.ledger.apply(order.strategy, fill):
            if self.store is not None:
                self.store.stage(Store.ledger_row(owner, pos, fill.ts), key=3)

    async def _seed_ledger(self) -> None:
        """Account positions the sub-ledgers do not explain (an older database, trades made
        while the engine was down) are manual's."""
        assert self.store is not None
        rows = []
        for extra in self.ledger.unaccounted(self.portfolio.positions):
            self.ledger.seed("", extra)
            rows.append(Store.ledger_row("", self.ledger.position("", extra.venue, extra.symbol), self.clock.now()))
        if rows:
            await self.store.write_rows(rows)

    def _strategy_symbols(self) -> list[str]:
        """The symbols the strategies trade, configured or started since: the value at risk
        reads their daily history before their first position, not at its first fill."""
        configs = dict(self.settings.strategies)
        if self.strategies is not None:
            configs.update(self.strategies.configs)
        return [symbol for cfg in configs.values() for symbol in cfg.symbols]

    async def _daily_closes(self, symbol: str, since: datetime | None = None) -> list[Candle]:
        venue = self.venue_for(symbol)
        return await self.venues[venue].fetch_candles(symbol, "1d", since, self.settings.risk.var_lookback_days + 1)

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


async def _heap_loop() -> None:
    """Freed C-heap memory back to the system once a minute, at half past (core/heap.py): a
    backlog the engine caught up on no longer raises its RSS for good."""
    while True:
        await asyncio.sleep(seconds_to_next_trim())
        trim()


__all__ = ["Engine"]
