"""The keys footer (one widget, key_footer.py): it shows the keys of what has the keyboard, a
click on a key presses it, the mouse over a key shows what it does."""

from __future__ import annotations

from typing import Any

from tui_trader.ui.panes.key_footer import KeyFooter

from ui_helpers import build_rig, frame


def _footer(app: Any) -> str:
    """The footer's line as drawn (Textual's compositor: private, as in test_ui_lines)."""
    return list(app.screen._compositor.render_strips())[-1].text  # type: ignore[no-any-return]


async def test_the_footer_follows_the_focus_and_a_click_on_a_key_presses_it() -> None:
    rig = build_rig()
    app = rig.app
    async with app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot)
        await pilot.press("5")  # the orders: their own keys
        await frame(rig, pilot)
        assert _footer(app).startswith(" c Cancel order  m Modify order  q Quit  ? Keys ")  # its keys first
        await pilot.press("1")  # the watchlist
        await frame(rig, pilot)
        assert "Cancel order" not in _footer(app)

        x = _footer(app).index(" t Timeframe")
        await pilot.hover(KeyFooter, offset=(x + 2, 0))
        assert app.query_one(KeyFooter).tooltip == "next chart timeframe"  # the mouse over a key
        before = app.timeframe
        await pilot.click(KeyFooter, offset=(x + 2, 0))
        await frame(rig, pilot)
        assert app.timeframe != before
        await pilot.click(KeyFooter, offset=(_footer(app).index("?"), 0))  # ? Keys: the keys' help
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"


async def test_a_narrow_terminal_keeps_the_kill_switch_and_the_key_map_and_counts_what_it_leaves_out() -> None:
    """Below the width of all the keys the footer cut them at the right edge (at 80 columns with
    the orders focused: `^k Fl`, the kill switch's name cut and Timeframe gone). Now the least
    important keys give way whole, and `?` (the key map, which lists them all) says how many."""
    rig = build_rig()
    app = rig.app
    async with app.run_test(size=(80, 24)) as pilot:
        await rig.ready(pilot)
        await frame(rig, pilot)
        shown = _footer(app)  # the watchlist focused: every key fits at 80, as before
        assert " t Timeframe " in shown and "^p palette" in shown and "+" not in shown, shown

        await pilot.press("5")  # the orders: their two keys do not fit beside all the others
        await frame(rig, pilot)
        shown = _footer(app)
        assert shown.rstrip() == " c Cancel order  m Modify order  q Quit  ? Keys +2  b Buy  s Sell  ^k Flatten", shown
        x = shown.index("? Keys")
        await pilot.hover(KeyFooter, offset=(x + 1, 0))
        assert app.query_one(KeyFooter).tooltip == "show every key (not shown here: Command, Timeframe)"

        await pilot.resize_terminal(60, 24)
        await frame(rig, pilot)
        shown = _footer(app)
        assert shown.rstrip() == " c Cancel order  ? Keys +4  b Buy  s Sell  ^k Flatten", shown
        await pilot.click(KeyFooter, offset=(shown.index("?") + 1, 0))  # the key map lists them all
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
