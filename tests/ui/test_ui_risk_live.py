"""Risk pane (breaker trip, reset with confirmation, redraw only on change), the live banner
and the typed arming flow, and held orders in the blotter with their details."""

from __future__ import annotations

import io
from decimal import Decimal

from rich.console import Console
from textual.widgets import Input

from tui_trader.core.enums import OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.ui.panes import BlotterPane, RiskPane
from tui_trader.ui.panes.risk import gauge, heat_colour
from tui_trader.ui.panes.statusbar import LiveBanner, ModeBadge
from tui_trader.ui.screens import ArmLiveScreen, OrderInfoScreen
from tui_trader.ui.screens.order_info import order_info
from tui_trader.ui.theme import Palette

from ui_helpers import answer, build_rig


async def _frame(rig, pilot) -> None:  # type: ignore[no-untyped-def]
    await rig.app.workers.wait_for_complete()
    await rig.app.refresh_snapshot()
    await pilot.pause()


async def _until(pilot, predicate, tries: int = 100) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition never became true")


def _plain(renderable) -> str:  # type: ignore[no-untyped-def]
    console = Console(width=100, file=io.StringIO(), record=True)
    console.print(renderable)
    return console.export_text()


def _body(rig) -> str:  # type: ignore[no-untyped-def]
    return _plain(rig.app.query_one(RiskPane).body)


def test_gauge_and_heat_colours() -> None:
    pal = Palette("#00ff00", "#ff0000", "", "", "#808080", "#ffff00", "#ff0000", "", "", "", "", "")
    assert gauge(0.5, pal, width=10).plain == "█████░░░░░ 50%"
    assert gauge(None, pal).plain == "no limit set"
    assert heat_colour(1.0, pal) == "#00FF00"
    assert heat_colour(-1.0, pal) == "#FF0000"
    assert heat_colour(0.0, pal) == "#808080"


async def test_breaker_trip_shows_and_resets_after_confirmation() -> None:
    rig = build_rig()
    rig.engine.settings.risk.max_consecutive_losses = 2
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await rig.ready(pilot)
        await pilot.press("6")
        await _frame(rig, pilot)
        pane = rig.app.query_one(RiskPane)
        draws = pane.draws
        await _frame(rig, pilot)
        assert pane.draws == draws  # nothing changed: no redraw
        assert "Trading enabled" in _body(rig)
        breakers = rig.engine.risk.breakers
        breakers.limits.max_consecutive_losses = 2
        breakers.observe_trade(-5.0, rig.clock.now())
        breakers.observe_trade(-5.0, rig.clock.now())
        await _frame(rig, pilot)
        text = _body(rig)
        assert "HALTED" in text and "TRIPPED" in text and "2 losing trades" in text
        assert "HALTED" in str(pane.border_title)
        assert pane.draws == draws + 1
        await pilot.press("R")
        await answer(rig, pilot, "n", danger=True)
        await _frame(rig, pilot)
        assert breakers.tripped  # refused: still tripped
        await pilot.press("R")
        await answer(rig, pilot, "ctrl+y", danger=True)
        await _frame(rig, pilot)
        assert not breakers.tripped
        assert "Trading enabled" in _body(rig)


async def test_live_venue_banner_and_typed_arming() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(80, 24)) as pilot:
        await rig.ready(pilot)
        banner = rig.app.query_one(LiveBanner)
        assert not banner.display
        rig.engine.venues["paper"].is_live = True  # a fake live venue
        await _frame(rig, pilot)
        assert banner.display and "NOT ARMED" in str(banner.render())
        assert rig.app.query_one(ModeBadge).label.strip() == "LIVE"
        await pilot.press("A")
        await _until(pilot, lambda: isinstance(rig.app.screen, ArmLiveScreen))
        rig.app.screen.query_one(Input).value = "binance"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(rig.app.screen, ArmLiveScreen) and "not a live venue" in rig.app.screen.error_text
        assert rig.engine.live_armed is False
        rig.app.screen.query_one(Input).value = "paper"
        await pilot.press("enter")
        await _frame(rig, pilot)
        assert rig.engine.live_armed is True
        assert not banner.display
        assert rig.app.query_one(ModeBadge).label.strip() == "LIVE"  # the badge stays


async def test_live_badge_visible_at_both_sizes() -> None:
    for size in ((80, 24), (160, 48)):
        rig = build_rig()
        async with rig.app.run_test(size=size) as pilot:
            await rig.ready(pilot)
            rig.engine.venues["paper"].is_live = True
            await _frame(rig, pilot)
            badge = rig.app.query_one(ModeBadge)
            region = badge.region
            assert badge.display and region.width >= 6 and region.y == 0
            assert rig.app.screen.get_widget_at(region.x + 1, region.y)[0] is badge


async def test_held_bracket_children_and_order_details() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await rig.ready(pilot)
        mid = rig.engine.ticker("ETH/USDT").mid
        inst = rig.engine.instrument("paper", "ETH/USDT")
        price = inst.round_price(Decimal(str(mid * 0.95)))
        entry = await rig.engine.place(
            OrderRequest(
                "ETH/USDT",
                Side.BUY,
                Decimal("0.1"),
                OrderType.LIMIT,
                price=price,
                stop_loss=inst.round_price(price * Decimal("0.95")),
                take_profit=inst.round_price(price * Decimal("1.05")),
            )
        )
        await pilot.press("5")
        await _frame(rig, pilot)
        pane = rig.app.query_one(BlotterPane)
        held = [o for o in rig.engine.oms.open_orders() if o.meta.get("held")]
        assert held, "the bracket children are held by the engine"
        for child in held:
            assert pane._orders.rows[child.client_order_id][8][0] == "held"
        assert pane._orders.rows[entry.client_order_id][8][0] != "held"
        assert "held" in str(pane.border_title)
        assert pane.select_order(held[0].client_order_id)
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(rig.app.screen, OrderInfoScreen))
        text = _plain(order_info(rig.app.screen.order))
        assert "Emulated" in text and str(held[0].meta["emulated"])[:20] in text
        assert "held" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(rig.app.screen, OrderInfoScreen)


async def test_reload_config_shows_the_new_limits_in_the_risk_pane(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.ui.panes.statusbar import StatusBar

    rig = build_rig()
    rig.engine.config_file = tmp_path / "config.toml"
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await rig.ready(pilot)
        await pilot.press("6")
        await _frame(rig, pilot)
        assert "max_order_notional=1,234.00" not in _body(rig)
        rig.engine.config_file.write_text("[risk]\nmax_order_notional = 1234\nmax_consecutive_losses = 7\n")
        rig.app.action_reload_config()
        await _frame(rig, pilot)
        message = rig.app.query_one(StatusBar).message  # the reload's own line, or its RiskEvent
        assert "reloaded" in message and "max_order_notional" in message
        text = _body(rig)
        assert "max_order_notional=1,234.00" in text and "max_consecutive_losses=7" in text
        assert rig.engine.risk.breakers.limits.max_consecutive_losses == 7
        rig.engine.config_file.write_text("[risk]\nmax_order_notional = -5\n")  # invalid: refused whole
        rig.app.action_reload_config()
        await _frame(rig, pilot)
        assert "config reload refused" in rig.app.query_one(StatusBar).message
        assert "max_order_notional=1,234.00" in _body(rig)


async def test_balances_fit_the_grid_layouts_narrow_risk_pane_without_cutting_a_number() -> None:
    """At 160x48 the risk pane is ~44 cells wide: the balances table had cut "USDT" to "US…" and
    every amount to "100,000.…". A narrow pane now gets compact amounts, then loses the rate."""
    from tui_trader.ui.panes.risk import balances_table

    rig = build_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot)
        await rig.app.client.place(OrderRequest("ETH/USDT", Side.BUY, Decimal("1")))  # a positions column too
        await _frame(rig, pilot)
        await _frame(rig, pilot)
        pane = rig.app.query_one(RiskPane)
        console = Console(width=pane.query_one("#risk-body").content_size.width, file=io.StringIO(), record=True)
        console.print(pane.body)
        text = console.export_text()
        assert "Balances" in text and "…" not in text, text
        balances = rig.app.snapshot.account.balances
        pal = rig.app.palette
        usdt = next(b for b in balances if b.currency == "USDT")
        for width, wanted, rate in ((60, f"{usdt.cash:,.2f}", True), (44, "K ", True), (34, "K ", False)):
            narrow = Console(width=width, file=io.StringIO(), record=True)
            narrow.print(balances_table(balances, "USD", pal, width))
            shown = narrow.export_text()
            assert "…" not in shown and wanted in shown and "USDT" in shown, (width, shown)
            assert max(len(line) for line in shown.splitlines()) <= width
            assert ("rate" in shown) is rate, (width, shown)
