"""The strategy builder: inline errors while editing, a signal preview, and save."""

from __future__ import annotations

import tomllib

from textual.widgets import Button, DataTable, Static, TextArea

from tui_trader.home import Home
from tui_trader.strategy.loader import load_strategy
from tui_trader.ui.screens.rule_builder import TEMPLATE, RuleBuilderScreen, indicator_line

SIZE = (120, 40)
BROKEN = TEMPLATE.replace('"close > ema_50"', '"close >> ema_50"')
# RSI crossing 50 fires often on 500 random-walk bars, so the preview has signals to show.
LIVELY = TEMPLATE.replace("crosses_above 30", "crosses_above 50").replace("rsi_14 > 70", "rsi_14 crosses_below 50")


async def open_builder(rig, pilot, text: str) -> RuleBuilderScreen:  # type: ignore[no-untyped-def]
    await rig.ready(pilot)
    screen = RuleBuilderScreen(text)
    await rig.app.push_screen(screen)
    await pilot.pause()
    return screen


def shown(screen: RuleBuilderScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_edit_fix_preview_and_save(rig_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    rig.app.home = Home(tmp_path).ensure()
    async with rig.app.run_test(size=SIZE) as pilot:
        screen = await open_builder(rig, pilot, BROKEN)
        line = BROKEN.splitlines().index('all = ["rsi_14 crosses_above 30", "close >> ema_50"]') + 1
        assert screen.errors and screen.errors[0].line == line
        assert f"line {line}" in shown(screen, "#errors")
        # saving is refused while it is broken
        await pilot.press("ctrl+s")
        assert "fix 1 error" in shown(screen, "#status")
        assert not (tmp_path / "strategies" / "my_rules.toml").exists()
        # fix it in the editor: validation follows the typing
        screen.query_one("#editor", TextArea).text = LIVELY
        await pilot.pause(0.5)
        assert screen.errors == []
        assert "valid: my_rules" in shown(screen, "#errors")
        await pilot.press("ctrl+r")
        await pilot.pause()
        await rig.app.workers.wait_for_complete()
        await pilot.pause()
        frame = screen.preview_frame
        assert frame is not None, shown(screen, "#status")
        assert len(frame) > 400
        entries = int(frame["enter_long"].sum())
        assert entries > 0
        assert sum(1 for m in screen.marks if m[2]) == entries
        assert f"{entries} entry" in shown(screen, "#status")
        await pilot.press("ctrl+s")
        path = tmp_path / "strategies" / "my_rules.toml"
        assert path.read_text() == LIVELY
        assert load_strategy("my_rules", [tmp_path / "strategies"]).timeframe == "5m"


async def test_no_home_disables_save(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        screen = await open_builder(rig, pilot, TEMPLATE)
        assert screen.query_one("#save-button", Button).disabled
        assert "saving is disabled" in shown(screen, "#status")
        await pilot.press("ctrl+s")
        assert "no home folder" in shown(screen, "#status")


async def test_indicator_list_inserts_a_line(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        screen = await open_builder(rig, pilot, TEMPLATE)
        table = screen.query_one("#indicators", DataTable)
        names = [str(k.value) for k in table.rows]
        assert {"RSI", "EMA", "SMA"} <= set(names)
        editor = screen.query_one("#editor", TextArea)
        editor.move_cursor((8, 0))  # inside [indicators]
        table.focus()
        table.move_cursor(row=names.index("SMA"))
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert 'sma_30 = { fn = "SMA", timeperiod = 30 }' in editor.text
        assert screen.errors == []


def test_indicator_line_is_valid_toml() -> None:
    line = indicator_line("session_vwap", {"anchor": "day"})
    assert tomllib.loads(line) == {"session_vwap": {"fn": "session_vwap", "anchor": "day"}}


async def test_a_viewers_session_saves_no_strategy(rig_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The daemon loads HOME/strategies by itself: a viewer's workstation must not write there."""
    rig = rig_factory()
    rig.app.home = Home(tmp_path).ensure()
    async with rig.app.run_test(size=SIZE) as pilot:
        screen = await open_builder(rig, pilot, TEMPLATE)
        rig.app.read_only = True  # what a `tui-trader serve` viewer session sets from the daemon's hello
        await pilot.press("ctrl+s")
        assert "a viewer cannot add or change strategies" in shown(screen, "#status")
        assert not (tmp_path / "strategies" / "my_rules.toml").exists()
