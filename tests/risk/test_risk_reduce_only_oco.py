"""A reduce-only stop/target pair (OCO) protecting a whole position is an exit, not an overshoot:
only one leg can fill, so the second leg adds nothing to what could be sold."""

from __future__ import annotations

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine

from risk_helpers import SYMBOL, Market, d


async def test_reduce_only_oco_covering_the_position_is_accepted(engine: Engine, market: Market) -> None:
    await engine.place(OrderRequest(SYMBOL, Side.BUY, d(2)))
    legs = await engine.place_oco(
        OrderRequest(SYMBOL, Side.SELL, d(2), OrderType.STOP, stop_price=d(2900), reduce_only=True),
        OrderRequest(SYMBOL, Side.SELL, d(2), OrderType.LIMIT, price=d(3100), reduce_only=True),
    )
    assert [o.status for o in legs] == [OrderStatus.ACCEPTED, OrderStatus.ACCEPTED], [o.reason for o in legs]
    # a third reduce-only sell on top of the pair could take the position past flat: refused
    extra = await engine.place(OrderRequest(SYMBOL, Side.SELL, d(1), OrderType.LIMIT, price=d(3200), reduce_only=True))
    assert extra.status is OrderStatus.REJECTED and extra.meta["reject_code"] == "reduce_only"
    await market.price(2890)
    a, b = (engine.oms.orders[o.client_order_id] for o in legs)
    assert a.status is OrderStatus.FILLED and b.status is OrderStatus.CANCELLED
    assert engine.portfolio.open_positions() == []
