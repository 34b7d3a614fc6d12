"""The ccxt adapter against a loopback fake KuCoin: real ccxt / ccxt.pro clients, KuCoin's wire.

KuCoin has no sandbox in ccxt, so the venue is live (sandbox = false) and armed like a trader
would; websockets are reached through the bullet-public / bullet-private token endpoints.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared fakes

from tui_trader.core.enums import ConnectionState, OrderStatus
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import BookEvent, TickerEvent
from tui_trader.secrets import Credentials
from tui_trader.venues.base import VenueError
from tui_trader.venues.ccxt.venue import CcxtVenue

from fakes.kucoin_exchange import FakeKucoinExchange
from fakes.venue_harness import (
    buy,
    cancelled_by_client_id,
    ccxt_settings,
    ccxt_venue,
    duplicate_and_reordered_fills_count_once,
    fills_lost_in_a_drop_are_reconciled,
    fills_match,
    limit_buy,
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

KEY, SECRET, PASSPHRASE = "kc-key", "kc-secret-value", "kc-passphrase"


@pytest.fixture
async def fake() -> AsyncIterator[FakeKucoinExchange]:
    ex = await FakeKucoinExchange(api_key=KEY, secret=SECRET, passphrase=PASSPHRASE).start(tick_interval_s=0.02)
    yield ex
    await ex.stop()



def make_venue(
    fake: FakeKucoinExchange, *, secret: str = SECRET, passphrase: str = PASSPHRASE, **extra: Any
) -> CcxtVenue:
    extra.setdefault("sandbox", False)  # ccxt has no KuCoin sandbox
    settings = ccxt_settings("kucoin", fake.ccxt_options(), ["BTC/USDT"], **{"rate_limit_ms": 1, **extra})
    return ccxt_venue(settings, Credentials(KEY, secret, passphrase))


async def test_markets_become_decimal_instruments(fake: FakeKucoinExchange) -> None:
    venue = make_venue(fake)
    async with streaming(venue):
        inst = (await venue.load_markets())["BTC/USDT"]
        assert inst.tick_size == Decimal("0.01") and inst.lot_size == Decimal("0.0001")
        assert inst.min_notional == Decimal("0.1") and inst.min_qty == Decimal("0.001")
        assert inst.quote == "USDT" and venue.is_live
        assert fake.auth_failures == []  # the signed market calls passed KuCoin's checks


async def test_sandbox_is_refused_with_a_clear_message(fake: FakeKucoinExchange) -> None:
    venue = make_venue(fake, sandbox=True)
    with pytest.raises(ConfigError, match="no sandbox"):
        await venue.connect(lambda e: None)


async def test_ticker_book_trades_and_candles_stream_over_websockets(
    fake: FakeKucoinExchange,
) -> None:
    venue = make_venue(fake, candles=["1m"])
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for_streams(events, at_least=4)
        book = next(e for e in reversed(events) if isinstance(e, BookEvent)).book
        assert book.bids[0][0] < book.asks[0][0] and len(book.bids) == 5
        tick = next(e for e in reversed(events) if isinstance(e, TickerEvent)).ticker
        assert tick.bid < tick.ask
        # nothing was polled: the data came over the bullet-public websocket
        polled = {"/market/stats", "/market/histories", "/market/candles"}
        assert not polled & {p for _, p in fake.requests}
        assert ("POST", "/bullet-public") in fake.requests


async def test_balances(fake: FakeKucoinExchange) -> None:
    venue = make_venue(fake)
    async with streaming(venue):
        fake.balances["BTC"] = Decimal("1.5")
        balances = await venue.fetch_balances()
        assert balances["BTC"].total == Decimal("1.5") and balances["USDT"].total == Decimal("1e6")
        fake.place("BTC/USDT", "buy", "limit", Decimal("2"), Decimal("95"), "rest1")
        held = (await venue.fetch_balances())["USDT"]
        assert held.total == Decimal("1e6") and held.free == Decimal("1e6") - Decimal("190")


async def test_limit_rests_then_fills_market_fills_in_two_parts_and_cancel_by_client_id(
    fake: FakeKucoinExchange,
) -> None:
    async with trading(make_venue(fake), armed=True) as engine:
        await wait_for(lambda: engine.ticker("BTC/USDT") is not None)
        limit = await engine.place(limit_buy("kucoin", "97"))
        await wait_status(engine, limit.client_order_id, OrderStatus.ACCEPTED)
        assert fake.orders[limit.client_order_id].is_open and not fake.trades
        fake.set_price("BTC/USDT", "96.9")  # the market comes down to the bid
        await wait_status(engine, limit.client_order_id, OrderStatus.FILLED)
        market = await engine.place(buy("kucoin", "0.4"))
        await wait_status(engine, market.client_order_id, OrderStatus.FILLED)
        assert len([t for t in fake.trades if t.order.client_order_id == market.client_order_id]) == 2
        await fills_match(engine, fake)
        assert engine.portfolio.positions[("kucoin", "BTC/USDT")].quantity == Decimal("0.6")
        # the order feed carries no fee: streamed fills are charged at the market's rate
        stored = {f.fill_id: f for f in await engine.store.load_fills()}  # type: ignore[union-attr]
        for t in fake.trades:
            assert stored[str(t.trade_id)].fee == pytest.approx(t.commission, abs=Decimal("1e-8"))
            assert stored[str(t.trade_id)].fee > 0 and stored[str(t.trade_id)].fee_currency == "USDT"
        resting = await cancelled_by_client_id(engine, fake, limit_buy("kucoin", "92"))
        assert ("DELETE", f"/hf/orders/client-order/{resting.client_order_id}") in fake.requests


async def test_timed_out_submit_is_found_by_client_id_not_sent_twice(
    fake: FakeKucoinExchange,
) -> None:
    venue = make_venue(fake, timeout_ms=300)
    async with trading(venue, armed=True) as engine:
        await timed_out_submit_is_found_by_client_id(engine, venue, fake, limit_buy("kucoin", "95"))


async def test_drop_reconnects_resubscribes_and_reconciles_missed_fills(
    fake: FakeKucoinExchange,
) -> None:
    venue = make_venue(fake)
    async with trading(venue, armed=True) as engine:
        # reconciled over REST, each fill once
        await fills_lost_in_a_drop_are_reconciled(engine, fake, limit_buy("kucoin", "95"), [Decimal("0.05"), None])
        # resubscribed: fresh tickers and private order updates flow again
        seen = engine.ticker("BTC/USDT").ts
        await wait_for(lambda: engine.ticker("BTC/USDT").ts > seen)
        again = await engine.place(buy("kucoin", "0.1"))
        await wait_status(engine, again.client_order_id, OrderStatus.FILLED)
        await fills_match(engine, fake)
        assert fake.duplicate_submissions == 0


async def test_rate_limit_backs_off_and_reject_has_kucoins_reason(
    fake: FakeKucoinExchange,
) -> None:
    venue = make_venue(fake)
    async with trading(venue, armed=True) as engine:
        await wait_for(lambda: engine.ticker("BTC/USDT") is not None)
        await asyncio.sleep(0.2)  # the order book snapshot is loaded; the 429 hits the order
        rejected = await rate_limit_backs_off_then_reject(
            engine, venue, fake, limit_buy("kucoin", "95"), limit_buy("kucoin", "94")
        )
        assert "Balance insufficient" in (rejected.reason or "")


@pytest.mark.parametrize("wrong", ["secret", "passphrase"])
async def test_wrong_secret_or_passphrase_fails_authentication_clearly(fake: FakeKucoinExchange, wrong: str) -> None:
    venue = make_venue(fake, **{wrong: "not-the-" + wrong})
    with pytest.raises(VenueError, match="authentication failed; run `tui-trader keys set kucoin`"):
        await venue.connect(lambda e: None)
    await venue.close()
    # KuCoin v2 keys send the passphrase HMAC'd with the secret: a wrong secret fails there too
    assert fake.auth_failures and set(fake.auth_failures) == {"passphrase"}
    assert not fake.orders


async def test_keys_revoked_mid_session_stop_the_private_streams_and_the_book_once(fake: FakeKucoinExchange) -> None:
    """A revoked key's websocket tokens stop working (after the drop) and asking for a private
    one is refused 400003 "KC-API-KEY not exists" (ccxt: an AuthenticationError). The order
    book stops too, saying the same: with keys set, ccxt's kucoin loads its snapshot from
    KuCoin's signed full-depth endpoint. Ticker, trades and candles flow on."""
    await revoked_keys_stop_the_private_streams_once(
        make_venue(fake),
        fake,
        lambda: fake.requests.count(("POST", "/bullet-private")),
        fake.expire_tokens,
        stopped=("orders", "fills", "book:BTC/USDT"),
        reconnects=4,  # the drop's, then one or two for the public token expired with it
    )


async def test_a_token_negotiation_cancelled_by_a_reconnect_does_not_stop_market_data(
    fake: FakeKucoinExchange,
) -> None:
    """ccxt.pro's kucoin keeps each socket's token negotiation (bullet-public) as a future that
    every subscribe awaits; a reconnect that cancels a stream awaiting it cancels that future
    too. Kept, every later subscribe was cancelled at once: a reconnect loop with no market
    data. Each reconnect negotiates fresh tokens: the data is back after the drop's reconnect."""
    venue = make_venue(fake)
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: any(isinstance(e, TickerEvent) for e in events))  # the socket is open
        cancelled = asyncio.get_running_loop().create_future()
        cancelled.cancel()
        venue._ex.options["urls"]["public"] = cancelled  # what such a reconnect left behind
        bullets = fake.requests.count(("POST", "/bullet-public"))
        await fake.drop_connections()
        ticks = sum(isinstance(e, TickerEvent) for e in events)
        await wait_for(lambda: sum(isinstance(e, TickerEvent) for e in events) > ticks + 10)
        assert fake.requests.count(("POST", "/bullet-public")) > bullets
        assert venue.counters["reconnects"] <= 2, venue.counters


async def test_reconcile_pages_kucoins_newest_first_fills(fake: FakeKucoinExchange) -> None:
    venue = make_venue(fake)
    async with streaming(venue):
        fake.place("BTC/USDT", "buy", "limit", Decimal("2.5"), Decimal("97"), "big1")
        for _ in range(250):  # more than two of KuCoin's pages
            fake.fill("big1", Decimal("0.01"))
        fills = await venue.fetch_fills()
        assert len(fills) == 250 == len({f.fill_id for f in fills})
        assert {f.client_order_id for f in fills} == {"big1"}
        assert sum(f.quantity for f in fills) == Decimal("2.5")
        assert max(fake.fill_limits) <= 200  # never asked beyond KuCoin's page limit


async def test_live_venue_rejects_orders_until_armed(fake: FakeKucoinExchange) -> None:
    venue = make_venue(fake)
    assert venue.is_live
    async with trading(venue) as engine:
        await live_orders_wait_for_arming(engine, fake, buy("kucoin"))


async def test_duplicate_and_out_of_order_fills_count_once(fake: FakeKucoinExchange) -> None:
    async with trading(make_venue(fake), armed=True) as engine:
        await duplicate_and_reordered_fills_count_once(engine, fake, buy("kucoin", "0.4"))


async def test_malformed_messages_and_a_silent_stall_do_not_lose_the_stream(
    fake: FakeKucoinExchange,
) -> None:
    venue = make_venue(fake)
    tickers: list[TickerEvent] = []
    await venue.connect(lambda e: tickers.append(e) if isinstance(e, TickerEvent) else None)
    await venue.subscribe(["BTC/USDT"])
    try:
        await wait_for(lambda: len(tickers) > 2)
        fake.send_malformed(3)
        seen = len(tickers)
        await wait_for(lambda: len(tickers) > seen + 5, 5)
        fake.stall()
        await wait_for(lambda: venue.state is not ConnectionState.CONNECTED, 3)
        fake.stall(False)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects >= 1, 5)
        seen = len(tickers)
        await wait_for(lambda: len(tickers) > seen + 3, 5)
    finally:
        await venue.close()


async def test_expired_websocket_token_is_renewed_on_reconnect(fake: FakeKucoinExchange) -> None:
    venue = make_venue(fake)
    async with trading(venue, armed=True) as engine:
        await wait_for(lambda: engine.ticker("BTC/USDT") is not None)
        bullets = fake.requests.count(("POST", "/bullet-public"))
        fake.expire_tokens()
        await fake.drop_connections()  # reconnecting with the old token is refused
        # a new token, then quotes again (a quote already on its way when the sockets dropped
        # is no sign of a reconnect: with ccxt's fast test spacing it can come first)
        await wait_for(lambda: fake.requests.count(("POST", "/bullet-public")) > bullets, 8)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects >= 1, 8)
        seen = engine.ticker("BTC/USDT").ts
        await wait_for(lambda: engine.ticker("BTC/USDT").ts > seen, 8)
        order = await engine.place(buy("kucoin", "0.1"))  # the private stream came back too
        await wait_status(engine, order.client_order_id, OrderStatus.FILLED)
        await fills_match(engine, fake)
