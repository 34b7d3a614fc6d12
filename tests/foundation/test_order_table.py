"""The OMS's order table: open orders found without scanning history; old final ones forgotten."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from tui_trader.core import OrderRequest, Side
from tui_trader.core.enums import OrderStatus, OrderType
from tui_trader.core.orders import Order
from tui_trader.engine.testing import manual_engine, step
from tui_trader.execution.order_table import OrderTable
from tui_trader.home import Home

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _order(cid: str) -> Order:
    return Order.from_request(OrderRequest("BTC/USDT", Side.BUY, D("1")), cid, "paper", T0)


def test_orders_closing_in_place_leave_the_open_list_and_old_final_ones_are_forgotten() -> None:
    table = OrderTable(keep_final=3)
    orders = [_order(f"o{i}") for i in range(6)]
    for o in orders:
        table[o.client_order_id] = o
    assert [o.client_order_id for o in table.open()] == ["o0", "o1", "o2", "o3", "o4", "o5"]
    for o in orders[:5]:  # the OMS changes status on the object it stored
        o.transition(OrderStatus.CANCELLED, T0)
    assert [o.client_order_id for o in table.open()] == ["o5"]
    assert list(table) == ["o2", "o3", "o4", "o5"]  # the three newest final ones and the open one
    table["o4"] = orders[4]  # stored again (a duplicate report): still counted once
    assert "o4" in table and "o5" in table
    for _ in range(5):  # reports of one final order, again and again, evict no other
        table["o3"] = orders[3]
    assert list(table) == ["o2", "o3", "o4", "o5"]


async def test_a_long_session_keeps_memory_of_open_orders_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = manual_engine(home=Home.resolve(tmp_path))
    await engine.start()
    await step(engine, 3)
    assert engine.oms is not None
    engine.oms.orders.keep_final = 20
    try:
        mid = engine.mid("BTC/USDT")
        price = D(str(round(mid * 0.95, 2)))  # far below the market, inside the 10 % price band
        resting = await engine.place(OrderRequest("BTC/USDT", Side.BUY, D("0.01"), OrderType.LIMIT, price=price))
        for i in range(60):
            await engine.place(OrderRequest("BTC/USDT", Side.BUY if i % 2 == 0 else Side.SELL, D("0.01")))
        assert [o.client_order_id for o in engine.oms.open_orders()] == [resting.client_order_id]
        assert len(engine.oms.orders) <= 21
        assert len(await engine.store.load_orders()) == 61  # the database keeps every one
    finally:
        await engine.stop()
