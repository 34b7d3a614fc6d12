"""An order id the engine made is new without asking the database: made this run, in a
millisecond after the newest id the database held when it started (execution/ids.py); every
other id is looked up before its order is written and sent, as before (store/db.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from tui_trader.core import OrderRequest, Side
from tui_trader.core.clock import FrozenClock
from tui_trader.core.orders import Order
from tui_trader.execution.ids import ClientOrderIds
from tui_trader.store.db import DuplicateOrderId, Store

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _order(cid: str) -> Order:
    return Order.from_request(OrderRequest("BTC/USDT", Side.BUY, D("1")), cid, "paper", T0)


def test_an_id_is_the_engines_own_only_when_made_this_run_after_the_newest_stored_one() -> None:
    clock = FrozenClock(T0)
    ids = ClientOrderIds(clock)
    earlier = ids()  # an id the database holds from before (the clock was set back since)
    ids.after(earlier)
    clock.set(T0 + timedelta(milliseconds=1))
    made = ids()
    assert ids.minted(made)
    assert not ids.minted(earlier)  # this run's session, but not after the newest stored id
    session_cut = len(ids.prefix) + 12
    assert not ids.minted(made[:session_cut] + "zzzz")  # a sequence number not made yet
    assert not ids.minted(made[:session_cut] + "!?")  # not one of ours
    assert not ids.minted("my-own-id") and not ids.minted(made[:-6] + "ffff0001")
    ids.after("ttmy-order-7")  # a caller's own id with our prefix: nothing is taken for ours
    assert not ids.minted(made)


async def test_an_engine_made_id_is_written_without_a_look_up_and_any_other_is_looked_up(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "t.db")
    try:
        assert await store.newest_order_id("tt") is None
        await store.insert_order(_order("tt0001"))
        await store.insert_order(_order("tt0002"))
        await store.insert_order(_order("zz0009"))
        await store.flush()
        assert await store.newest_order_id("tt") == "tt0002"
        reads: list[str] = []
        assert store._now is not None
        store._now.set_trace_callback(reads.append)
        try:
            await store.insert_order(_order("tt0003"), new=True)
            assert not [r for r in reads if r.startswith("SELECT")]
            await store.insert_order(_order("tt0004"))
            assert [r for r in reads if r.startswith("SELECT")]  # a caller's id: looked up
            with pytest.raises(DuplicateOrderId):
                await store.insert_order(_order("tt0001"))
            with pytest.raises(DuplicateOrderId):  # not yet in the database: in the journal
                await store.insert_order(_order("tt0003"), new=True)
        finally:
            store._now.set_trace_callback(None)
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "t.db") as db:
        stored = {r[0] for r in db.execute("SELECT client_order_id FROM orders")}
    assert stored == {"tt0001", "tt0002", "tt0003", "tt0004", "zz0009"}


async def test_an_engine_whose_database_has_ids_from_later_looks_its_own_up(tmp_path: Path) -> None:
    from tui_trader.engine.testing import manual_engine, paper_settings
    from tui_trader.home import Home

    home = Home.resolve(tmp_path).ensure()
    later = ClientOrderIds(FrozenClock(T0 + timedelta(hours=1)))()  # the clock was set back since
    store = await Store.open(home.db_file)
    await store.insert_order(_order(later))
    await store.close()
    engine = manual_engine(paper_settings(), home=home, start=T0)
    await engine.start()
    try:
        assert not engine.new_id.minted(engine.new_id())  # looked up before it is used
        engine.clock.set(T0 + timedelta(hours=2))
        assert engine.new_id.minted(engine.new_id())
    finally:
        await engine.stop()
