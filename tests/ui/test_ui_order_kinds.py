"""Every order kind from the workstation: trailing stop, OCO, post-only, reduce-only and time in
force, from the `:` command line and from the ticket, placed through the engine (Pilot, a
seeded paper venue, a frozen clock)."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import Checkbox, Input, Select

from tui_trader.core.enums import OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.orders import OrderRequest
from tui_trader.ui.panes.statusbar import StatusBar
from tui_trader.ui.screens import TicketScreen

from ui_helpers import answer, command, settle

SIZE = (100, 40)


def working(rig) -> list:  # type: ignore[no-untyped-def]
    return [o for o in rig.engine.recent_orders.values() if o.status is not OrderStatus.REJECTED]


def away(rig, symbol: str, fraction: float) -> str:  # type: ignore[no-untyped-def]
    """A whole-number price `fraction` of the current mid (the paper market moves with time)."""
    return str(int(rig.engine.mid(symbol) * fraction))


async def long_eth(rig) -> None:  # type: ignore[no-untyped-def]
    order = await rig.app.client.place(OrderRequest("ETH/USDT", Side.BUY, Decimal(1)))
    assert order.status is OrderStatus.FILLED, order.reason


async def test_oco_from_the_command_line_places_both_legs_linked(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await long_eth(rig)
        take, stop = away(rig, "ETH/USDT", 1.02), away(rig, "ETH/USDT", 0.98)
        await command(rig, pilot, f"sell 1 ETH/USDT limit {take} oco {stop} reduce")
        assert "One cancels the other" in rig.app.screen.body_text
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        legs = [o for o in working(rig) if o.side is Side.SELL]
        assert sorted((o.type, o.price or o.stop_price) for o in legs) == [
            (OrderType.LIMIT, Decimal(take)),
            (OrderType.STOP, Decimal(stop)),
        ]
        assert legs[0].oco_id and legs[0].oco_id == legs[1].oco_id
        assert all(o.reduce_only and o.status is OrderStatus.ACCEPTED for o in legs)
        said = rig.app.query_one(StatusBar).message
        assert " OCO " in said and all(o.client_order_id in said for o in legs)


async def test_trailing_stop_from_the_command_line(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await long_eth(rig)
        await command(rig, pilot, "sell 1 ETH/USDT trail 2% reduce")
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        [trail] = [o for o in working(rig) if o.type is OrderType.TRAILING_STOP]
        assert (trail.side, trail.quantity, trail.meta["trail_percent"], trail.reduce_only, trail.status) == (
            Side.SELL,
            Decimal(1),
            "0.02",
            True,
            OrderStatus.ACCEPTED,
        )


async def test_trailing_stop_reduce_only_by_ticket(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await long_eth(rig)
        await pilot.press("s")
        await pilot.pause()
        ticket = rig.app.screen
        assert isinstance(ticket, TicketScreen)
        ticket.query_one("#f-symbol", Input).value = "ETH/USDT"
        ticket.query_one("#f-type", Select).value = "trailing-stop"
        ticket.query_one("#f-quantity", Input).value = "1"
        await pilot.pause()
        assert ticket.query_one("#row-trail").display and not ticket.query_one("#row-price").display
        assert "needs a distance" in ticket.errors["trail"]
        ticket.query_one("#f-trail", Input).value = "150"
        ticket.query_one("#f-reduce_only", Checkbox).value = True
        await pilot.pause()
        assert ticket.errors == {}, ticket.errors
        await pilot.press("ctrl+s")
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        [trail] = [o for o in working(rig) if o.type is OrderType.TRAILING_STOP]
        assert (trail.side, trail.meta["trail_amount"], trail.reduce_only) == (Side.SELL, "150", True)


async def test_post_only_ioc_and_an_oco_leg_by_ticket(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await pilot.press("b")
        await pilot.pause()
        ticket = rig.app.screen
        assert isinstance(ticket, TicketScreen)
        ticket.query_one("#f-symbol", Input).value = "ETH/USDT"
        ticket.query_one("#f-type", Select).value = "stop"
        ticket.query_one("#f-quantity", Input).value = "1"
        ticket.query_one("#f-post_only", Checkbox).value = True
        await pilot.pause()
        assert "post-only applies to limit orders only" in ticket.errors["flags"]
        ticket.query_one("#f-type", Select).value = "limit"
        bid, breakout = away(rig, "ETH/USDT", 0.98), away(rig, "ETH/USDT", 1.02)
        ticket.query_one("#f-price", Input).value = bid
        ticket.query_one("#f-oco", Input).value = "-3"
        await pilot.pause()
        assert "greater than zero" in ticket.errors["oco"]
        ticket.query_one("#f-oco", Input).value = breakout
        await pilot.pause()
        assert ticket.errors == {}, ticket.errors
        first, other = ticket.request  # type: ignore[misc]
        assert (first.type, first.post_only, other.type, other.stop_price) == (
            OrderType.LIMIT,
            True,
            OrderType.STOP,
            Decimal(breakout),
        )
        await pilot.press("ctrl+s")
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        legs = working(rig)
        assert sorted(o.type for o in legs) == [OrderType.LIMIT, OrderType.STOP]
        assert legs[0].oco_id and legs[0].oco_id == legs[1].oco_id
        assert [o.post_only for o in legs if o.type is OrderType.LIMIT] == [True]

        # An IOC limit under the market: it cannot rest, so it is cancelled, nothing filled.
        await command(rig, pilot, f"buy 1 ETH/USDT limit {away(rig, 'ETH/USDT', 0.97)} ioc")
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        [ioc] = [o for o in working(rig) if o.time_in_force is TimeInForce.IOC]
        assert ioc.filled_quantity == 0 and ioc.status.is_final
