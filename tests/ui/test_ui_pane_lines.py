"""A pane draws its alike lines (its sides, blank between them) once (panes/base.py): the pane
looks as Textual draws it, from the first frame and with data, focused or not."""

from __future__ import annotations

from typing import Any

import pytest
from textual.geometry import Region

from tui_trader.ui.panes import Pane

from ui_helpers import build_rig


def _cells(strips: list[Any]) -> list[list[tuple[str, object]]]:
    """Each cell: its character and its style."""
    return [[(ch, seg.style) for seg in strip for ch in seg.text] for strip in strips]


def _drawn_as_textual(app: Any) -> list[str]:
    """The panes on screen whose lines differ from Textual's drawing of them (none expected)."""
    differ = []
    panes = [p for p in app.query(Pane) if p.display and p.region]
    assert panes
    for pane in panes:
        for crop in (Region(0, 0, *pane.outer_size), Region(2, 1, pane.outer_size.width - 4, 3)):
            if _cells(pane.render_lines(crop)) != _cells(pane._styles_cache.render_widget(pane, crop)):
                differ.append(f"{pane.id} {crop}")
    return differ


@pytest.mark.parametrize("size", [(160, 48), (100, 30)], ids=["grid", "tabs"])
async def test_a_pane_looks_as_textual_draws_it(size: tuple[int, int]) -> None:
    rig = build_rig()
    app = rig.app
    async with app.run_test(size=size) as pilot:
        assert _drawn_as_textual(app) == []  # before the engine's data
        await rig.ready(pilot)
        assert _drawn_as_textual(app) == []
        await pilot.press("tab")  # another pane focused: its border in the focus colour
        await pilot.pause()
        assert _drawn_as_textual(app) == []
