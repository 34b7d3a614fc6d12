"""The send and the venue's answer without a turn of the event loop, and what must not change:
the order on disk before the send, a send a caller's cancel cannot cut, reports applied once and
in order (twice, out of order, or while a write waits for the database thread)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import Liquidity, OrderStatus, OrderType, Side
from tui_trader.core.events import ExecutionReport, FillEvent, OrderEvent
from tui_trader.core.fills import Fill
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.engine.bus import EventBus
from tui_trader.engine.testing import manual_engine, paper_settings, paper_venue, step
from tui_trader.execution.eager import start_now
from tui_trader.execution.oms import OrderManager
from tui_trader.execution.portfolio import Portfolio
from tui_trader.store.db import Store

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


# -- start_now ---------------------------------------------------------------------------------


async def test_a_coroutine_that_never_waits_is_finished_when_start_now_returns() -> None:
    ran: list[str] = []

    async def work() -> int:
        ran.append("all of it")
        return 7

    fut = start_now(work())
    assert ran == ["all of it"] and fut.done() and fut.result() == 7


async def test_start_now_runs_up_to_the_first_wait_then_the_rest_as_a_task() -> None:
    ran: list[str] = []
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def work() -> str:
        ran.append("before")
        got = await gate
        ran.append("after")
        await asyncio.sleep(0)  # a bare turn of the loop goes through too
        return got + "!"

    fut = start_now(work(), name="rest")
    assert ran == ["before"] and isinstance(fut, asyncio.Task) and fut.get_name() == "rest"
    gate.set_result("answer")
    assert await fut == "answer!" and ran == ["before", "after"]


async def test_start_now_gives_an_exception_through_its_future() -> None:
    async def fails_at_once() -> None:
        raise ValueError("at once")

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise ValueError("later")

    with pytest.raises(ValueError, match="at once"):
        await start_now(fails_at_once())
    with pytest.raises(ValueError, match="later"):
        await start_now(fails_later())


async def test_the_caller_giving_up_does_not_cut_what_start_now_started() -> None:
    finished: list[str] = []

    async def send() -> None:
        await asyncio.sleep(0.05)
        finished.append("sent")

    async def caller() -> None:
        await asyncio.shield(start_now(send()))

    task = asyncio.create_task(caller())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.1)
    assert finished == ["sent"]


async def test_cancelling_the_rest_reaches_the_coroutine() -> None:
    cleaned: list[str] = []

    async def work() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            cleaned.append("finally ran")

    fut = start_now(work())
    await asyncio.sleep(0)
    fut.cancel()
    with pytest.raises(asyncio.CancelledError):
        await fut
    assert cleaned == ["finally ran"]


# -- the order manager, through the engine and the paper venue ---------------------------------


async def test_the_venues_acceptance_is_applied_in_the_senders_own_stack(engine) -> None:  # type: ignore[no-untyped-def]
    """The paper venue answers inside `create_order`: the send and the acceptance happen in the
    caller's task, with no task (and no turn of the loop) between them; the order was in the
    order manager's book (stored: `test_order_is_persisted_before_the_venue_sees_it`) before the
    venue saw it."""
    venue = paper_venue(engine)
    original = venue.create_order
    known_before_send: list[OrderStatus | None] = []
    accepted_in: list[asyncio.Task[Any] | None] = []

    async def spy(order: Order) -> None:
        known = engine.oms.orders.get(order.client_order_id)
        known_before_send.append(known.status if known is not None else None)
        await original(order)

    def on_order(event: Any) -> None:
        if isinstance(event, OrderEvent) and event.order.status is OrderStatus.ACCEPTED:
            accepted_in.append(asyncio.current_task())

    venue.create_order = spy  # type: ignore[method-assign]
    engine.bus.on(on_order, kinds={"order"})
    caller = asyncio.current_task()
    order = await engine.place(OrderRequest("ETH/USDT", Side.BUY, D("1")))
    assert order.status is OrderStatus.FILLED
    assert known_before_send == [OrderStatus.NEW]
    assert accepted_in == [caller]


async def test_a_caller_cancelled_while_the_venue_has_not_answered_leaves_the_send_to_finish() -> None:
    """The venue has the order and has not answered when the caller is cancelled. The send
    goes on in a task of its own: the venue gets the order once, and it settles filled."""
    eng = manual_engine(paper_settings(ack_latency_ms=50.0))
    await eng.start()
    await step(eng, 3)
    try:
        venue = paper_venue(eng)
        calls: list[str] = []
        may_answer = asyncio.Event()  # the venue answers only once the caller is cancelled
        original = venue.create_order

        async def counting(order: Order) -> None:
            calls.append(order.client_order_id)
            await may_answer.wait()
            await original(order)

        venue.create_order = counting  # type: ignore[method-assign]
        task = asyncio.create_task(eng.place(OrderRequest("ETH/USDT", Side.BUY, D("1"))))
        # the order reaches the venue (a bound, not a speed assertion: the order is saved
        # before it is sent, which took more than 10 ms on a loaded machine)
        loop = asyncio.get_running_loop()
        end = loop.time() + 20
        while not calls and loop.time() < end:
            await asyncio.sleep(0.005)
        assert len(calls) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert eng.oms is not None
        cid = calls[0]
        assert eng.oms.in_flight(cid)
        may_answer.set()

        async def filled() -> bool:
            await eng.oms.flush()  # type: ignore[union-attr]
            return eng.oms.orders[cid].status is OrderStatus.FILLED  # type: ignore[union-attr]

        end = loop.time() + 20
        while not await filled() and loop.time() < end:
            await asyncio.sleep(0.01)
        assert eng.oms.orders[cid].status is OrderStatus.FILLED
        assert calls == [cid] and not eng.oms.in_flight(cid)
        stored = await eng.store.get_order(cid)  # type: ignore[union-attr]
        assert stored is not None and stored.status is OrderStatus.FILLED
    finally:
        await eng.stop()


# -- reports twice, out of order, and behind a write that waits ---------------------------------


def _order(cid: str, status: OrderStatus = OrderStatus.NEW) -> Order:
    order = Order.from_request(OrderRequest("BTC/USDT", Side.BUY, D("1")), cid, "v", T0)
    order.status = status
    return order


def _fill(fill_id: str, cid: str, qty: str = "1") -> Fill:
    return Fill(fill_id, cid, "v", "BTC/USDT", Side.BUY, D(qty), D("100"), D("0.1"), "USDT", Liquidity.TAKER, T0)


class _AnswersAtOnce:
    """A venue that answers inside create_order with the reports it is given, as listed."""

    def __init__(self, oms_reports: list[ExecutionReport]) -> None:
        self.reports = oms_reports
        self.emit: Any = None
        self.sent: list[str] = []

    async def create_order(self, order: Order) -> None:
        self.sent.append(order.client_order_id)
        for report in self.reports:
            self.emit(report)


async def _oms(tmp_path: Path, venue: Any = None) -> tuple[OrderManager, Store, EventBus]:
    store = await Store.open(tmp_path / "t.db")
    bus = EventBus()
    oms = OrderManager(store, bus, FrozenClock(T0), {"v": venue} if venue is not None else {}, Portfolio())
    if venue is not None:
        venue.emit = oms.on_report
    oms.start()
    return oms, store, bus


async def test_a_fill_before_its_acceptance_and_both_twice_count_once(tmp_path: Path) -> None:
    fill = _fill("f1", "c1")
    reports = [
        ExecutionReport("v", "c1", OrderStatus.FILLED, T0, "V1", None, fill),
        ExecutionReport("v", "c1", OrderStatus.ACCEPTED, T0, "V1"),  # late: the order is filled
        ExecutionReport("v", "c1", OrderStatus.FILLED, T0, "V1", None, fill),  # the same fill again
        ExecutionReport("v", "c1", OrderStatus.ACCEPTED, T0, "V1"),
    ]
    venue = _AnswersAtOnce(reports)
    oms, store, bus = await _oms(tmp_path, venue)
    sub = bus.subscribe("t", kinds={"order", "fill"})
    try:
        placed = await oms.submit(_order("c1"))
        await oms.flush()
        assert placed.status is OrderStatus.FILLED
        assert venue.sent == ["c1"]
        events = sub.drain()
        assert len([e for e in events if isinstance(e, FillEvent)]) == 1
        statuses = [e.order.status for e in events if isinstance(e, OrderEvent)]
        assert statuses == [OrderStatus.NEW, OrderStatus.FILLED]
        assert oms.portfolio.positions[("v", "BTC/USDT")].quantity == D("1")
        stored = await store.get_order("c1")
        assert stored is not None and stored.status is OrderStatus.FILLED and stored.filled_quantity == D("1")
    finally:
        await oms.stop()
        await store.close()


async def test_reports_that_arrive_while_a_write_waits_are_applied_after_it_in_order(tmp_path: Path) -> None:
    """Another connection holds the database's write lock: the first fill's write goes to the
    database thread and waits. Reports arriving meanwhile (a second fill, a duplicate, the
    order's end) wait for it, however often something asks the reports to be applied, and are
    applied in the order they came once it is stored."""
    oms, store, bus = await _oms(tmp_path)
    holder = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    sub = bus.subscribe("t", kinds={"order", "fill"})
    try:
        order = _order("c1", OrderStatus.ACCEPTED)
        order.quantity = D("2")
        await store.save_order(order)
        oms.orders["c1"] = order
        holder.execute("BEGIN IMMEDIATE")
        oms.on_report(ExecutionReport("v", "c1", OrderStatus.PARTIALLY_FILLED, T0, "V1", None, _fill("f1", "c1")))
        flushing = asyncio.create_task(oms.flush())
        await asyncio.sleep(0.02)  # the first fill's write is waiting for the lock
        assert oms.orders["c1"].filled_quantity == D("1") and not flushing.done()
        oms.on_report(ExecutionReport("v", "c1", OrderStatus.FILLED, T0, "V1", None, _fill("f2", "c1")))
        oms.on_report(ExecutionReport("v", "c1", OrderStatus.FILLED, T0, "V1", None, _fill("f2", "c1")))
        second = asyncio.create_task(oms.flush())
        await asyncio.sleep(0.02)
        assert oms.orders["c1"].filled_quantity == D("1")  # not applied ahead of the waiting write
        holder.execute("COMMIT")
        await asyncio.wait_for(asyncio.gather(flushing, second), 10)
        fills = [e.fill.fill_id for e in sub.drain() if isinstance(e, FillEvent)]
        assert fills == ["f1", "f2"]
        assert oms.orders["c1"].status is OrderStatus.FILLED and oms.orders["c1"].filled_quantity == D("2")
        stored = await store.get_order("c1")
        assert stored is not None and stored.status is OrderStatus.FILLED and stored.filled_quantity == D("2")
    finally:
        holder.close()
        await oms.stop()
        await store.close()


async def test_an_accepted_limit_order_is_stored_as_accepted_before_the_next_report(tmp_path: Path) -> None:
    """A resting order's acceptance needs its own write: applied in the sender's stack too,
    stored by the time `submit` returns."""
    venue = _AnswersAtOnce([ExecutionReport("v", "c1", OrderStatus.ACCEPTED, T0, "V1")])
    oms, store, _bus = await _oms(tmp_path, venue)
    try:
        order = Order.from_request(
            OrderRequest("BTC/USDT", Side.BUY, D("1"), OrderType.LIMIT, price=D("90")), "c1", "v", T0
        )
        placed = await oms.submit(order)
        assert placed.status is OrderStatus.ACCEPTED
        stored = await store.get_order("c1")
        assert stored is not None and stored.status is OrderStatus.ACCEPTED
    finally:
        await oms.stop()
        await store.close()


class _TimerVenue(_AnswersAtOnce):
    """A network client whose create_order starts a timer before its first wait, as aiohttp's
    request does (its TimerContext captures asyncio.current_task() and cancels it on timeout)."""

    def __init__(self, oms_reports: list[ExecutionReport]) -> None:
        super().__init__(oms_reports)
        self.timer_task: asyncio.Task[Any] | None = None

    async def create_order(self, order: Order) -> None:
        self.timer_task = asyncio.current_task()
        await asyncio.sleep(0)
        await super().create_order(order)


async def test_a_network_venues_timer_belongs_to_the_send_not_to_the_caller(tmp_path: Path) -> None:
    """Only a venue that answers in the call (`answers_in_call`, the paper venue) is sent to in
    the caller's stack. Another venue's timer, started before its first wait, would otherwise
    belong to the caller's task: its timeout would cancel the caller and leave the send waiting."""
    venue = _TimerVenue([ExecutionReport("v", "c1", OrderStatus.ACCEPTED, T0, "V1")])
    oms, store, _bus = await _oms(tmp_path, venue)
    try:
        caller = asyncio.current_task()
        placed = await oms.submit(_order("c1"))
        assert placed.status is OrderStatus.ACCEPTED and venue.sent == ["c1"]
        assert venue.timer_task is not None and venue.timer_task is not caller
    finally:
        await oms.stop()
        await store.close()
