"""How the database writes: audit rows ride with the next write, a fill is one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from tui_trader.core import OrderRequest, Side
from tui_trader.core.enums import Liquidity
from tui_trader.core.fills import Fill
from tui_trader.core.orders import Order
from tui_trader.core.positions import Position
from tui_trader.store import db as db_module
from tui_trader.store.db import DuplicateOrderId, Store

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _order(cid: str) -> Order:
    return Order.from_request(OrderRequest("BTC/USDT", Side.BUY, D("1")), cid, "paper", T0)


def _fill(fill_id: str, cid: str) -> Fill:
    return Fill(fill_id, cid, "paper", "BTC/USDT", Side.BUY, D("1"), D("100"), D("0.1"), "USDT", Liquidity.TAKER, T0)


def _other_connection(path: Path) -> sqlite3.Connection:
    """A reader of its own, like another process: it sees only what was committed."""
    return sqlite3.connect(path)


async def test_audit_row_is_committed_with_the_order_it_placed_and_in_order(store: Store, db_path: Path) -> None:
    await store.audit(T0, "user", "place", {"cid": "a"})
    await store.audit(T0, "user", "place", {"cid": "b"})
    await store.save_order(_order("a"))  # returns once the order row is committed
    reader = _other_connection(db_path)
    actions = reader.execute("SELECT action, detail FROM audit ORDER BY id").fetchall()
    assert actions == [("place", '{"cid": "a"}'), ("place", '{"cid": "b"}')]
    assert reader.execute("SELECT client_order_id FROM orders").fetchall() == [("a",)]
    reader.close()


async def test_audit_row_without_a_following_write_is_written_on_its_own(store: Store, db_path: Path) -> None:
    await store.audit(T0, "user", "kill_switch", {})
    reader = _other_connection(db_path)
    for _ in range(2_000):  # a moment later, on the database's thread (a loaded machine delays it)
        if reader.execute("SELECT COUNT(*) FROM audit").fetchone() == (1,):
            break
        await asyncio.sleep(0.005)
    assert reader.execute("SELECT action FROM audit").fetchall() == [("kill_switch",)]
    reader.close()
    assert [r["action"] for r in await store.audit_log()] == ["kill_switch"]


async def test_close_writes_queued_audit_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = await Store.open(path)
    await store.audit(T0, "daemon", "stop", {})
    await store.close()
    assert sqlite3.connect(path).execute("SELECT action FROM audit").fetchall() == [("stop",)]


async def test_fill_with_its_order_and_position_is_all_or_nothing(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = _order("a")
    position = Position("paper", "BTC/USDT", D("1"), D("100"))
    assert await store.save_fill(_fill("f1", "a"), order, position, T0)
    assert not await store.save_fill(_fill("f1", "a"), order, position, T0)  # a duplicate: nothing
    monkeypatch.setattr(db_module, "position_row", lambda p, at: ("broken",))  # wrong column count
    with pytest.raises(sqlite3.ProgrammingError):
        await store.save_fill(_fill("f2", "a"), order, position, T0)
    reader = _other_connection(db_path)
    assert reader.execute("SELECT fill_id FROM fills").fetchall() == [("f1",)]  # f2 rolled back
    reader.close()
    assert await store.save_fill(_fill("f3", "a"), order, None, T0)  # the connection still works


async def test_a_status_then_its_duplicate_is_stored(store: Store) -> None:
    """Our cancel's own "cancelled", then the venue's stream saying the same: the order manager
    skipped writing the first (a later report of the order was queued) and the second, a
    duplicate, wrote nothing: the database kept the order working (found by the Alpaca soak)."""
    from tui_trader.core.clock import FrozenClock
    from tui_trader.core.enums import OrderStatus
    from tui_trader.core.events import ExecutionReport
    from tui_trader.engine.bus import EventBus
    from tui_trader.execution.oms import OrderManager
    from tui_trader.execution.portfolio import Portfolio

    oms = OrderManager(store, EventBus(), FrozenClock(T0), {}, Portfolio())
    oms.start()
    try:
        order = _order("c1")
        order.status = OrderStatus.ACCEPTED
        oms.orders["c1"] = order
        await store.save_order(order)
        oms.on_report(ExecutionReport("paper", "c1", OrderStatus.CANCELLED, T0, None, "cancelled"))
        oms.on_report(ExecutionReport("paper", "c1", OrderStatus.CANCELLED, T0, None, "venue: canceled"))
        await oms.flush()
        stored = await store.get_order("c1")
        assert stored is not None and stored.status is OrderStatus.CANCELLED
    finally:
        await oms.stop()


async def test_a_write_made_on_the_loop_commits_before_it_returns(store: Store, db_path: Path) -> None:
    """An order's new state: on the loop's own connection, committed (another process sees
    it) by the time the call returns, with the audit rows queued before it."""
    assert store._now is not None
    await store.audit(T0, "user", "cancel", {"cid": "a"})
    await store.save_order(_order("a"))
    with closing(_other_connection(db_path)) as reader:
        assert reader.execute("SELECT client_order_id FROM orders").fetchall() == [("a",)]
        assert reader.execute("SELECT action FROM audit").fetchall() == [("cancel",)]
    with pytest.raises(DuplicateOrderId):
        await store.insert_order(_order("a"))
    assert not store.fault


async def test_a_write_that_would_wait_for_a_lock_never_blocks_the_loop_and_keeps_its_order(
    store: Store, db_path: Path
) -> None:
    """Another connection holds the write lock: the write goes to the database thread (which
    waits for the lock, up to its busy timeout) while the event loop runs on; a write made
    after it follows it there, so both commit in the order they were made."""
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the second writer
        await store.audit(T0, "user", "place", {"cid": "a"})
        first = asyncio.create_task(store.save_order(_order("a")))
        await asyncio.sleep(0)  # it has tried, found the lock taken and gone to the thread
        await store.audit(T0, "user", "place", {"cid": "b"})
        second = asyncio.create_task(store.save_order(_order("b")))
        ticks = 0
        for _ in range(20):  # the loop is free while both wait
            await asyncio.sleep(0.005)
            ticks += 1
        assert ticks == 20 and not first.done() and not second.done()
        holder.execute("COMMIT")
        await asyncio.wait_for(asyncio.gather(first, second), 10)
        with closing(_other_connection(db_path)) as reader:
            orders = reader.execute("SELECT client_order_id FROM orders ORDER BY rowid").fetchall()
            audit = reader.execute("SELECT detail FROM audit ORDER BY id").fetchall()
        assert orders == [("a",), ("b",)]
        assert audit == [('{"cid": "a"}',), ('{"cid": "b"}',)]
        assert store._queued_writes == 0 and not store.fault
        await store.save_order(_order("c"))  # the lock is free: on the loop's connection again
    finally:
        holder.close()


# -- an order's state stored with the next order (a protective stop's cancel before the exit) --


def _commits(store: Store) -> list[list[str]]:
    """Each transaction the loop's connection makes from now on: its statements' first words."""
    assert store._now is not None
    trips: list[list[str]] = [[]]

    def trace(sql: str) -> None:
        word = sql.split()[0].upper()
        if word == "SELECT":
            return  # a read (an order id looked up before it is written ahead)
        if word == "BEGIN":
            trips.append([])
        elif word == "COMMIT":
            trips[-1].append("COMMIT")
            trips.append([])
        else:
            trips[-1].append(f"{word} {sql.split()[2] if word == 'INSERT' else ''}".strip())

    store._now.set_trace_callback(trace)
    return trips


def _stored_status(path: Path, cid: str) -> str | None:
    with closing(_other_connection(path)) as reader:
        row = reader.execute("SELECT status FROM orders WHERE client_order_id=?", (cid,)).fetchone()
    return row[0] if row else None


@contextlib.asynccontextmanager
async def _deferred_cancel(tmp_path: Path, *, traced: bool = False) -> AsyncIterator[tuple[Store, Path, Order, list]]:
    """A store with an order stored as accepted, then cancelled with its state deferred
    (`Store.defer_order`): the store, its file, the order and (traced) its transactions from
    the deferral on. Closed at the end."""
    from tui_trader.core.enums import OrderStatus

    path = tmp_path / "t.db"
    store = await Store.open(path)
    try:
        order = _order("stop")
        order.status = OrderStatus.ACCEPTED
        await store.insert_order(order)
        await store.flush()  # written ahead, then here
        trips = _commits(store) if traced else []
        order.status = OrderStatus.CANCELLED
        store.defer_order(order)
        yield store, path, order, trips
    finally:
        await store.close()


async def test_a_deferred_order_state_commits_with_the_next_order_in_one_transaction(tmp_path: Path) -> None:
    """The stop's cancel is not committed on its own: it goes with the exit order, written
    ahead, in one transaction a moment later (one commit for both, nothing of either before)."""
    async with _deferred_cancel(tmp_path, traced=True) as (store, path, _, trips):
        assert _stored_status(path, "stop") == "accepted"  # not yet: no commit of its own
        await store.insert_order(_order("exit"))
        assert _stored_status(path, "stop") == "accepted" and _stored_status(path, "exit") is None
        for _ in range(2_000):  # two turns of the loop, then the write of what is queued (on
            if _stored_status(path, "exit"):  # the database's thread: a loaded machine delays it)
                break
            await asyncio.sleep(0.005)
        assert _stored_status(path, "stop") == "cancelled" and _stored_status(path, "exit") == "new"
        done = [t for t in trips if t]
        assert done == [["INSERT orders", "INSERT orders", "COMMIT"]], done  # the upsert, then the exit


async def test_a_deferred_order_state_with_no_order_after_it_is_written_a_moment_later(tmp_path: Path) -> None:
    async with _deferred_cancel(tmp_path) as (_, path, _, _):
        for _ in range(2_000):  # a moment later, on the database's thread (a loaded machine delays it)
            if _stored_status(path, "stop") == "cancelled":
                break
            await asyncio.sleep(0.005)
        assert _stored_status(path, "stop") == "cancelled"


async def test_a_later_write_of_the_same_order_wins_over_its_deferred_state(tmp_path: Path) -> None:
    """Deferred, then written again (annotated): the next order's transaction must not put the
    older deferred row back over it."""
    from tui_trader.core.enums import OrderStatus

    async with _deferred_cancel(tmp_path) as (store, _, stop, _):
        later = stop.copy()
        later.meta["role"] = "protective_stop"
        await store.save_order(later)
        await store.insert_order(_order("exit"))
        [stored] = [o for o in await store.load_orders() if o.client_order_id == "stop"]
        assert stored.status is OrderStatus.CANCELLED and stored.meta == {"role": "protective_stop"}


async def test_reads_and_close_see_a_deferred_order_state(tmp_path: Path) -> None:
    from tui_trader.core.enums import OrderStatus

    async with _deferred_cancel(tmp_path) as (store, path, stop, _):
        got = await store.get_order("stop")
        assert got is not None and got.status is OrderStatus.CANCELLED
        stop.status = OrderStatus.EXPIRED  # (any later state) deferred again, then the store closes
        store.defer_order(stop)
    assert _stored_status(path, "stop") == "expired"


async def test_a_deferred_state_a_failed_write_kept_never_lands_over_a_later_fill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write that was to carry a deferred state fails (a full disk): the row stays queued.
    A fill of the same order then stores the order's newer state; the queued row must not be
    written after it in the fill's transaction and put the older state back."""
    from tui_trader.core.enums import OrderStatus
    from tui_trader.store.db import StoreWriteError

    async with _deferred_cancel(tmp_path) as (store, path, _, _):
        real = db_module._trip

        def full(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(db_module, "_trip", full)
        with pytest.raises(StoreWriteError):
            await store.flush()
        monkeypatch.setattr(db_module, "_trip", real)
        later = _order("stop")
        later.status, later.filled_quantity = OrderStatus.FILLED, D("1")
        await store.save_fill(_fill("f1", "stop"), later)
        await store.flush()
        assert _stored_status(path, "stop") == "filled"
