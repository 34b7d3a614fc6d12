"""The flows a trader uses, driven with Pilot on a seeded paper venue and a frozen clock."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import DataTable, Input, Select

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.ui.panes import BlotterPane, ChartPane, OrderBookPane
from tui_trader.ui.panes.statusbar import StatusBar
from tui_trader.ui.screens import TicketScreen

from ui_helpers import answer, command, confirm_dialog, settle

SIZE = (100, 30)


def orders(rig) -> list:  # type: ignore[no-untyped-def]
    return [o for o in rig.engine.recent_orders.values() if o.status is not OrderStatus.REJECTED]


def below_market(rig, fraction: float) -> str:  # type: ignore[no-untyped-def]
    """A BTC price `fraction` of the way to the current mid (the paper market moves with time)."""
    return str(int(rig.engine.mid("BTC/USDT") * fraction))


def position(rig, symbol: str) -> Decimal:  # type: ignore[no-untyped-def]
    return sum(
        (p.quantity for p in rig.engine.portfolio.open_positions() if p.symbol == symbol),
        Decimal(0),
    )


async def test_market_order_by_command_line(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await command(rig, pilot, "buy 0.01 BTC/USDT mkt")
        body = rig.app.screen.body_text
        assert "BTC/USDT" in body and "Notional" in body and "Est. fee" in body
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        assert position(rig, "BTC/USDT") == Decimal("0.01")
        assert "filled" in rig.app.query_one(StatusBar).message


async def test_limit_order_by_command_line_with_enter(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        price = below_market(rig, 0.985)  # near the market: one confirmation
        await command(rig, pilot, f"buy 0.01 BTC/USDT limit {price}")
        await confirm_dialog(rig, pilot)
        await pilot.press("shift+tab")  # focus starts on No: Send is reached on purpose
        await answer(rig, pilot, "enter")
        await settle(rig, pilot)
        [order] = orders(rig)
        assert (order.type, order.price, order.status) == (
            OrderType.LIMIT,
            Decimal(price),
            OrderStatus.ACCEPTED,
        )


async def test_refusing_sends_nothing(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await command(rig, pilot, "sell 1 ETH/USDT mkt")
        await answer(rig, pilot, "n")
        await settle(rig, pilot)
        assert orders(rig) == []
        assert rig.app.query_one(StatusBar).message == "order not sent"


async def test_far_price_needs_a_second_confirmation(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        far = below_market(rig, 0.93)  # 7 % away: past the 5 % warning, inside the 10 % band
        await command(rig, pilot, f"buy 0.01 BTC/USDT limit {far}")
        await answer(rig, pilot, "ctrl+y")
        await answer(rig, pilot, "n", danger=True)  # refused at the second step
        await settle(rig, pilot)
        assert orders(rig) == []
        await command(rig, pilot, f"buy 0.01 BTC/USDT limit {far}")
        await answer(rig, pilot, "ctrl+y")
        await answer(rig, pilot, "ctrl+y", danger=True)
        await settle(rig, pilot)
        [order] = orders(rig)
        assert order.price == Decimal(far)


async def test_invalid_command_is_shown_inline(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await command(rig, pilot, "buy abc BTC/USDT")
        screen = rig.app.command_line
        assert screen.is_open and rig.app.focused is screen.field
        assert "quantity must be a number" in screen.error_text
        screen.field.value = "sell 10 FOO/BAR mkt"
        await pilot.press("enter")
        await pilot.pause()
        assert "unknown symbol 'FOO/BAR'" in screen.error_text
        screen.field.value = "buy 0.000001 BTC/USDT mkt"
        await pilot.press("enter")
        await pilot.pause()
        assert "multiple of 0.00001" in screen.error_text
        await pilot.press("escape")
        await pilot.pause()
        assert not screen.is_open and screen.field.value == "" and not screen.error_text
        assert orders(rig) == []


async def test_limit_order_by_ticket(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await pilot.press("b")
        await pilot.pause()
        ticket = rig.app.screen
        assert isinstance(ticket, TicketScreen)

        def title() -> str:
            return str(ticket.query_one("#ticket-title").render())

        assert "enter a quantity" in title() and "problem" not in title()  # a fresh ticket is not wrong
        price = below_market(rig, 0.985)
        ticket.query_one("#f-price", Input).value = price
        ticket.query_one("#f-quantity", Input).value = "abc"
        await pilot.pause()
        error = ticket.query_one("#err-quantity")
        assert error.display and "must be a number" in ticket.errors["quantity"]
        assert "1 problem(s)" in title()
        ticket.query_one("#f-quantity", Input).value = "0.02"
        await pilot.pause()
        assert not ticket.query_one("#err-quantity").display
        ticket.query_one("#f-quantity", Input).focus()
        await pilot.press("enter")
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        [order] = orders(rig)
        assert (order.side, order.quantity, order.price) == (
            Side.BUY,
            Decimal("0.02"),
            Decimal(price),
        )


async def test_market_sell_by_ticket(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await pilot.press("s")
        await pilot.pause()
        ticket = rig.app.screen
        ticket.query_one("#f-type", Select).value = "market"
        ticket.query_one("#f-quantity", Input).value = "0.5"
        await pilot.pause()
        assert not ticket.query_one("#row-price").display
        await pilot.press("ctrl+s")
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        assert position(rig, "BTC/USDT") == Decimal("-0.5")


def eth_bid(rig, points: int = 0) -> Decimal:  # type: ignore[no-untyped-def]
    """A whole-number ETH/USDT price about 3 % under the market (the paper market moves with
    time), plus `points`."""
    return Decimal(int(rig.engine.mid("ETH/USDT") * 0.97) + points)


async def _working_limit(rig):  # type: ignore[no-untyped-def]
    """A resting ETH/USDT buy about 3 % under the market."""
    return await rig.app.client.place(OrderRequest("ETH/USDT", Side.BUY, Decimal(1), OrderType.LIMIT, eth_bid(rig)))


async def _selected_in_blotter(rig, pilot):  # type: ignore[no-untyped-def]
    """A resting order, selected in the blotter (key 5 shows it)."""
    placed = await _working_limit(rig)
    await pilot.press("5")
    await rig.app.refresh_snapshot()
    await pilot.pause()
    assert rig.app.query_one(BlotterPane).select_order(placed.client_order_id)
    return placed


async def test_cancel_from_the_blotter(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        placed = await _selected_in_blotter(rig, pilot)
        await pilot.press("c")
        await settle(rig, pilot)
        assert rig.engine.recent_orders[placed.client_order_id].status is OrderStatus.CANCELLED


async def test_modify_from_the_command_line_replaces_the_order(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        placed = await _working_limit(rig)
        await rig.app.refresh_snapshot()
        new_price = placed.price + 10
        await command(rig, pilot, f"modify {placed.client_order_id[-6:]} price {new_price} qty 2")
        dialog = await confirm_dialog(rig, pilot)
        assert f"{placed.price} → {new_price}" in dialog.body_text and "1 → 2" in dialog.body_text
        assert "accepts the change" in dialog.body_text
        assert rig.engine.oms.open_orders()[0].client_order_id == placed.client_order_id  # nothing changed yet
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        [working] = rig.engine.oms.open_orders()
        assert (working.price, working.quantity) == (new_price, Decimal(2))
        assert working.meta["replaces"] == placed.client_order_id
        await command(rig, pilot, f"modify {working.client_order_id} qty 1000000")  # far past the limits
        dialog = await confirm_dialog(rig, pilot, "refused")
        assert "unchanged" in dialog.refusal and not dialog.query_one("#yes").display
        await answer(rig, pilot, "escape")
        await settle(rig, pilot)
        assert [o.client_order_id for o in rig.engine.oms.open_orders()] == [working.client_order_id]
        assert "unchanged" in rig.app.query_one(StatusBar).message


async def test_modify_from_the_blotter_opens_the_command_line_prefilled(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        placed = await _selected_in_blotter(rig, pilot)
        await pilot.press("m")
        await pilot.pause()
        line = rig.app.command_line
        assert line.is_open
        field = line.field
        assert field.value == f"modify {placed.client_order_id} price {placed.price} qty 1"
        field.value = field.value.replace(f"price {placed.price}", f"price {placed.price - 10}")
        await pilot.press("enter")
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        [working] = rig.engine.oms.open_orders()
        assert working.price == placed.price - 10 and working.meta["replaces"] == placed.client_order_id


async def test_flatten_with_the_kill_switch(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await rig.app.client.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.1")))
        await rig.app.client.place(OrderRequest("ETH/USDT", Side.BUY, Decimal(1), OrderType.LIMIT, eth_bid(rig)))
        await rig.app.refresh_snapshot()
        await pilot.press("ctrl+k")
        await answer(rig, pilot, "ctrl+y", danger=True)
        await settle(rig, pilot)
        assert rig.engine.portfolio.open_positions() == []
        assert rig.engine.oms.open_orders() == []


async def test_a_rejection_at_placing_is_shown(rig_factory) -> None:  # type: ignore[no-untyped-def]
    """The engine checked the order, then its limits changed before it was sent: the reject shows."""
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await command(rig, pilot, "buy 1 BTC/USDT mkt")
        await confirm_dialog(rig, pilot)
        rig.engine.settings.risk.max_order_notional = 100.0
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        assert rig.app.last_order is not None and rig.app.last_order.status is OrderStatus.REJECTED
        assert "REJECTED" in rig.app.query_one(StatusBar).message


async def test_symbol_and_timeframe_switch(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot)
        assert rig.app.layout_mode == "grid"
        await command(rig, pilot, "symbol eth/usdt")
        await settle(rig, pilot)
        assert rig.app.symbol == "ETH/USDT"
        assert "ETH/USDT" in str(rig.app.query_one(OrderBookPane).border_title)
        await command(rig, pilot, "tf 5m")
        await settle(rig, pilot)
        await rig.app.refresh_snapshot()
        chart = rig.app.query_one(ChartPane)
        assert rig.app.timeframe == "5m" and chart.loaded == ("ETH/USDT", "5m")
        assert chart.candles and chart.candles[-1].symbol == "ETH/USDT"
        await pilot.press("t")
        assert rig.app.timeframe == "15m"
        # Selecting a watchlist row makes it the active symbol.
        table = rig.app.query_one("#watchlist-table", DataTable)
        table.focus()
        table.move_cursor(row=2)
        await pilot.press("enter")
        await pilot.pause()
        assert rig.app.symbol == "SOL/USDT"


async def test_keymap_theme_and_quit(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory(keymap={"buy": "N"})
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await pilot.press("N")
        await pilot.pause()
        assert isinstance(rig.app.screen, TicketScreen)
        await pilot.press("escape")
        await command(rig, pilot, "theme nope")
        assert "unknown theme 'nope'" in rig.app.command_line.error_text
        rig.app.command_line.field.value = "theme tui-colorblind"
        await pilot.press("enter")
        await pilot.pause()
        assert rig.app.theme == "tui-colorblind" and rig.app.palette.up == "#56B4E9"
        titles = [title for title, _, _ in rig.app.palette_commands()]
        assert {
            "Buy…",
            "Flatten (kill switch)",
            "Symbol: ETH/USDT",
            "Timeframe: 4h",
            "Layout: grid",
        } <= set(titles)
        await rig.app.client.place(OrderRequest("ETH/USDT", Side.BUY, Decimal(1), OrderType.LIMIT, eth_bid(rig)))
        await rig.app.refresh_snapshot()
        await pilot.press("q")
        await answer(rig, pilot, "n")
        assert rig.app.is_running
        await pilot.press("q")
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
    assert rig.app.return_code == 0


async def test_venue_commands_on_the_command_line(rig_factory) -> None:  # type: ignore[no-untyped-def]
    """`:venue stop|start paper` rehearse an outage from the workstation; `:venue reconnect`
    of the paper venue says in one line (red) why not and what does; a venue that is not
    configured is refused inline, nothing sent; the palette offers no reconnect for paper."""
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        bar, paper = rig.app.query_one(StatusBar), rig.engine.venues["paper"]
        await command(rig, pilot, "venue reconnect kraken")
        line = rig.app.command_line
        assert line.is_open and line.error_text == "no venue 'kraken'; configured: paper"
        await pilot.press("escape")
        await pilot.pause()

        await command(rig, pilot, "venue reconnect paper")
        await settle(rig, pilot)
        assert bar.message == (
            "paper is a paper venue: it has no keys to read again; "
            "`tui-trader venue stop|start paper` takes it down and back"
        )
        assert bar.message_style == rig.app.palette.error

        await command(rig, pilot, "venue stop PAPER")
        await settle(rig, pilot)
        assert paper.state.value == "disconnected" and "paper" in bar.message and "disconnected" in bar.message
        await command(rig, pilot, "venue start paper")
        await settle(rig, pilot)
        assert paper.state.value == "connected" and "paper" in bar.message and "connected" in bar.message
        assert "disconnected" not in bar.message and bar.message_style == ""
        assert not [c for c in rig.app.feature_palette_commands() if c[0].startswith("Reconnect venue")]
