"""Helpers for venue tests and the soak bench: a real ccxt venue pointed at a fake exchange,
an engine trading it, and the checks every exchange's tests make alike."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from typing import Any

from tui_trader.config import Settings
from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import SystemClock
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.events import (
    BookEvent,
    CandleEvent,
    ConnectionEvent,
    Event,
    RiskEvent,
    TickerEvent,
    TradeEvent,
)
from tui_trader.core.fills import Fill
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.engine import Engine
from tui_trader.secrets import Credentials
from tui_trader.venues.ccxt.exchanges import private_ws_urls
from tui_trader.venues.ccxt.venue import CcxtVenue
from tui_trader.venues.resilience import Backoff

from fakes.binance_exchange import FakeBinanceExchange
from fakes.fake_market import FakeMarket, FakeTrade

API_KEY = "test-key"
SECRET = "test-secret-value"


def venue_settings(
    fake: FakeBinanceExchange, *, ccxt_options: dict[str, Any] | None = None, **extra: Any
) -> VenueSettings:
    """`ccxt_options` add to ccxt's own options (e.g. a shorter recvWindow)."""
    options = fake.ccxt_options()
    options["options"] = {**options["options"], **(ccxt_options or {})}
    return ccxt_settings("binance", options, ["BTC/USDT"], **extra)


def ccxt_settings(
    exchange: str, options: dict[str, Any], symbols: list[str], **extra: Any
) -> VenueSettings:
    """Settings for a ccxt venue pointed at a fake: short stall and backoff, for quick tests.
    `rate_limit_ms` sets ccxt's own request spacing (its throttle stays on: 1 ms a unit of a
    request's cost instead of the exchange's, e.g. Binance's 50 ms x 20 for its balances)."""
    options = {**options, "timeout": extra.pop("timeout_ms", 1500)}
    if (rate_limit_ms := extra.pop("rate_limit_ms", None)) is not None:
        options["rateLimit"] = rate_limit_ms
    return VenueSettings(
        kind="ccxt",
        exchange=exchange,
        sandbox=extra.pop("sandbox", True),
        symbols=symbols,
        options=options,
        stall_after_s=extra.pop("stall_after_s", 0.6),
        backoff_base_s=0.05,
        backoff_cap_s=0.2,
        **extra,
    )


def make_venue(
    fake: FakeBinanceExchange, *, key: str = API_KEY, secret: str = SECRET, **extra: Any
) -> CcxtVenue:
    """A ccxt venue on the fake Binance; ccxt spaces its requests 1 ms a unit of cost (the
    exchange's 50 ms a unit made an engine's start ~1.5 s of waiting on a loopback fake)."""
    return ccxt_venue(venue_settings(fake, **{"rate_limit_ms": 1, **extra}), Credentials(key, secret))


def ccxt_venue(settings: VenueSettings, credentials: Credentials) -> CcxtVenue:
    """A real CcxtVenue (named after its exchange) with a seeded, fast backoff."""
    import random

    return CcxtVenue(
        settings.exchange or "ccxt",
        settings,
        SystemClock(),
        credentials=credentials,
        backoff=Backoff(0.05, 0.2, rng=random.Random(1)),
        order_rate=50,
    )


async def wait_for(cond: Callable[[], bool], timeout: float = 20.0) -> None:
    """Until `cond()` holds; it normally does within a poll or two. The bound is generous on
    purpose: on a loaded machine (the suite on two workers) a venue's poll loop can take
    seconds to come round, and a wait that gives up early fails a correct engine."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


Said = tuple[str, str, dict[str, str]]  # a venue's state, its detail, and each stream's state then


def what_it_says(venue: Any) -> list[Said]:
    """Each word of `venue`'s connection monitor from now on, with its streams' states at that
    moment (none where the venue has no stream board): what a trader reading the status saw (a
    wait may miss a state that lasts a moment)."""
    said: list[Said] = []
    emit = venue.monitor.emit
    board = getattr(venue, "streams", None)

    def heard(event: Any) -> None:
        rows = board.rows() if board is not None else []
        said.append((event.state.value, event.detail, {r.name: r.state for r in rows}))
        emit(event)

    venue.monitor.emit = heard
    return said


def engine_settings() -> Settings:
    return Settings()


# -- an engine trading one venue --------------------------------------------------------------


async def engine_with(venue: CcxtVenue, *, armed: bool = False) -> Engine:
    """A started in-memory engine trading `venue`, quoting each of its symbols; `armed` arms it
    for live orders, as a trader must for a live venue (KuCoin, Kraken, Coinbase have no sandbox).
    It waits for the first quotes: with ccxt's fast test spacing the start is done before they
    arrive, and the engine rightly refuses a market order with no price to check it against."""
    from tui_trader.engine.commands import dispatch

    engine = Engine(engine_settings(), None, in_memory=True, venues={venue.name: venue})
    await engine.start()
    try:
        await wait_for(lambda: all(engine.ticker(s, venue.name) is not None for s in venue.settings.symbols))
    except BaseException:
        await engine.stop()
        raise
    if armed:
        assert (await dispatch(engine, "arm_live", {}, "test"))["live_venues"] == [venue.name]
    return engine


@contextlib.asynccontextmanager
async def trading(venue: CcxtVenue, *, armed: bool = False) -> AsyncIterator[Engine]:
    """`engine_with(venue)` for the length of a test, stopped however the test ends."""
    engine = await engine_with(venue, armed=armed)
    try:
        yield engine
    finally:
        await engine.stop()


@contextlib.asynccontextmanager
async def streaming(venue: CcxtVenue, symbols: Sequence[str] = ()) -> AsyncIterator[list[Event]]:
    """The venue connected (and subscribed to `symbols`) for the length of a test; yields the
    list its events arrive in, and closes the venue however the test ends."""
    events: list[Event] = []
    await venue.connect(events.append)
    try:
        if symbols:
            await venue.subscribe(list(symbols))
        yield events
    finally:
        await venue.close()


MarketEvent = TickerEvent | BookEvent | TradeEvent | CandleEvent


def _symbol(e: MarketEvent) -> str:
    if isinstance(e, TickerEvent):
        return e.ticker.symbol
    if isinstance(e, BookEvent):
        return e.book.symbol
    return e.trade.symbol if isinstance(e, TradeEvent) else e.candle.symbol


def every_stream(events: list[Event], symbols: Sequence[str], kinds: tuple[type[MarketEvent], ...], since: int) -> bool:
    """An event of each of `kinds` for every one of `symbols` since `events[since]`."""
    seen = {(type(e), _symbol(e)) for e in events[since:] if isinstance(e, kinds)}
    return all((kind, s) in seen for s in symbols for kind in kinds)


async def flowing_at_start_and_after_a_drop(
    venue: CcxtVenue, fake: FakeMarket, symbols: Sequence[str], kinds: tuple[type[MarketEvent], ...]
) -> None:
    """Streaming `symbols`: every stream of `kinds` flows at the start, and again after a drop
    (every stream subscribes again at once) in one reconnect, no subscription refused."""
    async with streaming(venue, symbols) as events:
        await wait_for(lambda: every_stream(events, symbols, kinds, 0))
        assert venue.counters["reconnects"] == 0, venue.counters
        await fake.drop_connections()
        await wait_for(lambda: venue.counters["reconnects"] >= 1)
        mark = len(events)
        await wait_for(lambda: every_stream(events, symbols, kinds, mark) and venue.state is ConnectionState.CONNECTED)
        assert venue.counters["reconnects"] == 1 and venue.counters["subscriptions_refused"] == 0, venue.counters


def buy(venue: str, qty: str = "0.2", symbol: str = "BTC/USDT", **kw: Any) -> OrderRequest:
    """A buy request on `venue` (a market order unless `type` and `price` say otherwise)."""
    return OrderRequest(symbol, Side.BUY, Decimal(qty), venue=venue, **kw)


def limit_buy(venue: str, price: str, qty: str = "0.2") -> OrderRequest:
    """A limit buy on `venue`: below the fake's market (~100) it rests until the test fills it."""
    return buy(venue, qty, type=OrderType.LIMIT, price=Decimal(price))


def order_status(engine: Engine, cid: str) -> OrderStatus:
    assert engine.oms is not None
    return engine.oms.orders[cid].status


async def wait_status(engine: Engine, cid: str, status: OrderStatus) -> None:
    await wait_for(lambda: order_status(engine, cid) is status)


async def fills_match(
    engine: Engine, fake: FakeMarket, fill_id: Callable[[FakeTrade], str] | None = None
) -> list[Fill]:
    """Every fill the exchange made is in our store exactly once (under the exchange's own
    fill id, `fill_id(trade)`, the fake's trade id by default); returns the stored fills."""
    assert engine.store is not None and engine.oms is not None
    # the harness's bound, not 5 s: after a drop this takes a reconnect, a reconcile, paged reads
    await wait_for(lambda: len(engine.fills) >= len(fake.trades))
    await engine.oms.flush()
    stored = await engine.store.load_fills(limit=10_000)
    name = fill_id or (lambda t: str(t.trade_id))
    assert sorted(f.fill_id for f in stored) == sorted(name(t) for t in fake.trades)
    return stored


# -- streams and connections ------------------------------------------------------------------

STREAM_KINDS = (TickerEvent, BookEvent, TradeEvent, CandleEvent)


async def wait_for_streams(events: Sequence[Event], at_least: int = 1, timeout: float = 20.0) -> None:
    """Wait until tickers, books, trades and candles have each arrived `at_least` times."""
    await wait_for(
        lambda: all(sum(isinstance(e, k) for e in events) >= at_least for k in STREAM_KINDS),
        timeout,
    )


async def wait_reconnected(events: Sequence[Event]) -> None:
    """Wait until the venue is connected again after a drop, having said it was reconnecting."""
    await wait_for(
        lambda: any(
            isinstance(e, ConnectionEvent) and e.state is ConnectionState.CONNECTED and e.attempt > 0
            for e in events
        )
    )
    states = [e.state for e in events if isinstance(e, ConnectionEvent)]
    assert ConnectionState.RECONNECTING in states


# -- scenarios every exchange passes alike ----------------------------------------------------


async def revoked_keys_stop_the_private_streams_once(
    venue: CcxtVenue,
    fake: FakeMarket,
    logins: Callable[[], int],
    revoke: Callable[[], None] = lambda: None,
    *,
    stopped: Sequence[str] = ("orders", "fills"),
    reconnects: int = 1,
) -> None:
    """The keys worked; the trader revokes them (the fake takes another key; `revoke()` does
    what else the venue does then) and every socket drops. The venue refuses the private login
    (`logins()` counts those it was asked for): the `stopped` streams stop at once saying
    `keys set <venue>`, the login is not tried again, no reconnect loop (at most `reconnects`),
    market data flows on."""
    async with streaming(venue, venue.settings.symbols) as events:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and logins() >= 1)
        worked = logins()
        fake.api_key = "revoked-key"
        revoke()
        await fake.drop_connections()
        await wait_for(lambda: {venue.streams.state(k) for k in stopped} == {"stopped"})
        ticks = sum(isinstance(e, TickerEvent) for e in events)
        await wait_for(lambda: sum(isinstance(e, TickerEvent) for e in events) > ticks + 10)
        refused, reconnected = logins() - worked, venue.counters["reconnects"]
        await asyncio.sleep(0.5)  # a loop would log in again every 0.05-0.2 s
        # a signed REST call may have been refused before the login was asked for (bybit)
        assert refused <= 2 and logins() - worked == refused, (refused, logins() - worked)
        assert venue.counters["reconnects"] == reconnected <= reconnects, venue.counters
        assert venue.state is ConnectionState.DEGRADED and f"keys set {venue.name}`" in venue.streams.summary()
    said = [e.detail for e in events if isinstance(e, ConnectionEvent)]
    assert any("authentication failed" in d and f"`tui-trader keys set {venue.name}`" in d for d in said), said


def private_sockets_open(venue: CcxtVenue) -> bool:
    """ccxt's private sockets are listed and open (their handshake answered)."""
    ex = venue._ex
    urls = private_ws_urls(venue.exchange_id, ex.urls, ex.clients)
    return bool(urls) and not any(ex.clients[url].closed() for url in urls)


async def private_refusals_spare_market_data(venue: CcxtVenue, fake: FakeMarket, refuse: Callable[[], None]) -> None:
    """The keys worked; every socket drops, and the venue refuses the private login (or
    subscribe) a few times for a fault of its own (`refuse()` arms the fake). The private
    socket alone is renewed on its own backoff: market data flows on, no venue-wide reconnect
    but the drop's, the venue `degraded` saying why; `connected` once the venue takes it."""
    async with streaming(venue, venue.settings.symbols) as events:
        # once ccxt's private socket is open (a listenKey in its url was taken). Its client is
        # listed as soon as it dials: refused while its handshake was still on the way (a
        # loaded machine), the refusal came with the drop's reconnect, which took it over.
        await wait_for(lambda: private_sockets_open(venue))
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        refuse()
        await fake.drop_connections()
        await wait_for(lambda: venue.counters["private_resubscribes"] >= 1)
        ticks = sum(isinstance(e, TickerEvent) for e in events)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        await wait_for(lambda: sum(isinstance(e, TickerEvent) for e in events) > ticks + 5)
        assert venue.counters["reconnects"] <= 1, venue.counters  # the drop's at most, none for the refusals
        assert 1 <= venue.counters["private_resubscribes"] <= 8, venue.counters  # backed off, bounded
    said = [e.detail for e in events if isinstance(e, ConnectionEvent) and e.state is ConnectionState.DEGRADED]
    assert any("subscribe refused" in d for d in said), said



async def fills_lost_in_a_drop_are_reconciled(
    engine: Engine,
    fake: FakeMarket,
    request: OrderRequest,
    parts: Sequence[Decimal | None],
    fill_id: Callable[[FakeTrade], str] | None = None,
) -> Order:
    """The order rests; it fills in `parts` (None: the rest) while the socket is silent, then
    every socket drops. The venue reconnects and reconciliation stores each fill once."""
    events: list[Event] = []
    engine.bus.on(events.append, kinds=["connection"])
    order = await engine.place(request)
    await wait_status(engine, order.client_order_id, OrderStatus.ACCEPTED)
    fake.stall()  # the fills below are lost on the wire
    for qty in parts:
        fake.fill(order.client_order_id, qty)
    await fake.drop_connections()
    fake.stall(False)
    await wait_reconnected(events)
    await fills_match(engine, fake, fill_id)
    assert order_status(engine, order.client_order_id) is OrderStatus.FILLED
    return order


async def duplicate_and_reordered_fills_count_once(
    engine: Engine,
    fake: FakeMarket,
    request: OrderRequest,
    *,
    settle_s: float = 0.2,
    fill_id: Callable[[FakeTrade], str] | None = None,
) -> None:
    """The exchange sends every private message twice and each batch backwards: the order
    fills once, each fill stored once."""
    assert engine.oms is not None
    fake.duplicate_fills()
    fake.reorder_fills()
    order = await engine.place(request)
    await wait_status(engine, order.client_order_id, OrderStatus.FILLED)
    await asyncio.sleep(settle_s)
    await fills_match(engine, fake, fill_id)
    assert engine.oms.orders[order.client_order_id].filled_quantity == request.quantity


async def cancelled_by_client_id(engine: Engine, fake: FakeMarket, request: OrderRequest) -> Order:
    """The order rests, we cancel it by our client id, and the exchange has it cancelled."""
    order = await engine.place(request)
    assert order.status is not OrderStatus.REJECTED, order.reason
    await wait_status(engine, order.client_order_id, OrderStatus.ACCEPTED)
    await engine.cancel(order.client_order_id)
    await wait_status(engine, order.client_order_id, OrderStatus.CANCELLED)
    assert fake.orders[order.client_order_id].status == "canceled"
    return order


async def timed_out_submit_is_found_by_client_id(
    engine: Engine, venue: CcxtVenue, fake: FakeMarket, request: OrderRequest
) -> Order:
    """The order is made but its answer comes after our timeout: it is looked up by client id,
    never sent twice. Returns the order for the exchange's own checks."""
    fake.delay_next_ack(1.0)
    order = await engine.place(request)
    await wait_status(engine, order.client_order_id, OrderStatus.ACCEPTED)
    assert len(fake.orders) == 1 and fake.duplicate_submissions == 0
    assert venue.counters["found_by_client_id"] == 1
    return order


async def rate_limit_backs_off_then_reject(
    engine: Engine,
    venue: CcxtVenue,
    fake: FakeMarket,
    first: OrderRequest,
    second: OrderRequest,
    *,
    limited: int = 1,
) -> Order:
    """`limited` HTTP 429s before the `first` order (which still goes through), then the
    exchange refuses the `second`; returns that rejected order, to check the exchange's reason."""
    fake.fail_next(limited, status=429)
    order = await engine.place(first)
    await wait_status(engine, order.client_order_id, OrderStatus.ACCEPTED)
    assert venue.counters["rate_limited"] >= 1 and len(fake.orders) == 1
    fake.reject_next()
    rejected = await engine.place(second)
    assert rejected.status is OrderStatus.REJECTED
    return rejected


async def live_orders_wait_for_arming(
    engine: Engine, fake: FakeMarket, request: OrderRequest
) -> None:
    """A live venue refuses orders (none reach the exchange) until the trader arms it."""
    from tui_trader.engine.commands import dispatch

    refused = await engine.place(request)
    assert refused.status is OrderStatus.REJECTED and "not armed" in (refused.reason or "")
    assert not fake.orders
    venue = request.venue
    assert (await dispatch(engine, "arm_live", {}, "test"))["live_venues"] == [venue]
    placed = await engine.place(request)
    assert placed.status is not OrderStatus.REJECTED, placed.reason
    # on a loaded machine the answer can come after the engine's ack timeout (the order is then
    # UNKNOWN, being looked up): it still reaches the exchange, once
    await wait_for(lambda: len(fake.orders) >= 1, timeout=15.0)
    assert len(fake.orders) == 1


# -- perpetuals --------------------------------------------------------------------------------


def risk_events(engine: Engine) -> list[RiskEvent]:
    """The risk events the engine publishes from now on (a venue's liquidation, ADL, margin call)."""
    seen: list[RiskEvent] = []

    def keep(e: Event) -> None:
        if isinstance(e, RiskEvent):
            seen.append(e)

    engine.bus.on(keep, kinds=["risk"])
    return seen


async def position_opened(engine: Engine, request: OrderRequest) -> None:
    """Once the venue quotes the symbol: a market order that fills (a position to work on)."""
    await wait_for(lambda: engine.ticker(request.symbol, request.venue) is not None)
    order = await engine.place(request)
    assert order.status is not OrderStatus.REJECTED, order.reason
    await wait_status(engine, order.client_order_id, OrderStatus.FILLED)
