"""The ccxt adapter against a loopback fake Coinbase Advanced Trade: real ccxt.pro clients,
a CDP key (ES256 JWT verified by the fake), injected faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import BookEvent, ConnectionEvent, Event, ExecutionReport, TickerEvent, TradeEvent
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.secrets import Credentials
from tui_trader.venues.base import VenueError
from tui_trader.venues.ccxt.venue import CcxtVenue

from fakes.coinbase_exchange import CoinbaseKey, FakeCoinbaseExchange
from fakes.venue_harness import (
    cancelled_by_client_id,
    ccxt_settings,
    ccxt_venue,
    fills_lost_in_a_drop_are_reconciled,
    fills_match,
    flowing_at_start_and_after_a_drop,
    live_orders_wait_for_arming,
    rate_limit_backs_off_then_reject,
    revoked_keys_stop_the_private_streams_once,
    streaming,
    timed_out_submit_is_found_by_client_id,
    trading,
    wait_for,
    wait_for_streams,
    wait_status,
)

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
    settings = ccxt_settings("coinbase", fake.ccxt_options(), [SYMBOL], **{"rate_limit_ms": 1, **extra})
    return ccxt_venue(settings, Credentials(fake.key.name, secret or fake.key.pem_one_line))


def _req(side: Side, qty: str, price: str | None = None) -> OrderRequest:
    typ = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderRequest(
        SYMBOL, side, Decimal(qty), typ, None if price is None else Decimal(price), venue="coinbase"
    )


async def test_markets_are_instruments_and_there_is_no_sandbox(coinbase) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(coinbase)
    async with streaming(venue):
        inst = (await venue.load_markets())[SYMBOL]
        assert inst.tick_size == Decimal("0.01") and inst.lot_size == Decimal("0.00000001")
        assert inst.min_notional == Decimal("1") and inst.quote == "USD"
        assert venue.instruments["ETH/USD"].lot_size == Decimal("0.00001")
        assert venue.is_live
    with pytest.raises(ConfigError, match="no sandbox"):
        make_venue(coinbase, sandbox=True)._make_exchange()


async def test_ticker_book_trades_stream_candles_poll_and_balances(coinbase) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(coinbase, candles=["1m"])
    async with streaming(venue, [SYMBOL]) as events:
        await wait_for_streams(events)
        ticker = next(e for e in events if isinstance(e, TickerEvent)).ticker
        assert ticker.ask - ticker.bid == pytest.approx(0.02) and ticker.symbol == SYMBOL
        book = next(e for e in reversed(events) if isinstance(e, BookEvent)).book
        assert len(book.bids) == 5 and book.bids[0][0] < book.asks[0][0]
        # ticker, book and trades over the websocket; candles polled (ccxt.pro has no watchOHLCV)
        assert not any("/ticker" in path or "product_book" in path for _, path in coinbase.requests)
        assert any(path.endswith("/BTC-USD/candles") for _, path in coinbase.requests)
        balances = await venue.fetch_balances()
        assert balances["USD"].total == Decimal("1000000") and balances["BTC"].total == Decimal("1000")


async def test_limit_rests_then_fills_market_fills_in_two_parts_cancel_by_client_id(coinbase) -> None:  # type: ignore[no-untyped-def]
    async with trading(make_venue(coinbase), armed=True) as engine:
        await wait_for(lambda: engine.ticker(SYMBOL) is not None)
        limit = await engine.place(_req(Side.BUY, "0.2", "97"))
        await wait_status(engine, limit.client_order_id, OrderStatus.ACCEPTED)
        assert not coinbase.trades
        coinbase.set_price(SYMBOL, "96.5")  # the market reaches the bid
        await wait_status(engine, limit.client_order_id, OrderStatus.FILLED)
        market = await engine.place(_req(Side.BUY, "0.3"))
        await wait_status(engine, market.client_order_id, OrderStatus.FILLED)
        sent = coinbase.orders[market.client_order_id]
        assert sent.type == "market" and sent.quantity == Decimal("0.3")  # base_size, not quote
        assert len([t for t in coinbase.trades if t.order is sent]) == 2
        await fills_match(engine, coinbase, coinbase.fill_id)
        assert engine.portfolio.positions[("coinbase", SYMBOL)].quantity == Decimal("0.5")
        await cancelled_by_client_id(engine, coinbase, _req(Side.SELL, "0.1", "104"))
        assert len(limit.client_order_id) == 18  # Coinbase takes our id as client_order_id
        assert coinbase.orders[limit.client_order_id].order_id


async def test_timed_out_submit_is_found_by_client_id_not_sent_twice(coinbase) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(coinbase, timeout_ms=300)
    async with trading(venue, armed=True) as engine:
        order = await timed_out_submit_is_found_by_client_id(engine, venue, coinbase, _req(Side.BUY, "0.2", "97"))
        # the venue id came from the look-up: cancelling works though the ack never arrived
        await engine.cancel(order.client_order_id)
        await wait_status(engine, order.client_order_id, OrderStatus.CANCELLED)


async def test_drop_reconnects_resubscribes_and_reconciles_missed_fills(coinbase) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(coinbase, poll_interval_s=30)  # fills must come from reconciliation
    async with trading(venue, armed=True) as engine:
        order = await fills_lost_in_a_drop_are_reconciled(
            engine, coinbase, _req(Side.BUY, "0.2", "97"), [Decimal("0.05"), None], coinbase.fill_id
        )
        assert engine.oms.orders[order.client_order_id].filled_quantity == Decimal("0.2")  # type: ignore[union-attr]
        # resubscribed on new sockets: every channel twice, and tickers flow again
        for channel in ("ticker", "level2", "market_trades", "user"):
            await wait_for(lambda c=channel: coinbase.subscriptions.count(c) >= 2)  # type: ignore[misc]
        ticks: list[Event] = []
        engine.bus.on(ticks.append, kinds=["ticker"])
        await wait_for(lambda: len(ticks) > 3)


async def test_rate_limit_backs_off_and_reject_has_coinbase_reason(coinbase) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(coinbase)
    async with trading(venue, armed=True) as engine:
        first, second = (_req(Side.BUY, "0.2", "97"), _req(Side.BUY, "0.2", "96"))
        rejected = await rate_limit_backs_off_then_reject(engine, venue, coinbase, first, second, limited=2)
        assert "Insufficient balance in source account" in (rejected.reason or "")
        assert len(coinbase.orders) == 1


async def test_wrong_key_is_authentication_failed(coinbase) -> None:  # type: ignore[no-untyped-def]
    other = CoinbaseKey()  # a valid EC key, but not the one Coinbase has for this key name
    venue = make_venue(coinbase, secret=other.pem_one_line)
    with pytest.raises(VenueError, match="authentication failed"):
        await venue.connect(lambda e: None)
    await venue.close()
    assert coinbase.auth_failures >= 1 and not coinbase.orders


async def test_revoked_key_rejects_orders_with_authentication_failed(coinbase) -> None:  # type: ignore[no-untyped-def]
    async with trading(make_venue(coinbase), armed=True) as engine:
        coinbase.rotate_key()  # the trader deleted the key on coinbase.com
        refused = await engine.place(_req(Side.BUY, "0.2", "97"))
        assert refused.status is OrderStatus.REJECTED
        assert "authentication failed" in (refused.reason or "")
        assert not coinbase.orders


async def test_keys_revoked_mid_session_stop_the_private_streams_once_market_data_flowing(coinbase) -> None:  # type: ignore[no-untyped-def]
    """Coinbase answers the user channel's subscribe of a revoked key {"type": "error",
    "message": "authentication failure"} on the socket it shares with market data. ccxt's
    coinbase raised that out of its receive loop: the socket went deaf, every stream silent,
    and the venue reconnected for ever with no market data and no word of the keys."""
    venue = make_venue(coinbase)
    await revoked_keys_stop_the_private_streams_once(venue, coinbase, lambda: coinbase.subscriptions.count("user"))


async def test_a_refused_subscription_is_retried_alone_the_rest_of_the_socket_flowing(coinbase) -> None:  # type: ignore[no-untyped-def]
    """ETH-USD is still listed but Coinbase refuses its subscriptions ({"type": "error",
    "message": ...}: no channel, no product). ccxt's coinbase raised that out of its receive
    loop: the socket it shares between every channel went deaf, BTC/USD and the user channel
    with it, until the whole venue reconnected (into the same refusal)."""
    venue = make_venue(coinbase)
    coinbase.refuse_subscriptions("ETH-USD")
    async with streaming(venue, [SYMBOL, "ETH/USD"]) as events:
        eth = ("ticker:ETH/USD", "book:ETH/USD", "trades:ETH/USD")
        await wait_for(lambda: all(venue.streams.state(k) == "down" for k in eth))
        await wait_for(lambda: venue.state is ConnectionState.DEGRADED)
        btc = sum(isinstance(e, TickerEvent) and e.ticker.symbol == SYMBOL for e in events)
        await wait_for(lambda: sum(isinstance(e, TickerEvent) and e.ticker.symbol == SYMBOL for e in events) > btc + 5)
        # the user channel on the same socket hears of an order: ACCEPTED from the REST answer
        # and again from the user channel
        order = Order.from_request(_req(Side.BUY, "0.2", "97"), "ttcbrefused000001", "coinbase", datetime.now(UTC))
        await venue.create_order(order)
        await wait_for(
            lambda: sum(isinstance(e, ExecutionReport) and e.status is OrderStatus.ACCEPTED for e in events) >= 2
        )
        said = venue.streams.summary()
        assert "coinbase refused" in said and "ETH/USD" in said, said
        assert venue.counters["reconnects"] == 0, venue.counters
        assert not any(isinstance(e, TickerEvent) and e.ticker.symbol == "ETH/USD" for e in events)
        coinbase.refuse_subscriptions()  # the refusal ends: subscribed again alone, on its backoff
        await wait_for(lambda: any(isinstance(e, TickerEvent) and e.ticker.symbol == "ETH/USD" for e in events))
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        assert venue.counters["reconnects"] == 0, venue.counters
    notices = [e.detail for e in events if isinstance(e, ConnectionEvent)]
    assert any("coinbase refused the ticker subscription for ETH/USD" in d for d in notices), notices


async def test_live_venue_refuses_orders_until_armed(coinbase) -> None:  # type: ignore[no-untyped-def]
    async with trading(make_venue(coinbase)) as engine:
        await live_orders_wait_for_arming(engine, coinbase, _req(Side.BUY, "0.2", "97"))


async def test_duplicate_client_id_at_coinbase_returns_the_existing_order(coinbase) -> None:  # type: ignore[no-untyped-def]
    """The fake's own idempotency (as Coinbase's): a resent client_order_id creates nothing."""
    venue = make_venue(coinbase)
    async with streaming(venue):
        params = {"client_order_id": "ttdup0000000000001"}
        first = await venue._ex.create_order(SYMBOL, "limit", "buy", 0.1, 90, params)
        again = await venue._ex.create_order(SYMBOL, "limit", "buy", 0.1, 90, params)
        assert first["id"] == again["id"] and len(coinbase.orders) == 1
        assert coinbase.duplicate_submissions == 1
    await asyncio.sleep(0)


MANY = tuple(f"{base}/USD" for base in ("BTC", "ETH", "SOL", "ADA", "XRP", "DOT", "LTC", "LINK", "AVAX", "ATOM"))


@pytest.mark.parametrize("over_limit", ["error", "close"])
async def test_many_products_subscribe_under_the_message_rate_limit_at_start_and_after_a_drop(over_limit: str) -> None:
    """Coinbase takes 8 unauthenticated websocket messages a second per IP (documented; what
    it does past that is not: the fake answers an error, or closes the socket). One subscribe
    per symbol and channel, as ccxt.pro's coinbase sends them, was 30 messages at once for 10
    symbols, at the start and again at every reconnect: 22 refused (streams down, retried into
    the same limit) or the socket closed (a reconnect loop, no market data at all)."""
    fake = await FakeCoinbaseExchange(MANY, seed=11).start(tick_interval_s=0.05)
    fake.over_limit = over_limit
    try:
        await flowing_at_start_and_after_a_drop(make_venue(fake), fake, MANY, (TickerEvent, BookEvent, TradeEvent))
        assert fake.ws_rate_limited == 0
        assert fake.busiest_second() <= 8
    finally:
        await fake.stop()
