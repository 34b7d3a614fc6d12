"""Signals from strategies, models, news and chat: source, symbol, direction, strength, age, reason."""

from __future__ import annotations

from textual.widgets import DataTable

from tui_trader.core.enums import Direction
from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.tables import Cell, TableSync
from tui_trader.ui.view import View

COLUMNS = (
    ("Age", 4, "right"),
    ("Source", 14, "left"),
    ("Symbol", 9, "left"),
    ("Dir", 5, "left"),
    ("Str", 4, "right"),
    ("Conf", 4, "right"),
    ("Reason", 40, "left"),
)
SHOWN = 40


class SignalsPane(Pane):
    KEY = "signals"
    TITLE = "Signals"
    TAB = "Signals"

    def compose(self):  # type: ignore[no-untyped-def]
        yield DataTable(id="signals-table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width, _ in COLUMNS:
            table.add_column(label, key=label.lower(), width=width)
        self._sync = TableSync(table, [c[2] for c in COLUMNS])

    def update_view(self, view: View) -> None:
        snap, pal = view.snapshot, view.palette
        rows: dict[str, list[Cell]] = {}
        for s in sorted(snap.signals, key=lambda s: s.ts, reverse=True)[:SHOWN]:
            style = (
                pal.up
                if s.direction is Direction.LONG
                else pal.down
                if s.direction is Direction.SHORT
                else pal.muted
            )
            key = f"{s.source}|{s.symbol}|{s.ts.isoformat()}"
            while key in rows:  # two signals in the same instant keep distinct rows
                key += "+"
            rows[key] = [
                fmt.age(snap.ts, s.ts),
                s.source,
                s.symbol,
                (s.direction.value, f"bold {style}"),
                f"{s.strength:.2f}",
                "-" if s.confidence is None else f"{s.confidence:.2f}",
                s.reason.splitlines()[0] if s.reason else "",
            ]
        self._sync.sync(rows)
        self.set_title(f"Signals ({len(snap.signals)})" if snap.signals else "Signals · none yet")
