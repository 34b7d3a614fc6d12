"""The Alpaca adapter against a loopback fake Alpaca: real alpaca-py clients, injected faults."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from decimal import Decimal
from typing import Any

from tui_trader.config import Settings
from tui_trader.core.clock import SystemClock
from tui_trader.core.enums import AssetClass, ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.events import CandleEvent, ConnectionEvent, Event, TickerEvent
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.secrets import Credentials
from tui_trader.venues.alpaca.venue import AlpacaVenue
from tui_trader.venues.resilience import Backoff

from fakes.alpaca_exchange import FakeAlpaca, alpaca_order
from fakes.venue_harness import wait_for, what_it_says

KEY, SECRET = "test-key", "test-secret-value"


def make_venue(fake: FakeAlpaca, *, key: str = KEY, secret: str = SECRET, timeout: float = 2.0,
               **extra: Any) -> AlpacaVenue:
    return AlpacaVenue(
        "alpaca", fake.venue_settings(**extra), SystemClock(), credentials=Credentials(key, secret),
        backoff=Backoff(0.05, 0.2, rng=random.Random(1)), order_rate=50, rest_timeout_s=timeout,
    )


async def started(venue: AlpacaVenue) -> Engine:
    engine = Engine(Settings(), None, in_memory=True, venues={"alpaca": venue})
    await engine.start()
    await wait_for(lambda: None not in (engine.ticker("AAPL"), engine.ticker("BTC/USD")))  # market orders need a mid
    return engine


def req(symbol: str = "AAPL", qty: str = "2", **kw: Any) -> OrderRequest:
    return OrderRequest(symbol, kw.pop("side", Side.BUY), Decimal(qty), venue="alpaca", **kw)


def status(engine: Engine, cid: str) -> OrderStatus:
    return engine.oms.orders[cid].status  # type: ignore[union-attr]


async def fills_match(engine: Engine, fake: FakeAlpaca) -> None:
    """Every execution the fake made is in our store exactly once: none lost, none doubled."""
    assert engine.store is not None and engine.oms is not None
    expected = sorted(f.execution_id for f in fake.fills)
    await wait_for(lambda: len(engine.fills) >= len(expected))
    stored: list[str] = []
    for _ in range(100):  # a reconciliation task may still be writing its fill
        await engine.oms.flush()
        stored = sorted(f.fill_id for f in await engine.store.load_fills(limit=10_000))
        if stored == expected:
            break
        await asyncio.sleep(0.02)
    assert stored == expected
    assert sorted(f.fill_id for f in engine.fills) == expected


async def test_assets_become_instruments_with_fractional_lots(alpaca) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(alpaca)
    await venue.connect(lambda e: None)
    try:
        insts = await venue.load_markets()
        aapl, brk, btc = insts["AAPL"], insts["BRK.A"], insts["BTC/USD"]
        assert aapl.fractional and aapl.lot_size == Decimal("0.000000001") and not aapl.always_open
        assert not brk.fractional and brk.lot_size == Decimal(1)
        assert btc.asset_class is AssetClass.CRYPTO and btc.always_open and btc.min_qty == Decimal("0.0001")
        assert aapl.tick_size == Decimal("0.01") and aapl.quote == "USD"
        candles = await venue.fetch_candles("AAPL", "1m", limit=5)
        assert candles and all(c.closed for c in candles[:-1]) and candles[0].timeframe == "1m"
        assert (await venue.fetch_balances())["USD"].total == Decimal("100000")
    finally:
        await venue.close()


async def test_quotes_stream_and_a_market_order_fills_once(alpaca) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(alpaca)
    engine = await started(venue)
    try:
        await wait_for(lambda: engine.ticker("AAPL") is not None and engine.book("AAPL") is not None)
        t = engine.ticker("AAPL")
        assert t.venue == "alpaca" and 150 < t.bid < t.ask < 250
        assert engine.book("AAPL").best_ask == t.ask
        alpaca.duplicate_fills()
        alpaca.reorder_fills()
        # trade_updates listening at Alpaca (a loaded machine placed the order before it was: its
        # fills were read over REST, none streamed to be seen twice)
        await wait_for(lambda: venue._ready >= set(venue._streams) and alpaca.listening() == 1)
        order = await engine.place(req(qty="2"))
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED)
        await fills_match(engine, alpaca)
        assert len(alpaca.fills) == 2 and venue.counters["duplicate_fills"] >= 1
        assert engine.portfolio.positions[("alpaca", "AAPL")].quantity == Decimal(2)
        assert list(alpaca.orders) == [order.client_order_id]  # our client id went through
    finally:
        await engine.stop()



async def test_a_frozen_process_is_not_taken_for_alpacas_silence(alpaca) -> None:  # type: ignore[no-untyped-def]
    """Our own process does not run for longer than the stall window: the quotes sent meanwhile
    wait in the sockets; they are read and nothing reconnects (the watchdog called our freeze a
    stall: under load the market order's streamed fills were lost in the reconnect)."""
    venue = make_venue(alpaca)
    engine = await started(venue)
    try:
        await wait_for(lambda: venue._ready >= set(venue._streams) and venue.state is ConnectionState.CONNECTED)
        seen = what_it_says(venue)
        time.sleep(1.5 * venue.monitor.stall_after_s)  # the whole process frozen, the fake with it
        await asyncio.sleep(venue.monitor.stall_after_s)  # the watchdog's checks after the thaw
        assert venue.counters["reconnects"] == 0 and not seen, seen
    finally:
        await engine.stop()

async def test_fractional_shares_go_out_as_day_orders(alpaca) -> None:  # type: ignore[no-untyped-def]
    engine = await started(make_venue(alpaca))
    try:
        order = await engine.place(req(qty="0.123456789"))
        assert order.status is not OrderStatus.REJECTED, order.reason
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED)
        sent = alpaca.orders[order.client_order_id]
        assert sent.qty == Decimal("0.123456789") and sent.time_in_force == "day"
        whole_only = await engine.place(req("BRK.A", "0.5"))
        assert whole_only.status is OrderStatus.REJECTED and "lot size 1" in (whole_only.reason or "")
        await fills_match(engine, alpaca)
    finally:
        await engine.stop()


async def test_market_closed_refuses_market_orders_with_a_reason(alpaca) -> None:  # type: ignore[no-untyped-def]
    alpaca.set_market(False)
    engine = await started(make_venue(alpaca))
    try:
        refused = await engine.place(req())
        assert refused.status is OrderStatus.REJECTED and "closed" in (refused.reason or "")
        assert not alpaca.orders
        crypto = await engine.place(req("BTC/USD", "0.01"))  # crypto trades around the clock
        await wait_for(lambda: status(engine, crypto.client_order_id) is OrderStatus.FILLED)
    finally:
        await engine.stop()


async def test_extended_hours_sends_limit_orders_only(alpaca) -> None:  # type: ignore[no-untyped-def]
    alpaca.set_market(False)
    engine = await started(make_venue(alpaca, extended_hours=True))
    try:
        await wait_for(lambda: engine.ticker("AAPL") is not None)
        market = await engine.place(req())
        assert market.status is OrderStatus.REJECTED
        assert "outside regular hours" in (market.reason or "") and "limit" in (market.reason or "")
        limit = await engine.place(req(type=OrderType.LIMIT, price=Decimal("180")))
        await wait_for(lambda: status(engine, limit.client_order_id) is OrderStatus.ACCEPTED)
        sent = alpaca.orders[limit.client_order_id]
        assert sent.extended_hours and sent.time_in_force == "day" and sent.type == "limit"
        assert list(alpaca.orders) == [limit.client_order_id]
    finally:
        await engine.stop()


async def test_cancel_by_venue_id(alpaca) -> None:  # type: ignore[no-untyped-def]
    engine = await started(make_venue(alpaca))
    try:
        order = await engine.place(req(type=OrderType.LIMIT, price=Decimal("180")))
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        await engine.cancel(order.client_order_id)
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.CANCELLED)
        assert alpaca.orders[order.client_order_id].status == "canceled"
    finally:
        await engine.stop()


async def test_modify_cancels_and_replaces_under_a_new_client_id(alpaca) -> None:  # type: ignore[no-untyped-def]
    engine = await started(make_venue(alpaca))
    try:
        assert not engine.venues["alpaca"].capabilities.amend
        order = await engine.place(req(type=OrderType.LIMIT, price=Decimal("180")))
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        new = await engine.modify(order.client_order_id, price=Decimal("181"), quantity=Decimal("3"))
        assert new.meta["replaces"] == order.client_order_id and new.client_order_id != order.client_order_id
        assert alpaca.orders[order.client_order_id].status == "canceled"
        await wait_for(lambda: new.client_order_id in alpaca.orders)
        replacement = alpaca.orders[new.client_order_id]
        assert (Decimal(str(replacement.limit_price)), Decimal(str(replacement.qty))) == (Decimal(181), Decimal(3))
    finally:
        await engine.stop()


async def test_order_sent_while_disconnected_is_reconciled_by_client_id(alpaca) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(alpaca, timeout=0.4)
    engine = await started(venue)
    events: list[Event] = []
    engine.bus.on(events.append, kinds=["connection"])
    try:
        alpaca.refuse_connections()
        await alpaca.drop_connections()
        await wait_for(lambda: venue.state is ConnectionState.RECONNECTING)
        alpaca.delay_next_ack(1.0)  # the submit times out: the adapter must ask before resending
        order = await engine.place(req(type=OrderType.LIMIT, price=Decimal("195")))  # crosses: fills
        await wait_for(lambda: status(engine, order.client_order_id) is not OrderStatus.NEW)
        assert venue.counters["found_by_client_id"] == 1 and alpaca.duplicate_submissions == 0
        assert alpaca.fills  # filled at the exchange while our trade_updates socket was down
        alpaca.refuse_connections(False)
        await wait_for(lambda: any(
            isinstance(e, ConnectionEvent) and e.state is ConnectionState.CONNECTED and e.attempt > 0
            for e in events
        ))
        await fills_match(engine, alpaca)  # reconciliation after the reconnect applied it once
        assert status(engine, order.client_order_id) is OrderStatus.FILLED
        assert list(alpaca.orders) == [order.client_order_id]
    finally:
        await engine.stop()


async def test_an_outage_is_one_reconnect_every_socket_down_then_trade_updates_back_at_listening(alpaca) -> None:  # type: ignore[no-untyped-def]
    """Alpaca refuses the sockets for several attempts, then takes them; no order, so
    trade_updates has nothing to say. While the venue reconnects every stream is `down`
    (stocks and crypto said `waiting`, subscribed, and trade_updates too at times, while their
    sockets were refused), the venue's line naming them; one outage is one reconnect; and
    trade_updates is back (its row's one reconnect) at Alpaca's answer to "listen", without a
    trade update (it counted only at its first one)."""
    venue = make_venue(alpaca)
    engine = await started(venue)
    seen = what_it_says(venue)
    try:
        alpaca.refuse_connections()
        await alpaca.drop_connections()
        await wait_for(lambda: venue.monitor.attempt >= 3)
        (line,) = [v.detail for v in engine.snapshot().venues]
        # each socket named once: the one whose failure the venue said, then the others down
        assert all(name in line for name in ("trade_updates", "stocks", "crypto")) and " down" in line, line
        alpaca.refuse_connections(False)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects == 1)
        down = [rows for state, _, rows in seen if state == "reconnecting"]
        assert down and all(set(rows.values()) == {"down"} for rows in down), seen
        assert [state for state, _, _ in seen].count("connected") == 1, seen  # one outage, one reconnect
        trading = next(r for r in venue.streams.rows() if r.name == "trade_updates")
        await wait_for(lambda: next(r for r in venue.streams.rows() if r.name == "trade_updates").reconnects == 1)
        assert trading.last_message_age is None and not alpaca.orders
    finally:
        await engine.stop()


async def test_the_venue_names_its_private_socket_trade_updates_as_its_row_does(alpaca) -> None:  # type: ignore[no-untyped-def]
    """What the venue says of its private socket uses Alpaca's name for it, `trade_updates`, as
    its row in `status` does: a drop's reason and a login refused after it (the keys revoked)
    said "trading: ..." and "trading stream stopped", a name no row has."""
    venue = make_venue(alpaca)
    engine = await started(venue)
    seen = what_it_says(venue)
    try:
        alpaca.api_key, alpaca.secret = "revoked-key", "revoked-secret"
        await alpaca.drop_connections()
        await wait_for(lambda: venue.streams.state("trade_updates") == "stopped")
        said = [detail for _, detail, _ in seen]
        reasons = [detail for state, detail, _ in seen if state == "reconnecting"]
        assert all(r.split(":")[0] in ("trade_updates", "stocks", "crypto") for r in reasons), said
        assert any(d.startswith("trade_updates stream stopped: authentication failed") for d in said), said
        assert not any("trading" in d for d in said), said
        (row,) = [r for r in venue.streams.rows() if r.private]
        assert row.name == "trade_updates" and "venue reconnect alpaca" in row.detail
    finally:
        await engine.stop()


async def test_silent_stall_is_detected_and_recovered(alpaca) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(alpaca)
    states: list[ConnectionEvent] = []
    await venue.connect(lambda e: states.append(e) if isinstance(e, ConnectionEvent) else None)
    await venue.subscribe(["AAPL", "BTC/USD"])
    try:
        await wait_for(lambda: venue.monitor.last_message is not None)
        alpaca.stall()
        await wait_for(lambda: venue.state is not ConnectionState.CONNECTED)
        assert any(e.state is ConnectionState.DEGRADED and "stalled" in e.detail for e in states)
        alpaca.stall(False)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects >= 1)
    finally:
        await venue.close()


async def test_fill_dropped_by_a_server_still_silent_after_reconnect_is_reconciled(alpaca) -> None:  # type: ignore[no-untyped-def]
    """Found by the soak: a reconnect whose handshake succeeds while the server still sends
    nothing counted as recovered, so its reconcile ran too early and a fill the server dropped
    next was missing until some later reconnect. Recovered now means data flows again."""
    venue = make_venue(alpaca)
    engine = await started(venue)
    try:
        order = await engine.place(req(type=OrderType.LIMIT, price=Decimal("180")))  # rests
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        alpaca.stall()
        # the watchdog notices, reconnects; every socket's handshake is answered (the stall
        # mutes pushes only), so the adapter is back up while the server is still silent
        await wait_for(lambda: venue.counters["reconnects"] >= 1 and venue._ready >= set(venue._streams))
        await asyncio.sleep(0.1)  # a reconcile started by that reconnect has fetched its fills
        alpaca.fill(order.client_order_id)  # its trade update is lost on the wire
        alpaca.stall(False)  # data flows again well before another stall could be noticed
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED)
        await fills_match(engine, alpaca)
    finally:
        await engine.stop()


async def test_malformed_frames_are_skipped_and_the_stream_goes_on(alpaca) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(alpaca)
    tickers: list[TickerEvent] = []
    await venue.connect(lambda e: tickers.append(e) if isinstance(e, TickerEvent) else None)
    await venue.subscribe(["AAPL"])
    try:
        await wait_for(lambda: len(tickers) > 2)
        alpaca.send_malformed(3)
        await wait_for(lambda: venue.counters["malformed"] >= 3)
        seen = len(tickers)
        await wait_for(lambda: len(tickers) > seen + 5)
        assert venue.monitor.reconnects == 0  # skipped in place, no reconnect needed
    finally:
        await venue.close()


async def test_rate_limit_backs_off_and_a_reject_has_the_reason(alpaca) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(alpaca)
    engine = await started(venue)
    try:
        alpaca.fail_next(2, status=429)
        order = await engine.place(req(type=OrderType.LIMIT, price=Decimal("180")))
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        assert venue.counters["rate_limited"] >= 1 and len(alpaca.orders) == 1
        alpaca.reject_next()
        rejected = await engine.place(req(type=OrderType.LIMIT, price=Decimal("181")))
        assert rejected.status is OrderStatus.REJECTED and "insufficient buying power" in (rejected.reason or "")
    finally:
        await engine.stop()


async def test_unknown_open_order_is_imported_and_flagged_at_start(alpaca) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    alpaca.orders["web-1"] = alpaca_order(
        "7b0c2f5e-0000-4000-8000-000000000001", "web-1", "MSFT", "sell", "limit", Decimal("3"),
        Decimal("500"), None, "gtc", False, False, datetime.now(UTC),
    )
    engine = await started(make_venue(alpaca))
    try:
        imported = engine.oms.orders["web-1"]  # type: ignore[union-attr]
        assert imported.meta.get("external") is True and imported.side is Side.SELL
        assert imported.quantity == Decimal(3) and imported.price == Decimal("500")
    finally:
        await engine.stop()


async def test_live_account_needs_arming(alpaca) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(alpaca, paper=False)
    assert venue.is_live
    engine = await started(venue)
    try:
        refused = await engine.place(req())
        assert refused.status is OrderStatus.REJECTED and "not armed" in (refused.reason or "")
        assert not alpaca.orders
    finally:
        await engine.stop()


def test_engine_import_leaves_alpaca_unloaded() -> None:
    code = "import sys, tui_trader.engine, tui_trader.venues.alpaca; print('alpaca' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_stocks_held_from_before_and_a_margin_loan_are_in_the_cash_read_once(alpaca) -> None:  # type: ignore[no-untyped-def]
    """10 AAPL bought in Alpaca's app before tui_trader, on a margin account that borrowed 500:
    the cash read is the cash and the positions at Alpaca's value (its equity) less the value
    of the part the engine holds itself. Before, the cash alone was read: -500, the stocks left
    out, so the equity was negative until the engine bought something. The shares are not money
    to pay with: an order is checked against the cash alone."""
    from datetime import UTC, datetime

    from fakes.alpaca_exchange import AlpacaFill

    alpaca.price_step = lambda symbol: Decimal(0)  # prices still: exact values
    price = alpaca.prices["AAPL"]
    app = alpaca_order("app-1", "placed-in-the-app", "AAPL", "buy", "market", Decimal(10), None, None, "day",
                       False, False, datetime(2026, 1, 2, tzinfo=UTC))  # fmt: skip
    alpaca.fills.append(AlpacaFill("app-fill-1", app, Decimal(10), price, app.time_ms))
    alpaca.cash = Decimal(-500)
    engine = await started(make_venue(alpaca))
    try:
        def cash() -> Decimal:
            return engine.portfolio.venue_cash["alpaca"]["USD"]

        assert cash() == 10 * price - 500
        # the shares are worth, not money to pay with: 500 borrowed, nothing is free to buy with
        refused = await engine.place(req(qty="2"))
        assert refused.status is OrderStatus.REJECTED and "alpaca has 0.00 USD free" in refused.reason, refused.reason
        alpaca.cash += 2000  # a deposit
        assert await engine.reconciler.cash.reread("alpaca", "a test") == {"USD": (10 * price - 500, 10 * price + 1500)}
        order = await engine.place(req(qty="2"))
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED)
        assert cash() == 10 * price + 1500 - 2 * alpaca.fills[-1].price
        assert await engine.reconciler.cash.reread("alpaca", "a test") == {}
        assert engine.portfolio.position("alpaca", "AAPL").quantity == 2  # the 10 are not ours to trade
    finally:
        await engine.stop()


def _closed_bars(events: list[Event], symbol: str) -> list[Any]:
    return [e.candle.open_time for e in events
            if isinstance(e, CandleEvent) and e.candle.closed and e.candle.symbol == symbol]  # fmt: skip


async def test_bars_missed_in_an_outage_come_before_the_live_ones_held_meanwhile(alpaca) -> None:  # type: ignore[no-untyped-def]
    """After a drop, the minute bars missed since the outage began are read back over REST, and
    a live bar that came meanwhile follows them: a strategy never reads a new bar with the gap
    still open before it. Before, the live bar went on at once and the gap's bars came after
    it (each out of order); and the gap was read from the newest live bar, so a live bar that
    beat the backfill left the gap unread for good."""
    from datetime import UTC, datetime, timedelta

    venue = make_venue(alpaca, candles=["1m"])
    events: list[Event] = []
    await venue.connect(events.append)
    try:
        minute = datetime.now(UTC).replace(second=0, microsecond=0)
        venue._last_bar["BTC/USD"] = minute - timedelta(minutes=10)  # type: ignore[attr-defined]
        venue._gap_from = dict(venue._last_bar)  # type: ignore[attr-defined]  # as the outage began
        venue._held_bars = {"BTC/USD": []}  # type: ignore[attr-defined]
        ohlc = {k: 1.0 for k in ("open", "high", "low", "close", "volume", "trade_count", "vwap")}
        live = type("Bar", (), {"symbol": "BTC/USD", "timestamp": minute - timedelta(minutes=1), **ohlc})
        before = len(_closed_bars(events, "BTC/USD"))
        await venue._on_bar(live)  # type: ignore[attr-defined]
        assert len(_closed_bars(events, "BTC/USD")) == before  # held
        await venue._backfill()  # type: ignore[attr-defined]
        bars = _closed_bars(events, "BTC/USD")[before:]
        assert bars == [minute - timedelta(minutes=m) for m in range(9, 0, -1)], bars  # whole, in order, once
        assert not venue.holes
    finally:
        await venue.close()


async def test_bars_the_history_cannot_give_back_after_an_outage_are_a_hole_said(alpaca, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The bars' REST read fails after a reconnect: the span is kept as a hole (a strategy reads
    no signal from a window with it) and said in a notice, the live bars go on. Before, the
    failure was a log line in a background task and the gap a silent one."""
    from datetime import UTC, datetime, timedelta

    from tui_trader.core.events import NoticeEvent
    from tui_trader.venues.base import VenueError

    venue = make_venue(alpaca, candles=["1m"])
    events: list[Event] = []
    await venue.connect(events.append)
    try:
        await venue.subscribe(["BTC/USD"])
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        venue._last_bar["BTC/USD"] = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)  # type: ignore[attr-defined]

        async def unreadable(*args: Any, **kwargs: Any) -> Any:
            raise VenueError("alpaca: fetch candles: HTTP 500")

        monkeypatch.setattr(venue, "fetch_candles", unreadable)
        await alpaca.drop_connections()
        await wait_for(lambda: bool(venue.holes))
        (hole,) = venue.holes
        assert hole.symbol == "BTC/USD" and hole.what == "1m candles"
        said = [e.message for e in events if isinstance(e, NoticeEvent)]
        assert any("BTC/USD 1m candles from" in m and "its history could not be read" in m for m in said), said
        assert venue._held_bars == {}  # type: ignore[attr-defined]  # the live bars go on
    finally:
        await venue.close()


async def test_a_fill_made_before_alpaca_takes_the_listen_after_a_drop_is_read_back(alpaca) -> None:  # type: ignore[no-untyped-def]
    """After a drop the venue is back once its sockets are open and "listen" is sent; Alpaca
    took 20 s to answer "listening" here. A resting order filled between the reconnect's
    reconcile and that: the update went to no socket, and nothing owed news of it (30 s and
    more, by the stream's watch). The venue is read back once more a moment after the
    reconcile: filled within seconds."""
    venue = make_venue(alpaca, stall_after_s=30.0)  # as in use: the stream's own watch is slow to tell
    assert venue.read_back_again_s == 5.0  # in use
    venue.read_back_again_s = 3.0  # the suite waits less
    engine = await started(venue)
    try:
        order = await engine.place(req(type=OrderType.LIMIT, price=Decimal("180")))
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        first = engine.reconciler.last.get("alpaca")
        alpaca.listen_lag_s = 20.0
        await alpaca.drop_connections()
        await wait_for(lambda: engine.reconciler.last.get("alpaca") is not first)  # the reconnect's reconcile ...
        await wait_for(lambda: not any(t.get_name() == "reconcile-alpaca" for t in asyncio.all_tasks()))  # ... done
        assert alpaca.listening() == 0  # the listen still not taken
        alpaca.fill(order.client_order_id)  # to no trade_updates socket
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED, timeout=20.0)
        assert alpaca.listening() == 0  # read back, not streamed
        alpaca.land_listens()
    finally:
        await engine.stop()
