"""The `:` command line, docked at the bottom. Errors stay inline under the input until fixed."""

from __future__ import annotations

from collections.abc import Callable, Collection

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui_trader.ui.commandline import USAGE, Command, ParseError, parse_command
from tui_trader.ui.screens.hand_off import HandsOff, RunInPlace
from tui_trader.ui.screens.type_ahead import HoldsKeys, SubmitInput

# Extra checks the app runs on a parsed command (unknown theme, order below the lot...):
# return an error message, or None when the command may run.
Check = Callable[[Command], str | None]


class CommandLineScreen(HandsOff, HoldsKeys, ModalScreen[Command | None]):
    BINDINGS = [Binding("escape", "close", "Close", id="command_close")]

    def __init__(
        self,
        active_symbol: str | None,
        check: Check | None = None,
        history: list[str] | None = None,
        text: str = "",
        markets: Callable[[], Collection[str]] = tuple,
        run_in_place: RunInPlace | None = None,
    ) -> None:
        super().__init__(id="command-line-screen")
        self.initial_text = text  # pre-filled (e.g. `modify <id> price 64000` from the blotter)
        self.markets = markets  # the venue's symbols: words are looked up there first
        self.active_symbol = active_symbol
        self.check = check
        self.history = history if history is not None else []
        self._pos = len(self.history)
        self.error_text = ""  # the inline error shown now ("" when none)
        self.run_in_place = run_in_place  # orders: their confirmation takes this screen's place
        self.hold_keys()

    def compose(self) -> ComposeResult:
        with Vertical(id="command-box"):
            yield Static(f"[dim]{USAGE}[/]", id="command-error")
            yield SubmitInput(
                self.initial_text,
                placeholder="buy 0.5 BTC/USDT limit 64000 sl 63000 tp 66000",
                id="command-input",
                compact=True,
            )

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False
        self.release_keys_to(self.query_one(Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit(event.value)

    def submit(self, value: str) -> None:
        if self.handed_off:
            return
        text = value.strip()
        if not text:
            self.dismiss(None)
            return
        try:
            command = parse_command(text, self.active_symbol, self.markets())
        except ParseError as exc:
            self.show_error(str(exc))
            return
        problem = self.check(command) if self.check is not None else None
        if problem:
            self.show_error(problem)
            return
        if not self.history or self.history[-1] != text:
            self.history.append(text)
        if not self.hand_off(command):
            self.dismiss(command)

    def on_input_changed(self, event: Input.Changed) -> None:
        error = self.query_one("#command-error", Static)
        if error.has_class("error"):
            self.error_text = ""
            error.remove_class("error")
            error.update(f"[dim]{USAGE}[/]")

    def show_error(self, message: str) -> None:
        error = self.query_one("#command-error", Static)
        error.add_class("error")
        error.update(Text(f"✗ {message}"))
        self.error_text = message

    def key_up(self) -> None:
        self._recall(-1)

    def key_down(self) -> None:
        self._recall(1)

    def _recall(self, step: int) -> None:
        if not self.history:
            return
        self._pos = max(0, min(len(self.history), self._pos + step))
        value = self.history[self._pos] if self._pos < len(self.history) else ""
        field = self.query_one(Input)
        field.value = value
        field.cursor_position = len(value)

    def action_close(self) -> None:
        self.dismiss(None)
