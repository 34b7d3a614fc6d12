"""The grid's slots (panes sharing one place behind tabs): the tab bar is drawn whole in the
first frame, and a click, the arrow keys on the bar and the number keys bring a pane forward."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tui_trader.ui.app import FIRST_PAINT_ENV
from tui_trader.ui.slot import Slot, SlotTabs

from ui_helpers import build_rig, frame


def _lines(app: Any) -> list[Any]:
    """The screen as drawn now: one Strip a line (Textual's compositor: private, as in test_ui_lines)."""
    return list(app.screen._compositor.render_strips())


def _bar(app: Any, bar: SlotTabs) -> tuple[str, str]:
    """A tab bar as drawn: its labels, and its underline with only the highlighted cells kept
    (those not in the colour of the bar's last cell, never under a tab)."""
    lines, r = _lines(app), bar.region
    cells = list(lines[r.y + 1].crop(r.x, r.right))
    rest = cells[-1].style.color
    underline = "".join(seg.text if seg.style.color != rest else " " * len(seg.text) for seg in cells)
    return lines[r.y].crop(r.x, r.right).text.rstrip(), underline.rstrip()


async def test_the_tab_bars_and_the_front_tabs_underline_are_in_the_first_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual's tabs drew the underline under the active tab only after the screen settled."""
    monkeypatch.setenv(FIRST_PAINT_ENV, str(tmp_path / "first_paint"))  # the app's first-paint hook
    rig = build_rig()
    app = rig.app
    seen: list[tuple[str, str]] = []

    def painted() -> None:
        seen.extend(_bar(app, bar) for bar in app.query(SlotTabs))

    app._stamp_first_paint = painted  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        for _ in range(100):
            if seen:
                break
            await pilot.pause(0.01)
    assert seen == [
        ("5 Orders 0 Perf F9 League", "━━━━━━━━"),  # under "5 Orders" only
        ("6 Risk 7 Signals 9 Tape F8 Copy", "━━━━━━"),  # under "6 Risk"
    ]


async def test_a_click_the_arrow_keys_and_a_number_key_bring_a_pane_forward() -> None:
    rig = build_rig()
    app = rig.app
    async with app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot)
        await app.workers.wait_for_complete()  # the panes behind the front tabs mounted
        slot = app.query_one("#slot-mid", Slot)
        bar = slot.query_one(SlotTabs)
        await pilot.click(bar, offset=(len("5 Orders 0 "), 0))  # on "Perf"
        await frame(rig, pilot)
        shown = "\n".join(strip.text for strip in _lines(app))
        assert "Performance" in shown and "Orders & fills" not in shown
        assert app.focused is bar and app._panes["performance"] in app.visible_panes()
        assert _bar(app, bar) == ("5 Orders 0 Perf F9 League", " " * len("5 Orders ") + "━━━━━━")
        await pilot.press("right")
        assert slot.active == "league"
        await pilot.press("right")  # past the last tab: the first
        await frame(rig, pilot)
        assert slot.active == "blotter" and "Orders & fills" in "\n".join(s.text for s in _lines(app))
        await pilot.press("left")
        assert slot.active == "league" and app._panes["league"] in app.visible_panes()

        await pilot.press("7")  # the signals, behind the risk pane: forward, with the keyboard
        await frame(rig, pilot)
        assert app.query_one("#slot-right", Slot).active == "signals"
        signals, risk = app._panes["signals"], app._panes["risk"]
        assert signals in app.visible_panes() and risk not in app.visible_panes()
        assert signals.display and not risk.display and signals.has_focus_within
        bar = app.query_one("#slot-right", Slot).query_one(SlotTabs)
        assert _bar(app, bar) == ("6 Risk 7 Signals 9 Tape F8 Copy", " " * len("6 Risk ") + "━" * len("7 Signals"))


async def test_panes_removed_before_they_composed_do_not_crash_the_workstation() -> None:
    """The race seen once at load 5-6 (`NoMatches: DataTable` in CopyPane.on_mount): a pane of a
    slot is mounted after the first paint, and before it composed, the first snapshot's venues
    (two, where the configuration named none) recompose the workspace. Textual then composes the
    removed pane without mounting its children, and any pane that looked them up in on_mount
    raised, which ends a trader's session. Here every pane is mounted and its place removed
    before it composed (mount requested, then the recompose: no await between them)."""
    from textual.containers import Vertical

    from tui_trader.ui.layout import Workspace
    from tui_trader.ui.panes import PANES

    rig = build_rig()
    app = rig.app
    async with app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot)
        workspace = app.query_one(Workspace)
        box = Vertical(id="doomed")
        await workspace.query_one("#grid-bottom").mount(box)
        made = app.make_panes()  # as a recompose makes them (fresh, never mounted)
        box.mount(*(made[cls.KEY] for cls in PANES))  # the deferred panes' mount, requested...
        await workspace.recompose()  # ...and the recompose lands before any of them composed
        await frame(rig, pilot)
        assert not app.query("#doomed")
        for key, slot in (("copy", "slot-right"), ("league", "slot-mid")):  # the new screen has them
            app.query_one(f"#{slot}", Slot).active = key
            await frame(rig, pilot)
            assert app._panes[key] in app.visible_panes() and app._panes[key].is_mounted
