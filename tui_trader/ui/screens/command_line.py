"""The `:` command line: a line docked at the bottom of the workstation's own screen.

It is a widget of the main screen (hidden until `:`), not a screen of its own: a see-through
screen over the workstation made Textual draw the whole workstation again for each of its
frames (a keystroke, the cursor, Enter: up to ~150 ms on a full grid when Enter landed while
one was drawn), which kept the confirmation past its 100 ms. Docked on the overlay layer, it
covers the two rows above the footer without moving a pane, and typing redraws only the line.

Opening focuses its input at once (in the `:` key's own turn), so keys typed in the same burst
(`:buy 0.5 BTC/USDT` from a fast typist, tmux, a macro) are typed into it and never reach the
workstation's one-letter keys. Errors stay inline above the input until fixed; ↑/↓ recall
history; Esc closes. An order is handed over in place (hand_off.py): the line keeps the
keyboard while the order is prepared, ignores a second Enter, and closes once the confirmation
is on screen (WorkstationApp.on_confirm_screen_shown) or no confirmation opens.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Static

from tui_trader.ui.screens.hand_off import HandsOff, RunInPlace
from tui_trader.ui.screens.type_ahead import SubmitInput
from tui_trader.ui.symbols import ParseError
from tui_trader.ui.vocabulary import USAGE

if TYPE_CHECKING:  # the grammar is imported with the first command, not before the first paint
    from tui_trader.ui.commandline import Command

    # Extra checks the app runs on a parsed command (unknown theme, order below the lot...):
    # return an error message, or None when the command may run.
    Check = Callable[[Command], str | None]
    Run = Callable[[Command], None]


class CommandLine(HandsOff, Vertical):
    BINDINGS = [Binding("escape", "close", "Close", id="command_close")]

    def __init__(
        self,
        run: Run,
        check: Check | None = None,
        history: list[str] | None = None,
        markets: Callable[[], Collection[str]] = tuple,
        run_in_place: RunInPlace | None = None,
    ) -> None:
        super().__init__(id="command-line")
        self.run = run  # a command that is not handed over in place: the line closes, then it runs
        self.check = check
        self.history = history if history is not None else []
        self.markets = markets  # the venue's symbols: words are looked up there first
        self.run_in_place = run_in_place  # orders: their confirmation opens while the line is up
        self.active_symbol: str | None = None
        self.error_text = ""  # the inline error shown now ("" when none)
        self._pos = 0
        self._return_focus: Widget | None = None  # focused before `:`; focused again on close

    def compose(self) -> ComposeResult:
        yield Static(f"[dim]{USAGE}[/]", id="command-error")
        field = SubmitInput(
            placeholder="buy 0.5 BTC/USDT limit 64000 sl 63000 tp 66000",
            id="command-input",
            compact=True,
        )
        field.can_focus = False  # while hidden: Textual's auto-focus and Tab must not pick it
        yield field

    def on_mount(self) -> None:
        self.field.cursor_blink = False

    @property
    def field(self) -> Input:
        return self.query_one(Input)

    @property
    def is_open(self) -> bool:
        return bool(self.display)

    def open(self, text: str = "", active_symbol: str | None = None) -> None:
        """Show the line with `text` (e.g. `modify <id> price 64000` from the blotter) and give
        its input the keyboard now, before the next key is read."""
        screen = self.screen
        focused = screen.focused
        if not self.is_open:
            self._return_focus = focused if focused is not None and self not in focused.ancestors else None
        self.active_symbol = active_symbol
        self.handed_off = False
        self._pos = len(self.history)
        self._clear_error()
        field = self.field
        field.value = text
        field.cursor_position = len(text)
        self.display = True
        field.can_focus = True
        screen.set_focus(field, scroll_visible=False)

    def close(self) -> None:
        """Hide the line, forget what was typed, give the keyboard back to where it was."""
        if not self.is_open:
            return
        self.handed_off = False
        self.display = False
        self.field.can_focus = False
        self.field.value = ""
        self._clear_error()
        back, self._return_focus = self._return_focus, None
        if back is not None and back.is_attached and back.focusable:
            self.screen.set_focus(back, scroll_visible=False)
        else:
            self.screen.set_focus(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit(event.value)

    def submit(self, value: str) -> None:
        if self.handed_off or not self.is_open:
            return
        text = value.strip()
        if not text:
            self.close()
            return
        from tui_trader.ui.commandline import parse_command  # the first command loads the grammar

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
            self.close()
            self.run(command)

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.error_text:
            self._clear_error()

    def _clear_error(self) -> None:
        error = self.query_one("#command-error", Static)
        if error.has_class("error"):
            error.remove_class("error")
            error.update(f"[dim]{USAGE}[/]")
        self.error_text = ""

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
        if not self.history or self.handed_off:
            return
        self._pos = max(0, min(len(self.history), self._pos + step))
        value = self.history[self._pos] if self._pos < len(self.history) else ""
        field = self.field
        field.value = value
        field.cursor_position = len(value)

    def action_close(self) -> None:
        if not self.handed_off:  # an order on its way: its confirmation (or refusal) closes the line
            self.close()
