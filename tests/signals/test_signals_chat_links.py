"""Chat links: which orders and position came from which message, followed fill by fill, and
the restart cases (fills while the service was down, a close by another order)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from tui_trader.core.enums import Liquidity, Side
from tui_trader.core.errors import DataError
from tui_trader.core.fills import Fill
from tui_trader.engine.commands import dispatch
from tui_trader.engine.testing import manual_engine, paper_settings
from tui_trader.home import Home
from tui_trader.signals.chat_links import MAX_CLOSED, ChatLink, LinkBook

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _link(**kw) -> ChatLink:
    base = {"id": "chat-1", "provider": "alpha", "symbol": "BTC/USDT", "venue": "paper", "side": Side.BUY,
            "at": T0, "entry_order": "e1", "initial_stop": D(95), "stop": D(95)}  # fmt: skip
    return ChatLink(**{**base, **kw})


def _fill(fid: str, side: Side, qty: str, price: str, cid: str = "e1") -> Fill:
    return Fill(fid, cid, "paper", "BTC/USDT", side, D(qty), D(price), D(0), "USDT", Liquidity.TAKER, T0)


def test_fills_open_then_close_the_link_and_give_its_r():
    link = _link()
    assert link.apply_fill(_fill("f1", Side.BUY, "2", "100")) and link.status == "open"
    assert not link.apply_fill(_fill("f1", Side.BUY, "2", "100"))  # the same fill twice counts once
    assert link.apply_fill(_fill("f2", Side.SELL, "1", "110", "x1")) and link.qty == D(1)
    assert link.status == "open" and link.r is None
    assert link.apply_fill(_fill("f3", Side.SELL, "3", "120", "x2"))  # more than held: capped
    assert (link.status, link.qty, link.exit_qty) == ("closed", D(0), D(2))
    assert link.r == pytest.approx(3.0)  # exits average 115 on a 100 entry, 5 of risk


def test_a_close_by_another_order_counts_at_its_price():
    link = _link()
    link.apply_fill(_fill("f1", Side.BUY, "1", "100"))
    assert link.close_outside(D(1), D(90), "paper:k1")
    assert not link.close_outside(D(1), D(90), "paper:k1")
    assert link.status == "closed" and link.r == pytest.approx(-2.0)


def test_an_entry_that_ends_unfilled_cancels_the_link():
    from tui_trader.core.enums import OrderStatus, OrderType, TimeInForce
    from tui_trader.core.orders import Order

    order = Order("e1", "paper", "BTC/USDT", Side.BUY, OrderType.LIMIT, D(1), D(90), None, TimeInForce.GTC, T0, T0)
    link = _link()
    assert not link.apply_order(order)  # still working
    order.status = OrderStatus.CANCELLED
    assert link.apply_order(order) and link.status == "cancelled" and not link.active


def test_book_round_trips_keeps_ids_unique_and_drops_old_closed_links():
    book = LinkBook()
    ids = [book.new_id() for _ in range(3)]
    assert ids == ["chat-1", "chat-2", "chat-3"]
    link = _link(id="chat-1")
    link.apply_fill(_fill("f1", Side.BUY, "1", "100"))
    book.add(link)
    book.add(_link(id="chat-2", provider="beta", symbol="ETH/USDT"))
    again = LinkBook.from_dict(json.loads(json.dumps(book.to_dict())))
    assert again.new_id() == "chat-4"
    assert again.get("chat-1").as_dict() == link.as_dict()
    assert [lk.id for lk in again.active_for("alpha", "BTC/USDT")] == ["chat-1"]
    assert again.active_for("alpha", "ETH/USDT") == [] and len(again.active_for("beta", None)) == 1
    for i in range(MAX_CLOSED + 5):
        old = _link(id=f"old-{i}", status="closed")
        book.add(old)
    assert sum(not lk.active for lk in book.links.values()) == MAX_CLOSED
    assert "chat-1" in book.links  # active links are never dropped


@pytest.mark.parametrize("data", [{}, {"version": 9}, {"version": 1, "links": [{"id": "x"}]}])
def test_bad_saved_links_are_a_data_error(data):
    with pytest.raises(DataError):
        LinkBook.from_dict(data)


async def test_a_close_while_the_service_was_off_is_found_at_the_next_start(tmp_path):
    home = Home(tmp_path / "home").ensure()

    def settings(signals):
        return paper_settings().model_copy(update={"signals": signals})

    trusted = {"chat": {"auto_execute": ["alpha"], "min_trades": 0}}
    engine = manual_engine(settings(trusted), home=home)
    async with engine:
        mid = engine.mid("BTC/USDT")
        item = await dispatch(
            engine,
            "signals.parse_chat",
            {"text": f"BTC/USDT long now SL {mid * 0.97:.0f} TP {mid * 1.05:.0f}", "provider": "alpha"},
            "test",
        )
        assert item["status"] == "executed"
    off = manual_engine(settings({"enabled": False}), home=home)
    async with off:
        assert off.signal_service is None
        await off.flatten("test")  # closes the position; nobody follows the link now
        assert off.portfolio.position("paper", "BTC/USDT").quantity == 0
    back = manual_engine(settings(trusted), home=home)
    async with back:
        chat = back.signal_service.chat
        link = chat.links.get(item["id"])
        assert link.status == "closed" and link.qty == 0
        assert chat.providers.stats("alpha").count == 1
