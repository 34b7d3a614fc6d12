"""Modifying a working order: a checked change, cancel-and-replace where the venue cannot amend."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.core.orders import OrderRequest
from tui_trader.engine.commands import dispatch


def _bid(engine, fraction: float = 0.95) -> D:  # type: ignore[no-untyped-def]
    return D(str(round(engine.mid("BTC/USDT") * fraction, 2)))


async def _resting(engine, qty: str = "0.1"):  # type: ignore[no-untyped-def]
    order = await engine.place(OrderRequest("BTC/USDT", Side.BUY, D(qty), OrderType.LIMIT, price=_bid(engine)))
    assert order.status is OrderStatus.ACCEPTED
    return order


async def test_price_and_quantity_change_replaces_the_order_on_a_venue_without_amend(engine) -> None:  # type: ignore[no-untyped-def]
    old = await _resting(engine)
    new_price = _bid(engine, 0.96)
    new = await engine.modify(old.client_order_id, price=new_price, quantity=D("0.2"))
    assert engine.oms.orders[old.client_order_id].status is OrderStatus.CANCELLED
    assert new.client_order_id != old.client_order_id and new.meta["replaces"] == old.client_order_id
    assert new.status is OrderStatus.ACCEPTED and new.price == new_price and new.quantity == D("0.2")
    working = [o for o in engine.oms.open_orders()]
    assert [o.client_order_id for o in working] == [new.client_order_id]
    stored = await engine.store.get_order(new.client_order_id)
    assert stored.meta["replaces"] == old.client_order_id and stored.price == new_price
    actions = [a["action"] for a in await engine.store.audit_log(10)]
    assert "modify" in actions


async def test_the_engine_command_takes_numbers_as_strings(engine) -> None:  # type: ignore[no-untyped-def]
    old = await _resting(engine)
    new = await dispatch(engine, "order.modify", {"id": old.client_order_id, "quantity": "0.3"}, "test")
    assert new.quantity == D("0.3") and new.price == old.price


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({}, "nothing to change"),
        ({"quantity": D("0")}, "must be above"),
        ({"price": D("1.001")}, "unchanged"),  # off the 0.01 tick: refused by the checks
        ({"quantity": D("100000")}, "unchanged"),  # far beyond the balance and the limits
    ],
)
async def test_a_bad_change_is_refused_and_changes_nothing(engine, change, message) -> None:  # type: ignore[no-untyped-def]
    old = await _resting(engine)
    with pytest.raises(UserError, match=message):
        await engine.modify(old.client_order_id, **change)
    current = engine.oms.orders[old.client_order_id]
    assert current.status is OrderStatus.ACCEPTED and current.price == old.price and current.quantity == old.quantity
    assert [o.client_order_id for o in engine.oms.open_orders()] == [old.client_order_id]


async def test_unknown_filled_and_market_orders_cannot_be_modified(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError, match="no open order"):
        await engine.modify("nope", price=D("1"))
    filled = await engine.place(OrderRequest("BTC/USDT", Side.BUY, D("0.1")))
    with pytest.raises(UserError, match="no open order"):
        await engine.modify(filled.client_order_id, price=D("1"))
    with pytest.raises(UserError, match="price must be a number, got 'abc'"):
        await dispatch(engine, "order.modify", {"id": "x", "price": "abc"}, "test")


async def test_a_cancel_the_venue_confirms_later_still_gets_its_replacement(engine) -> None:  # type: ignore[no-untyped-def]
    """Some venues (Alpaca) answer a cancel at once and confirm it on their stream later."""
    import asyncio

    from tui_trader.engine.testing import paper_venue

    venue = paper_venue(engine)
    original = venue.cancel_order
    later: list[asyncio.Task[None]] = []

    async def cancel_confirmed_later(order):  # type: ignore[no-untyped-def]
        async def confirm() -> None:
            await asyncio.sleep(0.2)
            await original(order)

        later.append(asyncio.create_task(confirm()))

    venue.cancel_order = cancel_confirmed_later  # type: ignore[method-assign]
    old = await _resting(engine)
    new = await engine.modify(old.client_order_id, price=_bid(engine, 0.96))
    assert new.meta["replaces"] == old.client_order_id and new.status is OrderStatus.ACCEPTED
    assert engine.oms.orders[old.client_order_id].status is OrderStatus.CANCELLED
