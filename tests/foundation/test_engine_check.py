"""`order.check`: a dry run of `place` through the same checks, in-process and over the daemon.

Whatever `order.check` refuses, `place` rejects with the same code; whatever it passes, `place`
accepts; and the dry run records, sends and audits nothing."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.errors import UsageError, UserError
from tui_trader.core.orders import OrderRequest
from tui_trader.engine.client import InProcessClient
from tui_trader.engine.commands import dispatch


def _cases(engine) -> list[tuple[OrderRequest, str | None]]:  # type: ignore[no-untyped-def]
    mid = engine.mid("BTC/USDT")
    return [
        (OrderRequest("BTC/USDT", Side.BUY, D("0.01")), None),
        (OrderRequest("BTC/USDT", Side.BUY, D("0.01"), OrderType.LIMIT, price=D(round(mid * 0.97))), None),
        (OrderRequest("BTC/USDT", Side.BUY, D("100000")), "insufficient_balance"),
        (OrderRequest("BTC/USDT", Side.BUY, D("0.01"), OrderType.LIMIT, price=D(round(mid * 0.85))), "price_band"),
        (
            OrderRequest("BTC/USDT", Side.BUY, D("0.01"), OrderType.STOP, stop_price=D(round(mid * 0.97))),
            "stop_wrong_side",
        ),
        (OrderRequest("BTC/USDT", Side.BUY, D("0.000001")), "off_lot"),
        (OrderRequest("NOPE/USDT", Side.BUY, D("1")), "unknown_symbol"),
    ]


async def test_the_dry_run_answers_what_place_would_do_and_changes_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    for req, code in _cases(engine):
        audit_before = len(await engine.store.audit_log(1000))
        answer = await dispatch(engine, "order.check", {"request": req}, "test")
        assert answer["ok"] is (code is None), (req, answer)
        assert answer.get("code") == code
        assert engine.recent_orders == {} or all(o.status is not OrderStatus.NEW for o in engine.recent_orders.values())
        assert len(await engine.store.audit_log(1000)) == audit_before, "a dry run audits nothing"
    for req, code in _cases(engine):
        placed = await engine.place(req)
        if code is None:
            assert placed.status is not OrderStatus.REJECTED, placed.reason
            await engine.cancel_all()
        else:
            assert placed.status is OrderStatus.REJECTED and placed.meta["reject_code"] == code


async def test_the_dry_run_sends_nothing_to_the_venue(engine) -> None:  # type: ignore[no-untyped-def]
    client = InProcessClient(engine)
    answer = await client.call("order.check", request=OrderRequest("BTC/USDT", Side.BUY, D("0.01")))
    assert answer["ok"] and answer["venue"] == "paper"
    assert engine.recent_orders == {} and list(engine.portfolio.open_positions()) == []
    assert await engine.venues["paper"].fetch_open_orders() == []


async def test_a_malformed_request_is_a_one_line_error(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match="request: side is required"):
        await dispatch(engine, "order.check", {"request": {"symbol": "BTC/USDT"}}, "test")
    with pytest.raises(UsageError, match="request: side must be one of"):
        await dispatch(engine, "order.check", {"request": {"symbol": "BTC/USDT", "side": "up", "quantity": "1"}}, "t")
    with pytest.raises(UsageError, match="request must be a JSON object"):
        await dispatch(engine, "order.check", {}, "t")


async def test_modify_dry_run_refuses_like_modify_and_changes_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    mid = engine.mid("BTC/USDT")
    below = D(round(mid * 0.97))
    order = await engine.place(OrderRequest("BTC/USDT", Side.BUY, D("0.01"), OrderType.LIMIT, price=below))
    far = str(round(mid * 0.5))
    with pytest.raises(UserError, match="beyond the 10% band"):
        await dispatch(engine, "order.modify", {"id": order.client_order_id, "price": far, "dry_run": True}, "t")
    same = await dispatch(
        engine, "order.modify", {"id": order.client_order_id, "price": str(round(mid * 0.96)), "dry_run": True}, "t"
    )
    assert same.client_order_id == order.client_order_id and same.price == order.price
    assert engine.oms.orders[order.client_order_id].price == order.price
