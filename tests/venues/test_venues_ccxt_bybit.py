"""The ccxt adapter against a loopback fake Bybit (v5, spot, unified account): real ccxt.pro."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.events import (
    BookEvent,
    CandleEvent,
    ConnectionEvent,
    Event,
    TickerEvent,
    TradeEvent,
)
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.secrets import Credentials
from tui_trader.venues.base import VenueError
from tui_trader.venues.ccxt.venue import CcxtVenue

from fakes.bybit_exchange import FakeBybitExchange
from fakes.venue_harness import API_KEY, SECRET, ccxt_settings, ccxt_venue, engine_settings, wait_for

VENUE = "bybit"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBybitExchange]:
    ex = FakeBybitExchange(api_key=API_KEY, secret=SECRET)
    await ex.start(tick_interval_s=0.02)
    yield ex
    await ex.stop()


def _venue(fake: FakeBybitExchange, *, key: str = API_KEY, secret: str = SECRET, **extra: Any) -> CcxtVenue:
    settings = ccxt_settings(VENUE, fake.ccxt_options(), ["BTC/USDT"], **extra)
    return ccxt_venue(settings, Credentials(key, secret))


async def _engine(venue: CcxtVenue) -> Engine:
    engine = Engine(engine_settings(), None, in_memory=True, venues={VENUE: venue})
    await engine.start()
    return engine


def _buy(qty: str = "0.2", **kw: Any) -> OrderRequest:
    return OrderRequest("BTC/USDT", Side.BUY, Decimal(qty), venue=VENUE, **kw)


def _status(engine: Engine, cid: str) -> OrderStatus:
    return engine.oms.orders[cid].status  # type: ignore[union-attr]


async def _fills_match(engine: Engine, fake: FakeBybitExchange) -> None:
    """Every fill the exchange made is in our store exactly once."""
    assert engine.store is not None
    await wait_for(lambda: len(engine.fills) >= len(fake.trades), 5)
    await engine.oms.flush()  # type: ignore[union-attr]
    stored = await engine.store.load_fills(limit=10_000)
    assert sorted(f.fill_id for f in stored) == sorted(str(t.trade_id) for t in fake.trades)


async def test_markets_become_decimal_instruments_and_balances_load(fake) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(fake)
    await venue.connect(lambda e: None)
    try:
        inst = (await venue.load_markets())["BTC/USDT"]
        assert inst.tick_size == Decimal("0.01") and inst.lot_size == Decimal("0.000001")
        assert inst.min_notional == Decimal("5") and inst.min_qty == Decimal("0.000048")
        assert inst.quote == "USDT"
        balances = await venue.fetch_balances()
        assert balances["USDT"].total == Decimal("1000000") and balances["BTC"].free == Decimal("1000")
        assert ("GET", "/account/wallet-balance") in fake.requests
    finally:
        await venue.close()


async def test_streams_arrive_over_websockets(fake) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(fake, candles=["1m"])
    events: list[Event] = []
    await venue.connect(events.append)
    await venue.subscribe(["BTC/USDT"])
    try:
        kinds = (TickerEvent, BookEvent, TradeEvent, CandleEvent)
        await wait_for(lambda: all(any(isinstance(e, k) for e in events) for k in kinds), 5)
        # several book messages: the first a snapshot, the rest deltas ccxt merges
        await wait_for(lambda: sum(isinstance(e, BookEvent) for e in events) > 5, 5)
        book = [e for e in events if isinstance(e, BookEvent)][-1].book
        assert len(book.bids) == 5 and book.bids[0][0] < book.asks[0][0]
        ticker = [e for e in events if isinstance(e, TickerEvent)][-1].ticker
        assert ticker.symbol == "BTC/USDT" and ticker.last > 0
        # no REST polling: every market stream came over the socket
        polled = {p for _, p in fake.requests if p.startswith("/market/") and "instruments" not in p}
        assert polled == set()
    finally:
        await venue.close()


async def test_limit_rests_then_fills_and_market_fills_in_two_parts(fake) -> None:  # type: ignore[no-untyped-def]
    engine = await _engine(_venue(fake))
    try:
        limit = await engine.place(_buy(type=OrderType.LIMIT, price=Decimal("97")))
        await wait_for(lambda: _status(engine, limit.client_order_id) is OrderStatus.ACCEPTED)
        assert fake.orders[limit.client_order_id].is_open
        fake.set_price("BTC/USDT", "96.50")
        await wait_for(lambda: _status(engine, limit.client_order_id) is OrderStatus.FILLED)
        market = await engine.place(_buy("0.4"))
        await wait_for(lambda: _status(engine, market.client_order_id) is OrderStatus.FILLED)
        # Bybit reads a spot market buy's qty in quote coin unless marketUnit=baseCoin
        assert fake.orders[market.client_order_id].quantity == Decimal("0.4")
        assert fake.market_unit[market.client_order_id] == "baseCoin"
        assert len(fake.trades_for("BTC/USDT")) == 3
        await _fills_match(engine, fake)
        assert engine.portfolio.positions[(VENUE, "BTC/USDT")].quantity == Decimal("0.6")
        # Bybit charges a spot buy's fee in the base coin; we book it in quote
        fills = [f for f in engine.fills if f.client_order_id == market.client_order_id]
        assert {f.fee_currency for f in fills} == {"USDT"} and all(f.fee > 0 for f in fills)
    finally:
        await engine.stop()


async def test_cancel_by_client_id(fake) -> None:  # type: ignore[no-untyped-def]
    engine = await _engine(_venue(fake))
    try:
        order = await engine.place(_buy(type=OrderType.LIMIT, price=Decimal("95")))
        assert order.status is not OrderStatus.REJECTED, order.reason
        await wait_for(lambda: _status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        await engine.cancel(order.client_order_id)
        await wait_for(lambda: _status(engine, order.client_order_id) is OrderStatus.CANCELLED)
        assert fake.orders[order.client_order_id].status == "canceled"
    finally:
        await engine.stop()


async def test_timed_out_submit_is_found_by_client_id_not_sent_twice(fake) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(fake, timeout_ms=300)
    engine = await _engine(venue)
    try:
        fake.delay_next_ack(1.0)
        order = await engine.place(_buy(type=OrderType.LIMIT, price=Decimal("97")))
        await wait_for(lambda: _status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        assert len(fake.orders) == 1 and fake.duplicate_submissions == 0
        assert venue.counters["found_by_client_id"] == 1
        assert ("GET", "/order/realtime") in fake.requests
    finally:
        await engine.stop()


async def test_drop_reconnects_resubscribes_and_reconciles_missed_fills(fake) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(fake)
    engine = await _engine(venue)
    events: list[Event] = []
    engine.bus.on(events.append, kinds=["connection"])
    try:
        order = await engine.place(_buy(type=OrderType.LIMIT, price=Decimal("97")))
        await wait_for(lambda: _status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        fake.stall()  # the fills below are lost on the wire
        fake.fill(order.client_order_id, Decimal("0.05"))
        fake.fill(order.client_order_id)
        await fake.drop_connections()
        fake.stall(False)
        await wait_for(
            lambda: any(
                isinstance(e, ConnectionEvent) and e.state is ConnectionState.CONNECTED and e.attempt > 0
                for e in events
            )
        )
        assert ConnectionState.RECONNECTING in [e.state for e in events if isinstance(e, ConnectionEvent)]
        await _fills_match(engine, fake)  # found over REST (/v5/execution/list), once each
        assert _status(engine, order.client_order_id) is OrderStatus.FILLED
        assert ("GET", "/execution/list") in fake.requests
        # resubscribed: the private socket gets the next order's events again
        later = await engine.place(_buy("0.1"))
        await wait_for(lambda: _status(engine, later.client_order_id) is OrderStatus.FILLED)
        await _fills_match(engine, fake)
    finally:
        await engine.stop()


async def test_duplicate_and_out_of_order_fills_count_once(fake) -> None:  # type: ignore[no-untyped-def]
    engine = await _engine(_venue(fake))
    try:
        fake.duplicate_fills()
        fake.reorder_fills()
        order = await engine.place(_buy("0.4"))
        await wait_for(lambda: _status(engine, order.client_order_id) is OrderStatus.FILLED)
        await asyncio.sleep(0.2)
        await _fills_match(engine, fake)
        assert engine.oms.orders[order.client_order_id].filled_quantity == Decimal("0.4")  # type: ignore[union-attr]
    finally:
        await engine.stop()


async def test_rate_limit_backs_off_and_reject_has_the_reason(fake) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(fake)
    engine = await _engine(venue)
    try:
        fake.fail_next(1, status=429)
        order = await engine.place(_buy(type=OrderType.LIMIT, price=Decimal("97")))
        await wait_for(lambda: _status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        assert venue.counters["rate_limited"] >= 1 and len(fake.orders) == 1
        fake.reject_next()
        rejected = await engine.place(_buy(type=OrderType.LIMIT, price=Decimal("96")))
        assert rejected.status is OrderStatus.REJECTED
        assert "insufficient balance" in (rejected.reason or "").lower()
    finally:
        await engine.stop()


async def test_wrong_secret_is_refused_as_authentication_failed(fake) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(fake, secret="not-the-secret")
    with pytest.raises(VenueError, match="authentication failed"):
        await venue.connect(lambda e: None)
    await venue.close()
    assert fake.auth_failures and fake.auth_failures[0].startswith("error sign")
    wrong_key = _venue(fake, key="someone-else")
    with pytest.raises(VenueError, match="authentication failed"):
        await wrong_key.connect(lambda e: None)
    await wrong_key.close()
    assert fake.auth_failures[-1] == "API key is invalid."


async def test_unknown_venue_order_is_imported_and_flagged_at_start(fake) -> None:  # type: ignore[no-untyped-def]
    fake.place("BTC/USDT", "sell", "limit", Decimal("0.5"), Decimal("500"), "web1")
    engine = await _engine(_venue(fake))
    try:
        imported = engine.oms.orders["web1"]  # type: ignore[union-attr]
        assert imported.meta.get("external") is True and imported.side is Side.SELL
    finally:
        await engine.stop()


async def test_live_venue_rejects_orders_until_armed(fake) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.commands import dispatch

    venue = _venue(fake, sandbox=False)
    assert venue.is_live
    engine = await _engine(venue)
    try:
        refused = await engine.place(_buy())
        assert refused.status is OrderStatus.REJECTED and "not armed" in (refused.reason or "")
        assert not fake.orders
        assert (await dispatch(engine, "arm_live", {}, "test"))["live_venues"] == [VENUE]
        placed = await engine.place(_buy())
        assert placed.status is not OrderStatus.REJECTED and len(fake.orders) == 1
    finally:
        await engine.stop()


async def test_many_missed_fills_are_paged_with_bybits_cursor(fake) -> None:  # type: ignore[no-untyped-def]
    """More lost fills than one /v5/execution/list page (50, newest first): every one found."""
    engine = await _engine(_venue(fake))
    try:
        order = await engine.place(_buy("1.2", type=OrderType.LIMIT, price=Decimal("97")))
        await wait_for(lambda: _status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        fake.stall()
        for _ in range(120):
            fake.fill(order.client_order_id, Decimal("0.01"))
        await fake.drop_connections()
        fake.stall(False)
        await _fills_match(engine, fake)
        assert _status(engine, order.client_order_id) is OrderStatus.FILLED
        pages = [p for m, p in fake.requests if p == "/execution/list"]
        assert len(pages) >= 3
    finally:
        await engine.stop()
