"""The ccxt adapter against a loopback fake Coinbase Advanced Trade: real ccxt.pro clients,
a CDP key (ES256 JWT verified by the fake), injected faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tui_trader.commands import dispatch
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.errors import ConfigError
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

from fakes.coinbase_exchange import CoinbaseKey, FakeCoinbaseExchange
from fakes.venue_harness import ccxt_settings, ccxt_venue, engine_settings, wait_for

SYMBOL = "BTC/USD"


@pytest.fixture
async def coinbase() -> AsyncIterator[FakeCoinbaseExchange]:
    fake = await FakeCoinbaseExchange(seed=11).start(tick_interval_s=0.02)
    yield fake
    await fake.stop()


def make_venue(fake: FakeCoinbaseExchange, *, secret: str | None = None, **extra: Any) -> CcxtVenue:
    """The CDP key as a trader stores it: key name, PEM on one line (as in Coinbase's file)."""
    extra.setdefault("sandbox", False)  # ccxt has no Coinbase sandbox
    extra.setdefault("poll_interval_s", 0.2)
    settings = ccxt_settings("coinbase", fake.ccxt_options(), [SYMBOL], **extra)
    return ccxt_venue(settings, Credentials(fake.key.name, secret or fake.key.pem_one_line))


async def _engine(venue: CcxtVenue) -> Engine:
    engine = Engine(engine_settings(), None, in_memory=True, venues={"coinbase": venue})
    await engine.start()
    assert (await dispatch(engine, "arm_live", {}, "test"))["live_venues"] == ["coinbase"]
    return engine


def _req(side: Side, qty: str, price: str | None = None) -> OrderRequest:
    typ = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderRequest(
        SYMBOL, side, Decimal(qty), typ, None if price is None else Decimal(price), venue="coinbase"
    )


def _status(engine: Engine, cid: str) -> OrderStatus:
    return engine.oms.orders[cid].status  # type: ignore[union-attr]


async def _fills_match(engine: Engine, fake: FakeCoinbaseExchange) -> None:
    """Every fill the exchange made is in our store exactly once."""
    assert engine.store is not None
    await wait_for(lambda: len(engine.fills) >= len(fake.trades), 5)
    await engine.oms.flush()  # type: ignore[union-attr]
    stored = await engine.store.load_fills(limit=10_000)
    assert sorted(f.fill_id for f in stored) == sorted(fake.fill_id(t) for t in fake.trades)


async def test_markets_are_instruments_and_there_is_no_sandbox(coinbase) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(coinbase)
    await venue.connect(lambda e: None)
    try:
        inst = (await venue.load_markets())[SYMBOL]
        assert inst.tick_size == Decimal("0.01") and inst.lot_size == Decimal("0.00000001")
        assert inst.min_notional == Decimal("1") and inst.quote == "USD"
        assert venue.instruments["ETH/USD"].lot_size == Decimal("0.00001")
        assert venue.is_live
    finally:
        await venue.close()
    with pytest.raises(ConfigError, match="no sandbox"):
        make_venue(coinbase, sandbox=True)._make_exchange()


async def test_ticker_book_trades_stream_candles_poll_and_balances(coinbase) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(coinbase, candles=["1m"])
    events: list[Event] = []
    await venue.connect(events.append)
    await venue.subscribe([SYMBOL])
    try:
        kinds = (TickerEvent, BookEvent, TradeEvent, CandleEvent)
        await wait_for(lambda: all(any(isinstance(e, k) for e in events) for k in kinds), 5)
        ticker = next(e for e in events if isinstance(e, TickerEvent)).ticker
        assert ticker.ask - ticker.bid == pytest.approx(0.02) and ticker.symbol == SYMBOL
        book = next(e for e in reversed(events) if isinstance(e, BookEvent)).book
        assert len(book.bids) == 5 and book.bids[0][0] < book.asks[0][0]
        # ticker, book and trades over the websocket; candles polled (ccxt.pro has no watchOHLCV)
        assert not any("/ticker" in path or "product_book" in path for _, path in coinbase.requests)
        assert any(path.endswith("/BTC-USD/candles") for _, path in coinbase.requests)
        balances = await venue.fetch_balances()
        assert balances["USD"].total == Decimal("1000000") and balances["BTC"].total == Decimal("1000")
    finally:
        await venue.close()


async def test_limit_rests_then_fills_market_fills_in_two_parts_cancel_by_client_id(coinbase) -> None:  # type: ignore[no-untyped-def]
    engine = await _engine(make_venue(coinbase))
    try:
        await wait_for(lambda: SYMBOL in engine.tickers)
        limit = await engine.place(_req(Side.BUY, "0.2", "97"))
        await wait_for(lambda: _status(engine, limit.client_order_id) is OrderStatus.ACCEPTED)
        assert not coinbase.trades
        coinbase.set_price(SYMBOL, "96.5")  # the market reaches the bid
        await wait_for(lambda: _status(engine, limit.client_order_id) is OrderStatus.FILLED)
        market = await engine.place(_req(Side.BUY, "0.3"))
        await wait_for(lambda: _status(engine, market.client_order_id) is OrderStatus.FILLED)
        sent = coinbase.orders[market.client_order_id]
        assert sent.type == "market" and sent.quantity == Decimal("0.3")  # base_size, not quote
        assert len([t for t in coinbase.trades if t.order is sent]) == 2
        await _fills_match(engine, coinbase)
        assert engine.portfolio.positions[("coinbase", SYMBOL)].quantity == Decimal("0.5")
        resting = await engine.place(_req(Side.SELL, "0.1", "104"))
        await wait_for(lambda: _status(engine, resting.client_order_id) is OrderStatus.ACCEPTED)
        await engine.cancel(resting.client_order_id)
        await wait_for(lambda: _status(engine, resting.client_order_id) is OrderStatus.CANCELLED)
        assert coinbase.orders[resting.client_order_id].status == "canceled"
        assert len(limit.client_order_id) == 18  # Coinbase takes our id as client_order_id
        assert coinbase.orders[limit.client_order_id].order_id
    finally:
        await engine.stop()


async def test_timed_out_submit_is_found_by_client_id_not_sent_twice(coinbase) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(coinbase, timeout_ms=300)
    engine = await _engine(venue)
    try:
        coinbase.delay_next_ack(1.0)
        order = await engine.place(_req(Side.BUY, "0.2", "97"))
        await wait_for(lambda: _status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        assert len(coinbase.orders) == 1 and coinbase.duplicate_submissions == 0
        assert venue.counters["found_by_client_id"] == 1
        # the venue id came from the look-up: cancelling works though the ack never arrived
        await engine.cancel(order.client_order_id)
        await wait_for(lambda: _status(engine, order.client_order_id) is OrderStatus.CANCELLED)
    finally:
        await engine.stop()


async def test_drop_reconnects_resubscribes_and_reconciles_missed_fills(coinbase) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(coinbase, poll_interval_s=30)  # fills must come from reconciliation
    engine = await _engine(venue)
    events: list[Event] = []
    engine.bus.on(events.append, kinds=["connection"])
    try:
        order = await engine.place(_req(Side.BUY, "0.2", "97"))
        await wait_for(lambda: _status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        coinbase.stall()  # the fill below is lost on the wire
        coinbase.fill(order.client_order_id, Decimal("0.05"))
        coinbase.fill(order.client_order_id)
        await coinbase.drop_connections()
        coinbase.stall(False)
        await wait_for(
            lambda: any(
                isinstance(e, ConnectionEvent) and e.state is ConnectionState.CONNECTED and e.attempt > 0
                for e in events
            )
        )
        assert ConnectionState.RECONNECTING in [e.state for e in events if isinstance(e, ConnectionEvent)]
        await _fills_match(engine, coinbase)
        assert _status(engine, order.client_order_id) is OrderStatus.FILLED
        assert engine.oms.orders[order.client_order_id].filled_quantity == Decimal("0.2")  # type: ignore[union-attr]
        # resubscribed on new sockets: every channel twice, and tickers flow again
        for channel in ("ticker", "level2", "market_trades", "user"):
            await wait_for(lambda c=channel: coinbase.subscriptions.count(c) >= 2)  # type: ignore[misc]
        ticks: list[Event] = []
        engine.bus.on(ticks.append, kinds=["ticker"])
        await wait_for(lambda: len(ticks) > 3)
    finally:
        await engine.stop()


async def test_rate_limit_backs_off_and_reject_has_coinbase_reason(coinbase) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(coinbase)
    engine = await _engine(venue)
    try:
        coinbase.fail_next(2, status=429)
        order = await engine.place(_req(Side.BUY, "0.2", "97"))
        await wait_for(lambda: _status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        assert venue.counters["rate_limited"] >= 1 and len(coinbase.orders) == 1
        coinbase.reject_next()
        rejected = await engine.place(_req(Side.BUY, "0.2", "96"))
        assert rejected.status is OrderStatus.REJECTED
        assert "Insufficient balance in source account" in (rejected.reason or "")
        assert len(coinbase.orders) == 1
    finally:
        await engine.stop()


async def test_wrong_key_is_authentication_failed(coinbase) -> None:  # type: ignore[no-untyped-def]
    other = CoinbaseKey()  # a valid EC key, but not the one Coinbase has for this key name
    venue = make_venue(coinbase, secret=other.pem_one_line)
    with pytest.raises(VenueError, match="authentication failed"):
        await venue.connect(lambda e: None)
    await venue.close()
    assert coinbase.auth_failures >= 1 and not coinbase.orders


async def test_revoked_key_rejects_orders_with_authentication_failed(coinbase) -> None:  # type: ignore[no-untyped-def]
    engine = await _engine(make_venue(coinbase))
    try:
        coinbase.rotate_key()  # the trader deleted the key on coinbase.com
        refused = await engine.place(_req(Side.BUY, "0.2", "97"))
        assert refused.status is OrderStatus.REJECTED
        assert "authentication failed" in (refused.reason or "")
        assert not coinbase.orders
    finally:
        await engine.stop()


async def test_live_venue_refuses_orders_until_armed(coinbase) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(engine_settings(), None, in_memory=True, venues={"coinbase": make_venue(coinbase)})
    await engine.start()
    try:
        refused = await engine.place(_req(Side.BUY, "0.2", "97"))
        assert refused.status is OrderStatus.REJECTED and "not armed" in (refused.reason or "")
        assert not coinbase.orders
        await dispatch(engine, "arm_live", {}, "test")
        placed = await engine.place(_req(Side.BUY, "0.2", "97"))
        assert placed.status is not OrderStatus.REJECTED and len(coinbase.orders) == 1
    finally:
        await engine.stop()


async def test_duplicate_client_id_at_coinbase_returns_the_existing_order(coinbase) -> None:  # type: ignore[no-untyped-def]
    """The fake's own idempotency (as Coinbase's): a resent client_order_id creates nothing."""
    venue = make_venue(coinbase)
    await venue.connect(lambda e: None)
    try:
        params = {"client_order_id": "ttdup0000000000001"}
        first = await venue._ex.create_order(SYMBOL, "limit", "buy", 0.1, 90, params)
        again = await venue._ex.create_order(SYMBOL, "limit", "buy", 0.1, 90, params)
        assert first["id"] == again["id"] and len(coinbase.orders) == 1
        assert coinbase.duplicate_submissions == 1
    finally:
        await venue.close()
    await asyncio.sleep(0)
