"""Orders that cannot be walked around or lost: client order ids are unique forever, a modified
bracket keeps its legs, a failed database write leaves no trace and halts new orders, and
control booleans are strict."""

from __future__ import annotations

import errno
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tui_trader.config import Settings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.errors import UsageError, UserError
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.engine.commands import dispatch
from tui_trader.engine.testing import manual_engine
from tui_trader.home import Home
from tui_trader.store.db import OPEN_STATUSES

from risk_helpers import SYMBOL, Market, d


async def boot(home: Home, clock: FrozenClock | None = None) -> tuple[Engine, Market]:
    engine = manual_engine(Settings(), home=home, clock=clock or FrozenClock())
    await engine.start()
    for task in engine._tasks:
        task.cancel()
    market = Market(engine)
    await market.price(3000.0)
    return engine, market


async def on_every_writer(engine: Engine, pragma: str) -> None:
    """A read-only file or a full disk fails the writes of every connection to it: the database
    thread's and the event loop's own (store/db.py), each set here as the fault would."""
    store = engine.store
    assert store is not None
    await store._db.execute(pragma)
    if store._now is not None:
        store._now.execute(pragma)


def orders_ahead_fail(engine: Engine, monkeypatch: pytest.MonkeyPatch, code: int | None) -> None:
    """The file of orders written ahead (store/order_journal.py), beside the database on the
    same file system, fails its appends with `code` as the database does (None: works again)."""
    ahead = engine.store._ahead  # type: ignore[union-attr]
    assert ahead is not None

    def refused(row: object, audit: object) -> None:
        raise OSError(code, os.strerror(code or 0))

    if code is None:
        monkeypatch.undo()
    else:
        monkeypatch.setattr(ahead, "append", refused)


async def test_a_reused_client_order_id_never_overwrites_the_stored_order(tmp_path: Path) -> None:
    home = Home(tmp_path)
    engine, _ = await boot(home)
    try:
        filled = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1), client_order_id="mine-1"))
        assert filled.status is OrderStatus.FILLED
        working = await engine.place(
            OrderRequest(SYMBOL, Side.BUY, d(1), OrderType.LIMIT, price=d(2950), client_order_id="mine-2")
        )
        assert working.status is OrderStatus.ACCEPTED
        # Reuse each id in a request the risk checks would reject (far outside the price band).
        for cid in ("mine-1", "mine-2"):
            with pytest.raises(UserError, match=f"client order id {cid} is already used") as err:
                await engine.place(
                    OrderRequest(SYMBOL, Side.SELL, d(1), OrderType.LIMIT, price=d(99999), client_order_id=cid)
                )
            assert "\n" not in str(err.value)
        stored = await engine.store.get_order("mine-1")  # type: ignore[union-attr]
        assert stored is not None and stored.status is OrderStatus.FILLED and stored.side is Side.BUY
    finally:
        await engine.stop()

    again, _ = await boot(home)  # the id is known only to the database now, not to memory
    try:
        again.oms.orders.forget("mine-2")  # type: ignore[union-attr]  # as if it aged out of memory
        with pytest.raises(UserError, match="client order id mine-2 is already used"):
            await again.place(OrderRequest(SYMBOL, Side.SELL, d(9), client_order_id="mine-2"))
        stored = await again.store.get_order("mine-2")  # type: ignore[union-attr]
        assert stored is not None and stored.status is OrderStatus.ACCEPTED and stored.price == d(2950)
        again.oms.orders["mine-2"] = stored  # type: ignore[union-attr]
        cancelled = await again.cancel("mine-2")
        assert cancelled.client_order_id == "mine-2"
    finally:
        await again.stop()


async def test_modifying_a_bracket_entry_carries_its_legs(tmp_path: Path) -> None:
    engine, market = await boot(Home(tmp_path))
    try:
        entry = await engine.place(
            OrderRequest(
                SYMBOL, Side.BUY, d(1), OrderType.LIMIT, price=d(2950), stop_loss=d(2900), take_profit=d(3100)
            )
        )
        old_legs = list(entry.meta["children"])
        moved = await dispatch(engine, "order.modify", {"id": entry.client_order_id, "price": "2960"}, "tui")
        assert moved.meta["replaces"] == entry.client_order_id and moved.price == d(2960)
        assert moved.meta["stop_loss"] == "2900" and moved.meta["take_profit"] == "3100"
        legs = [engine.oms.orders[c] for c in moved.meta["children"]]  # type: ignore[union-attr]
        assert {leg.meta["role"] for leg in legs} == {"stop_loss", "take_profit"}
        assert all(leg.is_open and leg.parent_id == moved.client_order_id for leg in legs)
        olds = [engine.oms.orders[c] for c in old_legs]  # type: ignore[union-attr]
        assert all(o.status is OrderStatus.CANCELLED and o.meta["moved_to"] == moved.client_order_id for o in olds)
        # A price that puts the stop-loss on the wrong side is refused in one line; nothing changes.
        with pytest.raises(UserError, match=r"change refused, .* is unchanged: stop-loss 2900 is on the wrong side"):
            await engine.modify(moved.client_order_id, price=d(2890))
        assert engine.oms.orders[moved.client_order_id].is_open  # type: ignore[union-attr]
        # The replacement's legs protect it when it fills.
        await market.price(2955.0)
        await market.price(2890.0)
        assert engine.portfolio.open_positions() == []
    finally:
        await engine.stop()


async def test_a_failed_database_write_leaves_no_trace_and_halts_orders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, market = await boot(Home(tmp_path))
    try:
        await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
        before = [o.client_order_id for o in engine.oms.open_orders()]  # type: ignore[union-attr]
        await on_every_writer(engine, "PRAGMA query_only = ON")  # every write now fails as on a read-only file
        orders_ahead_fail(engine, monkeypatch, errno.EROFS)
        for req in (
            OrderRequest(SYMBOL, Side.BUY, d(1), OrderType.LIMIT, price=d(2950)),
            OrderRequest(SYMBOL, Side.BUY, d(1), OrderType.LIMIT, price=d(2950), stop_loss=d(2900)),
        ):
            with pytest.raises(UserError, match="the database cannot be written") as err:
                await engine.place(req)
            assert "\n" not in str(err.value)
        assert [o.client_order_id for o in engine.oms.open_orders()] == before  # type: ignore[union-attr]
        assert market.venue.matching.open_orders() == []
        halt = engine.current_halt()
        assert halt and "database cannot be written (it is read-only)" in halt
        assert engine.snapshot().halted == halt  # the status bar shows the snapshot's halt
        exit_ = pytest.raises(UserError, match="new orders are halted")
        with exit_:
            await engine.place(OrderRequest(SYMBOL, Side.SELL, d(1)))  # even an exit: it could not be recorded
        await engine._store_watch()
        assert engine.current_halt()  # still read-only: still halted
        await on_every_writer(engine, "PRAGMA query_only = OFF")
        orders_ahead_fail(engine, monkeypatch, None)
        await engine._store_watch()
        assert engine.current_halt() is None
        assert (await engine.place(OrderRequest(SYMBOL, Side.SELL, d(1)))).status is OrderStatus.FILLED
    finally:
        await engine.stop()


def _stored_open_orders(engine: Engine) -> set[str]:
    """Read as another process would (a connection capped at the page count sees no rows
    written by another connection past it; a real full disk does not hide rows)."""
    with closing(sqlite3.connect(engine.home.db_file)) as reader:
        rows = reader.execute(f"SELECT client_order_id FROM orders WHERE status IN ({OPEN_STATUSES})")
        return {r[0] for r in rows}


@pytest.mark.parametrize("ahead_too", [True, False], ids=["disk-full", "database-only"])
async def test_a_full_disk_refuses_the_order_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ahead_too: bool
) -> None:
    """The disk fills: orders are refused in one line and halted, and nothing the engine knows
    is lost. On a full disk the orders written ahead fail with the database (`disk-full`):
    the order is refused, nothing sent. Where only the database fails (`database-only`: a
    size limit of its own), an order written ahead before its row failed here is kept in the
    file and written here once the database takes writes again."""
    engine, _ = await boot(Home(tmp_path))
    db = engine.store._db  # type: ignore[union-attr]
    try:
        async with db.execute("PRAGMA page_count") as cur:
            pages = (await cur.fetchone())[0]  # type: ignore[index]
        for i in range(3):
            await engine.place(OrderRequest(SYMBOL, Side.BUY, d("0.01"), OrderType.LIMIT, price=d(2800 - i)))
        await on_every_writer(engine, f"PRAGMA max_page_count = {pages}")  # the file cannot grow: "disk full"
        if ahead_too:
            orders_ahead_fail(engine, monkeypatch, errno.ENOSPC)
        refused = 0
        for i in range(200):  # fill the last free pages, then every write fails
            try:
                await engine.place(OrderRequest(SYMBOL, Side.BUY, d("0.01"), OrderType.LIMIT, price=d(2900 - i)))
            except UserError as exc:
                assert "the disk is full" in str(exc) and "\n" not in str(exc)
                refused += 1
                break
        assert refused == 1
        known = {o.client_order_id for o in engine.oms.open_orders()}  # type: ignore[union-attr]
        stored = _stored_open_orders(engine)
        assert stored <= known and len(known) > 1
        if ahead_too:
            assert known == stored  # nothing in memory that the database does not have
        await on_every_writer(engine, "PRAGMA max_page_count = 1073741823")
        orders_ahead_fail(engine, monkeypatch, None)
        await engine._store_watch()
        assert engine.current_halt() is None
        assert _stored_open_orders(engine) == known  # every order the engine knows is stored
    finally:
        await engine.stop()


async def test_control_booleans_are_strict(tmp_path: Path) -> None:
    engine, _ = await boot(Home(tmp_path))
    try:
        for bad in ("false", "true", 0, 1, "no"):
            with pytest.raises(UsageError, match="armed must be true or false"):
                await dispatch(engine, "arm_live", {"armed": bad}, "cli@unix")
            assert engine.live_armed is False
        assert (await dispatch(engine, "arm_live", {"armed": False}, "cli@unix"))["armed"] is False
        assert engine.live_armed is False
    finally:
        await engine.stop()
