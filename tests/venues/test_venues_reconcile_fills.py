"""Reconciliation never loses a fill: each cause the soak found, against the fake Binance."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.events import ExecutionReport
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.execution.reconcile import SAFETY, reconcile
from tui_trader.home import Home
from tui_trader.venues.base import VenueError
from tui_trader.venues.ccxt import convert

from fakes.binance_exchange import FakeBinanceExchange
from fakes.fake_market import FakeOrder
from fakes.venue_harness import engine_settings, make_venue, wait_for


async def _engine(fake: FakeBinanceExchange, home: Home | None = None) -> Engine:
    """The venue's own stream watchdog would notice the lost fills and reconcile by itself
    (tests/venues/test_venues_faults.py); here the reconciles are the tests' own."""
    venue = make_venue(fake, stall_after_s=30)
    engine = Engine(engine_settings(), home, in_memory=home is None, venues={"binance": venue})
    await engine.start()
    return engine


async def _resting_buy(engine: Engine, qty: str = "1") -> str:
    """A limit buy far below the market: it fills only when the test says so."""
    req = OrderRequest("BTC/USDT", Side.BUY, Decimal(qty), OrderType.LIMIT, Decimal("92"), venue="binance")
    order = await engine.place(req)
    assert engine.oms is not None
    await wait_for(lambda: engine.oms.orders[order.client_order_id].status is OrderStatus.ACCEPTED)  # type: ignore[union-attr]
    return order.client_order_id


async def _stored_ids(engine: Engine) -> list[str]:
    assert engine.store is not None and engine.oms is not None
    await engine.oms.flush()
    return sorted(f.fill_id for f in await engine.store.load_fills())


def _made_ids(fake: FakeBinanceExchange) -> list[str]:
    return sorted(str(t.trade_id) for t in fake.trades)


async def test_reconcile_and_streamed_fills_never_race_the_store(fake) -> None:  # type: ignore[no-untyped-def]
    """Reconcile used to write fills from its own task while the OMS task wrote streamed ones:
    two BEGINs on one connection, a fill marked seen but never stored."""
    engine = await _engine(fake)
    venue = engine.venues["binance"]
    assert engine.oms is not None
    try:
        cid = await _resting_buy(engine)
        fake.stall()  # these fills are lost on the wire: only reconciliation finds them
        for _ in range(60):
            fake.fill(cid, Decimal("0.005"))
        streamed = [fake.fill(cid, Decimal("0.005")) for _ in range(60)]
        fake.stall(False)
        for t in streamed:  # as the fill stream delivers them, queued while reconcile runs
            f = convert.fill("binance", _ccxt_trade(t), cid)
            engine.oms.on_report(ExecutionReport("binance", cid, None, f.ts, f.venue_order_id, None, f))
        report = await reconcile(engine.oms, venue, engine.clock.now())
        assert await _stored_ids(engine) == _made_ids(fake)
        assert report.fills_applied >= 60
        assert engine.oms.orders[cid].filled_quantity == Decimal("0.6")
        assert engine.portfolio.positions[("binance", "BTC/USDT")].quantity == Decimal("0.6")
    finally:
        await engine.stop()


def _ccxt_trade(t) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """A fake trade in ccxt's unified shape, as watch_my_trades parses an executionReport."""
    return {
        "id": str(t.trade_id), "order": str(t.order.order_id), "symbol": "BTC/USDT",
        "side": t.order.side.lower(), "amount": str(t.qty), "price": str(t.price),
        "fee": {"cost": str(t.commission), "currency": "USDT"}, "takerOrMaker": "maker",
        "timestamp": t.time_ms,
    }


async def test_more_missed_fills_than_one_page_are_all_recovered(fake) -> None:  # type: ignore[no-untyped-def]
    """fetch_fills asked for the newest 1,000 trades only: an older missed fill never came back."""
    engine = await _engine(fake)
    assert engine.oms is not None
    try:
        first, second = await _resting_buy(engine), await _resting_buy(engine)
        fake.stall()
        for _ in range(700):
            fake.fill(first, Decimal("0.001"))
            fake.fill(second, Decimal("0.001"))
        fake.stall(False)
        pages_before = sum(1 for m, p in fake.requests if p == "/myTrades")
        report = await reconcile(engine.oms, engine.venues["binance"], engine.clock.now())
        assert report.fills_applied == 1400
        assert await _stored_ids(engine) == _made_ids(fake)
        assert sum(1 for m, p in fake.requests if p == "/myTrades") - pages_before >= 2
        # the next reconcile starts from what this one reached, not from the beginning again
        again = await reconcile(engine.oms, engine.venues["binance"], engine.clock.now())
        newest = convert.ms_to_dt(fake.trades[-1].time_ms)
        assert again.fills_since == newest - SAFETY and again.fills_applied == 0
    finally:
        await engine.stop()


async def test_restart_recovers_a_fill_missed_before_shutdown(fake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A fill lost on the wire, then 1,200 later fills streamed in, then a restart."""
    home = Home(tmp_path / "home")
    engine = await _engine(fake, home)
    try:
        cid = await _resting_buy(engine)
        fake.stall()
        missed = fake.fill(cid, Decimal("0.0005"))
        fake.stall(False)
        later = []
        for _ in range(12):  # in batches, so the stream never looks stalled on a busy machine
            later += [fake.fill(cid, Decimal("0.0005")) for _ in range(100)]
            await asyncio.sleep(0.02)
        assert engine.oms is not None
        await wait_for(lambda: all(engine.oms.has_seen_fill("binance", str(t.trade_id)) for t in later))  # type: ignore[union-attr]
        assert not engine.oms.has_seen_fill("binance", str(missed.trade_id))
    finally:
        await engine.stop()
    restarted = await _engine(fake, home)
    try:
        assert str(missed.trade_id) in await _stored_ids(restarted)
        assert await _stored_ids(restarted) == _made_ids(fake)
        assert restarted.oms is not None
        assert restarted.oms.orders[cid].filled_quantity == Decimal("0.6005")
    finally:
        await restarted.stop()


async def test_a_fill_made_while_the_engine_was_down_is_shown_after_restart(fake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Start-up reconciliation stores the fill; `fills` and `orders --all` (the engine's recent
    lists, what the CLI and the workstation show) must show it too, not only the database."""
    home = Home(tmp_path / "home")
    engine = await _engine(fake, home)
    try:
        cid = await _resting_buy(engine)
    finally:
        await engine.stop()
    made = fake.fill(cid, Decimal("1"))  # the whole order, while nobody listens
    restarted = await _engine(fake, home)
    try:
        snap = restarted.snapshot()
        assert str(made.trade_id) in [f.fill_id for f in snap.fills]
        assert restarted.recent_orders[cid].status is OrderStatus.FILLED
        assert cid not in [o.client_order_id for o in snap.open_orders]
    finally:
        await restarted.stop()


async def test_imported_order_gets_its_earlier_fills_once(fake) -> None:  # type: ignore[no-untyped-def]
    """Fills of an order placed elsewhere were skipped (order unknown), then counted on top of
    the imported filled quantity at the next reconcile."""
    external = FakeOrder(1, "web-1", "BTC/USDT", "sell", "limit", Decimal("0.5"), Decimal("500"), fake.now_ms)
    fake.orders["web-1"] = external
    fake.fill("web-1", Decimal("0.2"))
    engine = await _engine(fake)
    assert engine.oms is not None
    try:
        order = engine.oms.orders["web-1"]
        assert order.meta.get("external") and order.filled_quantity == Decimal("0.2")
        assert order.status is OrderStatus.PARTIALLY_FILLED
        assert await _stored_ids(engine) == _made_ids(fake)
        assert engine.portfolio.positions[("binance", "BTC/USDT")].quantity == Decimal("-0.2")
        await reconcile(engine.oms, engine.venues["binance"], engine.clock.now())
        assert engine.oms.orders["web-1"].filled_quantity == Decimal("0.2")
        assert engine.portfolio.positions[("binance", "BTC/USDT")].quantity == Decimal("-0.2")
    finally:
        await engine.stop()


async def test_fill_of_an_order_we_hold_no_venue_id_for_is_looked_up(fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A trade names the venue order id only; when the lookup fails the reconcile fails
    loudly (and runs again) instead of dropping the fill."""
    engine = await _engine(fake)
    venue = engine.venues["binance"]
    assert engine.oms is not None
    try:
        cid = await _resting_buy(engine)
        fake.stall()
        fake.fill(cid)
        fake.stall(False)
        venue._cid_by_vid.clear()  # type: ignore[attr-defined]  # as after a restart
        real = venue._ex.fetch_order  # type: ignore[attr-defined]

        async def unreachable(*args, **kwargs):  # type: ignore[no-untyped-def]
            import ccxt

            raise ccxt.NetworkError("connection reset")

        monkeypatch.setattr(venue._ex, "fetch_order", unreachable)  # type: ignore[attr-defined]
        with pytest.raises(VenueError):
            await reconcile(engine.oms, venue, engine.clock.now())
        monkeypatch.setattr(venue._ex, "fetch_order", real)  # type: ignore[attr-defined]
        report = await reconcile(engine.oms, venue, engine.clock.now())
        assert report.fills_applied == 1 and await _stored_ids(engine) == _made_ids(fake)
        assert engine.oms.orders[cid].status is OrderStatus.FILLED
    finally:
        await engine.stop()


async def test_late_fill_of_a_cancelled_order_is_kept(fake) -> None:  # type: ignore[no-untyped-def]
    """The venue filled part of an order, the fill was lost on the wire, then we cancelled it."""
    engine = await _engine(fake)
    assert engine.oms is not None
    try:
        cid = await _resting_buy(engine)
        fake.stall()
        fake.fill(cid, Decimal("0.4"))
        fake.stall(False)
        await engine.oms.cancel(cid)
        await wait_for(lambda: engine.oms.orders[cid].status is OrderStatus.CANCELLED)  # type: ignore[union-attr]
        await reconcile(engine.oms, engine.venues["binance"], engine.clock.now())
        assert await _stored_ids(engine) == _made_ids(fake)
        assert engine.oms.orders[cid].filled_quantity == Decimal("0.4")
        assert engine.portfolio.positions[("binance", "BTC/USDT")].quantity == Decimal("0.4")
    finally:
        await engine.stop()


async def test_streamed_and_fetched_fills_share_ids(fake) -> None:  # type: ignore[no-untyped-def]
    """The stream and REST name a fill alike, so the OMS's (venue, fill id) dedupe holds."""
    engine = await _engine(fake)
    assert engine.oms is not None
    try:
        order = await engine.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.2"), venue="binance"))
        await wait_for(lambda: len(engine.fills) >= 2)
        await asyncio.sleep(0.1)
        fetched = await engine.venues["binance"].fetch_fills(None)
        assert sorted(f.fill_id for f in fetched) == await _stored_ids(engine) == _made_ids(fake)
        assert {f.client_order_id for f in fetched} == {order.client_order_id}
        report = await reconcile(engine.oms, engine.venues["binance"], engine.clock.now())
        assert report.fills_applied == 0
    finally:
        await engine.stop()


async def test_order_being_submitted_is_not_settled_by_a_reconcile(fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A reconcile while a submission waits (rate limit, retry) must not mark that order
    'never reached the venue': it reaches it a moment later."""
    engine = await _engine(fake)
    venue = engine.venues["binance"]
    assert engine.oms is not None
    gate = asyncio.Event()
    take = venue.order_bucket.take  # type: ignore[attr-defined]

    async def held_back() -> None:
        await gate.wait()
        await take()

    monkeypatch.setattr(venue.order_bucket, "take", held_back)  # type: ignore[attr-defined]
    try:
        req = OrderRequest("BTC/USDT", Side.BUY, Decimal("1"), OrderType.LIMIT, Decimal("92"), venue="binance")
        placing = asyncio.create_task(engine.place(req))
        await wait_for(lambda: any(engine.oms.in_flight(o.client_order_id) for o in engine.oms.open_orders()))  # type: ignore[union-attr]
        report = await reconcile(engine.oms, venue, engine.clock.now())
        gate.set()
        order = await placing
        assert order.client_order_id not in report.orders_settled
        await wait_for(lambda: engine.oms.orders[order.client_order_id].status is OrderStatus.ACCEPTED)  # type: ignore[union-attr]
        assert fake.orders[order.client_order_id].status == "new"
    finally:
        await engine.stop()


async def _listing_taken_before(engine: Engine, monkeypatch, meanwhile) -> None:  # type: ignore[no-untyped-def]
    """The venue's open orders as they were just before `meanwhile` settled an order here: a
    listing answered late, after the order's fill or cancel came in on the stream."""
    venue = engine.venues["binance"]
    listed = venue.fetch_open_orders

    async def late():  # type: ignore[no-untyped-def]
        snapshot = await listed()
        await meanwhile()
        return snapshot

    monkeypatch.setattr(venue, "fetch_open_orders", late)


async def test_a_fill_that_arrives_while_the_open_orders_are_asked_for_is_not_undone(fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The listing says working, but the order's fill came in while it was on its way: the
    listing predates the fill, so the order stays filled (it used to be reopened as working)."""
    engine = await _engine(fake)
    assert engine.oms is not None
    try:
        cid = await _resting_buy(engine)

        async def filled() -> None:
            fake.fill(cid, Decimal("1"))
            await wait_for(lambda: engine.oms.orders[cid].status is OrderStatus.FILLED)  # type: ignore[union-attr]

        await _listing_taken_before(engine, monkeypatch, filled)
        report = await reconcile(engine.oms, engine.venues["binance"], engine.clock.now())
        assert report.orders_corrected == [] and cid in report.unsettled
        order = engine.oms.orders[cid]
        assert order.status is OrderStatus.FILLED and order.filled_quantity == Decimal("1")
        monkeypatch.undo()
        again = await reconcile(engine.oms, engine.venues["binance"], engine.clock.now())
        assert not again.changed and engine.oms.orders[cid].status is OrderStatus.FILLED
        assert engine.portfolio.positions[("binance", "BTC/USDT")].quantity == Decimal("1")
    finally:
        await engine.stop()


async def test_a_cancel_confirmed_while_the_open_orders_are_asked_for_is_not_undone(fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Likewise a cancel the venue confirmed while its older listing was on its way."""
    engine = await _engine(fake)
    assert engine.oms is not None
    try:
        cid = await _resting_buy(engine)

        async def cancelled() -> None:
            await engine.oms.cancel(cid)  # type: ignore[union-attr]
            await wait_for(lambda: engine.oms.orders[cid].status is OrderStatus.CANCELLED)  # type: ignore[union-attr]

        await _listing_taken_before(engine, monkeypatch, cancelled)
        report = await reconcile(engine.oms, engine.venues["binance"], engine.clock.now())
        assert report.orders_corrected == [] and engine.oms.orders[cid].status is OrderStatus.CANCELLED
        monkeypatch.undo()
        again = await reconcile(engine.oms, engine.venues["binance"], engine.clock.now())
        assert again.orders_corrected == [] and engine.oms.orders[cid].status is OrderStatus.CANCELLED
    finally:
        await engine.stop()
