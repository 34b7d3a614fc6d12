"""The ccxt adapter against a loopback fake KuCoin: real ccxt / ccxt.pro clients, KuCoin's wire.

KuCoin has no sandbox in ccxt, so the venue is live (sandbox = false) and armed like a trader
would; websockets are reached through the bullet-public / bullet-private token endpoints.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared fakes

from tui_trader.core.enums import ConnectionState, OrderStatus
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import (
    BookEvent,
    CandleEvent,
    ConnectionEvent,
    ExecutionReport,
    NoticeEvent,
    TickerEvent,
    TradeEvent,
)
from tui_trader.core.orders import Order
from tui_trader.secrets import Credentials
from tui_trader.venues.base import VenueError
from tui_trader.venues.ccxt import kucoin_ws
from tui_trader.venues.ccxt.venue import CcxtVenue
from tui_trader.venues.ccxt.ws_subscribes import Limits

from fakes.kucoin_exchange import FakeKucoinExchange
from fakes.venue_harness import (
    buy,
    cancelled_by_client_id,
    ccxt_settings,
    ccxt_venue,
    duplicate_and_reordered_fills_count_once,
    every_stream,
    fills_lost_in_a_drop_are_reconciled,
    fills_match,
    flowing_at_start_and_after_a_drop,
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
    fake: FakeKucoinExchange,
    *,
    secret: str = SECRET,
    passphrase: str = PASSPHRASE,
    symbols: tuple[str, ...] = ("BTC/USDT",),
    **extra: Any,
) -> CcxtVenue:
    extra.setdefault("sandbox", False)  # ccxt has no KuCoin sandbox
    settings = ccxt_settings("kucoin", fake.ccxt_options(), list(symbols), **{"rate_limit_ms": 1, **extra})
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
        await wait_for(lambda: engine.book("BTC/USDT") is not None)  # its REST snapshot read: the 429 hits the order
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


async def test_keys_revoked_mid_session_stop_the_private_streams_once(fake: FakeKucoinExchange) -> None:
    """A revoked key's websocket tokens stop working (after the drop) and asking for a private
    one is refused 400003 "KC-API-KEY not exists" (ccxt: an AuthenticationError). Ticker,
    trades and candles flow on, and so does the book (from KuCoin's public snapshot: below)."""
    await revoked_keys_stop_the_private_streams_once(
        make_venue(fake),
        fake,
        lambda: fake.requests.count(("POST", "/bullet-private")),
        fake.expire_tokens,
        reconnects=4,  # the drop's, then one or two for the public token expired with it
    )


PRIVATE_TOKEN = ("POST", "/bullet-private")
KEYS_SET = "authentication failed; run `tui-trader keys set kucoin`"
# what a trader is told of each refusal that stops the private streams (and refuses orders)
STOPS = {
    **dict.fromkeys(("400003", "400004", "400005", "400006"), KEYS_SET),  # the keys: wrong, gone
    "400007": "a permission (400007",  # the key lacks one: kucoin.com, not `keys set`, fixes it
    "411100": "frozen the account (411100",  # the account: KuCoin's support, not the keys
}


def private_states(venue: CcxtVenue) -> set[str]:
    return {venue.streams.state(k) for k in ("orders", "fills")}


async def refused_after_a_drop(fake: FakeKucoinExchange, code: str) -> None:
    """KuCoin answers every signed call `code` from now on; the sockets drop, so the private
    socket's token (bullet-private, signed) is asked for again."""
    fake.refuse_signed = code
    fake.expire_tokens()
    await fake.drop_connections()


@pytest.mark.parametrize("code", list(STOPS))
async def test_keys_or_account_refused_mid_session_stop_the_private_streams_saying_which(
    fake: FakeKucoinExchange, code: str
) -> None:
    """The keys worked; then KuCoin refuses every signed call with `code` (its error code
    pages: 400003 key gone, 400004 passphrase, 400005 signature, 400006 IP not on the key's
    list, 400007 a permission missing, 411100 the user frozen; ccxt: an AuthenticationError,
    411100 an AccountSuspended). The private streams stop at once, not retried, the venue
    `degraded` saying why in words that fit the code, an order refused unsent with the same
    words; market data flows on."""
    venue = make_venue(fake)
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and PRIVATE_TOKEN in fake.requests)
        tokens = fake.requests.count(PRIVATE_TOKEN)
        await refused_after_a_drop(fake, code)
        await wait_for(lambda: private_states(venue) == {"stopped"})
        cid = f"ttkc{code}00000001"
        await venue.create_order(Order.from_request(limit_buy("kucoin", "95"), cid, "kucoin", datetime.now(UTC)))
        rejected = next(e for e in events if isinstance(e, ExecutionReport) and e.client_order_id == cid)
        ticks = sum(isinstance(e, TickerEvent) for e in events)
        await wait_for(lambda: sum(isinstance(e, TickerEvent) for e in events) > ticks + 10)
        asked = fake.requests.count(PRIVATE_TOKEN) - tokens
        await asyncio.sleep(0.5)  # a loop would ask for a private token every 0.05-0.2 s
        assert fake.requests.count(PRIVATE_TOKEN) - tokens == asked <= 2
        assert venue.state is ConnectionState.DEGRADED
        detail = [e.detail for e in events if isinstance(e, ConnectionEvent)][-1]  # status --json's line
        for said in (detail, venue.streams.summary(), rejected.reason or ""):
            assert STOPS[code] in said, (said, code)
            assert ("keys set" in said) is (code in ("400003", "400004", "400005", "400006", "400007")), said
        assert rejected.status is OrderStatus.REJECTED and not fake.orders


@pytest.mark.parametrize("code", ["400002", "429000", "500000"])
async def test_a_passing_refusal_mid_session_is_retried_never_read_as_bad_keys(
    fake: FakeKucoinExchange, code: str
) -> None:
    """KuCoin refuses the signed calls for a while for a cause that passes: 400002 our
    timestamp (ccxt: InvalidNonce), 429000 its rate limit, 500000 its own error (ccxt: network
    errors). The private streams are retried, never `stopped` nor said to be the keys; back
    and `connected` once KuCoin takes them again."""
    venue = make_venue(fake)
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and PRIVATE_TOKEN in fake.requests)
        tokens = fake.requests.count(PRIVATE_TOKEN)
        await refused_after_a_drop(fake, code)
        await wait_for(lambda: fake.requests.count(PRIVATE_TOKEN) >= tokens + 2)  # asked again: retried
        assert "stopped" not in private_states(venue)
        fake.refuse_signed = None
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        assert private_states(venue) <= {"live", "waiting"}
    said = " ".join(e.detail for e in events if isinstance(e, ConnectionEvent))
    assert "authentication failed" not in said and "keys set" not in said, said


SIGNED_BOOK, PUBLIC_BOOK = ("GET", "/market/orderbook/level2"), ("GET", "/market/orderbook/level2_100")
BOOK_NOTICE = (
    "kucoin: keys refused; the order book is the public 100-level snapshot "
    "(run `tui-trader keys set kucoin`, then `tui-trader venue reconnect kucoin`)"
)


def shown(events: list[Any], symbol: str) -> tuple[tuple[tuple[float, float], ...], tuple[tuple[float, float], ...]]:
    """The last book of `symbol` the venue sent: (bids, asks)."""
    book = next(e for e in reversed(events) if isinstance(e, BookEvent) and e.book.symbol == symbol).book
    return book.bids, book.asks


def shown_is_the_book(events: list[Any], fake: FakeKucoinExchange, symbol: str, levels: int) -> bool:
    """The venue's last book is the fake's best `levels` a side, level for level."""
    bids, asks = fake.book(symbol)
    return shown(events, symbol) == (tuple(bids[:levels]), tuple(asks[:levels]))


def books(events: list[Any], symbol: str) -> int:
    return sum(isinstance(e, BookEvent) and e.book.symbol == symbol for e in events)


@pytest.mark.parametrize("refusal", ["revoked", "ip"])
async def test_keys_refused_keep_the_book_flowing_from_kucoins_public_snapshot(
    fake: FakeKucoinExchange, refusal: str
) -> None:
    """With keys set ccxt's kucoin loads the book's snapshot from the signed full-depth
    endpoint. Keys KuCoin refuses there (revoked: 400003; an IP not on the key's list: 400006)
    stopped the book with the private streams; now the book comes from the public 100-level
    snapshot plus the stream's deltas, said once, every symbol's, the book exact to its levels
    (the fake's book is 120 deep), no reconnect loop, market data on; the full snapshot again
    once good keys are back and the venue starts again."""
    fake.book_depth = 120
    symbols = ("BTC/USDT", "ETH/USDT")
    venue = make_venue(fake, symbols=symbols)
    async with streaming(venue, symbols) as events:
        await wait_for(lambda: all(books(events, s) > 0 for s in symbols) and venue.state is ConnectionState.CONNECTED)
        assert SIGNED_BOOK in fake.requests and PUBLIC_BOOK not in fake.requests  # the keys work: full depth
        if refusal == "revoked":
            fake.api_key = "revoked-key"
        else:
            fake.refuse_ip = True
        fake.expire_tokens()  # a revoked key's go with it; either way new ones are asked for
        await fake.drop_connections()  # a new subscribe, a new snapshot
        seen = {s: books(events, s) for s in symbols}
        await wait_for(lambda: {venue.streams.state(k) for k in ("orders", "fills")} == {"stopped"})
        await wait_for(lambda: all(books(events, s) > seen[s] + 20 for s in symbols))
        assert fake.requests.count(PUBLIC_BOOK) >= 2  # one a symbol
        assert {venue.streams.state(f"book:{s}") for s in symbols} == {"live"}
        rows = [r for r in venue.streams.rows() if r.name.startswith("book:")]  # status --json, the TUI
        assert len(rows) == len(symbols) and all("public 100-level snapshot: keys refused" in r.detail for r in rows)
        reconnects, public = venue.counters["reconnects"], fake.requests.count(PUBLIC_BOOK)
        ticks = sum(isinstance(e, TickerEvent) for e in events)
        await wait_for(lambda: sum(isinstance(e, TickerEvent) for e in events) > ticks + 20)
        assert venue.counters["reconnects"] == reconnects <= 4, venue.counters  # no loop
        # a snapshot a subscribe, no loop (one more a symbol if the random walk took the price
        # 75 levels past its snapshot meanwhile: not seen, but the walk is timing's)
        assert fake.requests.count(PUBLIC_BOOK) <= public + len(symbols)
        fake.stall()  # the book stands still: what the venue shows is checked against it
        for s in symbols:
            await wait_for(lambda s=s: shown_is_the_book(events, fake, s, 25))
        fake.stall(False)
    notices = [e.message for e in events if isinstance(e, NoticeEvent)]
    assert notices.count(BOOK_NOTICE) == 1, notices
    fake.api_key, fake.refuse_ip = KEY, False  # good keys again: a restart takes the full snapshot
    signed, public = fake.requests.count(SIGNED_BOOK), fake.requests.count(PUBLIC_BOOK)
    async with streaming(make_venue(fake, symbols=symbols), symbols) as again:
        await wait_for(lambda: all(books(again, s) > 0 for s in symbols))
    assert fake.requests.count(SIGNED_BOOK) >= signed + 2 and fake.requests.count(PUBLIC_BOOK) == public
    assert not [e for e in again if isinstance(e, NoticeEvent)]


@pytest.mark.parametrize("code", ["400007", "411100"])
async def test_a_book_snapshot_refused_for_a_permission_or_a_frozen_account_says_what_fixes_it(
    fake: FakeKucoinExchange, code: str
) -> None:
    """KuCoin refuses the signed book snapshot with 400007 (the key lacks a permission) or
    411100 (the account frozen): the book flows on from the public snapshot as for refused
    keys, but its notice and its rows say what fixes it (kucoin.com's permissions, KuCoin's
    support), then `venue reconnect`; they said "keys refused ... run keys set", which fixes
    neither (a frozen account's keys are good)."""
    venue = make_venue(fake)
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: books(events, "BTC/USDT") > 0 and venue.state is ConnectionState.CONNECTED)
        await refused_after_a_drop(fake, code)
        await wait_for(lambda: private_states(venue) == {"stopped"} and PUBLIC_BOOK in fake.requests)
        seen = books(events, "BTC/USDT")
        await wait_for(lambda: books(events, "BTC/USDT") > seen + 10)
    notice = next(e.message for e in events if isinstance(e, NoticeEvent) and "public 100-level snapshot" in e.message)
    row = next(r.detail for r in venue.streams.rows() if r.name == "book:BTC/USDT")  # status --json, the TUI
    for said in (notice, row):
        assert STOPS[code] in said and "keys refused" not in said, said
    assert "`tui-trader venue reconnect kucoin`" in notice and ("keys set" in notice) is (code == "400007"), notice


async def test_a_move_beyond_the_public_snapshot_shows_no_holes_and_takes_a_new_one(fake: FakeKucoinExchange) -> None:
    """The public snapshot has the best 100 levels; the deltas cover the whole book, so past
    the snapshot's last level a level is known only if it changed. The price falls 90 levels:
    the book is shown down to the last level known (never with a level missing between two
    shown), then a new snapshot is taken and 25 levels a side are shown again."""
    fake.book_depth = 120
    venue = make_venue(fake)
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: books(events, "BTC/USDT") > 0)
        fake.api_key = "revoked-key"  # the snapshot after the drop is the public one
        await fake.drop_connections()
        await wait_for(lambda: PUBLIC_BOOK in fake.requests and books(events, "BTC/USDT") > 5)
        public = fake.requests.count(PUBLIC_BOOK)
        fake.set_price("BTC/USDT", fake.prices["BTC/USDT"] - Decimal("0.90"))
        await wait_for(lambda: fake.requests.count(PUBLIC_BOOK) > public)  # the new snapshot
        fake.stall()
        await wait_for(lambda: shown_is_the_book(events, fake, "BTC/USDT", 25))
    best_bids = [bids[0][0] for bids, _ in (
        (e.book.bids, e.book.asks) for e in events if isinstance(e, BookEvent)
    )]
    assert min(best_bids) < max(best_bids) - 0.8  # the fall was shown
    for e in events:  # every book shown is whole to its last level: one cent a level, no gap
        if isinstance(e, BookEvent):
            for side in (e.book.bids, e.book.asks):
                steps = {round(abs(a[0] - b[0]), 6) for a, b in itertools.pairwise(side)}
                assert steps <= {0.01}, (side, steps)


@pytest.mark.parametrize("fault", ["timeout", "503"])
async def test_a_signed_snapshot_that_fails_for_no_keys_reason_is_retried_not_public(
    fake: FakeKucoinExchange, fault: str
) -> None:
    """A timeout or a 5xx on the signed snapshot says nothing of the keys: retried (ccxt's
    three tries, then a reconnect) until the full snapshot loads; never the public one."""
    for _ in range(4):  # more than ccxt's three tries: the reconnect's snapshot too
        if fault == "timeout":
            fake.hang_next(0.5, method="GET", path=SIGNED_BOOK[1])
        else:
            fake.fail_next(status=503, method="GET", path=SIGNED_BOOK[1])
    venue = make_venue(fake, timeout_ms=300)
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: fake.requests.count(SIGNED_BOOK) >= 5 and books(events, "BTC/USDT") > 5)
        assert venue.streams.state("book:BTC/USDT") == "live" and venue.counters["reconnects"] >= 1
    assert PUBLIC_BOOK not in fake.requests
    assert not [e for e in events if isinstance(e, NoticeEvent)]


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
        await wait_for(lambda: len(tickers) > seen + 5)
        fake.stall()
        await wait_for(lambda: venue.state is not ConnectionState.CONNECTED)
        fake.stall(False)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects >= 1)
        seen = len(tickers)
        await wait_for(lambda: len(tickers) > seen + 3)
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
        await wait_for(lambda: fake.requests.count(("POST", "/bullet-public")) > bullets)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects >= 1)
        seen = engine.ticker("BTC/USDT").ts
        await wait_for(lambda: engine.ticker("BTC/USDT").ts > seen)
        order = await engine.place(buy("kucoin", "0.1"))  # the private stream came back too
        await wait_status(engine, order.client_order_id, OrderStatus.FILLED)
        await fills_match(engine, fake)


# ccxt takes a book's REST snapshot after its first delta, not its fifth: the many-symbol tests
# sent 416 and 606 messages a second and waited 5 deltas, needing more than a core; on a loaded
# machine the last books came past their grace (resubscribed: a reconnect the tests refuse)
FIRST_DELTA_SNAPSHOTS = {"watchOrderBook": {"snapshotDelay": 1}}
MANY = tuple(f"K{i:02d}/USDT" for i in range(26))  # ticker, book, trades, 1m candles: 104 topics


async def test_many_symbols_subscribe_under_kucoins_limits_at_start_and_after_a_drop() -> None:
    """KuCoin takes 100 messages per 10 s from a connection (documented; its answer past it, a
    509 error, is assumed). ccxt.pro's kucoin sends one subscribe per symbol and stream: 104
    messages at once for 26 symbols with candles, at the start and again after every drop: 4
    refused with errors ccxt raised in its receive loop, the socket deaf, a reconnect loop with
    no market data at all. Batched: 4 messages, and 4 again after the drop."""
    fake = FakeKucoinExchange(MANY, api_key=KEY, secret=SECRET, passphrase=PASSPHRASE, seed=5)
    await fake.start(tick_interval_s=0.4)
    try:  # 260 messages a second to parse: a stall is 2 s here, not the harness's 0.6 s
        venue = make_venue(fake, symbols=MANY, candles=["1m"], stall_after_s=2.0)
        venue.settings.options["options"] = FIRST_DELTA_SNAPSHOTS
        await flowing_at_start_and_after_a_drop(venue, fake, MANY, (TickerEvent, BookEvent, TradeEvent, CandleEvent))
        assert fake.ws_refused == []
        assert fake.busiest_window() <= 6  # 4 subscribes, pings
    finally:
        await fake.stop()


async def test_more_than_100_symbols_of_a_stream_go_in_subscribes_of_at_most_100_topics() -> None:
    """KuCoin takes at most 100 topics in one subscribe (509 "exceed max subscription count
    limitation of 100 per time" past it): 101 symbols' books go in two messages (their tickers
    and trades likewise)."""
    symbols = tuple(f"M{i:03d}/USDT" for i in range(101))  # ticker, book, trades: 303 topics
    fake = await FakeKucoinExchange(symbols, api_key=KEY, secret=SECRET, passphrase=PASSPHRASE).start(
        tick_interval_s=1.0
    )
    try:  # 303 messages a second to parse: a stall is 5 s here
        venue = make_venue(fake, symbols=symbols, stall_after_s=5.0)
        venue.settings.options["options"] = FIRST_DELTA_SNAPSHOTS
        async with streaming(venue, symbols) as events:
            assert len(await venue.load_markets()) == 101  # 303 topics fit on one socket
            books = lambda: {e.book.symbol for e in events if isinstance(e, BookEvent)}  # noqa: E731
            await wait_for(lambda: books() == set(symbols) and venue.state is ConnectionState.CONNECTED)
            assert fake.ws_refused == [] and venue.counters["reconnects"] == 0, (fake.ws_refused, venue.counters)
            assert max(len(fake.ws_sent[n]) for n in fake.ws_sent) <= 8  # 3 streams x 2 messages, pings
    finally:
        await fake.stop()


async def test_more_topics_than_a_kucoin_connection_holds_are_refused_at_start_saying_what_to_do() -> None:
    """KuCoin holds at most 400 topics on a spot connection (509 "exceed max subscription count
    limitation of 400 per session" past it), and ccxt.pro's kucoin opens one public socket: 101
    symbols with 1m candles (404 topics) are refused at the start, in one line saying how many
    fit, rather than 400 streaming and the rest refused by KuCoin, retried for ever."""
    symbols = tuple(f"M{i:03d}/USDT" for i in range(101))
    fake = await FakeKucoinExchange(symbols, api_key=KEY, secret=SECRET, passphrase=PASSPHRASE).start()
    try:
        venue = make_venue(fake, symbols=symbols, candles=["1m"])
        async with streaming(venue):
            with pytest.raises(ConfigError) as refused:
                await venue.load_markets()
        line = str(refused.value)
        assert "\n" not in line and "404 websocket topics" in line and "list at most 100 symbols" in line, line
        venue = make_venue(fake, symbols=symbols[:100], candles=["1m"])
        async with streaming(venue):
            assert len(await venue.load_markets()) == 100  # 400 topics: KuCoin's limit, not past it
    finally:
        await fake.stop()


async def test_a_refused_symbol_in_a_batch_is_retried_alone_the_others_flowing() -> None:
    """KuCoin answers a subscribe naming a symbol it no longer streams (delisted since the
    markets were read) with an error, 404 "topic does not exist" (its error codes page; that the
    whole message is refused, the other symbols in it too, is assumed). Subscribes batched by
    channel, the batch is sent again one symbol a message: only ETH's streams are `down`, named,
    retried on their backoff, BTC's and SOL's flow, no reconnect. (ccxt raised such an answer in
    its receive loop: the socket deaf for every symbol, a reconnect loop.)"""
    symbols = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    fake = await FakeKucoinExchange(symbols, api_key=KEY, secret=SECRET, passphrase=PASSPHRASE).start(
        tick_interval_s=0.02
    )
    fake.refuse_topics("ETH-USDT")
    try:
        venue = make_venue(fake, symbols=symbols)
        async with streaming(venue, symbols) as events:
            eth = ("ticker:ETH/USDT", "book:ETH/USDT", "trades:ETH/USDT")
            await wait_for(lambda: all(venue.streams.state(k) == "down" for k in eth))
            others = lambda: {e.ticker.symbol for e in events if isinstance(e, TickerEvent)}  # noqa: E731
            await wait_for(lambda: others() == {"BTC/USDT", "SOL/USDT"} and venue.state is ConnectionState.DEGRADED)
            said = venue.streams.summary()
            assert "kucoin refused the ticker subscription for ETH/USDT: 404 topic does not exist" in said, said
            assert venue.counters["reconnects"] == 0, venue.counters
            fake.refuse_topics()  # KuCoin takes it again: subscribed alone, on its backoff
            await wait_for(lambda: "ETH/USDT" in others() and venue.state is ConnectionState.CONNECTED)
            assert venue.counters["reconnects"] == 0 and venue.counters["subscriptions_refused"] >= 3, venue.counters
    finally:
        await fake.stop()


@pytest.mark.parametrize("pace", [4, 6])
async def test_subscribes_are_paced_per_connection_and_one_refused_for_the_pace_is_sent_again(
    pace: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KuCoin's message limit, scaled down to be seen in a test: the fake takes 5 messages per
    0.5 s from a connection, a subscribe names at most 2 topics here: 30 subscriptions are 15
    messages. Paced at 4 per 0.5 s none is refused; at 6 (past the fake's 5) KuCoin refuses the
    6th of each burst, 509 "exceed max permits per second", and it is sent again whole, later:
    every stream flows all the same, none `down`, no reconnect."""
    monkeypatch.setattr(kucoin_ws, "KUCOIN", Limits(pace, 0.5, per_socket=True, topics_per_message=2))
    symbols = tuple(f"P{i}/USDT" for i in range(10))  # ticker, book, trades: 30 topics
    fake = await FakeKucoinExchange(symbols, api_key=KEY, secret=SECRET, passphrase=PASSPHRASE).start(
        tick_interval_s=0.1
    )
    fake.ws_messages, fake.ws_window_s = 5, 0.5
    try:
        venue = make_venue(fake, symbols=symbols, stall_after_s=3.0)
        async with streaming(venue, symbols) as events:
            await wait_for(lambda: every_stream(events, symbols, (TickerEvent, BookEvent, TradeEvent), 0))
            assert venue.counters["reconnects"] == 0 and venue.counters["subscriptions_refused"] == 0, venue.counters
        if pace <= 5:
            assert fake.ws_refused == [] and fake.busiest_window() <= pace + 1  # a ping may fall in a window
        else:
            assert fake.ws_refused and set(fake.ws_refused) == {"exceed max permits per second"}, fake.ws_refused
    finally:
        await fake.stop()
