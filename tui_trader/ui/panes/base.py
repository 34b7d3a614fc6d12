"""The pane base class: a bordered container the app feeds with Views while it is visible."""

from __future__ import annotations

from typing import ClassVar

from textual.containers import Vertical

from tui_trader.ui.view import View


class Pane(Vertical):
    """Subclasses set KEY (DOM id, tab id), TITLE, and implement update_view."""

    KEY: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    TAB: ClassVar[str] = ""  # short label for the compact layout's tabs
    ALLOW_MAXIMIZE = True  # `z` shows the focused pane alone

    def __init__(self) -> None:
        super().__init__(id=f"pane-{self.KEY}", classes="pane")
        self.border_title = self.TITLE

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
