"""Order book ladder for the active symbol: >= 10 levels a side, cumulative depth bars, spread, mid.

Drawn as one Rich Text (no DataTable): stacked asks over bids when the pane is tall enough,
bids beside asks when it is not (the compact 80x24 layout).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget

from tui_trader.core.market import OrderBook
from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

LEVELS = 10
_BAR = "█"


def _bar(fraction: float, width: int) -> str:
    cells = round(max(0.0, min(1.0, fraction)) * width)
    return _BAR * cells


class Ladder(Widget, can_focus=True):
    """Renders the book; `show` is called by the pane only when the book or palette changed."""

    DEFAULT_CSS = "Ladder { height: 1fr; }"

    def __init__(self) -> None:
        super().__init__(id="ladder")
        self.book: OrderBook | None = None
        self.palette: Palette | None = None
        self.price_decimals = 2
        self.qty_decimals = 4

    def show(
        self, book: OrderBook | None, palette: Palette, price_decimals: int, qty_decimals: int
    ) -> None:
        self.book, self.palette = book, palette
        self.price_decimals, self.qty_decimals = min(price_decimals, 6), min(qty_decimals, 5)
        self.refresh()

    def render(self) -> Text:
        book, pal = self.book, self.palette
        if book is None or pal is None or not (book.bids or book.asks):
            return Text("waiting for the book…", style="dim")
        width, height = self.size.width, self.size.height
        if height >= 2 * LEVELS + 3:
            return self._stacked(book, pal, width, min((height - 3) // 2, 25))
        return self._side_by_side(book, pal, width, max(LEVELS, height - 2))

    def _cum(
        self, levels: tuple[tuple[float, float], ...], n: int
    ) -> list[tuple[float, float, float]]:
        out, total = [], 0.0
        for price, size in levels[:n]:
            total += size
            out.append((price, size, total))
        return out

    def _summary(self, book: OrderBook) -> str:
        spread, mid = book.spread, book.mid
        if spread is None or mid is None:
            return "one-sided book"
        bps = spread / mid * 1e4 if mid else 0.0
        nd = self.price_decimals
        return f"spread {fmt.price(spread, nd)} ({bps:.1f} bp) · mid {fmt.price(mid, nd)}"

    def _stacked(self, book: OrderBook, pal: Palette, width: int, n: int) -> Text:
        bids, asks = self._cum(book.bids, n), self._cum(book.asks, n)
        top = max([c for *_, c in bids] + [c for *_, c in asks] + [1e-12])
        pw, sw = 12, 11
        bar_w = max(4, width - pw - 2 * sw - 3)
        text = Text(no_wrap=True, overflow="crop")
        text.append(f"{'price':>{pw}} {'size':>{sw}} {'total':>{sw}} depth\n", style="bold")
        for price, size, cum in reversed(asks):
            text.append(f"{fmt.price(price, self.price_decimals):>{pw}}", style=pal.down)
            text.append(
                f" {fmt.qty(size, self.qty_decimals):>{sw}} {fmt.qty(cum, self.qty_decimals):>{sw}} "
            )
            text.append(_bar(cum / top, bar_w) + "\n", style=pal.depth_ask)
        text.append(f"{self._summary(book):^{width}}\n", style=f"bold {pal.accent}")
        for i, (price, size, cum) in enumerate(bids):
            text.append(f"{fmt.price(price, self.price_decimals):>{pw}}", style=pal.up)
            text.append(
                f" {fmt.qty(size, self.qty_decimals):>{sw}} {fmt.qty(cum, self.qty_decimals):>{sw}} "
            )
            text.append(
                _bar(cum / top, bar_w) + ("\n" if i < len(bids) - 1 else ""), style=pal.depth_bid
            )
        return text

    def _side_by_side(self, book: OrderBook, pal: Palette, width: int, n: int) -> Text:
        bids, asks = self._cum(book.bids, n), self._cum(book.asks, n)
        top = max([c for *_, c in bids] + [c for *_, c in asks] + [1e-12])
        half = (width - 1) // 2
        pw, sw = 11, 9
        bar_w = max(0, half - pw - sw - 2)
        text = Text(no_wrap=True, overflow="crop")
        text.append(f"{self._summary(book):^{width}}\n", style=f"bold {pal.accent}")
        text.append(
            f"{'':>{bar_w}} {'bid size':>{sw}} {'bid':>{pw}}│{'ask':<{pw}} {'ask size':<{sw}}\n",
            style="bold",
        )
        for i in range(n):
            if i < len(bids):
                price, size, cum = bids[i]
                text.append(f"{_bar(cum / top, bar_w):>{bar_w}}", style=pal.depth_bid)
                text.append(f" {fmt.qty(size, self.qty_decimals):>{sw}} ")
                text.append(f"{fmt.price(price, self.price_decimals):>{pw}}", style=pal.up)
            else:
                text.append(" " * (bar_w + sw + pw + 2))
            text.append("│")
            if i < len(asks):
                price, size, cum = asks[i]
                text.append(f"{fmt.price(price, self.price_decimals):<{pw}}", style=pal.down)
                text.append(f" {fmt.qty(size, self.qty_decimals):<{sw}} ")
                text.append(_bar(cum / top, bar_w), style=pal.depth_ask)
            if i < n - 1:
                text.append("\n")
        return text


class OrderBookPane(Pane):
    KEY = "book"
    TITLE = "Order book"
    TAB = "Book"

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        yield Ladder()

    def update_view(self, view: View) -> None:
        book = view.snapshot.book(view.symbol, view.venue)
        key = (id(book), book.ts if book else None, view.palette, view.symbol, view.venue)
        if key == self._shown:
            return
        self._shown = key
        venue = f" · {book.venue}" if book is not None and view.symbol in view.snapshot.shared() else ""
        self.set_title(f"Order book · {view.symbol}{venue}")
        inst = view.snapshot.instrument(view.symbol, view.venue)
        ladder = self.query_one(Ladder)
        ladder.show(
            book, view.palette, inst.price_decimals if inst else 2, inst.qty_decimals if inst else 4
        )
