"""The ccxt adapter against a loopback fake Bybit (v5, spot, unified account): real ccxt.pro."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tui_trader.core.encoding import to_jsonable
from tui_trader.core.enums import ConnectionState, OrderStatus, Side
from tui_trader.core.events import BookEvent, ConnectionEvent, NoticeEvent, TickerEvent, TradeEvent
from tui_trader.engine.tape import TradeTape, with_holes
from tui_trader.secrets import Credentials
from tui_trader.venues.base import VenueError
from tui_trader.venues.ccxt.venue import CcxtVenue

from fakes.bybit_exchange import FakeBybitExchange
from fakes.venue_harness import (
    API_KEY,
    SECRET,
    buy,
    cancelled_by_client_id,
    ccxt_settings,
    ccxt_venue,
    duplicate_and_reordered_fills_count_once,
    fills_lost_in_a_drop_are_reconciled,
    fills_match,
    limit_buy,
    live_orders_wait_for_arming,
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

VENUE = "bybit"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBybitExchange]:
    ex = FakeBybitExchange(api_key=API_KEY, secret=SECRET)
    await ex.start(tick_interval_s=0.02)
    yield ex
    await ex.stop()



def _venue(fake: FakeBybitExchange, *, key: str = API_KEY, secret: str = SECRET, **extra: Any) -> CcxtVenue:
    settings = ccxt_settings(VENUE, fake.ccxt_options(), ["BTC/USDT"], **{"rate_limit_ms": 1, **extra})
    return ccxt_venue(settings, Credentials(key, secret))


async def test_markets_become_decimal_instruments_and_balances_load(fake) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(fake)
    async with streaming(venue):
        inst = (await venue.load_markets())["BTC/USDT"]
        assert inst.tick_size == Decimal("0.01") and inst.lot_size == Decimal("0.000001")
        assert inst.min_notional == Decimal("5") and inst.min_qty == Decimal("0.000048")
        assert inst.quote == "USDT"
        balances = await venue.fetch_balances()
        assert balances["USDT"].total == Decimal("1000000") and balances["BTC"].free == Decimal("1000")
        assert ("GET", "/account/wallet-balance") in fake.requests


async def test_streams_arrive_over_websockets(fake) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(fake, candles=["1m"])
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for_streams(events)
        # several book messages: the first a snapshot, the rest deltas ccxt merges
        await wait_for(lambda: sum(isinstance(e, BookEvent) for e in events) > 5)
        book = [e for e in events if isinstance(e, BookEvent)][-1].book
        assert len(book.bids) == 5 and book.bids[0][0] < book.asks[0][0]
        ticker = [e for e in events if isinstance(e, TickerEvent)][-1].ticker
        assert ticker.symbol == "BTC/USDT" and ticker.last > 0
        # no REST polling: every market stream came over the socket
        not_polling = ("/market/instruments-info", "/market/time")  # markets, and the clock check
        polled = {p for _, p in fake.requests if p.startswith("/market/") and p not in not_polling}
        assert polled == set()


async def test_limit_rests_then_fills_and_market_fills_in_two_parts(fake) -> None:  # type: ignore[no-untyped-def]
    async with trading(_venue(fake)) as engine:
        limit = await engine.place(limit_buy(VENUE, "97"))
        await wait_status(engine, limit.client_order_id, OrderStatus.ACCEPTED)
        assert fake.orders[limit.client_order_id].is_open
        fake.set_price("BTC/USDT", "96.50")
        await wait_status(engine, limit.client_order_id, OrderStatus.FILLED)
        market = await engine.place(buy(VENUE, "0.4"))
        await wait_status(engine, market.client_order_id, OrderStatus.FILLED)
        # Bybit reads a spot market buy's qty in quote coin unless marketUnit=baseCoin
        assert fake.orders[market.client_order_id].quantity == Decimal("0.4")
        assert fake.market_unit[market.client_order_id] == "baseCoin"
        assert len(fake.trades_for("BTC/USDT")) == 3
        await fills_match(engine, fake)
        # Bybit charges a spot buy's fee in the base coin: the position is what the exchange
        # credits (bought less the coin it kept), the fee's value counts in quote
        fills = [f for f in engine.fills if f.symbol == "BTC/USDT"]
        assert {f.fee_currency for f in fills} == {"BTC"} and all(f.fee > 0 for f in fills)
        position = engine.portfolio.positions[(VENUE, "BTC/USDT")]
        assert position.quantity == Decimal("0.6") - sum(f.fee for f in fills)
        assert position.fees == sum(f.fee * f.price for f in fills) > 0


async def test_cancel_by_client_id(fake) -> None:  # type: ignore[no-untyped-def]
    async with trading(_venue(fake)) as engine:
        await cancelled_by_client_id(engine, fake, limit_buy(VENUE, "95"))


async def test_timed_out_submit_is_found_by_client_id_not_sent_twice(fake) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(fake, timeout_ms=300)
    async with trading(venue) as engine:
        await timed_out_submit_is_found_by_client_id(engine, venue, fake, limit_buy(VENUE, "97"))
        assert ("GET", "/order/realtime") in fake.requests


async def test_drop_reconnects_resubscribes_and_reconciles_missed_fills(fake) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(fake)
    async with trading(venue) as engine:
        # found over REST (/v5/execution/list), once each
        await fills_lost_in_a_drop_are_reconciled(engine, fake, limit_buy(VENUE, "97"), [Decimal("0.05"), None])
        assert ("GET", "/execution/list") in fake.requests
        # resubscribed: the private socket gets the next order's events again, once Bybit has
        # the subscribe (ccxt answers nothing we see: the streams are shown back at the
        # reconcile's read, and a fill pushed before the subscribe lands is owed for a stall)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and fake.private_topics() == PRIVATE_TOPICS)
        later = await engine.place(buy(VENUE, "0.1"))
        await wait_status(engine, later.client_order_id, OrderStatus.FILLED)
        await fills_match(engine, fake)


async def test_a_fill_made_before_the_private_subscribe_lands_after_a_drop_is_read_back(fake) -> None:  # type: ignore[no-untyped-def]
    """After a drop the engine reconciles as soon as the venue is back; ccxt shows no answer to
    the private subscribe, which Bybit took 12 s to land here. A resting order filled between the
    two: the execution went to no socket, and nothing owed news of it (found only after the
    stream's probe, then its `stall_after_s` watch: 30 s and more). The venue is read back once
    more a moment after the reconcile: filled within seconds."""
    venue = _venue(fake, stall_after_s=30.0)  # as in use: the stream's own watch is slow to tell
    venue.read_back_again_s = 3.0  # 5 s in use: the suite waits less
    async with trading(venue) as engine:
        order = await engine.place(limit_buy(VENUE, "97"))
        await wait_status(engine, order.client_order_id, OrderStatus.ACCEPTED)
        first = engine.reconciler.last.get(VENUE)
        fake.private_subscribe_lag_s = 12.0  # well past the read back: a loaded machine is slow
        await fake.drop_connections()
        await wait_for(lambda: engine.reconciler.last.get(VENUE) is not first)  # the reconnect's reconcile ...
        await wait_for(lambda: not _running(f"reconcile-{VENUE}"))  # ... and its balances read (another)
        assert fake.private_topics() != PRIVATE_TOPICS  # the subscribe still on its way
        fake.fill(order.client_order_id)  # pushed to no private socket
        # filled by the read back (the stream's own watch would take 30 s and more)
        await wait_for(lambda: order_status(engine, order.client_order_id) is OrderStatus.FILLED, timeout=20.0)
        assert fake.private_topics() != PRIVATE_TOPICS  # not by the stream
        fake.land_private_subscribes()
        await fills_match(engine, fake)


def _running(task_name: str) -> bool:
    return any(t.get_name() == task_name for t in asyncio.all_tasks())


def slow_to_wait(monkeypatch: pytest.MonkeyPatch, watch: str, delay_s: float) -> list[int]:
    """ccxt's bybit `watch` method made slow to start waiting after its first call (as on a
    loaded machine, between our two calls); the calls counted in the list returned."""
    import ccxt.pro

    real = getattr(ccxt.pro.bybit, watch)
    calls = [0]

    async def slow(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] > 1:
            await asyncio.sleep(delay_s)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(ccxt.pro.bybit, watch, slow)
    return calls


async def test_a_fill_that_arrives_between_two_watches_is_not_held_back(fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """ccxt hands a private message to a `watch_my_trades` call waiting for it; one that arrives
    while none waits (ours is between two calls: ccxt awaits its url and login before it waits
    again) is kept in ccxt's cache and handed on with the next message, for ever later on a
    quiet account. A market order fills in two executions sent back to back: the second came
    while the fills stream was between calls, and the order stayed half filled (seen under
    load). Here each call after the first is slow to start waiting, as on a loaded machine."""
    slow_to_wait(monkeypatch, "watch_my_trades", 0.3)
    venue = _venue(fake)
    async with trading(venue) as engine:
        await wait_for(lambda: fake.private_topics() == PRIVATE_TOPICS)
        order = await engine.place(buy(VENUE, "0.1"))
        await wait_status(engine, order.client_order_id, OrderStatus.FILLED)
        await asyncio.sleep(1.0)  # ccxt hands on the held fill again with the next one: counted once
        second = await engine.place(buy(VENUE, "0.1"))
        await wait_status(engine, second.client_order_id, OrderStatus.FILLED)
        await asyncio.sleep(0.5)
        await fills_match(engine, fake)
        fills = [f for f in engine.fills if f.symbol == "BTC/USDT"]
        assert len(fills) == 4
        position = engine.portfolio.positions[(VENUE, "BTC/USDT")]
        assert position.quantity == Decimal("0.2") - sum(f.fee for f in fills)
        assert venue.counters["reconnects"] == 0


async def test_an_order_update_that_arrives_between_two_watches_is_not_held_back(fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The same for `watch_orders`: an order Bybit cancels (or an expiry) just after its "New"
    reached us came while the orders stream was between calls. It was shown working until
    the stream's probe found it gone and the venue reconnected for it."""
    calls = slow_to_wait(monkeypatch, "watch_orders", 2.0)
    venue = _venue(fake)
    async with trading(venue) as engine:
        await wait_for(lambda: fake.private_topics() == PRIVATE_TOPICS)
        order = await engine.place(limit_buy(VENUE, "90"))
        await wait_for(lambda: calls[0] > 1)  # its "New" handed on: the next call not waiting yet
        fake.cancel(fake.orders[order.client_order_id])
        await wait_status(engine, order.client_order_id, OrderStatus.CANCELLED)
        # heard on the stream, not found by the private stream's probe and a reconnect for it
        assert venue.counters["reconnects"] == 0


async def test_duplicate_and_out_of_order_fills_count_once(fake) -> None:  # type: ignore[no-untyped-def]
    async with trading(_venue(fake)) as engine:
        await duplicate_and_reordered_fills_count_once(engine, fake, buy(VENUE, "0.4"))


async def test_rate_limit_backs_off_and_reject_has_the_reason(fake) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(fake)
    async with trading(venue) as engine:
        rejected = await rate_limit_backs_off_then_reject(
            engine, venue, fake, limit_buy(VENUE, "97"), limit_buy(VENUE, "96")
        )
        assert "insufficient balance" in (rejected.reason or "").lower()


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


async def test_keys_revoked_mid_session_stop_the_private_streams_once_saying_keys_set(fake) -> None:  # type: ignore[no-untyped-def]
    """Bybit refuses the private socket's auth of a revoked key (`"success": false`, op auth:
    ccxt's AuthenticationError)."""
    await revoked_keys_stop_the_private_streams_once(_venue(fake), fake, lambda: fake.logins)


PRIVATE_TOPICS = {"order", "execution"}  # the orders' and the fills' (subscribed after a login)


async def test_an_auth_refused_for_our_clock_is_retried_saying_clock_not_keys(fake) -> None:  # type: ignore[no-untyped-def]
    """Bybit's clock runs 15 s ahead of ours. ccxt's bybit corrects its REST timestamps by the
    clock measured at connect, but signs the private socket's auth with an `expires` 10 s
    ahead of its own uncorrected clock: Bybit refuses it (`expires` must be later than its
    time) and ccxt reads that as bad keys. The private streams stopped for good saying
    "authentication failed; run `tui-trader keys set bybit`"; now they are `down` saying
    clock, retried on the private socket alone, market data flowing on, back once the clocks
    agree."""
    venue = _venue(fake)
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and fake.private_topics() == PRIVATE_TOPICS)
        fake.skew_clock(15_000)
        await fake.drop_connections()  # the clock is measured again at the reconnect
        await wait_for(lambda: venue.counters["private_resubscribes"] >= 2)
        # measured: +15000 ms give or take the round trip (+14999 on a loaded machine)
        assert re.search(r"bybit's clock is \+1[45]\d{3} ms", venue.streams.summary()), venue.streams.summary()
        assert venue.counters["reconnects"] <= 1 and venue.state is not ConnectionState.CONNECTED
        reconnects, ticks = venue.counters["reconnects"], sum(isinstance(e, TickerEvent) for e in events)
        await wait_for(lambda: sum(isinstance(e, TickerEvent) for e in events) > ticks + 10)
        fake.skew_clock(0)  # NTP set right (ours, or theirs)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        assert venue.counters["reconnects"] == reconnects  # the private socket alone, each time
    said = " ".join(e.detail for e in events if isinstance(e, ConnectionEvent))
    assert "keys set" not in said and "authentication failed" not in said, said


async def test_a_clock_set_right_while_a_login_is_on_its_way_is_not_read_as_bad_keys(fake) -> None:  # type: ignore[no-untyped-def]
    """Bybit's clock runs 15 s ahead; it is set right just as a login signed while it was off
    arrives: Bybit refuses that login, and our clock, measured at the refusal, agrees with
    Bybit's again. The refusal was the clock's (measured off before the login was signed): it
    is retried, not read as bad keys. It stopped the private streams for good, naming
    `keys set bybit` (seen under load in the clock test above)."""
    venue = _venue(fake)
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and fake.private_topics() == PRIVATE_TOPICS)
        fake.skew_clock(15_000)
        await fake.drop_connections()
        await wait_for(lambda: venue.counters["private_resubscribes"] >= 1)  # refused, said clock
        fake.clock_set_right_at_next_auth()
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        assert {venue.streams.state(k) for k in ("orders", "fills")}.isdisjoint({"stopped"})
    said = [e.detail for e in events if isinstance(e, ConnectionEvent)]
    assert not any("keys set" in d or "authentication failed" in d for d in said), said
    # each refusal, the last one too, said it was the clock's
    assert all("bybit's clock is +1" in d for d in said if "Request not authorized" in d), said


async def test_unknown_venue_order_is_imported_and_flagged_at_start(fake) -> None:  # type: ignore[no-untyped-def]
    fake.place("BTC/USDT", "sell", "limit", Decimal("0.5"), Decimal("500"), "web1")
    async with trading(_venue(fake)) as engine:
        imported = engine.oms.orders["web1"]  # type: ignore[union-attr]
        assert imported.meta.get("external") is True and imported.side is Side.SELL


async def test_live_venue_rejects_orders_until_armed(fake) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(fake, sandbox=False)
    assert venue.is_live
    async with trading(venue) as engine:
        await live_orders_wait_for_arming(engine, fake, buy(VENUE))


async def test_many_missed_fills_are_paged_with_bybits_cursor(fake) -> None:  # type: ignore[no-untyped-def]
    """More lost fills than one /v5/execution/list page (50, newest first): every one found."""
    async with trading(_venue(fake)) as engine:
        order = await engine.place(limit_buy(VENUE, "97", "1.2"))
        await wait_status(engine, order.client_order_id, OrderStatus.ACCEPTED)
        fake.stall()
        for _ in range(120):
            fake.fill(order.client_order_id, Decimal("0.01"))
        await fake.drop_connections()
        fake.stall(False)
        await fills_match(engine, fake)
        assert order_status(engine, order.client_order_id) is OrderStatus.FILLED
        pages = [p for m, p in fake.requests if p == "/execution/list"]
        assert len(pages) >= 3


async def test_a_gap_longer_than_bybits_60_recent_prints_is_said_not_left_a_silent_hole(fake) -> None:  # type: ignore[no-untyped-def]
    """Bybit spot's recent-trade answers its 60 newest prints at most (v5 docs: limit [1, 60]) and
    has no older public history: after a freeze of ~80 prints the backfill asks for 60 (not
    500) and says which span stays a hole (the venue, the symbol, from the last print seen to
    the oldest Bybit gave), in a warning notice and in `venue.holes`; nothing outside it is
    missing, and no print is shown twice."""
    venue = _venue(fake)
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: any(isinstance(e, TradeEvent) for e in events))
        fake.stall()  # the sockets stay open and say nothing; Bybit prints on, 50 a second
        frozen_from = fake.now_ms
        await wait_for(lambda: venue.state is not ConnectionState.CONNECTED)
        missed = lambda: sum(t["time"] > frozen_from for t in fake.public_trades["BTC/USDT"])  # noqa: E731
        await wait_for(lambda: missed() > 80)
        fake.stall(False)
        await wait_for(lambda: len(venue.holes) == 1)
        hole = venue.holes[0]
        assert fake.recent_trade_limits and max(fake.recent_trade_limits) <= 60
        assert hole.venue == VENUE and hole.symbol == "BTC/USDT" and hole.what == "trades"
        assert hole.start_ms <= frozen_from < hole.end_ms <= fake.now_ms - 59 * 20  # 60 prints, 20 ms apart
        notices = [e.message for e in events if isinstance(e, NoticeEvent) and e.level == "warning"]
        assert any(m.startswith("BTC/USDT trades from ") and "hole" in m for m in notices), notices
        printed = [int(e.trade.ts.timestamp() * 1000) for e in events if isinstance(e, TradeEvent)]
        assert len(printed) == len(set(printed))  # none twice
        after = [t["time"] for t in fake.public_trades["BTC/USDT"] if hole.end_ms <= t["time"] < hole.end_ms + 1000]
        await wait_for(lambda: set(after) <= {int(e.trade.ts.timestamp() * 1000) for e in events
                                              if isinstance(e, TradeEvent)}, 5)  # fmt: skip
        inside = [t for t in printed if hole.start_ms < t < hole.end_ms]
        assert inside == []  # the hole is what was not shown
        tape = TradeTape()
        for e in events:
            tape.on_event(e)
        rows = with_holes(tape.recent(VENUE, "BTC/USDT", 500), venue.holes)  # what `market.trades` answers
        assert [r["to"] for r in rows if r.get("gap")] == [to_jsonable(datetime.fromtimestamp(hole.end_ms / 1000, UTC))]
