"""Advanced orders on the paper venue: trailing stops, brackets, OCO, restart."""

from __future__ import annotations

from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine

from risk_helpers import SYMBOL, Market, d


async def test_trailing_stop_is_emulated_and_ratchets(engine: Engine, market: Market) -> None:
    await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
    trail = await engine.place(
        OrderRequest(
            SYMBOL, Side.SELL, d(1), OrderType.TRAILING_STOP, trail_amount=d(50), reduce_only=True
        )
    )
    assert trail.status is OrderStatus.ACCEPTED
    assert "emulated" in trail.meta["emulated"]
    await market.price(3100)
    order = engine.oms.orders[trail.client_order_id]
    assert float(order.meta["trail_stop"]) == 3099.99 - 50
    await market.price(3060)  # above the stop: nothing
    assert order.is_open
    await market.price(3040)  # below 3049.99: fires as a market order
    assert order.status is OrderStatus.FILLED
    assert engine.portfolio.open_positions() == []


async def test_bracket_children_arm_and_oco(engine: Engine, market: Market) -> None:
    entry = await engine.place(
        OrderRequest(SYMBOL, Side.BUY, d(1), stop_loss=d(2900), take_profit=d(3200))
    )
    assert entry.status is OrderStatus.FILLED
    children = [o for o in engine.oms.orders.values() if o.parent_id == entry.client_order_id]
    assert len(children) == 2
    sl = next(o for o in children if o.meta["role"] == "stop_loss")
    tp = next(o for o in children if o.meta["role"] == "take_profit")
    assert not sl.meta.get("held") and sl.is_open  # native stop at the venue
    assert tp.meta.get("held")
    await market.price(3210)
    assert tp.status is OrderStatus.FILLED
    assert sl.status is OrderStatus.CANCELLED
    assert engine.portfolio.open_positions() == []


async def test_bracket_children_cancelled_with_parent(engine: Engine, market: Market) -> None:
    entry = await engine.place(
        OrderRequest(
            SYMBOL,
            Side.BUY,
            d(1),
            OrderType.LIMIT,
            price=d(2950),
            stop_loss=d(2900),
            take_profit=d(3200),
        )
    )
    assert entry.is_open
    await engine.cancel(entry.client_order_id)
    await market.settle()
    children = [o for o in engine.oms.orders.values() if o.parent_id == entry.client_order_id]
    assert children and all(o.status is OrderStatus.CANCELLED for o in children)


async def test_oco_one_fill_cancels_other(engine: Engine, market: Market) -> None:
    await engine.place(OrderRequest(SYMBOL, Side.BUY, d(2)))
    legs = await engine.place_oco(
        OrderRequest(SYMBOL, Side.SELL, d(2), OrderType.LIMIT, price=d(3100)),
        OrderRequest(SYMBOL, Side.SELL, d(2), OrderType.STOP, stop_price=d(2900)),
    )
    assert all(o.is_open for o in legs)
    await market.price(2890)
    a, b = (engine.oms.orders[o.client_order_id] for o in legs)
    assert b.status is OrderStatus.FILLED and a.status is OrderStatus.CANCELLED


async def test_flatten_leaves_nothing(engine: Engine, market: Market) -> None:
    await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1), stop_loss=d(2900), take_profit=d(3200)))
    await engine.place(
        OrderRequest("BTC/USDT", Side.SELL, d("0.01"), OrderType.LIMIT, price=d(99999))
    )
    await engine.place(
        OrderRequest(SYMBOL, Side.SELL, d(1), OrderType.TRAILING_STOP, trail_percent=d("0.02"))
    )
    result = await engine.flatten()
    venue = market.venue
    assert venue.matching.open_orders() == []
    assert venue.account.positions == {}
    assert engine.oms.open_orders() == []
    assert result["still_open"] == []


async def test_working_orders_and_links_survive_a_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.config import Settings
    from tui_trader.home import Home

    home = Home(tmp_path)

    async def boot() -> tuple[Engine, Market]:
        from tui_trader.engine.testing import manual_engine

        eng = manual_engine(Settings(), home=home, clock=FrozenClock())  # prices driven by the test
        await eng.start()
        return eng, Market(eng)

    eng, market = await boot()
    await market.price(3000)
    entry = await eng.place(
        OrderRequest(
            SYMBOL,
            Side.BUY,
            d(1),
            OrderType.LIMIT,
            price=d(2950),
            stop_loss=d(2900),
            take_profit=d(3200),
        )
    )
    await eng.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
    trail = await eng.place(
        OrderRequest(
            SYMBOL, Side.SELL, d(1), OrderType.TRAILING_STOP, trail_amount=d(20), reduce_only=True
        )
    )
    await eng.stop()

    eng, market = await boot()
    try:
        kids = [o for o in eng.oms.open_orders() if o.parent_id == entry.client_order_id]
        assert len(kids) == 2 and all(
            k.meta.get("waiting_for") == entry.client_order_id for k in kids
        )
        assert eng.oms.orders[trail.client_order_id].meta.get("held")
        await market.price(
            2945
        )  # the entry fills; its children arm; the trailing stop fires (2980 - 20)
        assert eng.oms.orders[entry.client_order_id].status is OrderStatus.FILLED
        assert eng.oms.orders[trail.client_order_id].status is OrderStatus.FILLED
        assert all(
            not k.meta.get("waiting_for") for k in (eng.oms.orders[k.client_order_id] for k in kids)
        )
    finally:
        await eng.stop()
