"""The key map (`?`): every binding with its id (for settings.ui.keymap) and the command line."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

COMMAND_HELP = """\
[b]Command line[/] (press [b]:[/])
  buy 0.5 BTC/USDT limit 64000 sl 63000 tp 66000    sell 10 AAPL mkt
  buy 1 ETH/USDT stop 3500    buy 1 ETH/USDT stop 3500 limit 3490    buy 2 @ 150 ioc
  cancel all · cancel all BTC/USDT · cancel <id> · modify <id> price 64100 qty 0.8 · flatten
  symbol ETH/USDT · tf 5m · theme tui-light · layout tabs|grid|auto · help · quit
Remap keys in config.toml: [ui.keymap] buy = "B" (binding id = keys)."""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help_close")]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static("[b]Keys[/]  (Esc closes)", id="help-title")
            with VerticalScroll():
                yield DataTable(id="help-table", cursor_type="row", show_cursor=False)
                yield Static(COMMAND_HELP, id="help-commands")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action", "Id")
        for row in self.rows:
            table.add_row(*row)

    def action_close(self) -> None:
        self.dismiss(None)
