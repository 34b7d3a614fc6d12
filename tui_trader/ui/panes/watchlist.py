"""Watchlist: symbol, bid, ask, last, change %, volume; changed prices flash up or down."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable

from tui_trader.core.market import Ticker
from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.tables import Cell, TableSync
from tui_trader.ui.view import View

COLUMNS = (
    ("Symbol", "symbol", 9, "left"),
    ("Bid", "bid", 10, "right"),
    ("Ask", "ask", 10, "right"),
    ("Last", "last", 10, "right"),
    ("Chg%", "chg", 7, "right"),
    ("Vol", "vol", 6, "right"),
)


class WatchlistPane(Pane):
    KEY = "watchlist"
    TITLE = "Watchlist"
    TAB = "Quotes"

    class SymbolSelected(Message):
        """The trader picked a row: it becomes the active symbol everywhere."""

        def __init__(self, symbol: str) -> None:
            super().__init__()
            self.symbol = symbol

    def __init__(self, symbols: list[str] | None = None, flash_ms: int = 600) -> None:
        super().__init__()
        self.symbols = symbols or []
        self.flash_s = flash_ms / 1000.0
        self._last: dict[str, float] = {}
        self._flash: dict[str, tuple[int, float]] = {}  # symbol -> (direction, until)
        self._sync: TableSync | None = None
        self._active = ""

    def compose(self) -> ComposeResult:
        yield DataTable(id="watchlist-table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key, width, _ in COLUMNS:
            table.add_column(label, key=key, width=width)
        self._sync = TableSync(table, [c[3] for c in COLUMNS])

    @property
    def flashing(self) -> int:
        return len(self._flash)

    def update_view(self, view: View) -> None:
        assert self._sync is not None
        tickers = view.snapshot.tickers
        symbols = self.symbols or list(view.snapshot.instruments) or list(tickers)
        pal = view.palette
        rows: dict[str, list[Cell]] = {}
        for sym in symbols:
            t = tickers.get(sym)
            inst = view.snapshot.instruments.get(sym)
            nd = min(inst.price_decimals, 4) if inst is not None else 2
            if t is None:
                rows[sym] = [sym, "-", "-", "-", "-", "-"]
                continue
            direction = self._direction(sym, t, view.now)
            last_style = ""
            if direction:
                last_style = (
                    f"bold {pal.up} on {pal.flash_up}"
                    if direction > 0
                    else f"bold {pal.down} on {pal.flash_down}"
                )
            name: Cell = (sym, f"bold {pal.accent}") if sym == view.symbol else sym
            rows[sym] = [
                name,
                fmt.price(t.bid, nd),
                fmt.price(t.ask, nd),
                (fmt.price(t.last, nd), last_style) if last_style else fmt.price(t.last, nd),
                (fmt.pct(t.change_pct), pal.signed(t.change_pct)),
                fmt.volume(t.volume_24h),
            ]
        self._sync.sync(rows)
        if view.symbol != self._active:
            self._active = view.symbol
            self._select_row(view.symbol)

    def _direction(self, sym: str, t: Ticker, now: float) -> int:
        prev = self._last.get(sym)
        self._last[sym] = t.last
        if self.flash_s > 0 and prev is not None and t.last != prev:
            self._flash[sym] = (1 if t.last > prev else -1, now + self.flash_s)
        flash = self._flash.get(sym)
        if flash is None:
            return 0
        if now >= flash[1]:
            del self._flash[sym]
            return 0
        return flash[0]

    def _select_row(self, symbol: str) -> None:
        assert self._sync is not None
        keys = list(self._sync.rows)
        if symbol in keys:
            table = self.query_one(DataTable)
            if table.cursor_row != keys.index(symbol):
                table.move_cursor(row=keys.index(symbol), animate=False)

    @on(DataTable.RowSelected, "#watchlist-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.SymbolSelected(event.row_key.value))
