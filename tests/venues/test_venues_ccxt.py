"""The ccxt adapter against a loopback fake Binance: real ccxt.pro clients, injected faults."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.events import ConnectionEvent, Event, TickerEvent
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine

from fakes.venue_harness import engine_settings, make_venue, wait_for


async def _engine(venue) -> Engine:  # type: ignore[no-untyped-def]
    engine = Engine(engine_settings(), None, in_memory=True, venues={"binance": venue})
    await engine.start()
    return engine


def _buy(qty: str = "0.2", **kw) -> OrderRequest:  # type: ignore[no-untyped-def]
    return OrderRequest("BTC/USDT", Side.BUY, Decimal(qty), venue="binance", **kw)


async def _fills_match(engine: Engine, fake) -> None:  # type: ignore[no-untyped-def]
    """Every fill the exchange made is in our store exactly once."""
    assert engine.store is not None
    await wait_for(lambda: len(engine.fills) >= len(fake.trades), 5)
    await engine.oms.flush()  # type: ignore[union-attr]
    stored = await engine.store.load_fills(limit=10_000)
    assert sorted(f.fill_id for f in stored) == sorted(str(t.trade_id) for t in fake.trades)


async def test_markets_become_decimal_instruments(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake)
    await venue.connect(lambda e: None)
    try:
        inst = (await venue.load_markets())["BTC/USDT"]
        assert inst.tick_size == Decimal("0.01") and inst.lot_size == Decimal("0.00001")
        assert inst.min_notional == Decimal("5.0") and inst.quote == "USDT"
    finally:
        await venue.close()


async def test_streams_ticker_and_trades_then_orders_fill_through_the_engine(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake)
    engine = await _engine(venue)
    try:
        await wait_for(lambda: "BTC/USDT" in engine.tickers)
        order = await engine.place(_buy())
        await wait_for(
            lambda: engine.oms.orders[order.client_order_id].status is OrderStatus.FILLED
        )  # type: ignore[union-attr]
        await _fills_match(engine, fake)
        assert engine.portfolio.positions[("binance", "BTC/USDT")].quantity == Decimal("0.2")
        assert len(fake.orders) == 1 and fake.orders[order.client_order_id].side == "BUY"
    finally:
        await engine.stop()


async def test_drop_reconnects_with_attempts_and_reconciles_missed_fills(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake)
    engine = await _engine(venue)
    events: list[Event] = []
    engine.bus.on(events.append, kinds=["connection"])
    try:
        order = await engine.place(_buy(type=OrderType.LIMIT, price=Decimal("97")))
        await wait_for(
            lambda: engine.oms.orders[order.client_order_id].status is OrderStatus.ACCEPTED
        )  # type: ignore[union-attr]
        fake.stall()  # the fill below is lost on the wire
        fake.fill(order.client_order_id)
        await fake.drop_connections()
        fake.stall(False)
        await wait_for(
            lambda: any(
                isinstance(e, ConnectionEvent)
                and e.state is ConnectionState.CONNECTED
                and e.attempt > 0
                for e in events
            )
        )
        states = [e.state for e in events if isinstance(e, ConnectionEvent)]
        assert ConnectionState.RECONNECTING in states
        await _fills_match(engine, fake)  # reconciliation after reconnect applied the lost fill
        assert engine.oms.orders[order.client_order_id].status is OrderStatus.FILLED  # type: ignore[union-attr]
    finally:
        await engine.stop()


async def test_silent_stall_is_detected_and_recovered(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake)
    states: list[ConnectionEvent] = []
    await venue.connect(lambda e: states.append(e) if isinstance(e, ConnectionEvent) else None)
    await venue.subscribe(["BTC/USDT"])
    try:
        await wait_for(lambda: venue.monitor.last_message is not None)
        fake.stall()
        await wait_for(lambda: venue.state is not ConnectionState.CONNECTED, 3)
        assert any(e.state is ConnectionState.DEGRADED and "stalled" in e.detail for e in states)
        fake.stall(False)
        await wait_for(
            lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects >= 1, 5
        )
        assert venue.monitor.recovery_times and max(venue.monitor.recovery_times) < 5
    finally:
        await venue.close()


async def test_duplicate_and_out_of_order_fills_count_once(fake) -> None:  # type: ignore[no-untyped-def]
    engine = await _engine(make_venue(fake))
    try:
        fake.duplicate_fills()
        fake.reorder_fills()
        order = await engine.place(_buy("0.4"))
        await wait_for(
            lambda: engine.oms.orders[order.client_order_id].status is OrderStatus.FILLED
        )  # type: ignore[union-attr]
        await asyncio.sleep(0.2)
        await _fills_match(engine, fake)
        assert engine.oms.orders[order.client_order_id].filled_quantity == Decimal("0.4")  # type: ignore[union-attr]
    finally:
        await engine.stop()


async def test_timed_out_submit_is_found_by_client_id_not_sent_twice(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake, timeout_ms=300)
    engine = await _engine(venue)
    try:
        fake.delay_next_ack(1.0)
        order = await engine.place(_buy(type=OrderType.LIMIT, price=Decimal("97")))
        await wait_for(
            lambda: engine.oms.orders[order.client_order_id].status is OrderStatus.ACCEPTED
        )  # type: ignore[union-attr]
        assert len(fake.orders) == 1 and fake.duplicate_submissions == 0
        assert venue.counters["found_by_client_id"] == 1
    finally:
        await engine.stop()


async def test_rate_limit_backs_off_and_reject_has_a_reason(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake)
    engine = await _engine(venue)
    try:
        fake.fail_next(2, status=429)
        order = await engine.place(_buy(type=OrderType.LIMIT, price=Decimal("97")))
        await wait_for(
            lambda: engine.oms.orders[order.client_order_id].status is OrderStatus.ACCEPTED
        )  # type: ignore[union-attr]
        assert venue.counters["rate_limited"] >= 1 and len(fake.orders) == 1
        fake.reject_next()
        rejected = await engine.place(_buy(type=OrderType.LIMIT, price=Decimal("96")))
        assert rejected.status is OrderStatus.REJECTED and "insufficient balance" in (
            rejected.reason or ""
        )
    finally:
        await engine.stop()


async def test_malformed_messages_do_not_lose_the_stream(fake) -> None:  # type: ignore[no-untyped-def]
    venue = make_venue(fake)
    tickers: list[TickerEvent] = []
    await venue.connect(lambda e: tickers.append(e) if isinstance(e, TickerEvent) else None)
    await venue.subscribe(["BTC/USDT"])
    try:
        await wait_for(lambda: len(tickers) > 2)
        fake.send_malformed(3)
        seen = len(tickers)
        await wait_for(lambda: len(tickers) > seen + 5, 5)
    finally:
        await venue.close()


async def test_unknown_venue_order_is_imported_and_flagged_at_start(fake) -> None:  # type: ignore[no-untyped-def]
    # an order placed from the exchange's own website before we started
    from fakes.binance_exchange import FakeOrder

    fake.orders["web-1"] = FakeOrder(
        1, "web-1", "BTCUSDT", "SELL", "LIMIT", Decimal("0.5"), Decimal("500"), fake.now_ms
    )
    engine = await _engine(make_venue(fake))
    try:
        imported = engine.oms.orders["web-1"]  # type: ignore[union-attr]
        assert imported.meta.get("external") is True and imported.side is Side.SELL
    finally:
        await engine.stop()


async def test_live_venue_rejects_orders_until_armed(fake) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.commands import dispatch

    venue = make_venue(fake, sandbox=False)
    assert venue.is_live
    engine = await _engine(venue)
    try:
        refused = await engine.place(_buy())
        assert refused.status is OrderStatus.REJECTED and "not armed" in (refused.reason or "")
        assert not fake.orders
        assert (await dispatch(engine, "arm_live", {}, "test"))["live_venues"] == ["binance"]
        placed = await engine.place(_buy())
        assert placed.status is not OrderStatus.REJECTED and len(fake.orders) == 1
    finally:
        await engine.stop()


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
        fake.public_trade_seq = itertools.count(1000)  # two-digit ids so far, four-digit now
        stalled_from = fake.now_ms
        await wait_for(lambda: venue.state is not ConnectionState.CONNECTED, 3)
        fake.stall(False)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects >= 1, 5)
        missed = [t["time"] for t in fake.public_trades["BTCUSDT"] if t["id"] >= 1000 and t["time"] > stalled_from]
        await wait_for(lambda: set(missed) <= set(prints), 3)
        assert len(prints) == len(set(prints))  # none twice
    finally:
        await venue.close()
