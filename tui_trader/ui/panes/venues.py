"""The active symbol on every venue that lists it: each venue's bid and offer, taker fee, how old
its quote is and whether an order may go there now; then one depth ladder merging every usable
venue's book with the venue on each level (docs/routing.md). Shown when two or more venues run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.tables import Cell, LiveTable, TableSync
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

if TYPE_CHECKING:
    from tui_trader.engine import EngineSnapshot
    from tui_trader.routing.consolidated import Consolidated
    from tui_trader.routing.market import VenueMarket

COLUMNS = (
    ("Venue", 9, "left"),
    ("Bid", 11, "right"),
    ("Ask", 11, "right"),
    ("Taker", 6, "right"),
    ("Age", 5, "right"),
    ("State", 12, "left"),
)
LADDER_LEVELS = 6


def venue_markets(snap: EngineSnapshot, symbol: str) -> list[VenueMarket]:
    """The snapshot's view of `symbol` on each venue, with the fees and problems the engine's
    scanner last found (the engine's own routing decides with fresher ones)."""
    from tui_trader.routing.market import FeeRates, VenueMarket  # with two venues: not before the first paint

    routing = snap.extra.get("routing") or {}
    fees = routing.get("fees") or {}
    problems = routing.get("problems") or {}
    out = []
    for status in snap.venues:
        inst = snap.instruments.get(status.name, {}).get(symbol)
        if inst is None:
            continue
        ticker = snap.tickers.get(status.name, {}).get(symbol)
        maker, taker = (fees.get(status.name) or {}).get(symbol) or (0.0, 0.0)
        problem = (problems.get(status.name) or {}).get(symbol, "")
        if status.state != "connected":
            problem = problem or status.state
        age = (snap.ts - ticker.ts).total_seconds() if ticker is not None else None
        out.append(
            VenueMarket(
                status.name, status.kind, str(status.state), inst, ticker,
                snap.books.get(status.name, {}).get(symbol), FeeRates(maker, taker), age, problem,
            )
        )
    return out


class VenuesPane(Pane):
    KEY = "venues"
    TITLE = "Venues"
    TAB = "Venues"

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        table = LiveTable(id="venues-table", cursor_type="row")
        for label, width, _ in COLUMNS:
            table.add_column(label, key=label.lower(), width=width)
        self._sync = TableSync(table, [c[2] for c in COLUMNS])
        self._ladder_label = Static(id="venues-ladder")
        yield table
        yield self._ladder_label

    def update_view(self, view: View) -> None:
        snap, pal = view.snapshot, view.palette
        markets = venue_markets(snap, view.symbol)
        key = (view.symbol, view.palette, tuple((m.venue, id(m.ticker), id(m.book), m.problem) for m in markets))
        if key == self._shown:
            return
        self._shown = key
        from tui_trader.routing.consolidated import consolidate  # as venue_markets

        view_ = consolidate(view.symbol, markets, LADDER_LEVELS)
        inst = next((m.instrument for m in markets if m.instrument is not None), None)
        nd = inst.price_decimals if inst else 2
        rows: dict[str, list[Cell]] = {}
        for r in view_.rows:
            state = (r.state, pal.up) if not r.problem else (r.problem[:24], pal.warning)
            rows[r.venue] = [
                r.venue,
                (fmt.price(r.bid, nd), f"bold {pal.up}") if r.best_bid else fmt.price(r.bid, nd),
                (fmt.price(r.ask, nd), f"bold {pal.down}") if r.best_ask else fmt.price(r.ask, nd),
                f"{r.taker_fee * 100:.3g}%",
                "-" if r.age_s is None else f"{r.age_s:.0f}s",
                state,
            ]
        self._sync.sync(rows)
        self._ladder_label.update(self._ladder(view_, pal, nd, inst.qty_decimals if inst else 4))
        crossed = " · CROSSED" if view_.crossed else ""
        self.set_title(f"Venues · {view.symbol} · {len(view_.rows)} listing it{crossed}")

    def _ladder(self, view: Consolidated, pal: Palette, nd: int, qd: int) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        text.append(f"{'venue':>9} {'size':>9} {'bid':>11} │ {'ask':<11} {'size':<9} venue\n", style="bold")
        for i in range(max(len(view.bids), len(view.asks))):
            b = view.bids[i] if i < len(view.bids) else None
            a = view.asks[i] if i < len(view.asks) else None
            if b is not None:
                text.append(f"{b.venue[:9]:>9} {fmt.qty(b.size, min(qd, 4)):>9} ")
                text.append(f"{fmt.price(b.price, nd):>11}", style=pal.up)
            else:
                text.append(" " * 31)
            text.append(" │ ")
            if a is not None:
                text.append(f"{fmt.price(a.price, nd):<11}", style=pal.down)
                text.append(f" {fmt.qty(a.size, min(qd, 4)):<9} {a.venue[:9]}")
            text.append("\n")
        return text
