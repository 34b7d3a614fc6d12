"""The spread scanner: every symbol two or more venues quote, bought on one and sold on the
other, net of both taker fees and the transfer-cost placeholder, best net edge first; below,
triangles of three markets within one venue. Rows at or above `[routing.scanner] alert_bps`
stand out; rows with a venue down or stale are muted (not tradable now)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Static

from tui_trader.ui.panes.base import Pane
from tui_trader.ui.tables import Cell, LiveTable, TableSync
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

SPREAD_COLUMNS = (
    ("Symbol", 10, "left"),
    ("Buy on", 9, "left"),
    ("Sell on", 9, "left"),
    ("Net bp", 7, "right"),
    ("Gross", 6, "right"),
    ("Size", 9, "right"),
)
TRIANGLE_COLUMNS = (("Venue", 9, "left"), ("Path", 22, "left"), ("Net bp", 7, "right"), ("Gross", 6, "right"))
SHOWN = 30


class SpreadsPane(Pane):
    KEY = "spreads"
    TITLE = "Spreads"
    TAB = "Spreads"

    def __init__(self) -> None:
        super().__init__()
        self._scanned: object = None

    def compose(self) -> ComposeResult:
        spreads = LiveTable(id="spreads-table", cursor_type="row")
        for label, width, _ in SPREAD_COLUMNS:
            spreads.add_column(label, key=label.lower(), width=width)
        triangles = LiveTable(id="triangles-table", cursor_type="row")
        for label, width, _ in TRIANGLE_COLUMNS:
            triangles.add_column(label, key=label.lower(), width=width)
        self._spreads = TableSync(spreads, [c[2] for c in SPREAD_COLUMNS])
        self._triangles = TableSync(triangles, [c[2] for c in TRIANGLE_COLUMNS])
        yield spreads
        yield Static("Triangles", id="triangles-title", classes="subtitle")
        yield triangles

    def update_view(self, view: View) -> None:
        routing: dict[str, Any] = view.snapshot.extra.get("routing") or {}
        key = (routing.get("scanned_at"), view.palette)
        if key == self._scanned:
            return
        self._scanned = key
        pal = view.palette
        alert = routing.get("alert_bps")
        rows: dict[str, list[Cell]] = {}
        for s in (routing.get("spreads") or [])[:SHOWN]:
            style = _style(s["net_bps"], s["stale"], alert, pal)
            rows[f"{s['symbol']} {s['buy_venue']}>{s['sell_venue']}"] = [
                s["symbol"],
                s["buy_venue"],
                s["sell_venue"],
                (f"{s['net_bps']:+.1f}", style),
                f"{s['gross_bps']:.1f}",
                f"{s['size']:.4g}",
            ]
        self._spreads.sync(rows)
        tri: dict[str, list[Cell]] = {}
        for t in (routing.get("triangles") or [])[:SHOWN]:
            tri[f"{t['venue']} {'>'.join(t['path'])}"] = [
                t["venue"],
                ">".join(t["path"]),
                (f"{t['net_bps']:+.1f}", _style(t["net_bps"], t["stale"], alert, pal)),
                f"{t['gross_bps']:.1f}",
            ]
        self._triangles.sync(tri)
        best = next((s for s in routing.get("spreads") or [] if not s["stale"]), None)
        head = f"Spreads · best {best['symbol']} {best['net_bps']:+.1f} bp" if best else "Spreads · none"
        self.set_title(head + (f" · alert at {alert:g} bp" if alert is not None else ""))


def _style(net: float, stale: bool, alert: float | None, pal: Palette) -> str:
    if stale:
        return pal.muted
    if alert is not None and net >= alert:
        return f"bold {pal.warning}"
    return pal.up if net > 0 else pal.down
