"""Positions: quantity, average price, mark, unrealized and realized P&L, share of equity;
`c` closes the selected one at market (after the usual confirmation)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message

from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.tables import Cell, FittedTable, LiveTable
from tui_trader.ui.view import View

COLUMNS = (
    ("Symbol", 10, "left"),
    ("Qty", 11, "right"),
    ("Avg", 11, "right"),
    ("Mark", 11, "right"),
    ("Unreal", 11, "right"),
    ("Real", 10, "right"),
    ("%Eq", 7, "right"),
    ("Owner", 12, "left"),
)


class PositionsPane(Pane):
    KEY = "positions"
    TITLE = "Positions"
    TAB = "Pos"

    BINDINGS = [
        Binding(
            "c,delete",
            "close_selected",
            "Close position",
            id="close_position",
            tooltip="close the position under the cursor at market (confirmed)",
        ),
    ]

    class CloseRequested(Message):
        def __init__(self, symbol: str) -> None:
            super().__init__()
            self.symbol = symbol

    def action_close_selected(self) -> None:
        key = self._sync.selected_key()
        if key is None:
            self.notify("no position selected", severity="warning")
            return
        self.post_message(self.CloseRequested(key.split(":", 1)[1]))

    def compose(self) -> ComposeResult:
        table = LiveTable(id="positions-table", cursor_type="row")
        self._sync = FittedTable(table, COLUMNS, drop=("%Eq", "Real", "Avg", "Owner", "Mark"))
        yield table

    def update_view(self, view: View) -> None:
        snap, pal = view.snapshot, view.palette
        equity = snap.account.equity
        rows: dict[str, list[Cell]] = {}
        shared = {p.symbol for p in snap.positions if sum(q.symbol == p.symbol for q in snap.positions) > 1}
        owners: dict[tuple[str, str], list[str]] = {}  # whose part each position is (the sub-ledgers)
        for r in snap.extra.get("ledger") or []:
            if float(r.get("quantity") or 0):
                owners.setdefault((r["venue"], r["symbol"]), []).append(str(r["owner"]))
        for p in sorted(snap.positions, key=lambda p: (p.symbol, p.venue)):
            inst = snap.instrument(p.symbol, p.venue)
            nd = inst.price_decimals if inst else 2
            qd = inst.qty_decimals if inst else 4
            unreal, real = p.unrealized_pnl, float(p.realized_pnl)
            share = abs(p.market_value) / equity if equity else 0.0
            qty_style = pal.up if p.quantity > 0 else pal.down
            rows[f"{p.venue}:{p.symbol}"] = [
                f"{p.venue}:{p.symbol}" if p.symbol in shared else p.symbol,
                (fmt.qty(p.quantity, qd), qty_style),
                fmt.price(p.average_price, nd),
                fmt.price(p.mark, nd),
                (fmt.money(unreal, True), pal.signed(unreal)),
                (fmt.money(real, True), pal.signed(real)),
                fmt.pct(share, signed=False, decimals=1),
                ", ".join(owners.get((p.venue, p.symbol), [])) or "-",
            ]
        self._sync.fit()
        self._sync.sync(rows)
        self.set_title(f"Positions ({len(rows)})" if rows else "Positions · flat")
