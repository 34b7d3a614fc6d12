"""PaperVenue: the embedded simulated exchange behind the `Venue` protocol."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tui_trader.config.paper import PaperSettings
from tui_trader.core.cashflows import FUNDING, SWAP, CashFlow
from tui_trader.core.clock import Clock
from tui_trader.core.enums import ConnectionState, InstrumentKind, MarginMode, OrderStatus
from tui_trader.core.events import (
    BookEvent,
    CashFlowEvent,
    ConnectionEvent,
    Event,
    ExecutionReport,
    TickerEvent,
    TradeEvent,
)
from tui_trader.core.fills import Fill
from tui_trader.core.fx_sessions import rollover_at
from tui_trader.core.hours import SessionState, hours_for
from tui_trader.core.instrument import Instrument
from tui_trader.core.margin import default_leverage, funding_payment
from tui_trader.core.market import Candle, OrderBook, Ticker, TradePrint
from tui_trader.core.orders import Order
from tui_trader.core.positions import Balance
from tui_trader.venues.base import Emit, VenueCapabilities, VenueError, VenueOrder
from tui_trader.venues.paper import carry
from tui_trader.venues.paper.account import MarginTerms, PaperAccount
from tui_trader.venues.paper.feeds import PriceSource, SimulatedSource
from tui_trader.venues.paper.history import history
from tui_trader.venues.paper.instruments import paper_instrument, profile_for
from tui_trader.venues.paper.journal import (
    PaperJournal,
    fill_from_dict,
    fill_to_dict,
    flow_from_dict,
    flow_to_dict,
    order_from_dict,
    order_to_dict,
)
from tui_trader.venues.paper.matching import ALWAYS, MatchingEngine
from tui_trader.venues.paper.path import Basis, PricePath
from tui_trader.venues.paper.simulator import MarketSimulator

log = logging.getLogger(__name__)


class PaperVenue:
    kind = "paper"
    is_live = False

    # in process: an order it does not know never reached it (reconcile settles such an order
    # at once instead of waiting, as for a remote venue, for a late arrival)
    not_found_final_after_s = 0.0
    # in process, and it answers inside create_order: the OMS sends to it without a turn of
    # the event loop (execution/oms.py `_send`)
    answers_in_call = True
    # its balances and its fills are one account, in process: a read holds exactly the fills
    # handed over before it (no fill of it is heard of late: engine/cash_reread.py `take`)
    balances_with_fills = True

    def __init__(
        self,
        settings: PaperSettings,
        clock: Clock,
        *,
        name: str = "paper",
        journal_path: Path | None = None,
        source: PriceSource | None = None,
        instruments: dict[str, Instrument] | None = None,
        run_feed: bool = True,
        market_seed: int | None = None,
        basis: Basis | None = None,
    ) -> None:
        """`market_seed` names the shared market (default: this venue's own `settings.seed`);
        `basis` is this venue's premium over it (named instances, docs/paper.md)."""
        self.name = name
        self.market_seed = settings.seed if market_seed is None else market_seed
        self.basis = basis
        self.settings = settings
        self.run_feed = run_feed  # False: tests and benchmarks step the source by hand
        self.clock = clock
        self.instruments = instruments or {s: paper_instrument(s, name) for s in settings.symbols}
        self.capabilities = VenueCapabilities(
            stop=True,
            stop_limit=True,
            trailing_stop=False,
            oco=False,
            bracket=False,
            post_only=True,
            reduce_only=True,
            amend=False,
            ioc_fok=True,
            shorting=settings.allow_short,
        )
        self.account = PaperAccount(
            {k: Decimal(str(v)) for k, v in settings.balances.items()}, allow_short=settings.allow_short
        )
        for inst in self.instruments.values():
            if inst.margined:
                self.account.set_margin(inst.symbol, self._terms(inst, default_leverage(inst)))
        self.flows: list[CashFlow] = []  # funding and swap paid, in order
        self._next_carry: dict[str, datetime] = {}  # symbol -> its next funding time or rollover
        self._emit: Emit = lambda event: None
        self.matching = MatchingEngine(
            name,
            self.instruments,
            self.account,
            maker_fee=settings.maker_fee,
            taker_fee=settings.taker_fee,
            emit=self._on_execution,
            clock=clock,
            session=lambda symbol: self.session_state(symbol, clock.now()),
            half_life_s=lambda symbol: profile_for(symbol).resilience_s * settings.resilience_scale,
        )
        self.source: PriceSource = source or SimulatedSource(
            MarketSimulator(
                self.instruments,
                {s: profile_for(s) for s in self.instruments},
                settings.seed,
                settings.tick_interval_ms / 1000.0,
                market_seed=self.market_seed,
                basis=basis,
            ),
            clock,
            settings.tick_interval_ms / 1000.0,
        )
        self.journal = PaperJournal(journal_path)
        self._task: asyncio.Task[None] | None = None
        self._state = ConnectionState.DISCONNECTED
        self._subscribed: set[str] = set(self.instruments)
        self._tickers: dict[str, Ticker] = {}
        self._paths: dict[str, PricePath] = {}
        self._books: dict[str, OrderBook] = {}
        self._pending: dict[str, Order] = {}  # the order being submitted (for the journal)
        self._restore()

    # -- the exchange's memory -------------------------------------------------------------------

    def _restore(self) -> None:
        orders: dict[str, Order] = {}
        done: set[str] = set()
        n_fills = 0
        for rec in self.journal.records():
            kind = rec.get("t")
            if kind == "order":
                orders[rec["cid"]] = order_from_dict(rec, self.name)
            elif kind == "fill":
                fill = fill_from_dict(rec, self.name)
                n_fills += 1
                inst = self.instruments.get(fill.symbol) or paper_instrument(fill.symbol, self.name)
                self.account.apply_fill(fill.symbol, inst.quote, fill.side, fill.quantity, fill.price, fill.fee)
                self.matching.fills.append(fill)
                order = orders.get(fill.client_order_id)
                if order is not None:
                    order.filled_quantity += fill.quantity
                    if order.remaining <= 0:
                        done.add(order.client_order_id)
            elif kind == "done":
                done.add(rec["cid"])
            elif kind == "lev" and rec["symbol"] in self.account.margin:
                self.account.set_margin(
                    rec["symbol"], dataclasses.replace(self.account.margin[rec["symbol"]], leverage=Decimal(rec["lev"]))
                )
            elif kind == "flow":
                flow = flow_from_dict(rec, self.name)
                self.flows.append(flow)
                self.account.apply_cash_flow(flow.currency, flow.amount)
        self.matching.continue_sequences(len(orders) * 2 + 1, n_fills)
        for cid, order in orders.items():
            if cid not in done:
                self.matching.restore_working(order, triggered=bool(order.meta.get("triggered_at")))
        if orders or n_fills:
            log.info("paper venue restored %d orders, %d fills from its journal", len(orders), n_fills)

    def _on_execution(self, report: Event) -> None:
        if isinstance(report, ExecutionReport):
            if report.fill is not None:
                self.journal.append(fill_to_dict(report.fill))
            elif report.status is OrderStatus.ACCEPTED:
                # the order being submitted (the same object the matching engine works), without
                # a scan of every working order
                order = self._pending.get(report.client_order_id) or next(
                    (o for o in self.matching.open_orders() if o.client_order_id == report.client_order_id), None
                )
                if order is not None:
                    self.journal.append(order_to_dict(order))
            elif report.status is not None and report.status.is_final:
                self.journal.append({"t": "done", "cid": report.client_order_id, "status": report.status.value})
        self._emit(report)

    # -- Venue protocol ------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    async def connect(self, emit: Emit) -> None:
        self._emit = emit
        from tui_trader.core.hours import NYSE

        if any(hours_for(inst) is NYSE for inst in self.instruments.values()):
            await asyncio.to_thread(NYSE.preload)  # the exchange calendar loads once, off the loop
        self._set_state(
            ConnectionState.CONNECTED, "embedded simulator" if isinstance(self.source, SimulatedSource) else "replay"
        )
        self.source.step(self)  # a first book and quote before anyone asks
        if self.run_feed:
            self._task = asyncio.create_task(self._run(), name=f"{self.name}-feed")

    def step(self, n: int = 1) -> None:
        """Advance the price source by hand (when `run_feed` is False)."""
        for _ in range(n):
            if not self.source.step(self):
                break

    async def _run(self) -> None:
        try:
            await self.source.run(self)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never silently: the UI shows the venue as disconnected
            log.exception("paper feed failed")
            self._set_state(ConnectionState.DISCONNECTED, f"feed failed: {exc}")

    def _set_state(self, state: ConnectionState, detail: str = "") -> None:
        self._state = state
        self._emit(ConnectionEvent(self.name, state, self.clock.now(), detail))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        self.journal.close()
        if self._state is not ConnectionState.DISCONNECTED:
            self._set_state(ConnectionState.DISCONNECTED, "stopped")

    async def load_markets(self) -> dict[str, Instrument]:
        return dict(self.instruments)

    async def subscribe(self, symbols: Sequence[str]) -> None:
        self._subscribed.update(symbols)

    async def fetch_candles(
        self, symbol: str, timeframe: str, since: datetime | None = None, limit: int = 500
    ) -> list[Candle]:
        path, end = self.path(symbol), self.clock.now()
        try:
            # Off the event loop: history the path has not computed yet costs a block of minutes
            # per week it spans (a year of daily bars: 70-100 ms, up to ~0.5 s for stocks), which
            # would hold quotes, orders and the screen (the risk loop's VaR reads a year of them).
            return await asyncio.to_thread(history, path, timeframe, end, limit, since)
        except ValueError as exc:
            raise VenueError(str(exc)) from None

    def path(self, symbol: str) -> PricePath:
        """The paper market's price path for `symbol` (the one its quotes follow)."""
        if isinstance(self.source, SimulatedSource) and symbol in self.source.sim.symbols:
            return self.source.sim.path(symbol)
        found = self._paths.get(symbol)
        if found is None:
            inst = self.instruments.get(symbol) or paper_instrument(symbol, self.name)
            found = PricePath(
                self.market_seed, symbol, profile_for(symbol), hours_for(inst), inst.price_decimals, self.basis
            )
            self._paths[symbol] = found
        return found

    @property
    def simulated(self) -> bool:
        """Its prices come from the simulator, where every pair walks on its own path: a cross pair
        (ETH/BTC) is not ETH/USDT over BTC/USDT there, so a triangle through it means nothing."""
        return isinstance(self.source, SimulatedSource)

    def fee_rates(self, symbol: str) -> tuple[float, float]:
        """(maker, taker) this instance charges."""
        return self.settings.maker_fee, self.settings.taker_fee

    async def fetch_balances(self) -> dict[str, Balance]:
        out = {}
        for ccy, cash in self.account.cash.items():
            out[ccy] = Balance(ccy, cash, self.account.buying_power(ccy, self.matching.last_price))
        return out

    async def create_order(self, order: Order) -> None:
        if self.settings.ack_latency_ms:
            await asyncio.sleep(self.settings.ack_latency_ms / 1000.0)
        if self._state is not ConnectionState.CONNECTED:  # stopped (`tui-trader venue stop`): a clear no
            reason = f"{self.name} is not running (stopped): it takes no orders"
            self._emit(ExecutionReport(self.name, order.client_order_id, OrderStatus.REJECTED, self.clock.now(),
                                       None, reason))
            return
        mine = order.copy()  # the venue's own record, independent of the OMS's
        mine.status = OrderStatus.NEW
        mine.filled_quantity = Decimal(0)
        self._pending = {mine.client_order_id: mine}
        try:
            with self.journal.one_write():  # its acceptance and fills: one write, before the answer
                self.matching.submit(mine)
        finally:
            self._pending = {}

    async def amend_order(
        self, order: Order, quantity: Decimal | None = None, price: Decimal | None = None
    ) -> None:
        """Not in place here (`capabilities.amend` is false): the engine cancels and replaces."""
        raise VenueError("the paper venue does not amend orders in place; cancel and replace instead")

    async def cancel_order(self, order: Order) -> None:
        if not self.matching.cancel(order.client_order_id):
            known = any(f.client_order_id == order.client_order_id for f in self.matching.fills)
            reason = "already filled" if known else "unknown order"
            self._emit(
                ExecutionReport(
                    self.name,
                    order.client_order_id,
                    None,
                    self.clock.now(),
                    order.venue_order_id,
                    f"cancel refused: {reason}",
                )
            )

    async def fetch_open_orders(self) -> list[VenueOrder]:
        return [self._venue_order(o) for o in self.matching.open_orders()]

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrder | None:
        for o in self.matching.open_orders():
            if o.client_order_id == client_order_id:
                return self._venue_order(o)
        return None

    async def fetch_fills(self, since: datetime | None = None) -> list[Fill]:
        return [f for f in self.matching.fills if since is None or f.ts >= since]

    # -- on margin: leverage, funding and swap -------------------------------------------------

    def _terms(self, inst: Instrument, leverage: Decimal) -> MarginTerms:
        """A perpetual's margin is held in its settle currency; an FX pair's in the account's
        dollars (the paper broker's account currency) when there are any."""
        fx = inst.kind is InstrumentKind.FX
        margin_ccy = "USD" if fx and "USD" in self.account.cash else inst.settle_currency
        return MarginTerms(inst.contract_size, leverage, inst.settle_currency, margin_ccy, inst.base)

    async def set_leverage(self, symbol: str, leverage: Decimal, margin_mode: MarginMode | None = None) -> None:
        """The leverage `symbol`'s new orders use (Binance's POST /fapi/v1/leverage); remembered
        in the journal. Refused for spot and beyond the instrument's bounds."""
        inst = self.instruments.get(symbol)
        if inst is None or not inst.margined:
            raise VenueError(f"{symbol} is not traded on margin here")
        if not inst.min_leverage <= leverage <= inst.max_leverage:
            raise VenueError(f"leverage {leverage:g} is outside {inst.min_leverage:g}-{inst.max_leverage:g}")
        if margin_mode is not None and inst.margin_modes and margin_mode not in inst.margin_modes:
            raise VenueError(f"{symbol} has no {margin_mode.value} margin")
        self.account.set_margin(symbol, self._terms(inst, leverage))
        self.journal.append({"t": "lev", "symbol": symbol, "lev": str(leverage)})

    async def fetch_cash_flows(self, since: datetime | None = None) -> list[CashFlow]:
        """Funding and swap paid or received (Binance's /fapi/v1/income, OANDA's transactions)."""
        return [f for f in self.flows if since is None or f.ts >= since]

    def _carry(self, ticker: Ticker) -> None:
        """At a perpetual's funding time or an FX pair's rollover, pay or charge the position."""
        inst = self.instruments.get(ticker.symbol)
        if inst is None or not (inst.kind.perpetual or inst.kind is InstrumentKind.FX):
            return
        due = self._next_carry.get(ticker.symbol)
        if due is None:
            self._next_carry[ticker.symbol] = self._carry_after(inst, ticker.ts)
            return
        if ticker.ts < due:
            return
        self._next_carry[ticker.symbol] = self._carry_after(inst, due)
        qty = self.account.position(ticker.symbol)
        if qty == 0:
            return
        if inst.kind.perpetual:
            mark = Decimal(repr(ticker.mark))
            rate = carry.funding_rate(inst, due.timestamp())
            amount = funding_payment(inst, qty, mark, rate)
            kind, price = FUNDING, mark
        else:
            price = Decimal(repr(ticker.mid))
            amount, rate = carry.swap_amount(inst, qty, price, due)
            kind = SWAP
            if amount == 0:
                return
        flow = CashFlow(
            f"{kind}-{ticker.symbol}-{int(due.timestamp())}", self.name, ticker.symbol, kind,
            amount.quantize(Decimal("0.00000001")), inst.settle_currency, due, rate, qty, price,
        )
        self.flows.append(flow)
        self.account.apply_cash_flow(flow.currency, flow.amount)
        self.journal.append({"t": "flow", **flow_to_dict(flow)})
        self._emit(CashFlowEvent(flow))

    @staticmethod
    def _carry_after(inst: Instrument, ts: datetime) -> datetime:
        if inst.kind.perpetual:
            return carry.next_funding(ts)
        return rollover_at(ts + _EPSILON)

    def position(self, symbol: str) -> Decimal:
        return self.account.position(symbol)

    # -- hours -----------------------------------------------------------------------------------

    def session_state(self, symbol: str, now: datetime) -> SessionState:
        """Where `symbol`'s market stands: crypto 24/7, forex Sunday-Friday, stocks NYSE hours."""
        inst = self.instruments.get(symbol)
        return hours_for(inst).state(now) if inst is not None else ALWAYS

    def market_open(self, symbol: str, now: datetime) -> bool:
        """Engine pre-trade hook: always True, because this venue decides per order, as Alpaca's
        server does (a day order is queued for the open, an extended-hours limit order trades
        pre-market; other market orders are refused with the time the market opens)."""
        return True

    def _venue_order(self, o: Order) -> VenueOrder:
        return VenueOrder(
            o.client_order_id,
            o.venue_order_id,
            o.symbol,
            o.side.value,
            o.type.value,
            str(o.quantity),
            str(o.filled_quantity),
            None if o.price is None else str(o.price),
            o.status.value,
            o.updated_at,
        )

    # -- MarketSink: prices from the source --------------------------------------------------

    def on_book(self, book: OrderBook) -> None:
        book = self.matching.on_book(book)  # less what our own orders took
        self._books[book.symbol] = book
        if book.symbol in self._subscribed:
            self._emit(BookEvent(book))

    def on_trade(self, trade: TradePrint) -> None:
        self.matching.on_trade(trade)
        if trade.symbol in self._subscribed:
            self._emit(TradeEvent(trade))

    def on_ticker(self, ticker: Ticker) -> None:
        book = self._books.get(ticker.symbol)
        if book is not None and book.bids and book.asks and self.matching.liquidity.taken(ticker.symbol):
            # The quote shows the book as our orders left it (impact), not the untouched one.
            ticker = dataclasses.replace(
                ticker, bid=book.bids[0][0], ask=book.asks[0][0], bid_size=book.bids[0][1], ask_size=book.asks[0][1]
            )
        self._tickers[ticker.symbol] = ticker
        if ticker.symbol in self._subscribed:
            self._emit(TickerEvent(ticker))
        self._carry(ticker)


_EPSILON = timedelta(microseconds=1)
