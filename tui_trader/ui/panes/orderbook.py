"""Order book ladder for the active symbol: up to 25 levels a side (as many as fit), cumulative
depth bars, spread, mid, and your own working orders marked on their level (`◀ 0.5` in the
"mine" column; orders priced between or beyond the levels shown are listed underneath).

Drawn as lines of styled pieces (lines.py; no DataTable), only the lines that changed drawn
again: stacked asks over bids when the pane is tall enough or narrow, bids beside asks when it
is wide and short (the compact 80x24 layout). Sizes have a fixed number of decimals, so their
points line up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult

from tui_trader.ui import format as fmt
from tui_trader.ui.lines import Line, LinesWidget, Piece
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

if TYPE_CHECKING:
    from tui_trader.core.market import OrderBook

LEVELS = 10
_BAR = "█"


def _bar(fraction: float, width: int) -> str:
    cells = round(max(0.0, min(1.0, fraction)) * width)
    return _BAR * cells


class Ladder(LinesWidget, can_focus=True):
    """Draws the book; `show` is called by the pane only when the book or palette changed.
    Only the lines that changed are drawn again (lines.py)."""

    DEFAULT_CSS = "Ladder { height: 1fr; }"

    def __init__(self) -> None:
        super().__init__(id="ladder")
        self.book: OrderBook | None = None
        self.palette: Palette | None = None
        self.price_decimals = 2
        self.qty_decimals = 4
        self.mine: list[tuple[float, bool, float]] = []
        # the placeholder in the first frame: drawn on the first resize, it changed the screen
        # after it (a layout pass before the first paint settled)
        self.show_lines(self.ladder_lines())

    def show(
        self,
        book: OrderBook | None,
        palette: Palette,
        price_decimals: int,
        qty_decimals: int,
        mine: list[tuple[float, bool, float]] | None = None,
    ) -> None:
        """`mine`: your working orders as (price, is_buy, remaining quantity)."""
        self.book, self.palette = book, palette
        self.price_decimals, self.qty_decimals = min(price_decimals, 6), min(qty_decimals, 5)
        self.mine = mine or []
        self.show_lines(self.ladder_lines())

    def on_resize(self) -> None:
        self.show_lines(self.ladder_lines())

    def ladder_lines(self) -> list[Line]:
        """The ladder's lines for the widget's size."""
        book, pal = self.book, self.palette
        if book is None or pal is None or not (book.bids or book.asks):
            return [(("waiting for the book…", "dim"),)]
        width, height = self.size.width, self.size.height
        listed = self._unmatched(book, 25)
        if height >= 2 * LEVELS + 3 or width < 60:
            room = height - 3 - min(len(listed), 3)
            lines = self._stacked(book, pal, width, max(3, min(room // 2, 25)))
        else:
            lines = self._side_by_side(book, pal, width, max(LEVELS, height - 2))
        top_price = max([p for p, _ in book.asks[:25]] + [p for p, _ in book.bids[:25]], default=0.0)
        for price, buy, qty in listed[:3]:
            side = "buy" if buy else "sell"
            where = "above" if price > top_price else "below" if price < top_price else "between levels"
            line = f"yours {where}: {side} {self._q(qty)} @ {fmt.price(price, self.price_decimals)}"
            lines.append(((line[:width], pal.up if buy else pal.down),))
        return lines

    def _q(self, value: float) -> str:
        return f"{value:,.{self.qty_decimals}f}"

    def _mine_at(self, price: float, buy: bool) -> float:
        tol = 10.0**-self.price_decimals / 2
        return sum(q for p, b, q in self.mine if b == buy and abs(p - price) <= tol)

    def _unmatched(self, book: OrderBook, n: int) -> list[tuple[float, bool, float]]:
        """Own orders not on a level the ladder shows."""
        tol = 10.0**-self.price_decimals / 2
        shown = [p for p, _ in book.bids[:n]] + [p for p, _ in book.asks[:n]]
        return [(p, b, q) for p, b, q in self.mine if not any(abs(p - s) <= tol for s in shown)]

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

    def _stacked(self, book: OrderBook, pal: Palette, width: int, n: int) -> list[Line]:
        bids, asks = self._cum(book.bids, n), self._cum(book.asks, n)
        top = max([c for *_, c in bids] + [c for *_, c in asks] + [1e-12])
        pw, sw, mw = 12, 11, 10
        wide = width >= pw + 3 * sw + mw
        bar_w = max(0, width - pw - sw - mw - 3 - (sw + 1 if wide else 0))
        total = f" {'total':>{sw}}" if wide else ""
        header = f"{'price':>{pw}} {'size':>{sw}}{total} {'mine':<{mw}} depth"
        lines: list[Line] = [((header[:width], "bold"),)]
        mine_style = f"bold reverse {pal.accent}"

        def row(price: float, size: float, cum: float, buy: bool) -> Line:
            own = self._mine_at(price, buy)
            mark = f"◀ {self._q(own)}" if own else ""
            return (
                (f"{fmt.price(price, self.price_decimals):>{pw}}", pal.up if buy else pal.down),
                (f" {self._q(size):>{sw}}" + (f" {self._q(cum):>{sw}}" if wide else "") + " ", ""),
                (f"{mark:<{mw}}", mine_style if own else ""),
                (" " + _bar(cum / top, bar_w), pal.depth_bid if buy else pal.depth_ask),
            )

        lines += [row(price, size, cum, False) for price, size, cum in reversed(asks)]
        lines.append(((f"{self._summary(book):^{width}}", f"bold {pal.accent}"),))
        lines += [row(price, size, cum, True) for price, size, cum in bids]
        return lines

    def _side_by_side(self, book: OrderBook, pal: Palette, width: int, n: int) -> list[Line]:
        bids, asks = self._cum(book.bids, n), self._cum(book.asks, n)
        top = max([c for *_, c in bids] + [c for *_, c in asks] + [1e-12])
        half = (width - 1) // 2
        pw, sw = 11, 9
        bar_w = max(0, half - pw - sw - 2)
        lines: list[Line] = [
            ((f"{self._summary(book):^{width}}", f"bold {pal.accent}"),),
            ((f"{'':>{bar_w}} {'bid size':>{sw}} {'bid':>{pw}}│{'ask':<{pw}} {'ask size':<{sw}}", "bold"),),
        ]
        for i in range(n):
            line: list[Piece] = []
            if i < len(bids):
                price, size, cum = bids[i]
                own = "◀" if self._mine_at(price, True) else " "
                line += [
                    (f"{_bar(cum / top, bar_w):>{bar_w}}", pal.depth_bid),
                    (f" {self._q(size):>{sw}} ", ""),
                    (f"{fmt.price(price, self.price_decimals):>{pw - 1}}", pal.up),
                    (own, f"bold {pal.accent}"),
                ]
            else:
                line.append((" " * (bar_w + sw + pw + 2), ""))
            line.append(("│", ""))
            if i < len(asks):
                price, size, cum = asks[i]
                own = "▶" if self._mine_at(price, False) else " "
                line += [
                    (own, f"bold {pal.accent}"),
                    (f"{fmt.price(price, self.price_decimals):<{pw - 1}}", pal.down),
                    (f" {self._q(size):<{sw}} ", ""),
                    (_bar(cum / top, bar_w), pal.depth_ask),
                ]
            lines.append(tuple(line))
        return lines


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
        mine = [
            (float(o.price), o.side.value == "buy", float(o.remaining))
            for o in view.snapshot.open_orders
            if o.symbol == view.symbol and o.price is not None and not o.meta.get("held")
        ]
        key = (id(book), book.ts if book else None, view.palette, view.symbol, view.venue, tuple(mine))
        if key == self._shown:
            return
        self._shown = key
        venue = f" · {book.venue}" if book is not None and view.symbol in view.snapshot.shared() else ""
        self.set_title(f"Order book · {view.symbol}{venue}")
        inst = view.snapshot.instrument(view.symbol, view.venue)
        ladder = self.query_one(Ladder)
        ladder.show(
            book, view.palette, inst.price_decimals if inst else 2, inst.qty_decimals if inst else 4, mine
        )
