"""The pane base class: a bordered container the app feeds with Views while it is visible."""

from __future__ import annotations

from typing import ClassVar

from textual.containers import Vertical
from textual.geometry import Region
from textual.strip import Strip

from tui_trader.ui.view import View

_NO_EDGE = ("", "none")


class Pane(Vertical):
    """Subclasses set KEY (DOM id, tab id), TITLE, and implement update_view."""

    KEY: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    TAB: ClassVar[str] = ""  # short label for the compact layout's tabs
    ALLOW_MAXIMIZE = True  # `z` shows the focused pane alone

    def __init__(self) -> None:
        super().__init__(id=f"pane-{self.KEY}", classes="pane")
        self.border_title = self.TITLE

    def render_lines(self, crop: Region) -> list[Strip]:
        """The pane's own lines: its top and bottom borders, and between them one line drawn
        once (its sides, blank between them: its widgets cover the rest). Textual drew every
        one of those alike lines (~0.1 ms of CPU each, ~110 in the first frame). A pane with an
        outline or a hatch is drawn as Textual draws it."""
        styles = self.styles
        if styles.has_any_rules("hatch", "outline_top", "outline_right", "outline_bottom", "outline_left"):
            return super().render_lines(crop)
        inside = range(
            0 if styles.border_top[0] in _NO_EDGE else 1,
            self.outer_size.height - (0 if styles.border_bottom[0] in _NO_EDGE else 1),
        )
        alike: Strip | None = None
        lines: list[Strip] = []
        for y in crop.line_range:
            if y in inside and alike is not None:
                lines.append(alike)
                continue
            line = super().render_lines(Region(crop.x, y, crop.width, 1))[0]
            if y in inside:
                alike = line
            lines.append(line)
        return lines

    def set_title(self, title: str) -> None:
        """Change the border title only when it differs: every assignment repaints the pane."""
        if title != self.border_title:
            self.border_title = title

    def update_view(self, view: View) -> None:
        """Draw the latest state; called at the refresh cadence, only while visible."""
        raise NotImplementedError

    def focus_main(self) -> None:
        """Give the keyboard to the pane's main widget (number keys, tab switches)."""
        for child in self.query("*"):
            if child.focusable:
                child.focus()
                return
