"""A new order is written ahead of the database (one append), before it is sent: what a killed
process, a full disk, a torn line and a fill racing the row leave behind."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from tui_trader.core import OrderRequest, Side
from tui_trader.core.enums import Liquidity, OrderStatus
from tui_trader.core.fills import Fill
from tui_trader.core.orders import Order
from tui_trader.store import order_journal
from tui_trader.store.db import DuplicateOrderId, Store, StoreWriteError
from tui_trader.store.order_journal import journal_path, read_entries

from process_env import child_env

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _order(cid: str) -> Order:
    return Order.from_request(OrderRequest("BTC/USDT", Side.BUY, D("1")), cid, "paper", T0)


def _stored(path: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    """What another process reading the database sees (only what was committed)."""
    with closing(sqlite3.connect(path)) as reader:
        return reader.execute(sql).fetchall()


async def _written_here(store: Store, path: Path, cid: str) -> None:
    """Written with the next write, or two turns of the loop later when none comes (then on the
    database's thread, which a loaded machine can keep waiting: the bound is generous)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while loop.time() < deadline:
        if _stored(path, f"SELECT 1 FROM orders WHERE client_order_id='{cid}'"):
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{cid} not written to the database")


async def test_an_order_is_in_the_journal_when_insert_returns_and_in_the_database_a_moment_later(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.db"
    store = await Store.open(path)
    try:
        await store.audit(T0, "user", "place", {"cid": "a"})
        await store.insert_order(_order("a"))
        [(row, audit)] = read_entries(journal_path(path))  # one append, before any send
        assert row[0] == "a" and [a[2] for a in audit] == ["place"]
        with pytest.raises(DuplicateOrderId):  # its id is taken while only the journal has it
            await store.insert_order(_order("a"))
        got = await store.get_order("a")  # a read writes it here first
        assert got is not None and got.status is OrderStatus.NEW
        assert _stored(path, "SELECT action FROM audit") == [("place",)]
        with pytest.raises(DuplicateOrderId):
            await store.insert_order(_order("a"))
        assert not store.fault
    finally:
        await store.close()
    assert journal_path(path).stat().st_size == 0  # emptied: nothing in it is pending


async def test_without_a_read_the_row_is_written_within_a_few_turns_of_the_loop(store: Store, db_path: Path) -> None:
    await store.insert_order(_order("a"))
    await _written_here(store, db_path, "a")
    assert await store.has_orders("paper")


KILLED = """
import asyncio, os, signal, sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from tui_trader.core import OrderRequest, Side
from tui_trader.core.enums import OrderStatus
from tui_trader.core.orders import Order
from tui_trader.store.db import Store

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)

async def main() -> None:
    store = await Store.open(Path(sys.argv[1]))
    first = Order.from_request(OrderRequest("BTC/USDT", Side.BUY, Decimal("1")), "done", "paper", T0)
    await store.audit(T0, "user", "place", {"cid": "done"})
    await store.insert_order(first)
    first.status = OrderStatus.ACCEPTED
    await store.save_order(first)  # written here, then a later state of it
    await store.audit(T0, "strategy:x", "place", {"cid": "ahead"})
    second = Order.from_request(OrderRequest("ETH/USDT", Side.SELL, Decimal("2")), "ahead", "paper", T0)
    await store.insert_order(second)
    os.kill(os.getpid(), signal.SIGKILL)  # before the loop turns: "ahead" is only in the journal

asyncio.run(main())
"""


async def test_an_order_written_ahead_survives_kill_9_and_is_stored_once_at_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    proc = subprocess.run([sys.executable, "-c", KILLED, str(path)], env=child_env(), capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert _stored(path, "SELECT client_order_id FROM orders") == [("done",)]  # "ahead" never reached it
    assert [e[0][0] for e in read_entries(journal_path(path))] == ["done", "ahead"]
    store = await Store.open(path)
    try:
        ahead = await store.get_order("ahead")
        assert ahead is not None and ahead.status is OrderStatus.NEW and ahead.quantity == D("2")
        done = await store.get_order("done")
        assert done is not None and done.status is OrderStatus.ACCEPTED  # its first row not put back
        places = [json.loads(d) for (d,) in _stored(path, "SELECT detail FROM audit WHERE action='place' ORDER BY id")]
        assert places == [{"cid": "done"}, {"cid": "ahead"}]  # each once
        assert journal_path(path).stat().st_size == 0
    finally:
        await store.close()
    store = await Store.open(path)  # and again: nothing more
    try:
        assert len(await store.load_orders()) == 2
        assert len(_stored(path, "SELECT 1 FROM audit")) == 2
    finally:
        await store.close()


async def test_a_line_cut_short_is_skipped_and_the_whole_ones_are_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "t.db"
    store = await Store.open(path)
    await store.close()
    whole = order_journal.OrderJournal(journal_path(path))
    from tui_trader.store.records import order_row

    whole.append(order_row(_order("whole")), [])
    whole.close()
    with open(journal_path(path), "ab") as f:
        f.write(b'[["torn", "paper", "BTC/U')  # a crash (or a full disk) in the middle of a line
    with caplog.at_level(logging.WARNING):
        store = await Store.open(path)
    try:
        assert [o.client_order_id for o in await store.load_orders()] == ["whole"]
        assert "not a whole order" in caplog.text
    finally:
        await store.close()


@pytest.mark.parametrize("short", [False, True], ids=["no-space", "short-write"])
async def test_a_failed_append_refuses_the_order_and_keeps_nothing_of_it(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch, short: bool
) -> None:
    real = os.write

    def full(fd: int, data: bytes) -> int:
        if short:
            return real(fd, data[:10])  # the disk filled part way through
        raise OSError(errno.ENOSPC, "No space left on device")

    await store.insert_order(_order("before"))
    size = journal_path(db_path).stat().st_size
    monkeypatch.setattr(order_journal.os, "write", full)
    with pytest.raises(StoreWriteError, match="cannot be written"):
        await store.insert_order(_order("a"))
    assert store.fault and journal_path(db_path).stat().st_size == size  # the part written is cut off
    monkeypatch.setattr(order_journal.os, "write", real)
    await store.insert_order(_order("a"))  # the same id: nothing of the refused one kept
    assert [e[0][0] for e in read_entries(journal_path(db_path))] == ["before", "a"]
    assert {o.client_order_id for o in await store.load_orders()} == {"before", "a"}


async def test_a_fill_stored_before_the_row_written_ahead_is_not_overwritten_by_it(tmp_path: Path) -> None:
    """The paper venue fills at once: the fill's transaction (its order row, filled) can come
    before the new order's row is written here. The later state stays."""
    path = tmp_path / "t.db"
    store = await Store.open(path)
    try:
        order = _order("a")
        await store.insert_order(order)
        filled = order.copy()
        filled.status, filled.filled_quantity = OrderStatus.FILLED, D("1")
        fill = Fill("f1", "a", "paper", "BTC/USDT", Side.BUY, D("1"), D("100"), D("0.1"), "USDT", Liquidity.TAKER, T0)
        assert await store.save_fill(fill, filled)
        stored = await store.get_order("a")
        assert stored is not None and stored.status is OrderStatus.FILLED
    finally:
        await store.close()
    store = await Store.open(path)  # nor by the journal at the next open
    try:
        stored = await store.get_order("a")
        assert stored is not None and stored.status is OrderStatus.FILLED
    finally:
        await store.close()


async def test_the_journal_is_emptied_once_it_has_grown_and_nothing_is_pending(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(order_journal, "EMPTY_AFTER_BYTES", 1_000)
    sizes = []
    for i in range(8):
        await store.insert_order(_order(f"o{i}"))
        await store.flush()
        sizes.append(journal_path(db_path).stat().st_size)
    assert 0 in sizes and max(sizes) < 2_000
    assert len(await store.load_orders()) == 8


async def test_the_journal_is_private_to_its_owner(store: Store, db_path: Path) -> None:
    await store.insert_order(_order("a"))
    assert journal_path(db_path).stat().st_mode & 0o077 == 0


async def test_closing_while_the_database_refuses_keeps_the_orders_for_the_next_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(order_journal, "EMPTY_AFTER_BYTES", 1)  # never emptied because it is large
    path = tmp_path / "t.db"
    store = await Store.open(path)
    # The database refuses every write from before the order (its row is written a turn of
    # the loop after the append, which a slow machine can let in before a later refusal).
    await store._db.execute("PRAGMA query_only = ON")
    assert store._now is not None
    store._now.execute("PRAGMA query_only = ON")
    await store.insert_order(_order("a"))  # the append and the duplicate look-up only read
    await store.close()  # its row could not be written: the file keeps it
    assert _stored(path, "SELECT client_order_id FROM orders") == []
    assert [e[0][0] for e in read_entries(journal_path(path))] == ["a"]
    store = await Store.open(path)
    try:
        assert [o.client_order_id for o in await store.load_orders()] == ["a"]
    finally:
        await store.close()
