"""Performance: closed trades (newest first) with entry, exit, P&L, MFE and MAE, a summary
(win rate, profit factor, expectancy, drawdown) and the equity curve, all from the engine's
stored history (`performance.report`), so it is the same after a restart or attached.

Read when the pane is shown, after each fill, and every REFRESH_S while visible; Enter on a
trade makes its symbol the active one (the chart shows its markers)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.widgets import DataTable, Static

from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.panes.watchlist import WatchlistPane
from tui_trader.ui.tables import Cell, FittedTable, LiveTable
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

REFRESH_S = 10.0
COLUMNS = (
    ("Closed", 11, "left"),
    ("Symbol", 9, "left"),
    ("Side", 5, "left"),
    ("Qty", 9, "right"),
    ("Entry", 10, "right"),
    ("Exit", 10, "right"),
    ("P&L", 10, "right"),
    ("%", 7, "right"),
    ("MFE", 6, "right"),
    ("MAE", 6, "right"),
    ("Held", 6, "right"),
    ("Reason", 12, "left"),
    ("Strategy", 12, "left"),
)


class PerformancePane(Pane):
    KEY = "performance"
    TITLE = "Performance"
    TAB = "Perf"

    def __init__(self) -> None:
        super().__init__()
        self.report: dict[str, Any] | None = None
        self.error = ""
        self._next = 0.0
        self._fills_seen = -1
        self._busy = False
        self._trade_symbols: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        self._summary = Static("", id="perf-summary")
        self._equity = Static("", id="perf-equity")
        table = LiveTable(id="perf-table", cursor_type="row")
        self._sync = FittedTable(
            table,
            COLUMNS,
            drop=("Strategy", "Held", "Reason", "Qty", "Closed", "Exit", "%", "Entry"),  # MFE and MAE stay
        )
        yield self._summary
        yield self._equity
        yield table

    def update_view(self, view: View) -> None:
        fills = len(view.snapshot.fills)
        due = view.now >= self._next or fills != self._fills_seen
        if due and not self._busy:
            self._next = view.now + REFRESH_S
            self._fills_seen = fills
            self._busy = True
            self.run_worker(self._fetch(view.palette), group="performance", exclusive=True)

    async def _fetch(self, pal: Palette) -> None:
        client: Any = getattr(self.app, "client", None)
        try:
            self.report = await client.call("performance.report", limit=200)
            self.error = ""
        except Exception as exc:  # a daemon without the command
            self.error = f"no report: {exc}"
        finally:
            self._busy = False
        try:
            self._show(pal)
        except NoMatches:  # the workstation closed while the engine answered
            return

    def _show(self, pal: Palette) -> None:
        report = self.report or {}
        s = report.get("summary") or {}
        trades = report.get("trades") or []
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.error:
            line.append(self.error, style=pal.error)
        elif not trades:
            line.append("no closed trades yet: a round trip appears here once the position is flat again", style="dim")
        else:
            net = float(s.get("net") or 0.0)
            line.append(f"{s.get('trades')} trades  ")
            line.append(f"win {fmt.pct(s.get('win_rate'), signed=False, decimals=0)}  ")
            line.append("net ")
            line.append(fmt.money(net, True), style=pal.signed(net))
            pf = s.get("profit_factor")
            line.append(f"  PF {'-' if pf is None else f'{pf:.2f}'}")
            line.append(f"  exp {fmt.money(s.get('expectancy'), True)}")
            line.append(f"  best {fmt.money(s.get('best'), True)}  worst {fmt.money(s.get('worst'), True)}")
        dd = s.get("max_drawdown")
        if dd is not None:
            line.append(f"  max DD {fmt.pct(dd, signed=False)}", style=pal.down if dd < 0 else "")
        # both panels have fixed heights (app.tcss): new text repaints them, no relayout
        self._summary.update(line, layout=False)
        equity = [float(v) for _, v in report.get("equity") or []]
        panel = self._equity
        width, height = max(panel.size.width, 20), max(panel.size.height, 1)
        if equity:
            from tui_trader.ui.chart_render import area_chart  # not before the first paint

            panel.update(Text("\n").join(area_chart(equity, width, height, pal.accent, pal.muted)), layout=False)
        else:
            panel.update(Text("equity history: recorded while the engine runs", style="dim"), layout=False)
        rows: dict[str, list[Cell]] = {}
        self._trade_symbols = {}
        for i, t in enumerate(trades):
            key = f"{t.get('symbol')}|{t.get('exit_ns')}|{i}"
            self._trade_symbols[key] = str(t.get("symbol"))
            rows[key] = _row(t, pal)
        self._sync.fit()
        self._sync.sync(rows)
        self.set_title(f"Performance · {len(trades)} closed" if trades else "Performance")

    @on(DataTable.RowSelected, "#perf-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        symbol = self._trade_symbols.get(str(event.row_key.value))
        if symbol:
            self.post_message(WatchlistPane.SymbolSelected(symbol))


def _row(t: dict[str, Any], pal: Palette) -> list[Cell]:
    pnl = float(t.get("pnl") or 0.0)
    side = "long" if int(t.get("side") or 1) > 0 else "short"
    closed = datetime.fromtimestamp(int(t.get("exit_ns") or 0) / 1e9, UTC)
    held_s = (int(t.get("exit_ns") or 0) - int(t.get("entry_ns") or 0)) / 1e9
    mfe, mae = t.get("mfe"), t.get("mae")
    return [
        closed.strftime("%m-%d %H:%M"),
        str(t.get("symbol")),
        (side, pal.up if side == "long" else pal.down),
        fmt.qty(t.get("quantity"), 6),
        fmt.price(t.get("entry_price"), 2),
        fmt.price(t.get("exit_price"), 2),
        (fmt.money(pnl, True), pal.signed(pnl)),
        (fmt.pct(t.get("pnl_pct")), pal.signed(pnl)),
        ("-" if mfe is None else fmt.pct(mfe, signed=False, decimals=1), pal.up),
        ("-" if mae is None else fmt.pct(mae, signed=False, decimals=1), pal.down),
        _duration(held_s),
        str(t.get("exit_reason") or ""),
        str(t.get("strategy") or "manual"),
    ]


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"
