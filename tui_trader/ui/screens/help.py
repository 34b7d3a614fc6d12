"""The key map (`?`): every key of the workstation in sections, with the binding id to remap
it (settings.ui.keymap), the pane keys (they work while that pane has the keyboard), the
confirmation's keys and the command line. No generic framework rows; the list scrolls
(↑ ↓ PgUp PgDn Home End) and its columns are as wide as their longest entry."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

COMMAND_HELP = [
    ("buy 0.5 BTC/USDT limit 64000 sl 63000 tp 66000", "limit order with a bracket"),
    ("sell 10 AAPL mkt · buy 10 AAPL 150", "market; a number after the symbol is the limit"),
    ("buy 1 ETH/USDT stop 3500 [limit 3490]", "stop (stop-limit)"),
    ("buy 2 @ 150 ioc · buy 1 eth", "the active symbol; a base the venue lists once"),
    ("cancel all [SYMBOL] · cancel <id> · flatten", "cancel, kill switch"),
    ("modify <id> price 64100 qty 0.8 · close SYMBOL", "change an order; close a position"),
    ("alert BTC/USDT above 70000 · alerts · alert rm 2", "price alerts"),
    ("watch add SOL/USDT · watch rm SOL/USDT · find sol", "watchlist, symbol search"),
    ("ind ema bb · ind off", "chart overlays: sma ema bb vwap"),
    ("symbol ETH/USDT · tf 5m · theme tui-light", "view"),
    ("layout tabs|grid|auto|NAME · layout save NAME", "layouts, saved layouts"),
    ("venue reconnect NAME · venue stop|start paper", "new keys used now; rehearse an outage"),
    ("help · quit", ""),
]
NOTE = (
    "A word after the quantity is a symbol when the venue lists it (buy 10 DAY trades DAY); a grammar "
    "word in lower case that is also a ticker is refused as ambiguous. Remap keys in config.toml: "
    '[ui.keymap] buy = "N" (binding id = keys).'
)

Row = tuple[str, str, str, str]  # section, keys, action, binding id


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help_close")]

    def __init__(self, rows: list[Row]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static("[b]Keys[/]  [dim]↑ ↓ PgUp PgDn scroll · Esc closes[/]", id="help-title")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        width = max(56, min(110, self.app.size.width) - 6)  # the box, less its border and padding
        key_w, id_w = 12, 18
        action_w = max(20, width - key_w - id_w - 7)
        table.add_column("Key", width=key_w)
        table.add_column("Action", width=action_w)
        table.add_column("Id (ui.keymap)", width=id_w)
        section = ""
        for n, (sec, keys, action, binding_id) in enumerate(self.rows):
            if sec != section:
                section = sec
                table.add_row(Text(sec, style="bold underline"), "", "", key=f"section-{n}")
            cells = (Text(keys, style="bold"), Text(action), Text(binding_id, style="dim"))
            table.add_row(*cells, key=f"row-{n}", height=None)
        title = Text("Command line", style="bold underline")
        table.add_row(title, Text("press : then type", style="dim"), "", key="commands")
        for n, (example, what) in enumerate(COMMAND_HELP):
            line = Text(example)
            if what:
                line.append(f"  {what}", style="dim")
            table.add_row("", line, "", key=f"command-{n}", height=None)
        table.add_row("", Text(NOTE, style="dim"), "", key="note", height=None)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
