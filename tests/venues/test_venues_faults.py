"""What the exchange can do to an order, against the fake Binance (real ccxt clients): each
fault ends with the exchange's ledger and ours agreeing, and no order sent twice.

Binance's rules the fake follows (its public spot API docs): a 5XX or a lost answer leaves
the execution status UNKNOWN; newClientOrderId is unique among *open* orders only (so a
second market order with the id of a filled one is accepted: sending again doubles it);
-2010 "Duplicate order sent." means the id is on a working order; -2013 "Order does not exist.";
-1021 for a timestamp 1 s ahead of its clock or older than recvWindow; 429 / 418 with
Retry-After in seconds; the user data stream's executionReport for every change.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from decimal import Decimal
from typing import Any

import pytest

from tui_trader.core.encoding import to_jsonable
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.events import ConnectionEvent, Event, NoticeEvent, TickerEvent
from tui_trader.core.orders import OrderRequest
from tui_trader.daemon.metrics import MetricsCollector
from tui_trader.engine import Engine
from tui_trader.execution.reconcile import sent_at
from tui_trader.home import Home
from tui_trader.venues import streams as streams_module

from fakes.binance_exchange import FakeBinanceExchange
from fakes.fake_market import FakeOrder
from fakes.venue_harness import (
    API_KEY,
    engine_settings,
    fills_match,
    make_venue,
    order_status,
    streaming,
    wait_for,
    wait_status,
)

FAST_FINAL = {"recvWindow": 1000}  # a "not found" is final 1 s (+ margin) after sending


def market_buy(qty: str = "0.1", **kw: Any) -> OrderRequest:
    return OrderRequest("BTC/USDT", Side.BUY, Decimal(qty), venue="binance", **kw)


def resting_buy(qty: str = "0.2", **kw: Any) -> OrderRequest:
    return OrderRequest("BTC/USDT", Side.BUY, Decimal(qty), OrderType.LIMIT, Decimal("92"), venue="binance", **kw)


async def started(fake: FakeBinanceExchange, home: Home | None = None, **venue: Any) -> Engine:
    engine = Engine(engine_settings(), home, in_memory=home is None, venues={"binance": make_venue(fake, **venue)})
    await engine.start()
    return engine


def posts(fake: FakeBinanceExchange) -> int:
    return sum(1 for m, p in fake.requests if m == "POST" and p == "/order")


async def ledgers_agree(engine: Engine, fake: FakeBinanceExchange) -> None:
    """The exchange's trades are our fills, its executed quantities our filled quantities, its
    net position ours; and it never holds two orders for one of our ids."""
    assert engine.oms is not None and engine.store is not None
    await fills_match(engine, fake)
    ours = {o.client_order_id: o for o in await engine.store.load_orders(limit=10_000)}
    for cid, o in fake.orders.items():
        assert cid in ours, f"{cid} at the exchange, unknown to us"
        assert ours[cid].filled_quantity == o.executed, (cid, ours[cid].filled_quantity, o.executed)
    held = sum((t.qty if t.order.side == "buy" else -t.qty for t in fake.trades), Decimal(0))
    assert engine.portfolio.position("binance", "BTC/USDT").quantity == held
    assert fake.made_twice == [], f"orders sent twice: {fake.made_twice}"


async def fill_streams_in(engine: Engine, fake: FakeBinanceExchange) -> None:
    """An order placed now rests, the exchange fills it and the fill streams in: the user data
    stream is alive. Then the ledgers agree."""
    placed = await engine.place(resting_buy())
    await wait_status(engine, placed.client_order_id, OrderStatus.ACCEPTED)
    fake.fill(placed.client_order_id)
    await wait_status(engine, placed.client_order_id, OrderStatus.FILLED)
    await ledgers_agree(engine, fake)


# -- a lost answer -----------------------------------------------------------------------------


@pytest.mark.parametrize("lookup_fault", ["503", "429", "timeout"])
async def test_lost_answer_and_a_failing_lookup_never_send_the_order_twice(
    fake: FakeBinanceExchange, lookup_fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The answer to a market order is lost; the lookup by client id then fails once. The old
    adapter took the failed lookup for "not there" and sent the order again: two market orders
    for one id (Binance accepts the id again once the first has filled)."""
    caplog.set_level(logging.WARNING)
    engine = await started(fake, timeout_ms=300)
    try:
        fake.stall_private()  # the user data stream's news is lost too: only REST can tell
        fake.delay_next_ack(1.0)  # the order is made; its answer comes after our timeout
        if lookup_fault == "timeout":
            fake.hang_next(1.0, method="GET", path="/order")
        else:
            fake.fail_next(1, int(lookup_fault), method="GET", path="/order", retry_after=0.2)
        placed = await engine.place(market_buy())
        assert placed.status is OrderStatus.UNKNOWN, placed  # shown as unknown, never rejected
        assert "looked up by client order id" in (placed.reason or "")
        await wait_status(engine, placed.client_order_id, OrderStatus.FILLED)  # found, fills fetched
        fake.stall_private(False)
        await asyncio.sleep(0.3)
        assert posts(fake) == 1 and len(fake.orders) == 1
        assert engine.oms.orders[placed.client_order_id].filled_quantity == Decimal("0.1")  # type: ignore[union-attr]
        await ledgers_agree(engine, fake)
        assert any("outcome unknown" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    finally:
        await engine.stop()


async def test_a_caller_that_gives_up_mid_send_leaves_no_order_unsettled(fake: FakeBinanceExchange) -> None:
    """The caller of `place` stops waiting (a timeout, a client gone) while the order is on the
    wire and the user data stream is silent. The send goes on: its answer is taken, the order
    settles as the venue says (filled), sent once. It used to stay `new` forever: counted as
    "being submitted", so no reconcile looked at it (found by the soak)."""
    engine = await started(fake)
    try:
        fake.stall_private()
        fake.delay_next_ack(1.0)  # made at once, answered late (within ccxt's timeout)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(engine.place(market_buy()), 0.3)
        assert engine.oms is not None
        (cid,) = list(engine.oms.orders)
        await wait_for(lambda: not engine.oms.in_flight(cid))  # type: ignore[union-attr]
        fake.stall_private(False)
        await wait_status(engine, cid, OrderStatus.FILLED)
        assert posts(fake) == 1
        await ledgers_agree(engine, fake)
    finally:
        await engine.stop()


async def test_an_unknown_order_is_settled_at_restart(fake: FakeBinanceExchange, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The engine stops while an order's outcome is unknown; the next start finds it."""
    home = Home(tmp_path / "home")
    engine = await started(fake, home, timeout_ms=300)
    try:
        fake.stall_private()
        fake.delay_next_ack(1.0)
        fake.fail_next(5, 503, method="GET", path="/order")  # every lookup fails for now
        fake.fail_next(5, 503, method="GET", path="/openOrders")
        placed = await engine.place(resting_buy())
        assert placed.status is OrderStatus.UNKNOWN
    finally:
        await engine.stop()
    fake._http_faults.clear()
    fake.stall_private(False)
    restarted = await started(fake, home)
    try:
        assert order_status(restarted, placed.client_order_id) is OrderStatus.ACCEPTED
        assert posts(fake) == 1
        fake.fill(placed.client_order_id)
        await wait_status(restarted, placed.client_order_id, OrderStatus.FILLED)
        await ledgers_agree(restarted, fake)
    finally:
        await restarted.stop()


async def test_an_order_that_never_arrived_is_settled_only_when_not_found_is_final(fake: FakeBinanceExchange) -> None:
    """A 503 before the exchange made anything: unknown to us. Lookups say "does not exist",
    but only after the request's recvWindow is that final (Binance refuses a later arrival);
    then the order is rejected as never sent. It was never sent again."""
    engine = await started(fake, ccxt_options=FAST_FINAL)
    try:
        fake.fail_next(1, 503, method="POST", path="/order")
        placed = await engine.place(resting_buy())
        assert placed.status is OrderStatus.UNKNOWN
        await wait_for(lambda: order_status(engine, placed.client_order_id) is OrderStatus.REJECTED, 20)
        order = engine.oms.orders[placed.client_order_id]
        assert order is not None
        final_after = engine.venues["binance"].not_found_final_after_s  # type: ignore[attr-defined]
        assert 3 <= final_after < 4  # the recvWindow of 1 s and the margin
        # unknown until then, too early to tell (measured on the order's own times, not on a
        # sleep a loaded machine can stretch past the window)
        assert (order.updated_at - sent_at(order)).total_seconds() >= final_after
        reason = order.reason or ""
        assert "never reached the venue (binance)" in reason and "not found by client order id" in reason
        assert posts(fake) == 1 and not fake.orders
    finally:
        await engine.stop()


async def test_an_unknown_order_can_be_cancelled(fake: FakeBinanceExchange) -> None:
    """The trader cancels an order whose outcome is unknown: cancelled at the exchange if it is
    there; remembered as cancelled if it never arrived."""
    engine = await started(fake, ccxt_options=FAST_FINAL, timeout_ms=300)
    try:
        fake.stall_private()
        fake.delay_next_ack(1.0)
        fake.fail_next(1, 503, method="GET", path="/order")
        there = await engine.place(resting_buy())
        fake.fail_next(1, 503, method="POST", path="/order")
        never = await engine.place(resting_buy("0.3"))
        assert there.status is OrderStatus.UNKNOWN and never.status is OrderStatus.UNKNOWN
        fake.stall_private(False)
        cancelled = await engine.cancel_all()
        assert {o.client_order_id for o in cancelled} >= {there.client_order_id, never.client_order_id}
        await wait_status(engine, there.client_order_id, OrderStatus.CANCELLED)
        await wait_for(lambda: order_status(engine, never.client_order_id) is OrderStatus.CANCELLED, 20)
        assert fake.orders[there.client_order_id].status == "canceled"
        assert "cancelled by you" in (engine.oms.orders[never.client_order_id].reason or "")  # type: ignore[union-attr]
        await ledgers_agree(engine, fake)
    finally:
        await engine.stop()


# -- "Duplicate order sent" ----------------------------------------------------------------------


async def test_duplicate_order_sent_with_a_failing_lookup_is_never_rejected(fake: FakeBinanceExchange) -> None:
    """Binance answers -2010 "Duplicate order sent." (our id is on a working order) and the
    lookup fails once. The old adapter marked the live order rejected; cancel all and flatten
    then skipped it."""
    engine = await started(fake)
    try:
        working = FakeOrder(7, "mine-1", "BTC/USDT", "buy", "limit", Decimal("0.2"), Decimal("92"), fake.now_ms)
        fake.orders["mine-1"] = working
        fake.fail_next(1, 503, method="GET", path="/order")
        placed = await engine.place(resting_buy(client_order_id="mine-1"))
        assert placed.status is not OrderStatus.REJECTED, placed.reason
        await wait_status(engine, "mine-1", OrderStatus.ACCEPTED)  # found by client id
        flattened = await engine.flatten()
        assert flattened["cancelled"] >= 1
        await wait_status(engine, "mine-1", OrderStatus.CANCELLED)
        assert fake.orders["mine-1"].status == "canceled" and posts(fake) == 1
    finally:
        await engine.stop()


async def test_a_live_order_we_show_as_rejected_is_corrected_at_start(fake: FakeBinanceExchange, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An order stored as rejected (an ambiguous answer taken as a refusal, before this fix)
    while it works at the exchange: reconcile at start makes it working again, and cancel all
    then reaches it."""
    home = Home(tmp_path / "home")
    engine = await started(fake, home)
    try:
        placed = await engine.place(resting_buy())
        await wait_status(engine, placed.client_order_id, OrderStatus.ACCEPTED)
        order = engine.oms.orders[placed.client_order_id]  # type: ignore[union-attr]
        order.status, order.reason = OrderStatus.REJECTED, "venue: Duplicate order sent."
        await engine.store.save_order(order)  # type: ignore[union-attr]
    finally:
        await engine.stop()
    restarted = await started(fake, home)
    try:
        fixed = restarted.oms.orders[placed.client_order_id]  # type: ignore[union-attr]
        assert fixed.status is OrderStatus.ACCEPTED and "corrected by reconcile" in (fixed.reason or "")
        assert placed.client_order_id in {o.client_order_id for o in restarted.snapshot().open_orders}
        await restarted.cancel_all()
        await wait_status(restarted, placed.client_order_id, OrderStatus.CANCELLED)
        assert fake.orders[placed.client_order_id].status == "canceled"
    finally:
        await restarted.stop()


# -- one stream silent -----------------------------------------------------------------------------


async def test_a_silent_user_data_stream_is_noticed_resubscribed_and_its_fills_recovered(
    fake: FakeBinanceExchange,
) -> None:
    """Only the user data stream goes silent; market data flows, so a venue-wide watchdog stays
    green. The private stream's own watchdog notices (REST shows the order filled, the stream
    said nothing), shows it, resubscribes, and the reconcile that follows finds the fill."""
    engine = await started(fake)
    events: list[Event] = []
    engine.bus.on(events.append, kinds=["connection"])
    seen: set[str] = set()

    def orders_stream_state() -> str:
        v = next(v for v in engine.snapshot().venues if v.name == "binance")
        state = next((s.state for s in v.streams if s.name == "orders"), "")
        seen.add(state)
        return state

    try:
        placed = await engine.place(resting_buy())
        await wait_status(engine, placed.client_order_id, OrderStatus.ACCEPTED)
        fake.stall_private()  # market data keeps flowing
        fake.fill(placed.client_order_id)
        shown: dict[str, str] = {}

        def status_and_metrics_say_silent() -> bool:
            """What `tui-trader status --json` and the metrics endpoint show, as the daemon builds them."""
            venues = to_jsonable(engine.snapshot().venues)
            row = next(s for v in venues if v["name"] == "binance" for s in v["streams"] if s["name"] == "orders")
            if row["state"] == "silent":
                shown["status"] = row["detail"]
            metric = 'tui_trader_stream_up{venue="binance",stream="orders",state="silent"} 0'
            if metric in MetricsCollector(engine).render():
                shown["metrics"] = metric
            orders_stream_state()
            return len(shown) == 2

        await wait_for(status_and_metrics_say_silent)
        assert "owes news of" in shown["status"]
        assert any(
            isinstance(e, ConnectionEvent) and e.state is ConnectionState.DEGRADED and "orders silent" in e.detail
            for e in events
        )
        await wait_status(engine, placed.client_order_id, OrderStatus.FILLED)  # backfilled
        fake.stall_private(False)
        await wait_for(lambda: engine.venues["binance"].state is ConnectionState.CONNECTED)
        assert orders_stream_state() in ("waiting", "live", "quiet")
        await ledgers_agree(engine, fake)
    finally:
        await engine.stop()


@pytest.mark.parametrize(
    ("stream", "muted", "other"),
    [
        ("ticker:BTC/USDT", "btcusdt@ticker", "book:BTC/USDT"),
        ("book:BTC/USDT", "btcusdt@depth@100ms", "ticker:BTC/USDT"),
    ],
)
async def test_one_silent_market_data_stream_is_reconnected_once_then_shown_down(
    fake: FakeBinanceExchange, monkeypatch: pytest.MonkeyPatch, stream: str, muted: str, other: str
) -> None:
    """Binance's ticker stream for BTC/USDT (or its book's diff stream) goes silent while the
    rest flows: that stream alone is judged (twice stall_after_s), the venue reconnects once;
    still silent after it, the stream is shown `down` (a thin market, not a dead socket: no
    reconnect loop) and the venue `degraded`; it is live again, and the venue connected, once
    the exchange speaks. The book's REST snapshot, loaded at each subscribe, is not its stream
    back (it was: live, silent again, reconnected, every 2 x stall_after_s for as long as the
    diff stream said nothing). The stream's row and the venue's line say it was resubscribed
    and nothing came since (they said "reconnecting", which nothing was). The stream back on
    its own is not a reconnect of the venue (it was one, "reconnected after 0 attempt(s)").
    A restarted stream's first message is awaited 2 s here, not 5 (the fake answers at once)."""
    monkeypatch.setattr(streams_module, "FIRST_MESSAGE_S", 2.0)
    engine = await started(fake)
    venue = engine.venues["binance"]
    streams = venue.streams  # type: ignore[attr-defined]
    counters = venue.counters  # type: ignore[attr-defined]

    def shown() -> str:
        v = next(v for v in engine.snapshot().venues if v.name == "binance")
        return next((s.state for s in v.streams if s.name == stream), "")

    said: list[Event] = []
    engine.bus.on(said.append, kinds=["connection"])
    try:
        await wait_for(lambda: shown() == "live" and venue.state is ConnectionState.CONNECTED)
        before, recovered = counters["reconnects"], venue.monitor.reconnects  # type: ignore[attr-defined]
        fake.mute_stream(muted)
        await wait_for(lambda: counters["reconnects"] == before + 1)
        await wait_for(lambda: shown() == "down" and venue.state is ConnectionState.DEGRADED)
        # shown down once the restarted stream's grace ran out: a reconnect loop would reconnect
        # again within a watchdog period (stall_after_s / 4) from here
        await asyncio.sleep(4 * venue.monitor.stall_after_s)  # type: ignore[attr-defined]
        assert counters["reconnects"] == before + 1 and shown() == "down"
        assert streams.state(other) == "live"  # the others flowed on
        # what a trader reads: not "reconnecting" (nothing is), but what is true since
        status = next(v for v in engine.snapshot().venues if v.name == "binance")
        said = next(s.detail for s in status.streams if s.name == stream)
        assert "resubscribed at the reconnect, no live update since" in said and "reconnecting" not in said, said
        assert f"{stream} down" in status.detail and "reconnecting" not in status.detail, status.detail
        fake.mute_stream(muted, False)
        await wait_for(lambda: shown() == "live" and venue.state is ConnectionState.CONNECTED)
        # the book's diff stream speaks again with a gap in its update ids: resynced, once
        assert before + 1 <= counters["reconnects"] <= before + (2 if stream.startswith("book:") else 1)
        # the stream back on its own is no reconnect of the venue: as many as attempts were made
        assert venue.monitor.reconnects - recovered == counters["reconnects"] - before  # type: ignore[attr-defined]
        lines = [e.detail for e in said if isinstance(e, ConnectionEvent)]
        assert not any("after 0 attempt" in line for line in lines), lines
    finally:
        await engine.stop()


# -- the clock -------------------------------------------------------------------------------------


async def test_a_skewed_clock_is_measured_and_orders_go_through(fake: FakeBinanceExchange) -> None:
    """The exchange's clock jumps 30 s ahead: the next signed request gets -1021; the clock is
    measured again and the order is sent once more (it was refused, so nothing was made)."""
    engine = await started(fake)
    try:
        fake.skew_clock(30_000)
        placed = await engine.place(market_buy())
        await wait_status(engine, placed.client_order_id, OrderStatus.FILLED)
        venue = engine.venues["binance"]
        assert venue.clock_offset_ms is not None and abs(venue.clock_offset_ms + 30_000) < 2_000  # type: ignore[attr-defined]
        assert len(fake.orders) == 1
        await ledgers_agree(engine, fake)
    finally:
        await engine.stop()


async def test_a_clock_that_cannot_be_corrected_rejects_the_order_saying_clock(fake: FakeBinanceExchange) -> None:
    """-1021 on an order while the venue's time cannot be read: the order is sent once more
    (a -1021 was refused before matching, nothing was made), refused again, then rejected with
    a reason that starts with "clock" and says nothing was made; it never sits `new`."""
    engine = await started(fake)
    try:
        fake.skew_clock(30_000)
        fake.fail_next(1000, 503, method="GET", path="/time")  # the clock cannot be measured
        placed = await engine.place(market_buy())
        assert placed.status is OrderStatus.REJECTED, placed
        reason = placed.reason or ""
        assert reason.startswith("clock:") and "twice" in reason and "not made" in reason, reason
        assert posts(fake) == 2 and not fake.orders  # sent once more, never made
        fake._http_faults.clear()
        fake.skew_clock(0)
        again = await engine.place(market_buy())  # the clock readable again: it goes through
        await wait_status(engine, again.client_order_id, OrderStatus.FILLED)
        await ledgers_agree(engine, fake)
    finally:
        await engine.stop()


async def test_user_stream_resubscribe_refused_for_the_clock_is_retried(fake: FakeBinanceExchange) -> None:
    """-1021 while the user data stream subscribes again after a drop (the clock cannot be read
    just then): the stream is retried, with the clock measured once it can be, instead of
    staying dead; the venue is never `connected` while the stream is down; an order placed
    after it is back streams its fill."""
    engine = await started(fake)
    events: list[Event] = []
    engine.bus.on(events.append, kinds=["connection", "notice"])
    venue = engine.venues["binance"]
    said_connected_while_down: list[str] = []

    async def watch() -> None:
        while True:
            if venue.streams.state("orders") == "down" and venue.state is ConnectionState.CONNECTED:  # type: ignore[attr-defined]
                said_connected_while_down.append(venue.streams.summary())  # type: ignore[attr-defined]
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    try:
        fake.skew_clock(30_000)
        fake.fail_next(1000, 503, method="GET", path="/time")  # the clock cannot be measured
        await fake.drop_connections()
        await wait_for(lambda: venue.counters["private_resubscribes"] >= 1)  # type: ignore[attr-defined]
        fake._http_faults.clear()  # now it can
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        assert any(isinstance(e, ConnectionEvent) and "clock" in e.detail for e in events), [
            e.detail for e in events if isinstance(e, ConnectionEvent)
        ]
        assert not said_connected_while_down
        await fill_streams_in(engine, fake)
    finally:
        watcher.cancel()
        await engine.stop()



async def test_keys_the_venue_refuses_stop_the_private_streams_once_saying_keys_set(
    fake: FakeBinanceExchange, caplog: pytest.LogCaptureFixture
) -> None:
    """Binance answers the user data stream's signed subscribe with 401 / -2015 (a wrong or
    revoked key), with ccxt's fast request spacing. ccxt's binance loses that answer to a
    `KeyError: 'spot'` of its own and leaves the other private stream waiting for ever; the
    venue still reads it as bad keys: both private streams stop at the first refusal, it is
    `degraded` naming `keys set binance` (no KeyError anywhere), public data flows on, and the
    subscribe is not tried again (it looped on "subscribe refused: KeyError" before)."""
    caplog.set_level(logging.INFO)
    venue = make_venue(fake, key="revoked-key")  # rateLimit 1: ccxt's fast spacing
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: {venue.streams.state("orders"), venue.streams.state("fills")} == {"stopped"})
        await asyncio.sleep(0.8)  # a loop subscribes again every 0.05-0.2 s
        refused = len(fake.ws_api_requests)
        assert 1 <= refused <= 2, fake.ws_api_requests
        assert venue.state is ConnectionState.DEGRADED
        await fake.drop_connections()  # a reconnect does not subscribe them again either
        await wait_for(lambda: venue.counters["reconnects"] >= 1)
        ticks = sum(isinstance(e, TickerEvent) for e in events)
        await wait_for(lambda: sum(isinstance(e, TickerEvent) for e in events) > ticks + 5)
        await asyncio.sleep(0.8)
        assert len(fake.ws_api_requests) == refused and venue.counters["reconnects"] == 1
        assert venue.state is ConnectionState.DEGRADED and "keys set binance" in venue.streams.summary()
    said = [e.detail for e in events if isinstance(e, ConnectionEvent)]
    assert any("authentication failed" in d and "`tui-trader keys set binance`" in d for d in said), said
    assert "KeyError" not in " ".join(said) + caplog.text
    gc.collect()  # ccxt's rejected subscribe marker, nobody awaiting it, is logged when collected
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text  # nothing at ERROR


def test_only_ccxt_futures_nobody_awaited_are_quieted(caplog: pytest.LogCaptureFixture) -> None:
    """The loop's handler takes ccxt's abandoned futures to debug and leaves the rest as they
    were: our own future's exception never retrieved is still an ERROR."""
    from ccxt.async_support.base.ws.future import Future as CcxtFuture

    from tui_trader.venues.ccxt.errors import quiet_abandoned_futures

    loop = asyncio.new_event_loop()
    try:
        quiet_abandoned_futures(loop)
        quiet_abandoned_futures(loop)  # once per loop, however many venues
        theirs, ours = CcxtFuture(loop=loop), loop.create_future()
        theirs.set_exception(RuntimeError("closed: theirs"))
        ours.set_exception(RuntimeError("closed: ours"))
        del theirs, ours
        gc.collect()
    finally:
        loop.close()
    errors = [r.getMessage() + str(r.exc_info) for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "ours" in errors[0], errors


async def test_keys_refused_after_they_worked_are_a_state_retried_not_a_rate_limit(fake: FakeBinanceExchange) -> None:
    """Keys that worked are refused (-2015: revoked, an IP the key does not allow, or a
    temporary ban: ccxt raises it as a DDoSProtection then). Ambiguous, so a state: the user
    data stream is `down` saying so and naming `keys set binance`, subscribed again on its
    backoff, the venue never `connected` meanwhile; an order is rejected as not made, saying
    the same; nothing calls it a rate limit (it said "rate limiting us (HTTP 429)" before).
    Market data flows on meanwhile (each retry was a venue-wide reconnect that paused it).
    When Binance takes the keys again, the stream is back and fills stream in."""
    engine = await started(fake)
    venue = engine.venues["binance"]
    events: list[Event] = []
    engine.bus.on(events.append, kinds=["connection", "notice"])
    quotes: list[Event] = []
    engine.bus.on(quotes.append, kinds=["ticker"])
    try:
        fake.api_key = "another-key"  # ours revoked, or banned for a while
        await fake.drop_connections()
        await wait_for(lambda: "keys set binance`" in venue.streams.summary())  # type: ignore[attr-defined]
        assert venue.state is not ConnectionState.CONNECTED
        refused = await engine.place(resting_buy())
        assert refused.status is OrderStatus.REJECTED and not fake.orders
        assert "not made: binance refused our keys" in (refused.reason or "")
        assert "`tui-trader keys set binance`" in (refused.reason or "")
        # said to the trader too, once the reconnect under way has settled (the stream's state
        # above is set first)
        said = lambda: " ".join(e.detail if isinstance(e, ConnectionEvent) else str(e) for e in events)  # noqa: E731
        await wait_for(lambda: "refused our keys" in said())
        assert "rate limit" not in said() and "429" not in said()
        assert venue.counters["rate_limited"] == 0  # type: ignore[attr-defined]
        # market data flows on while the stream is retried: no venue-wide reconnect for it
        reconnects, tickers = venue.counters["reconnects"], len(quotes)  # type: ignore[attr-defined]
        await asyncio.sleep(1.5)
        assert venue.counters["private_resubscribes"] >= 2  # type: ignore[attr-defined]
        assert venue.counters["reconnects"] == reconnects and len(quotes) > tickers + 20  # type: ignore[attr-defined]
        fake.api_key = API_KEY
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        await fill_streams_in(engine, fake)
    finally:
        await engine.stop()


# -- rate limits -------------------------------------------------------------------------------------


async def test_retry_after_is_honoured(fake: FakeBinanceExchange) -> None:
    """A 429 with Retry-After 1.5 on the order: refused, so nothing was made; sent once more
    no sooner than Retry-After says."""
    engine = await started(fake)
    try:
        fake.fail_next(1, 429, method="POST", path="/order", retry_after=1.5)
        placed = await engine.place(market_buy())
        await wait_status(engine, placed.client_order_id, OrderStatus.FILLED)
        sent = [t for t, m, p in fake.request_times if m == "POST" and p == "/order"]
        assert len(sent) == 2 and sent[1] - sent[0] >= 1.45
        await ledgers_agree(engine, fake)
    finally:
        await engine.stop()


async def test_a_ban_refuses_orders_and_says_for_how_long(fake: FakeBinanceExchange) -> None:
    """A 418 (our IP banned) with Retry-After 60: the order is refused, not sent, with how long
    and until when; nothing else goes to the exchange meanwhile; the status says so."""
    engine = await started(fake)
    notices: list[Event] = []
    engine.bus.on(notices.append, kinds=["notice"])
    try:
        fake.fail_next(1, 418, method="POST", path="/order", retry_after=60)
        refused = await engine.place(market_buy())
        assert refused.status is OrderStatus.REJECTED
        reason = refused.reason or ""
        assert "banned" in reason and "60s" in reason and "until" in reason
        again = await engine.place(market_buy())  # refused at once, not sent
        assert again.status is OrderStatus.REJECTED and "not sent" in (again.reason or "")
        before = len(fake.requests)
        await asyncio.sleep(1.0)
        assert posts(fake) == 1 and len(fake.requests) == before
        status = next(v for v in engine.snapshot().venues if v.name == "binance")
        assert "banned" in status.rate_limited and "until" in status.rate_limited
        assert any(isinstance(n, NoticeEvent) and "banned" in n.message for n in notices)
        assert not fake.orders
    finally:
        await engine.stop()
