"""Arming live trading: a typed confirmation. The trader types the live venue's name (or one of
them); nothing else arms it. Esc leaves live orders blocked."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class ArmLiveScreen(ModalScreen[str | None]):
    """Returns the venue name typed (one of `venues`), or None when abandoned."""

    BINDINGS = [Binding("escape", "close", "Cancel", id="arm_cancel")]

    def __init__(self, venues: list[str]) -> None:
        super().__init__(classes="danger")
        self.venues = venues
        self.error_text = ""

    def compose(self) -> ComposeResult:
        names = ", ".join(self.venues)
        with Vertical(id="arm-box"):
            yield Static("ARM LIVE TRADING", id="arm-title")
            yield Static(
                Text.assemble(
                    "Orders to ",
                    (names, "bold"),
                    " use ",
                    ("real money", "bold"),
                    ". Every order is still confirmed and risk-checked.\n\n",
                    "Type the venue name to arm it for this session, then Enter. Esc cancels.",
                ),
                id="arm-body",
            )
            yield Input(placeholder=self.venues[0] if self.venues else "", id="arm-input")
            yield Static("", id="arm-error")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = False
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        typed = event.value.strip()
        if typed in self.venues:
            self.dismiss(typed)
            return
        self.error_text = (
            f"{typed!r} is not a live venue; type one of: {', '.join(self.venues)}"
            if typed
            else f"type the venue name ({', '.join(self.venues)}) to arm"
        )
        self.query_one("#arm-error", Static).update(Text(f"✗ {self.error_text}"))

    def action_close(self) -> None:
        self.dismiss(None)
