"""Price alerts (`alerts`, or the palette): the list, `d` deletes the selected one, `a` adds one
for the active symbol through the command line. Alerts fire once, while a workstation runs."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui_trader.ui.desk_state import PriceAlert


class AlertsScreen(ModalScreen[str | None]):
    """Returns "add" when the trader wants a new alert, else None."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="alerts_close"),
        Binding("d,delete", "delete", "Delete alert", id="alerts_delete"),
        Binding("a", "add", "Add alert", id="alerts_add"),
    ]

    def __init__(self, alerts: Callable[[], list[PriceAlert]], remove: Callable[[int], None]) -> None:
        super().__init__()
        self.alerts = alerts
        self.remove_alert = remove

    def compose(self) -> ComposeResult:
        with Vertical(id="alerts-box"):
            yield Static("[b]Price alerts[/] [dim]· a: add · d: delete · Esc[/]", id="alerts-title")
            yield DataTable(id="alerts-table", cursor_type="row")
            yield Static("", id="alerts-empty")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("#", "Symbol", "When", "Price")
        self._fill()
        table.focus()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        alerts = self.alerts()
        for a in alerts:
            when = "last ≥" if a.above else "last ≤"
            table.add_row(str(a.id), a.symbol, when, f"{a.price.normalize():f}", key=str(a.id))
        empty = self.query_one("#alerts-empty", Static)
        empty.update("" if alerts else "[dim]no alerts: press a, or type `alert BTC/USDT above 70000`[/]")
        table.display = bool(alerts)

    def action_delete(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is not None:
            self.remove_alert(int(key))
            self._fill()

    def action_add(self) -> None:
        self.dismiss("add")

    def action_close(self) -> None:
        self.dismiss(None)
