"""Paste a chat trade signal (`BTC/USDT LONG entry 64000-64500 SL 63000 TP1 66000`): the engine
parses it; a parse error comes back here, inline, with the text kept for editing."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

EXAMPLE = "BTC/USDT LONG entry 64000-64500 SL 63000 TP1 66000  ·  Buy $AAPL @ 190 stop 185 target 200"


class PasteSignalScreen(ModalScreen[str | None]):
    """Returns the pasted text (stripped), or None."""

    BINDINGS = [Binding("escape", "close", "Cancel", id="paste_cancel")]

    def __init__(self, text: str = "", error: str = "") -> None:
        super().__init__()
        self.text = text
        self.error_text = error

    def compose(self) -> ComposeResult:
        with Vertical(id="paste-box"):
            yield Static("[b]Paste a chat signal[/]  [dim]Enter parses it, Esc cancels[/]", id="paste-title")
            yield Static(Text(EXAMPLE, style="dim"), id="paste-example")
            yield Input(self.text, placeholder="paste the provider's message", id="paste-input")
            yield Static(Text(f"✗ {self.error_text}") if self.error_text else "", id="paste-error")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = False
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        self.dismiss(text or None)

    def action_close(self) -> None:
        self.dismiss(None)
