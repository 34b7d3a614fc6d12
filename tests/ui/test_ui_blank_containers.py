"""The containers the workstation's widgets cover (the grid's rows and columns, the slots, the
workspace, the top bar's row, the screen) are drawn by Textual as blank (`BLANK`): none of their own lines
rendered. Where one shows (nothing over it), it looks as Textual draws a container."""

from __future__ import annotations

from typing import Any

import pytest
from textual.geometry import Region

from ui_helpers import build_rig


def _cells(strips: list[Any]) -> list[list[tuple[str, object, object, bool]]]:
    """Each cell: its character, background and foreground colours and whether it is reversed."""
    return [
        [(ch, seg.style.bgcolor, seg.style.color, bool(seg.style.reverse)) for seg in strip for ch in seg.text]
        for strip in strips
    ]


@pytest.mark.parametrize("size", [(160, 48), (100, 30)], ids=["grid", "tabs"])
async def test_the_blank_containers_look_as_textual_draws_a_container(size: tuple[int, int]) -> None:
    rig = build_rig()
    app = rig.app
    async with app.run_test(size=size) as pilot:
        await rig.ready(pilot)
        blank = [w for w in app.screen.walk_children(with_self=True) if w.BLANK and w.display and w.region]
        names = {type(w).__name__ for w in blank}
        assert {"WorkstationScreen", "Row", "Workspace"} <= names
        assert ({"Column", "Slot"} <= names) == (size == (160, 48))  # the grid's
        for widget in blank:
            whole = Region(0, 0, *widget.region.size)
            drawn = widget.render_lines(whole)
            as_textual = widget._styles_cache.render_widget(widget, whole)  # a container not BLANK
            assert _cells(drawn) == _cells(as_textual), widget
