"""The ccxt adapter against a loopback fake Kraken: real ccxt / ccxt.pro clients (REST + ws v2).

Kraken has no sandbox in ccxt, so every venue here is live (sandbox = false) and armed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared fakes

from tui_trader.core.enums import ConnectionState, OrderStatus, Side
from tui_trader.core.events import BookEvent, ConnectionEvent, Event, ExecutionReport, TickerEvent
from tui_trader.core.orders import Order
from tui_trader.secrets import Credentials
from tui_trader.venues.base import VenueError
from tui_trader.venues.ccxt.venue import CcxtVenue

from fakes.fake_market import FakeOrder
from fakes.kraken_exchange import SECRET_B64, FakeKrakenExchange, book_checksum
from fakes.venue_harness import (
    API_KEY,
    buy,
    cancelled_by_client_id,
    ccxt_settings,
    ccxt_venue,
    engine_with,
    fills_lost_in_a_drop_are_reconciled,
    fills_match,
    limit_buy,
    order_status,
    rate_limit_backs_off_then_reject,
    revoked_keys_stop_the_private_streams_once,
    streaming,
    timed_out_submit_is_found_by_client_id,
    trading,
    wait_for,
    wait_for_streams,
    wait_status,
)

SYMBOL = "BTC/USDT"


@pytest.fixture
async def kraken() -> AsyncIterator[FakeKrakenExchange]:
    ex = await FakeKrakenExchange([SYMBOL, "ETH/USDT"], api_key=API_KEY, seed=11).start(tick_interval_s=0.02)
    yield ex
    await ex.stop()



def _venue(fake: FakeKrakenExchange, *, secret: str = SECRET_B64, **extra: Any) -> CcxtVenue:
    # the fake has no rate limits: ccxt's own throttle (1 s a call, 3 for private) made short
    options = {**fake.ccxt_options(), "rateLimit": 20}
    settings = ccxt_settings("kraken", options, [SYMBOL], sandbox=extra.pop("sandbox", False), **extra)
    return ccxt_venue(settings, Credentials(API_KEY, secret))


async def test_markets_become_instruments_with_kraken_precision(kraken) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(kraken)
    async with streaming(venue):
        inst = (await venue.load_markets())[SYMBOL]
        # pair_decimals 2, lot_decimals 8, ordermin 0.00005, costmin 0.5 in AssetPairs
        assert inst.tick_size == Decimal("0.01") and inst.lot_size == Decimal("0.00000001")
        assert inst.min_qty == Decimal("0.00005") and inst.min_notional == Decimal("0.5")
        assert inst.base == "BTC" and inst.quote == "USDT"  # XXBT / XBT mapped to BTC
        balances = await venue.fetch_balances()
        assert balances["BTC"].total == Decimal("1000") and balances["USDT"].total == Decimal("1000000")


async def test_streams_arrive_over_websocket_v2_and_book_checksums_hold(kraken) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(kraken, candles=["1m"])
    async with streaming(venue, [SYMBOL]) as events:
        await wait_for_streams(events)
        await wait_for(lambda: len([e for e in events if isinstance(e, BookEvent)]) > 5)
        books = [e.book for e in events if isinstance(e, BookEvent)]
        # each book ccxt built from the snapshot + deltas has the CRC32 Kraken sent with it
        for book in books:
            asks = [(f"{p:.2f}", f"{q:.8f}") for p, q in book.asks[:10]]
            bids = [(f"{p:.2f}", f"{q:.8f}") for p, q in book.bids[:10]]
            assert book_checksum(asks, bids) in kraken.book_checksums
        last = books[-1]
        assert len(last.bids) == 10 and last.bids[0][0] < last.asks[0][0]
        assert not any(r[0] == "GET" and r[1] in ("Ticker", "Depth") for r in kraken.requests)


async def test_book_checksum_is_krakens_crc32() -> None:
    # Kraken's documented example levels: '.' and leading zeros dropped, asks then bids
    import binascii

    asks = [("0.05005", "0.00000500"), ("0.05010", "0.00000500")]
    bids = [("0.05000", "0.00000500")]
    expected = binascii.crc32(b"5005500" + b"5010500" + b"5000500") & 0xFFFFFFFF
    assert book_checksum(asks, bids) == expected


async def test_limit_rests_then_fills_market_fills_in_two_parts_cancel_by_client_id(kraken) -> None:  # type: ignore[no-untyped-def]
    async with trading(_venue(kraken), armed=True) as engine:
        rest = await engine.place(limit_buy("kraken", "97"))
        assert rest.status is not OrderStatus.REJECTED, rest.reason
        await wait_status(engine, rest.client_order_id, OrderStatus.ACCEPTED)
        assert kraken.orders[rest.client_order_id].is_open  # sent as cl_ord_id
        kraken.set_price(SYMBOL, "96.99")
        await wait_status(engine, rest.client_order_id, OrderStatus.FILLED)

        market = await engine.place(buy("kraken", "0.3"))
        await wait_status(engine, market.client_order_id, OrderStatus.FILLED)
        assert len([t for t in kraken.trades if t.order.client_order_id == market.client_order_id]) == 2
        await fills_match(engine, kraken, kraken.trade_txid)
        assert engine.portfolio.positions[("kraken", SYMBOL)].quantity == Decimal("0.5")

        await cancelled_by_client_id(engine, kraken, limit_buy("kraken", "93"))
        assert len(kraken.orders) == 3 and kraken.duplicate_submissions == 0


async def test_timed_out_submit_is_found_by_client_id_not_sent_twice(kraken) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(kraken, timeout_ms=300)
    async with trading(venue, armed=True) as engine:
        await timed_out_submit_is_found_by_client_id(engine, venue, kraken, limit_buy("kraken", "97"))
        assert ("POST", "OpenOrders") in kraken.requests  # looked up by cl_ord_id


async def test_drop_reconnects_resubscribes_and_reconciles_missed_fills(kraken) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(kraken)
    async with trading(venue, armed=True) as engine:
        # found over REST (TradesHistory), once
        await fills_lost_in_a_drop_are_reconciled(engine, kraken, limit_buy("kraken", "97"), [None], kraken.trade_txid)
        seen = len(engine.fills)
        await asyncio.sleep(0.3)
        # resubscribed: the public stream flows again and a new fill arrives by websocket
        tickers: list[Event] = []
        engine.bus.on(tickers.append, kinds=["ticker"])
        await wait_for(lambda: len(tickers) > 2)
        second = await engine.place(buy("kraken", "0.1"))
        await wait_status(engine, second.client_order_id, OrderStatus.FILLED)
        await fills_match(engine, kraken, kraken.trade_txid)
        assert len(engine.fills) == seen + 2


async def test_many_missed_fills_are_paged_fifty_at_a_time(kraken) -> None:  # type: ignore[no-untyped-def]
    # TradesHistory answers 50 trades a call, newest first; 60 missed fills need two pages
    async with trading(_venue(kraken), armed=True) as engine:
        order = await engine.place(limit_buy("kraken", "97", "0.6"))
        await wait_status(engine, order.client_order_id, OrderStatus.ACCEPTED)
        kraken.stall()
        for _ in range(60):
            kraken.fill(order.client_order_id, Decimal("0.01"))
        await kraken.drop_connections()
        kraken.stall(False)
        await fills_match(engine, kraken, kraken.trade_txid)
        assert len(kraken.trades) == 60 and order_status(engine, order.client_order_id) is OrderStatus.FILLED
        assert kraken.requests.count(("POST", "TradesHistory")) >= 2


async def test_rate_limit_backs_off_and_reject_has_krakens_reason(kraken) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(kraken)
    async with trading(venue, armed=True) as engine:
        # Kraken's 429: HTTP 200, {"error": ["EAPI:Rate limit exceeded"]}
        rejected = await rate_limit_backs_off_then_reject(
            engine, venue, kraken, limit_buy("kraken", "97"), limit_buy("kraken", "96")
        )
        assert "EOrder:Insufficient funds" in (rejected.reason or "")


async def test_signature_is_checked_and_a_wrong_secret_is_an_auth_failure(kraken) -> None:  # type: ignore[no-untyped-def]
    import base64

    wrong = base64.b64encode(b"not-the-secret-at-all-0123456789").decode()
    refused = _venue(kraken, secret=wrong)
    with pytest.raises(VenueError, match="authentication failed"):
        await engine_with(refused, armed=True)  # start-up reconcile cannot read orders
    await refused.close()
    venue = _venue(kraken, secret=wrong)
    reports: list[Event] = []
    await venue.connect(reports.append)
    try:
        req = limit_buy("kraken", "97")
        order = Order.from_request(req, "ttkrakenauth00001", "kraken", datetime.now(UTC))
        await venue.create_order(order)
        rejected = [r for r in reports if isinstance(r, ExecutionReport)]
        assert rejected and rejected[-1].status is OrderStatus.REJECTED
        assert "authentication failed" in (rejected[-1].reason or "")
        assert not kraken.orders and "EAPI:Invalid signature" in kraken.auth_failures
        await wait_for(lambda: venue.state is ConnectionState.DEGRADED)  # executions refused
    finally:
        await venue.close()


async def test_keys_revoked_mid_session_stop_the_private_streams_once_saying_keys_set(kraken) -> None:  # type: ignore[no-untyped-def]
    """Kraken refuses a revoked key's GetWebSocketsToken, the private socket's token:
    "EAPI:Invalid key" (ccxt's AuthenticationError)."""
    tokens = ("POST", "GetWebSocketsToken")
    await revoked_keys_stop_the_private_streams_once(_venue(kraken), kraken, lambda: kraken.requests.count(tokens))


async def test_the_private_socket_dropping_alone_is_renewed_alone_and_its_fills_reconciled(kraken) -> None:  # type: ignore[no-untyped-def]
    """ws-auth.kraken.com drops our private socket (ws.kraken.com carries on); a fill made
    meanwhile never comes on it. The private socket alone is renewed, with a new token from
    GetWebSocketsToken: the public socket is never reopened, tickers flow throughout, no
    venue-wide reconnect; the fill comes from the reconcile once the private stream is back."""
    venue = _venue(kraken)
    async with trading(venue, armed=True) as engine:
        seen: list[Event] = []
        engine.bus.on(seen.append, kinds=["ticker", "connection"])
        order = await engine.place(limit_buy("kraken", "97"))
        await wait_status(engine, order.client_order_id, OrderStatus.ACCEPTED)
        # the private socket subscribed, so that the drop below has a socket to drop
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and bool(kraken._private))
        tokens = kraken.requests.count(("POST", "GetWebSocketsToken"))
        kraken.stall_private()  # the fill below is lost on the wire
        kraken.fill(order.client_order_id, Decimal("0.05"))
        await kraken.drop_private()
        kraken.stall_private(False)
        ticks = sum(isinstance(e, TickerEvent) for e in seen)
        await fills_match(engine, kraken, kraken.trade_txid)  # found by the reconcile
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        await wait_for(lambda: sum(isinstance(e, TickerEvent) for e in seen) > ticks + 5)
        assert kraken.requests.count(("POST", "GetWebSocketsToken")) > tokens  # a new token
        assert kraken.public_sockets_opened == 1 and venue.counters["reconnects"] == 0, venue.counters
        assert venue.counters["private_resubscribes"] >= 1, venue.counters
        assert not any(isinstance(e, ConnectionEvent) and e.state is ConnectionState.RECONNECTING for e in seen)
        second = await engine.place(buy("kraken", "0.1"))  # the renewed socket streams fills
        await wait_status(engine, second.client_order_id, OrderStatus.FILLED)
        await fills_match(engine, kraken, kraken.trade_txid)


async def test_a_websocket_token_kraken_no_longer_takes_is_renewed_not_read_as_bad_keys(kraken) -> None:  # type: ignore[no-untyped-def]
    """Kraken answers the private subscribe of a token it no longer takes "ESession:Invalid
    session" (ccxt: an AuthenticationError). Kraken's advice: a new token from
    GetWebSocketsToken. The private socket is renewed with one, on its backoff, saying so;
    never "authentication failed", market data flowing on."""
    venue = _venue(kraken)
    tokens = ("POST", "GetWebSocketsToken")
    async with streaming(venue, [SYMBOL]) as events:
        # the private socket subscribed (a token asked for is not yet a socket: on a loaded
        # machine the drop below could come before it opened, and nothing would be renewed)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and bool(kraken._private))
        asked = kraken.requests.count(tokens)
        kraken.void_next_tokens(2)
        await kraken.drop_private()
        await wait_for(lambda: kraken.requests.count(tokens) >= asked + 3)  # two refused, one taken
        ticks = sum(isinstance(e, TickerEvent) for e in events)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        kraken.place(SYMBOL, "buy", "limit", Decimal("0.1"), Decimal("90"), None)  # from Kraken's website
        await wait_for(lambda: venue.streams.state("orders") == "live")  # heard on the renewed socket
        await wait_for(lambda: sum(isinstance(e, TickerEvent) for e in events) > ticks + 5)
        assert venue.counters["reconnects"] == 0 and kraken.public_sockets_opened == 1, venue.counters
    said = [e.detail for e in events if isinstance(e, ConnectionEvent)]
    assert not any("authentication failed" in d or "keys set" in d for d in said), said
    assert any("token refused" in d and "ESession:Invalid session" in d for d in said), said


async def test_a_pair_kraken_refuses_is_subscribed_again_alone_the_rest_flowing(kraken) -> None:  # type: ignore[no-untyped-def]
    """ETH/USDT is still in AssetPairs, but Kraken refuses its subscriptions ("Currency pair
    not supported ETH/USDT"). ccxt's kraken rejected that to the request id, which nobody
    awaits: the ETH/USDT streams waited for ever, fell silent, and the watchdog reconnected the
    whole venue, into the same refusal, again and again."""
    venue = _venue(kraken)
    kraken.refused_pairs = {"ETH/USDT"}
    async with streaming(venue, [SYMBOL, "ETH/USDT"]) as events:
        eth = ("ticker:ETH/USDT", "book:ETH/USDT", "trades:ETH/USDT")
        await wait_for(lambda: all(venue.streams.state(k) == "down" for k in eth))
        btc = sum(isinstance(e, TickerEvent) and e.ticker.symbol == SYMBOL for e in events)
        await wait_for(lambda: sum(isinstance(e, TickerEvent) and e.ticker.symbol == SYMBOL for e in events) > btc + 5)
        said = venue.streams.summary()
        assert "kraken refused the ticker subscription for ETH/USDT: Currency pair not supported" in said, said
        assert venue.counters["reconnects"] == 0 and kraken.public_sockets_opened == 1, venue.counters
        kraken.refused_pairs = set()  # the refusal ends: each stream subscribed again alone
        await wait_for(lambda: any(isinstance(e, TickerEvent) and e.ticker.symbol == "ETH/USDT" for e in events))
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        assert venue.counters["reconnects"] == 0 and kraken.public_sockets_opened == 1, venue.counters


async def test_unknown_venue_order_is_imported_and_flagged_at_start(kraken) -> None:  # type: ignore[no-untyped-def]
    # an order placed from Kraken's website (no cl_ord_id) before we started
    for n in (1, 2):  # two of them: Kraken says userref 0 for both; each keeps its own id
        kraken.orders[f"fake-{n}"] = FakeOrder(
            n, f"fake-{n}", SYMBOL, "sell", "limit", Decimal("0.5"), Decimal(500 + n), kraken.now_ms
        )
    async with trading(_venue(kraken), armed=True) as engine:
        imported = [o for o in engine.oms.orders.values() if o.meta.get("external")]  # type: ignore[union-attr]
        assert len(imported) == 2 and all(o.side is Side.SELL for o in imported)
        assert {o.client_order_id for o in imported} == {o.venue_order_id for o in imported}


async def test_live_kraken_rejects_orders_until_armed(kraken) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(kraken)
    assert venue.is_live
    async with trading(venue) as engine:
        refused = await engine.place(buy("kraken"))
        assert refused.status is OrderStatus.REJECTED and "not armed" in (refused.reason or "")
        assert not kraken.orders
