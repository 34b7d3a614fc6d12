"""Issue 21's defects, one test each, driven with Pilot on the seeded paper venue."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static, TabbedContent

from tui_trader.core.enums import OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.home import Home
from tui_trader.ui.bindings import APP_BINDINGS
from tui_trader.ui.chart_render import span_text
from tui_trader.ui.panes import PANES, ChartPane, OrderBookPane
from tui_trader.ui.panes.chart import ChartCanvas
from tui_trader.ui.panes.orderbook import Ladder
from tui_trader.ui.panes.statusbar import StatusBar, TopLine
from tui_trader.ui.screens import HelpScreen

from ui_helpers import build_rig, command, frame


async def test_the_key_map_lists_every_key_of_ours_and_scrolls() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(80, 24)) as pilot:
        await rig.ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        screen = rig.app.screen
        assert isinstance(screen, HelpScreen)
        ids = {r[3] for r in screen.rows}
        ours = {b.id for b in APP_BINDINGS if b.id} | {b.id for cls in PANES for b in cls.BINDINGS if b.id}  # type: ignore[union-attr]
        assert ours <= ids, ours - ids
        keys = {r[1] for r in screen.rows}
        for key in ("7", "8", "m", "R", "o", "e", "r", "Enter", "ctrl+y"):
            assert key in keys, key
        by_id = {r[3]: r[1] for r in screen.rows}
        assert by_id["cancel_order"].startswith("c /") and by_id["close_position"].startswith("c /")
        table = screen.query_one(DataTable)
        first = str(table.get_row_at(0)[0])
        assert first == "Orders"  # ours first: no generic framework rows (tab, focus next...)
        assert not any("Focus" in str(table.get_row_at(i)[1]) for i in range(table.row_count))
        longest = max(len(i) for i in ids)
        assert table.columns[table.ordered_columns[2].key].width >= longest  # ids are never cut
        assert rig.app.focused is table
        before = table.scroll_y
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert table.scroll_y > before  # it scrolls


async def test_number_keys_reach_the_chart_from_the_signals_and_orders_tabs() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(100, 30)) as pilot:
        await rig.ready(pilot)
        for start in ("7", "5", "8", "0"):
            await pilot.press(start)
            await frame(rig, pilot)
            await pilot.press("3")
            await pilot.pause()
            assert rig.app.query_one("#tabs", TabbedContent).active == "tab-chart", start
            assert isinstance(rig.app.focused, ChartCanvas)


async def test_orders_show_quantity_price_status_and_reason_in_the_grid() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot)
        far = Decimal(round(rig.engine.mid("BTC/USDT") * 0.5))
        rejected = OrderRequest("BTC/USDT", Side.BUY, Decimal("0.01"), OrderType.LIMIT, far)
        await rig.app.client.place(rejected)
        await frame(rig, pilot)
        table = rig.app.query_one("#orders-table", DataTable)
        labels = [str(c.label) for c in table.ordered_columns]
        assert {"Qty", "Price", "Status", "Reason"} <= set(labels), labels
        reason = table.columns[table.ordered_columns[labels.index("Reason")].key]
        await pilot.press("5")
        await pilot.press("z")  # the blotter alone: the reason takes the width
        await frame(rig, pilot)
        await frame(rig, pilot)
        wide = {str(c.label): c.width for c in table.ordered_columns}
        assert wide["Reason"] > max(reason.width, 60) and "Time" in wide and "Filled" in wide
        text = "".join(str(c) for c in table.get_row_at(0))
        assert "band" in text  # the whole reason, not its first 30 characters


@pytest.mark.parametrize("size", [(160, 48), (100, 30), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_no_table_scrolls_sideways_at_any_size_and_empty_ones_show_no_scrollbar(size: tuple[int, int]) -> None:
    rig = build_rig()
    async with rig.app.run_test(size=size) as pilot:
        await rig.ready(pilot)
        for key in ("1", "4", "5", "6", "7", "8", "9", "0", "f8", "f9"):
            await pilot.press(key)
            await frame(rig, pilot)
            await pilot.pause()
            for table in rig.app.query(DataTable):
                if table.region.width and table.display:
                    assert not table.show_horizontal_scrollbar, (size, key, table.id)
                    if table.row_count == 0:  # an empty table shows no scrollbar at all
                        assert not table.show_vertical_scrollbar, (size, key, table.id)


async def test_the_chart_stays_inside_its_pane() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot, steps=5)
        await pilot.pause(0.2)
        await frame(rig, pilot)
        chart = rig.app.query_one(ChartPane)
        canvas = rig.app.query_one(ChartCanvas)
        await frame(rig, pilot)
        assert chart.draws and canvas.lines
        assert all(line.cell_len == canvas.size.width for line in canvas.lines)  # volume bars included
        assert len(canvas.lines) == canvas.size.height
        book = rig.app.query_one(OrderBookPane)
        assert canvas.region.right <= book.region.x


async def test_the_book_lines_up_its_decimals() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot, steps=5)
        await frame(rig, pilot)
        lines = rig.app.query_one(Ladder).render().plain.splitlines()
        rows = [line for line in lines if line[:12].strip().replace(",", "").replace(".", "").isdigit()]
        assert len(rows) >= 20
        points = {line.index(".", 13) for line in rows}  # the size column's decimal point
        assert len(points) == 1, points


async def test_the_recommendations_title_keeps_its_words_apart() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot)
        await pilot.press("7")
        await frame(rig, pilot)
        title = str(rig.app.query_one("#recs-title", Static).render())
        assert "Recommendations · none · p: paste" in title


def test_the_chart_range_has_dates_when_the_bars_span_days() -> None:
    from datetime import UTC, datetime, timedelta

    from tui_trader.core.market import Candle

    start = datetime(2026, 1, 5, tzinfo=UTC)
    hourly = [Candle("X", "1h", start + timedelta(hours=i), 1, 1, 1, 1, 1) for i in range(48)]
    assert span_text(hourly, "1h") == "01-05 00:00 → 01-06 23:00"
    four = [Candle("X", "4h", start + timedelta(hours=4 * i), 1, 1, 1, 1, 1) for i in range(30)]
    assert span_text(four, "4h") == "01-05 00:00 → 01-09 20:00"
    minutes = [Candle("X", "1m", start + timedelta(minutes=i), 1, 1, 1, 1, 1) for i in range(30)]
    assert span_text(minutes, "1m") == "00:00 → 00:29"


async def test_day_pnl_shows_at_80x24() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(80, 24)) as pilot:
        await rig.ready(pilot)
        await frame(rig, pilot)
        top = rig.app.query_one(TopLine)
        text = top.render()
        plain = text.plain if hasattr(text, "plain") else str(text)
        assert "day +0.00" in plain and len(plain) <= top.size.width


async def test_a_forced_grid_on_a_small_terminal_says_why_it_shows_tabs() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(80, 24)) as pilot:
        await rig.ready(pilot)
        await command(rig, pilot, "layout grid")
        await frame(rig, pilot)
        assert rig.app.layout_mode == "tabs"
        message = rig.app.query_one(StatusBar).message
        assert "grid needs at least 140x40" in message and "80x24" in message
    rig = build_rig(layout="grid")
    async with rig.app.run_test(size=(150, 42)) as pilot:
        await rig.ready(pilot)
        assert rig.app.layout_mode == "grid"  # forced, and big enough for it


async def test_a_saved_strategy_says_it_needs_config_and_ctrl_e_adds_it(tmp_path: Path) -> None:
    from tui_trader.ui.screens.rule_builder import RuleBuilderScreen

    home = Home(tmp_path).ensure()
    rig = build_rig()
    rig.app.home = home
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await rig.ready(pilot)
        screen = RuleBuilderScreen()
        await rig.app.push_screen(screen)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        status = str(screen.query_one("#status", Static).render())
        assert screen.saved is not None, status
        name = screen.saved.stem
        assert "does not run yet" in status and f"[strategies.{name}]" in status and "ctrl+e" in status
        await pilot.press("ctrl+e")
        await pilot.pause()
        import tomllib

        config = tomllib.loads(home.config_file.read_text())
        assert config["strategies"][name] == {"enabled": False, "symbols": [rig.app.symbol]}
        assert "restart" in str(screen.query_one("#status", Static).render())
        await pilot.press("ctrl+e")  # once only
        await pilot.pause()
        assert home.config_file.read_text().count(f"[strategies.{name}]") == 1


@pytest.mark.parametrize(
    "key, note_id, says",
    [
        ("f8", "#copy-note", ("[copy.NAME]", "chat:PROVIDER", "docs/social.md")),
        ("8", "#strategies-error", ("[strategies.ema_cross]", "config.toml")),
    ],
)
async def test_an_empty_copy_or_strategies_pane_says_how_to_start_one(
    key: str, note_id: str, says: tuple[str, ...]
) -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(100, 30)) as pilot:
        await rig.ready(pilot)
        await pilot.press(key)
        await frame(rig, pilot)
        note = rig.app.query_one(note_id, Static)
        text = str(note.render())
        assert note.display and all(s in text for s in says), text
