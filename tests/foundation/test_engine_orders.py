"""Orders through the whole engine: checks, OMS state machine, persistence, positions."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.events import FillEvent, OrderEvent, RiskEvent
from tui_trader.core.orders import InvalidTransition, Order, OrderRequest
from tui_trader.engine.testing import paper_venue


async def test_market_order_goes_new_accepted_filled_and_updates_position(engine) -> None:
    sub = engine.bus.subscribe("t", kinds={"order", "fill"})
    order = await engine.place(OrderRequest("BTC/USDT", Side.BUY, D("0.5")))
    assert order.status is OrderStatus.FILLED
    statuses = [e.order.status for e in sub.drain() if isinstance(e, OrderEvent)]
    assert statuses == [OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.FILLED]
    pos = engine.portfolio.positions[("paper", "BTC/USDT")]
    assert pos.quantity == D("0.5") and pos.average_price == order.average_price
    stored = await engine.store.get_order(order.client_order_id)
    assert stored.status is OrderStatus.FILLED and stored.filled_quantity == D("0.5")


async def test_order_is_persisted_before_the_venue_sees_it(engine) -> None:
    venue = paper_venue(engine)
    seen: list[OrderStatus | None] = []
    original = venue.create_order

    async def spy(order: Order) -> None:
        stored = await engine.store.get_order(order.client_order_id)
        seen.append(stored.status if stored else None)
        await original(order)

    venue.create_order = spy  # type: ignore[method-assign]
    await engine.place(OrderRequest("ETH/USDT", Side.BUY, D("1")))
    assert seen == [OrderStatus.NEW]


async def test_with_a_home_the_order_is_written_ahead_before_the_venue_sees_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A file database: the order is in the file of orders written ahead (one append, which a
    killed process keeps; store/order_journal.py) when the venue is handed it, and in the
    database after."""
    from tui_trader.engine.testing import manual_engine, step
    from tui_trader.home import Home
    from tui_trader.store.order_journal import journal_path, read_entries

    engine = manual_engine(home=Home(tmp_path))
    await engine.start()
    try:
        await step(engine, 3)
        venue = paper_venue(engine)
        seen: list[list[str]] = []
        original = venue.create_order

        async def spy(order: Order) -> None:
            seen.append([row[0] for row, _ in read_entries(journal_path(engine.home.db_file))])
            await original(order)

        venue.create_order = spy  # type: ignore[method-assign]
        placed = await engine.place(OrderRequest("ETH/USDT", Side.BUY, D("1")))
        assert seen == [[placed.client_order_id]]
        stored = await engine.store.get_order(placed.client_order_id)  # type: ignore[union-attr]
        assert stored is not None and stored.status is OrderStatus.FILLED
    finally:
        await engine.stop()


async def test_after_a_restart_the_recent_orders_are_the_newest_in_the_order_they_came(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`orders --all` and the TUI's order list show the newest orders, the run before's and this
    run's, oldest first. Before, the run before's were kept newest first and this run's after
    them: with more than 50 stored, the list showed the oldest ones and left out the newest."""
    from tui_trader.engine.testing import manual_engine, step
    from tui_trader.home import Home

    first = manual_engine(home=Home(tmp_path))
    await first.start()
    try:
        await step(first, 3)
        before = [(await first.place(OrderRequest("ETH/USDT", Side.BUY, D("0.01")))).client_order_id for _ in range(60)]
    finally:
        await first.stop()
    again = manual_engine(home=Home(tmp_path))
    await again.start()
    try:
        await step(again, 3)
        new = await again.place(OrderRequest("ETH/USDT", Side.BUY, D("0.01")))
        shown = [o.client_order_id for o in again.snapshot().recent_orders]
        assert shown == [*before[-49:], new.client_order_id]
    finally:
        await again.stop()


async def test_limit_order_rests_then_cancel(engine) -> None:
    mid = engine.mid("BTC/USDT")
    price = D(str(round(mid * 0.97, 2)))
    order = await engine.place(OrderRequest("BTC/USDT", Side.BUY, D("0.1"), OrderType.LIMIT, price=price))
    assert order.status is OrderStatus.ACCEPTED
    assert [o.client_order_id for o in engine.snapshot().open_orders] == [order.client_order_id]
    cancelled = await engine.cancel(order.client_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert engine.snapshot().open_orders == []


@pytest.mark.parametrize(
    ("request_kwargs", "code"),
    [
        ({"quantity": D("0")}, "bad_quantity"),
        ({"quantity": D("-1")}, "bad_quantity"),
        ({"quantity": D("1e23")}, "bad_number"),
        ({"quantity": D("NaN")}, "bad_number"),
        ({"type": OrderType.LIMIT, "price": D("Infinity")}, "bad_number"),
        ({"symbol": "DOGE/EUR"}, "unknown_symbol"),
        ({"type": OrderType.LIMIT, "price": D("65000.001")}, "off_tick"),
        ({"type": OrderType.STOP, "stop_price": D("1000.00")}, "stop_wrong_side"),
        ({"quantity": D("0.123456789")}, "off_lot"),
        ({"type": OrderType.LIMIT, "price": D("10000.00")}, "price_band"),
    ],
)
async def test_invalid_orders_are_rejected_recorded_and_change_nothing(engine, request_kwargs, code) -> None:
    sub = engine.bus.subscribe("risk", kinds={"risk"})
    cash_before = dict(engine.portfolio.cash)
    fields = {"symbol": "BTC/USDT", "side": Side.BUY, "quantity": D("0.1"), **request_kwargs}
    order = await engine.place(OrderRequest(**fields))
    assert order.status is OrderStatus.REJECTED and order.reason
    assert order.meta["reject_code"] == code
    assert (await engine.store.get_order(order.client_order_id)).status is OrderStatus.REJECTED
    [event] = sub.drain()
    assert isinstance(event, RiskEvent) and event.code == code
    audit = await engine.store.audit_log(5)
    assert audit[0]["action"] == "reject" and audit[0]["detail"]["code"] == code
    assert engine.portfolio.cash == cash_before
    assert not engine.portfolio.open_positions()


async def test_insufficient_balance_rejected_by_venue(engine) -> None:
    order = await engine.place(OrderRequest("BTC/USDT", Side.BUY, D("50")))
    assert order.status is OrderStatus.REJECTED
    assert "USDT" in order.reason and ("insufficient" in order.reason or "free" in order.reason)
    assert engine.portfolio.open_positions() == []


async def test_a_reused_client_order_id_is_refused_and_changes_nothing(engine) -> None:
    from tui_trader.core.errors import UserError

    req = OrderRequest("ETH/USDT", Side.BUY, D("1"), client_order_id="my-id-1")
    first = await engine.place(req)
    with pytest.raises(UserError, match="client order id my-id-1 is already used by an order"):
        await engine.place(req)
    assert first.client_order_id == "my-id-1"
    fills = [f for f in engine.fills if f.client_order_id == "my-id-1"]
    assert sum(f.quantity for f in fills) == D(1)


async def test_duplicate_fill_report_counted_once(engine) -> None:
    from tui_trader.core.events import ExecutionReport

    order = await engine.place(OrderRequest("ETH/USDT", Side.BUY, D("1")))
    fill = engine.fills[-1]
    await engine.oms.apply(ExecutionReport("paper", order.client_order_id, None, fill.ts, None, None, fill))
    assert engine.portfolio.positions[("paper", "ETH/USDT")].quantity == D(1)


async def test_flatten_closes_everything(engine) -> None:
    await engine.place(OrderRequest("BTC/USDT", Side.BUY, D("0.2")))
    await engine.place(OrderRequest("SOL/USDT", Side.SELL, D("10")))
    mid = engine.mid("ETH/USDT")
    await engine.place(OrderRequest("ETH/USDT", Side.BUY, D("1"), OrderType.LIMIT, price=D(str(round(mid * 0.95, 2)))))
    result = await engine.flatten()
    assert result["still_open"] == [] and result["cancelled"] == 1
    snap = engine.snapshot()
    assert snap.open_orders == [] and snap.positions == []
    assert paper_venue(engine).account.positions == {}


async def test_fill_events_reach_subscribers(engine) -> None:
    sub = engine.bus.subscribe("fills", kinds={"fill"})
    await engine.place(OrderRequest("AAPL", Side.BUY, D("10")))
    events = sub.drain()
    assert len(events) >= 1 and all(isinstance(e, FillEvent) for e in events)


def test_state_machine_refuses_illegal_transitions() -> None:
    from datetime import UTC, datetime

    t = datetime(2026, 1, 1, tzinfo=UTC)
    o = Order.from_request(OrderRequest("X", Side.BUY, D(1)), "c", "paper", t)
    o.transition(OrderStatus.ACCEPTED, t)
    o.transition(OrderStatus.PARTIALLY_FILLED, t)
    o.transition(OrderStatus.FILLED, t)
    with pytest.raises(InvalidTransition):
        o.transition(OrderStatus.CANCELLED, t)
    with pytest.raises(InvalidTransition):
        o.transition(OrderStatus.ACCEPTED, t)


async def test_stopping_ends_the_reconciles_of_an_order_whose_answer_was_lost() -> None:
    """The venue never answered an order (its fate unknown): the engine asks the venue again
    and again, backing off, until it hears. Stopped meanwhile, the engine stops asking: the
    loop went on reconciling the closed venue after the stop (and one that lost its cancel
    kept the stopping event loop waiting for ever)."""
    import asyncio

    from tui_trader.engine.testing import manual_engine, step

    engine = manual_engine()
    await engine.start()
    await step(engine, 3)

    async def lost(order: Order) -> None:
        raise TimeoutError("no answer within 10 s")

    paper_venue(engine).create_order = lost  # type: ignore[method-assign]
    try:
        placed = await engine.place(OrderRequest("BTC/USDT", Side.BUY, D("0.5")))
        assert placed.status is OrderStatus.UNKNOWN
        settling = [t for t in asyncio.all_tasks() if t.get_name() == "settle-paper"]
        assert settling and not any(t.done() for t in settling)
    finally:
        await engine.stop()
    assert all(t.done() for t in settling)
