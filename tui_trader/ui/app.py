"""Minimal workstation screen (the full workstation replaces this)."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Static

from tui_trader.client import EngineClient


class WorkstationApp(App[int]):
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, client: EngineClient, settings: Any = None, home: Any = None) -> None:
        super().__init__()
        self.client = client

    def compose(self) -> ComposeResult:
        yield Static(" PAPER ", id="badge")
        yield DataTable(id="quotes")
        yield Footer()

    async def on_mount(self) -> None:
        await self.client.start()
        table = self.query_one(DataTable)
        table.add_columns("symbol", "bid", "ask", "last")
        self.set_interval(1 / 10, self._refresh)

    async def _refresh(self) -> None:
        snap = await self.client.snapshot()
        table = self.query_one(DataTable)
        with self.batch_update():
            for sym, t in snap.tickers.items():
                row = (sym, f"{t.bid:,.2f}", f"{t.ask:,.2f}", f"{t.last:,.2f}")
                if sym in table.rows:
                    for col, val in zip(table.columns, row, strict=False):
                        table.update_cell(sym, col, val)
                else:
                    table.add_row(*row, key=sym)

    async def on_unmount(self) -> None:
        await self.client.close()
