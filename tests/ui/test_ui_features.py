"""Issue 21's missing features, each driven with Pilot from the keyboard on the seeded paper
venue, and each offered in the command palette."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from textual.widgets import DataTable, OptionList, Static

from tui_trader.core.enums import OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.home import Home
from tui_trader.ui.panes import ChartPane
from tui_trader.ui.panes.chart import ChartCanvas
from tui_trader.ui.panes.orderbook import Ladder
from tui_trader.ui.panes.performance import PerformancePane
from tui_trader.ui.panes.statusbar import StatusBar
from tui_trader.ui.panes.tape import TapePane
from tui_trader.ui.panes.watchlist import WatchlistPane
from tui_trader.ui.screens import AlertsScreen, SymbolSearchScreen

from ui_helpers import build_rig, frame
from ui_helpers import command as typed

SIZE = (100, 30)




async def command(rig, pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await typed(rig, pilot, text)
    await rig.app.workers.wait_for_complete()
    await pilot.pause()


def palette_titles(rig) -> list[str]:  # type: ignore[no-untyped-def]
    return [title for title, _, _ in rig.app.palette_commands()]


async def test_chart_markers_levels_zoom_crosshair_and_indicators() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot, steps=5)
        await rig.app.client.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.01")))  # a fill
        below = Decimal(round(rig.engine.mid("BTC/USDT") * 0.99))
        await rig.app.client.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.02"), OrderType.LIMIT, below))
        await frame(rig, pilot)
        await pilot.press("3")
        await frame(rig, pilot)
        chart = rig.app.query_one(ChartPane)
        await pilot.pause(0.1)
        chart.redraw()
        model = chart.model
        assert model is not None and model.markers and model.markers[-1].buy  # ▲ where the fill was
        assert any(abs(level.price - float(below)) < 1e-6 for level in model.levels)  # the working limit
        canvas = rig.app.query_one(ChartCanvas)
        assert any("▲" in line.plain for line in canvas.lines)
        assert rig.app.focused is canvas
        shown = len(model.candles)
        await pilot.press("plus")  # zoom in: wider candles, fewer of them
        assert chart.model is not None and len(chart.model.candles) < shown
        await pilot.press("minus", "minus")
        assert len(chart.model.candles) > shown
        await pilot.press("left", "left")  # the crosshair, two bars back
        assert chart.cursor == len(chart.candles) - 2
        title = str(rig.app.query_one("#chart-title", Static).render())
        assert "O " in title and "C " in title  # the bar read out
        await pilot.press("c")
        assert chart.cursor is None
        assert rig.app.indicators() == ("ema", "bb")
        await pilot.press("i")  # next set of overlays
        assert rig.app.indicators() == ("sma", "ema")
        await command(rig, pilot, "ind vwap bb")
        assert rig.app.indicators() == ("vwap", "bb")
        chart.redraw()
        assert set(chart.model.overlays) == {"vwap", "bb_upper", "bb_lower"}
        titles = palette_titles(rig)
        assert "Next chart overlays" in titles and "Indicators: VWAP" in titles and "Chart: zoom in" in titles


async def test_the_tape_shows_the_latest_prints() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await pilot.press("9")
        tape = rig.app.query_one(TapePane)
        for _ in range(50):
            rig.step()
            await frame(rig, pilot)
            if len(tape.prints) >= 3:
                break
        assert len(tape.prints) >= 3
        times = [p["ts"] for p in tape.prints]
        assert times == sorted(times, reverse=True)  # newest first
        body = str(rig.app.query_one("#tape-body", Static).render())
        assert "price" in body and f"{float(tape.prints[0]['price']):,.2f}" in body
        assert "Show Time & sales (9)" in palette_titles(rig)


async def test_own_orders_are_marked_on_the_book() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot, steps=5)
        book = rig.engine.book("BTC/USDT")
        assert book is not None
        level = book.bids[2][0]
        await rig.app.client.place(
            OrderRequest("BTC/USDT", Side.BUY, Decimal("0.37"), OrderType.LIMIT, Decimal(str(level)))
        )
        await frame(rig, pilot)
        text = rig.app.query_one(Ladder).render().plain
        row = next(line for line in text.splitlines() if f"{level:,.2f}" in line)
        assert "◀ 0.3700" in row, text


async def test_price_alerts_fire_once_and_are_listed_and_deleted(tmp_path: Path) -> None:
    rig = build_rig()
    rig.app.desk = type(rig.app.desk).load(Home(tmp_path).ensure().root)
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        last = rig.engine.snapshot().ticker("BTC/USDT").last  # type: ignore[union-attr]
        await command(rig, pilot, f"alert BTC/USDT above {int(last * 1.5)}")
        await command(rig, pilot, f"alert BTC/USDT below {int(last * 1.01)}")  # already true: fires
        await frame(rig, pilot)
        message = rig.app.query_one(StatusBar).message
        assert "ALERT #2 BTC/USDT ≤" in message, message
        assert [(a.id, a.above) for a in rig.app.desk.alerts] == [(1, True)]  # fired once, then gone
        await frame(rig, pilot)
        assert [a.id for a in rig.app.desk.alerts] == [1]
        saved = json.loads((tmp_path / "ui_state.json").read_text())
        assert len(saved["alerts"]) == 1  # kept for the next session
        await pilot.press("a")
        await pilot.pause()
        screen = rig.app.screen
        assert isinstance(screen, AlertsScreen)
        assert screen.query_one(DataTable).row_count == 1
        await pilot.press("d")
        await pilot.pause()
        assert rig.app.desk.alerts == []
        await pilot.press("escape")
        assert "Price alerts…" in palette_titles(rig)


async def test_watchlist_edit_and_symbol_search() -> None:
    rig = build_rig(watchlist=["BTC/USDT", "ETH/USDT"])
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        pane = rig.app.query_one(WatchlistPane)
        assert pane.symbols == ["BTC/USDT", "ETH/USDT"]
        await pilot.press("slash")
        await pilot.pause()
        screen = rig.app.screen
        assert isinstance(screen, SymbolSearchScreen)
        await pilot.press("s", "o", "l")
        await pilot.pause()
        assert screen.results[0] == "SOL/USDT"
        await pilot.press("plus")  # add the highlighted market to the watchlist
        await pilot.pause()
        assert "★ SOL/USDT" in str(screen.query_one(OptionList).get_option_at_index(0).prompt)
        await pilot.press("enter")  # and make it the active symbol
        await pilot.pause()
        assert rig.app.symbol == "SOL/USDT" and pane.symbols == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
        await command(rig, pilot, "watch rm eth")
        assert pane.symbols == ["BTC/USDT", "SOL/USDT"]
        await pilot.press("1")
        await frame(rig, pilot)
        table = rig.app.query_one("#watchlist-table", DataTable)
        table.move_cursor(row=0)
        await pilot.press("minus")  # remove the row under the cursor
        await frame(rig, pilot)
        assert pane.symbols == ["SOL/USDT"]
        assert "Find symbol…" in palette_titles(rig)


async def test_saved_layouts_come_back(tmp_path: Path) -> None:
    rig = build_rig()
    rig.app.desk = type(rig.app.desk).load(Home(tmp_path).ensure().root)
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await command(rig, pilot, "symbol ETH/USDT")
        await pilot.press("t")
        await pilot.press("2")
        await command(rig, pilot, "layout save scalp")
        assert "scalp" in json.loads((tmp_path / "ui_state.json").read_text())["layouts"]
        await command(rig, pilot, "symbol BTC/USDT")
        await pilot.press("t", "t", "1")
        await command(rig, pilot, "layout scalp")
        await frame(rig, pilot)
        assert rig.app.symbol == "ETH/USDT" and rig.app.timeframe == "5m"
        assert rig.app.query_one("#tabs").active == "tab-book"  # type: ignore[attr-defined]
        assert "Layout: scalp" in palette_titles(rig) and "Save layout…" in palette_titles(rig)


async def test_performance_pane_lists_closed_trades_with_mfe_mae_and_the_equity() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot)
        await rig.app.client.place(OrderRequest("ETH/USDT", Side.BUY, Decimal("1")))
        rig.clock.advance(150)  # the trade lives through a few 1m bars
        rig.step(3)
        await rig.app.client.place(OrderRequest("ETH/USDT", Side.SELL, Decimal("1")))
        await rig.engine.record_equity()  # type: ignore[attr-defined]
        await pilot.press("0")
        pane = rig.app.query_one(PerformancePane)
        for _ in range(50):
            await frame(rig, pilot)
            if pane.report and pane.report["trades"]:
                break
        assert pane.report is not None, pane.error
        (trade,) = pane.report["trades"]
        assert trade["symbol"] == "ETH/USDT" and trade["entry_price"] and trade["exit_price"]
        assert trade["mfe"] is not None and trade["mae"] is not None and trade["mfe"] >= 0 >= trade["mae"]
        table = rig.app.query_one("#perf-table", DataTable)
        labels = [str(c.label) for c in table.ordered_columns]
        assert {"Symbol", "P&L", "MFE", "MAE"} <= set(labels), labels
        assert table.row_count == 1
        summary = str(rig.app.query_one("#perf-summary", Static).render())
        assert "1 trades" in summary
        assert "Show Performance (0)" in palette_titles(rig)
