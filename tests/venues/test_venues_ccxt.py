"""The ccxt adapter against a loopback fake Binance: real ccxt.pro clients, injected faults.
Waits are the harness's bound (`wait_for`'s 20 s): an upper limit on a condition that normally
holds within a poll or two, never a sleep; a shorter one failed a correct adapter on a loaded
machine."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from tui_trader.core.enums import ConnectionState, OrderStatus, Side
from tui_trader.core.events import ConnectionEvent, Event, NoticeEvent, TickerEvent, TradeEvent
from tui_trader.venues.ccxt import exchanges

from fakes.venue_harness import (
    buy,
    duplicate_and_reordered_fills_count_once,
    fills_lost_in_a_drop_are_reconciled,
    fills_match,
    limit_buy,
    live_orders_wait_for_arming,
    make_venue,
    rate_limit_backs_off_then_reject,
    streaming,
    timed_out_submit_is_found_by_client_id,
    trading,
    wait_for,
    wait_status,
    what_it_says,
)


async def test_markets_become_decimal_instruments(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake)
    async with streaming(venue):
        inst = (await venue.load_markets())["BTC/USDT"]
        assert inst.tick_size == Decimal("0.01") and inst.lot_size == Decimal("0.00001")
        assert inst.min_notional == Decimal("5.0") and inst.quote == "USDT"


async def test_streams_ticker_and_trades_then_orders_fill_through_the_engine(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake)
    async with trading(venue) as engine:
        await wait_for(lambda: engine.ticker("BTC/USDT") is not None)
        order = await engine.place(buy("binance"))
        await wait_status(engine, order.client_order_id, OrderStatus.FILLED)
        await fills_match(engine, fake)
        assert engine.portfolio.positions[("binance", "BTC/USDT")].quantity == Decimal("0.2")
        assert len(fake.orders) == 1 and fake.orders[order.client_order_id].side == "buy"


async def test_drop_reconnects_with_attempts_and_reconciles_missed_fills(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake)
    async with trading(venue) as engine:
        # reconciliation after reconnect applied the lost fill
        await fills_lost_in_a_drop_are_reconciled(engine, fake, limit_buy("binance", "97"), [None])


async def test_quiet_private_streams_are_back_at_the_reconcile_after_a_drop(fake) -> None:  # type: ignore[no-untyped-def]
    """No order, so orders and fills have nothing to say, before the drop or after it: they are
    back (one reconnect each in `status --json`) once the engine has reconciled the venue after
    the reconnect, its authenticated read-back of what they missed; they counted at their
    first message, which a quiet account may not send for hours."""
    venue = make_venue(fake)
    async with trading(venue) as engine:
        private = lambda: {r.name: r for r in venue.streams.rows() if r.private}  # noqa: E731
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and len(private()) == 2)
        await fake.drop_connections()
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects == 1)
        await wait_for(lambda: engine.reconciler.last.get("binance") is not None)
        await wait_for(lambda: all(r.reconnects == 1 for r in private().values()))
        rows = private()
        assert {r.state for r in rows.values()} == {"waiting"} and not fake.orders
        assert all(r.last_message_age is None and "read back" in r.detail for r in rows.values()), rows


async def test_an_outage_shows_the_private_streams_down_then_back_at_the_reconcile(fake) -> None:  # type: ignore[no-untyped-def]
    """The exchange refuses the sockets for several attempts, then takes them; no order, so
    orders and fills have nothing to say. While the venue reconnects they are `down` with
    every other stream, the venue's line naming them (they said `waiting`, subscribed, while
    nothing was: an outage read as a quiet account); one outage is one reconnect; they are
    back (one reconnect each) at the reconcile after it, not before."""
    venue = make_venue(fake)
    async with trading(venue) as engine:
        private = lambda: {r.name: r for r in venue.streams.rows() if r.private}  # noqa: E731
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and len(private()) == 2)
        seen = what_it_says(venue)
        fake.refuse_connections()
        await fake.drop_connections()
        await wait_for(lambda: venue.monitor.attempt >= 3)
        (line,) = [v.detail for v in engine.snapshot().venues]
        assert {r.state for r in private().values()} == {"down"}, private()
        assert "orders" in line and "fills" in line and line.endswith(" down"), line  # named, here or in the why
        fake.refuse_connections(False)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects == 1)
        down = [rows for state, _, rows in seen if state == "reconnecting"]
        assert len(down) >= 3 and all(rows["orders"] == rows["fills"] == "down" for rows in down), seen
        assert [state for state, _, _ in seen].count("connected") == 1, seen  # one outage, one reconnect
        assert "degraded" not in [state for state, _, _ in seen], seen
        await wait_for(lambda: engine.reconciler.last.get("binance") is not None)
        await wait_for(lambda: all(r.reconnects == 1 for r in private().values()))
        assert {r.state for r in private().values()} == {"waiting"} and not fake.orders


async def test_silent_stall_is_detected_and_recovered(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake)
    states: list[ConnectionEvent] = []
    await venue.connect(lambda e: states.append(e) if isinstance(e, ConnectionEvent) else None)
    await venue.subscribe(["BTC/USDT"])
    try:
        await wait_for(lambda: venue.monitor.last_message is not None)
        stalled_at = time.monotonic()
        fake.stall()
        await wait_for(lambda: venue.state is not ConnectionState.CONNECTED)
        assert any(e.state is ConnectionState.DEGRADED and "stalled" in e.detail for e in states)
        fake.stall(False)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects >= 1)
        # the recovery is measured, and within the stall (its length is the machine's: bench/)
        assert venue.monitor.recovery_times
        assert 0 < venue.monitor.recovery_times[-1] <= time.monotonic() - stalled_at
    finally:
        await venue.close()



async def test_a_frozen_process_is_not_taken_for_the_exchanges_silence(fake) -> None:  # type: ignore[no-untyped-def]
    """Our own process does not run for longer than the stall window (a loaded machine, a laptop
    waking): what the exchange sent meanwhile waits in the socket. It is read, and the venue
    stays connected (the watchdog woke first and called our freeze a stall: a reconnect, and
    the fills on their way read back over REST instead, as a loaded CI machine showed)."""
    venue = make_venue(fake)
    async with streaming(venue, ["BTC/USDT"]):
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.last_message is not None)
        seen = what_it_says(venue)
        time.sleep(1.5 * venue.monitor.stall_after_s)  # the whole process frozen, the fake with it
        await asyncio.sleep(venue.monitor.stall_after_s)  # the watchdog's checks after the thaw
        assert venue.counters["reconnects"] == 0 and not seen, seen

async def test_duplicate_and_out_of_order_fills_count_once(fake) -> None:  # type: ignore[no-untyped-def]
    async with trading(make_venue(fake)) as engine:
        await duplicate_and_reordered_fills_count_once(engine, fake, buy("binance", "0.4"))


async def test_timed_out_submit_is_found_by_client_id_not_sent_twice(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake, timeout_ms=300)
    async with trading(venue) as engine:
        await timed_out_submit_is_found_by_client_id(engine, venue, fake, limit_buy("binance", "97"))


async def test_rate_limit_backs_off_and_reject_has_a_reason(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake)
    async with trading(venue) as engine:
        first, second = (limit_buy("binance", "97"), limit_buy("binance", "96"))
        rejected = await rate_limit_backs_off_then_reject(engine, venue, fake, first, second, limited=2)
        assert "insufficient balance" in (rejected.reason or "")


async def test_malformed_messages_do_not_lose_the_stream(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake)
    tickers: list[TickerEvent] = []
    await venue.connect(lambda e: tickers.append(e) if isinstance(e, TickerEvent) else None)
    await venue.subscribe(["BTC/USDT"])
    try:
        await wait_for(lambda: len(tickers) > 2)
        fake.send_malformed(3)
        seen = len(tickers)
        await wait_for(lambda: len(tickers) > seen + 5)
    finally:
        await venue.close()


async def test_unknown_venue_order_is_imported_and_flagged_at_start(fake) -> None:  # type: ignore[no-untyped-def]
    # an order placed from the exchange's own website before we started
    from fakes.fake_market import FakeOrder

    fake.orders["web-1"] = FakeOrder(
        1, "web-1", "BTC/USDT", "sell", "limit", Decimal("0.5"), Decimal("500"), fake.now_ms
    )
    async with trading(make_venue(fake)) as engine:
        imported = engine.oms.orders["web-1"]  # type: ignore[union-attr]
        assert imported.meta.get("external") is True and imported.side is Side.SELL


async def test_live_venue_rejects_orders_until_armed(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake, sandbox=False)
    assert venue.is_live
    async with trading(venue) as engine:
        await live_orders_wait_for_arming(engine, fake, buy("binance"))


async def test_trades_missed_in_a_stall_are_backfilled_once_whatever_their_ids(fake) -> None:  # type: ignore[no-untyped-def]
    """Trade ids are compared as ids, not strings: "1000" comes after "57"."""
    import itertools

    from tui_trader.core.events import TradeEvent

    venue = make_venue(fake)
    prints: list[int] = []

    def on_event(e: Event) -> None:
        if isinstance(e, TradeEvent) and e.trade.symbol == "BTC/USDT":
            prints.append(int(e.trade.ts.timestamp() * 1000))

    await venue.connect(on_event)
    await venue.subscribe(["BTC/USDT"])
    try:
        await wait_for(lambda: len(prints) >= 2)
        fake.stall()
        fake.public_trade_ids = itertools.count(1000)  # two-digit ids so far, four-digit now
        stalled_from = fake.now_ms
        await wait_for(lambda: venue.state is not ConnectionState.CONNECTED)
        fake.stall(False)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects >= 1)
        missed = [t["time"] for t in fake.public_trades["BTC/USDT"] if t["id"] >= 1000 and t["time"] > stalled_from]
        await wait_for(lambda: set(missed) <= set(prints))
        assert len(prints) == len(set(prints))  # none twice
    finally:
        await venue.close()


async def _stalled_and_back(fake, venue, events: list[Event], *, burst: int = 0) -> int:  # type: ignore[no-untyped-def]
    """Connected and printing, then a stall of ~30 prints (and `burst` more, 1 ms apart: a busy
    market), then back: when the stall began."""
    await venue.connect(events.append)
    await venue.subscribe(["BTC/USDT"])
    await wait_for(lambda: sum(isinstance(e, TradeEvent) for e in events) >= 2)
    fake.stall()
    stalled_from = fake.now_ms
    await wait_for(lambda: venue.state is not ConnectionState.CONNECTED)
    tape = fake.public_trades["BTC/USDT"]
    price = tape[-1]["price"]
    tape += [{"id": next(fake.public_trade_ids), "price": price, "qty": "0.1", "time": stalled_from + 1 + i,
              "side": "buy"} for i in range(burst)]  # fmt: skip
    tape.sort(key=lambda t: t["time"])
    await wait_for(lambda: sum(t["time"] > stalled_from for t in tape) >= burst + 30)
    fake.stall(False)
    await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects >= 1)
    return stalled_from


async def test_a_gap_of_more_prints_than_a_page_is_read_back_page_after_page(fake) -> None:  # type: ignore[no-untyped-def]
    """Binance answers aggTrades from `startTime` on, 500 a page by default (1000 at most): a gap
    of 700 prints and more is read page after page from its start until the prints streamed
    since, each once (it read one page: the rest of the gap was a silent hole in the tape)."""
    venue = make_venue(fake)
    events: list[Event] = []
    try:
        stalled_from = await _stalled_and_back(fake, venue, events, burst=700)
        missed = {t["time"] for t in fake.public_trades["BTC/USDT"] if t["time"] > stalled_from}

        def printed() -> list[int]:
            return [int(e.trade.ts.timestamp() * 1000) for e in events if isinstance(e, TradeEvent)]

        await wait_for(lambda: missed <= set(printed()))
        shown = [t for t in printed() if t > stalled_from]
        made = [t["time"] for t in fake.public_trades["BTC/USDT"] if stalled_from < t["time"] <= max(shown)]
        assert len(made) > 700 and sorted(shown) == sorted(made)  # two pages and more; each print once
        assert list(venue.holes) == []
    finally:
        await venue.close()


async def test_a_gap_longer_than_the_pages_read_back_says_the_rest_is_missing(fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The pages run out before the present (one page of 10 here): the rest of the gap is said, a
    notice and a hole from the last print read back."""
    monkeypatch.setattr(exchanges, "BACKFILL_LIMIT", 10)
    monkeypatch.setattr(exchanges, "BACKFILL_PAGES", 1)
    venue = make_venue(fake)
    events: list[Event] = []
    try:
        stalled_from = await _stalled_and_back(fake, venue, events)
        await wait_for(lambda: len(venue.holes) == 1)
        (hole,) = venue.holes
        assert hole.tail and hole.what == "trades" and stalled_from - 100 <= hole.start_ms < hole.end_ms
        shown = {int(e.trade.ts.timestamp() * 1000) for e in events if isinstance(e, TradeEvent)}
        assert hole.start_ms in shown  # from the last print read back
        notices = [e.message for e in events if isinstance(e, NoticeEvent)]
        assert any("did not reach them (a page limit)" in m and m.startswith("BTC/USDT trades from") for m in notices)
    finally:
        await venue.close()
