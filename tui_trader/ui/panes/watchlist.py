"""Watchlist: symbol, bid, ask, last, change %, volume; changed prices flash up or down."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.tables import Cell, FittedTable, LiveTable
from tui_trader.ui.view import View

if TYPE_CHECKING:
    from tui_trader.core.market import Ticker
    from tui_trader.engine import EngineSnapshot

COLUMNS = (
    ("Symbol", 9, "left"),
    ("Bid", 10, "right"),
    ("Ask", 10, "right"),
    ("Last", 10, "right"),
    ("Chg%", 7, "right"),
    ("Vol", 6, "right"),
)


class WatchlistPane(Pane):
    KEY = "watchlist"
    TITLE = "Watchlist"
    TAB = "Quotes"

    BINDINGS = [
        Binding(
            "plus,insert",
            "app.find_symbol",
            "Add symbol",
            id="watch_add",
            show=False,
            tooltip="search the venue's markets",
        ),
        Binding(
            "minus,delete",
            "remove_selected",
            "Remove symbol",
            id="watch_remove",
            show=False,
            tooltip="take it off the watchlist",
        ),
    ]

    class RemoveRequested(Message):
        def __init__(self, symbol: str) -> None:
            super().__init__()
            self.symbol = symbol

    class SymbolSelected(Message):
        """The trader picked a row: it becomes the active symbol (and venue) everywhere."""

        def __init__(self, symbol: str, venue: str | None = None) -> None:
            super().__init__()
            self.symbol = symbol
            self.venue = venue

    def __init__(self, symbols: list[str] | None = None, flash_ms: int = 600) -> None:
        super().__init__()
        self.symbols = symbols  # None: every market the venues quote
        self.flash_s = flash_ms / 1000.0
        self._last: dict[str, float] = {}
        self._flash: dict[str, tuple[int, float]] = {}  # row key -> (direction, until)
        self._sync: FittedTable | None = None
        self._active = ""
        self._markets: dict[str, tuple[str, str]] = {}  # row key -> (venue, symbol)

    def compose(self) -> ComposeResult:
        self._table = LiveTable(id="watchlist-table", cursor_type="row")
        self._sync = FittedTable(self._table, COLUMNS, drop=("Vol", "Bid", "Ask"))
        yield self._table

    def set_symbols(self, symbols: list[str]) -> None:
        self.symbols = list(symbols)

    def action_remove_selected(self) -> None:
        key = self._sync.selected_key() if self._sync is not None else None
        if key is not None:
            self.post_message(self.RemoveRequested(self._markets.get(key, ("", key))[1]))

    @property
    def flashing(self) -> int:
        return len(self._flash)

    def _rows(self, snap: EngineSnapshot) -> dict[str, tuple[str, str]]:
        """Row key -> (venue, symbol). A symbol quoted by more than one venue gets a row per
        venue, keyed and labelled `venue:symbol`; elsewhere the key is the symbol."""
        markets = snap.markets()
        if self.symbols is not None:
            wanted = []
            for sym in self.symbols:
                quoted = [m for m in markets if m[1] == sym]
                wanted += quoted or [(snap.venue_of(sym), sym)]
            markets = wanted
        shared = snap.shared()
        return {(f"{v}:{s}" if s in shared else s): (v, s) for v, s in markets}

    def update_view(self, view: View) -> None:
        assert self._sync is not None
        snap = view.snapshot
        self._markets = self._rows(snap)
        pal = view.palette
        active = self._key_of(snap, view.symbol, view.venue)
        width = max((len(k) for k in self._markets), default=0)
        if width > self._sync.columns[0][1]:  # a venue prefix needs the room
            self._sync.columns[0] = ("Symbol", width, "left")
            self._sync.width = -1  # fit again below
        self._sync.fit()
        rows: dict[str, list[Cell]] = {}
        for key, (venue, sym) in self._markets.items():
            t = snap.ticker(sym, venue)
            inst = snap.instrument(sym, venue)
            nd = min(inst.price_decimals, 4) if inst is not None else 2
            name: Cell = (key, f"bold {pal.accent}") if key == active else key
            if t is None:
                rows[key] = [name, "-", "-", "-", "-", "-"]
                continue
            direction = self._direction(key, t, view.now)
            last_style = ""
            if direction:
                last_style = (
                    f"bold {pal.up} on {pal.flash_up}"
                    if direction > 0
                    else f"bold {pal.down} on {pal.flash_down}"
                )
            rows[key] = [
                name,
                fmt.price(t.bid, nd),
                fmt.price(t.ask, nd),
                (fmt.price(t.last, nd), last_style) if last_style else fmt.price(t.last, nd),
                (fmt.pct(t.change_pct), pal.signed(t.change_pct)),
                fmt.volume(t.volume_24h),
            ]
        self._sync.sync(rows)
        if active != self._active:
            self._active = active
            self._select_row(active)

    def _key_of(self, snap: EngineSnapshot, symbol: str, venue: str | None) -> str:
        shared = f"{snap.venue_of(symbol, venue)}:{symbol}"
        return shared if shared in self._markets else symbol

    def _direction(self, key: str, t: Ticker, now: float) -> int:
        prev = self._last.get(key)
        self._last[key] = t.last
        if self.flash_s > 0 and prev is not None and t.last != prev:
            self._flash[key] = (1 if t.last > prev else -1, now + self.flash_s)
        flash = self._flash.get(key)
        if flash is None:
            return 0
        if now >= flash[1]:
            del self._flash[key]
            return 0
        return flash[0]

    def _select_row(self, key: str) -> None:
        assert self._sync is not None
        keys = list(self._sync.rows)
        if key in keys:
            table = self._table
            if table.cursor_row != keys.index(key):
                table.move_cursor(row=keys.index(key), animate=False)

    @on(DataTable.RowSelected, "#watchlist-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value
        if key:
            venue, symbol = self._markets.get(key, (None, key))
            self.post_message(self.SymbolSelected(symbol, venue))
