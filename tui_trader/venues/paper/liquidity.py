"""Market impact on the paper exchange: liquidity our orders take stays taken, then refills.

The displayed book is the market's book less what our own orders took from it. What was
taken from a level (counted by its place from the top of the book, so it follows the market)
refills exponentially with the symbol's half-life, the resilience of a limit order book in
the Obizhaeva-Wang sense: a second market order a moment after the first meets the thinner
book, a minute later the book is whole again. The price path itself never moves for our
orders; only the liquidity around it does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

from tui_trader.core.market import OrderBook

Level = list[float]  # [price, displayed size, level index in the market's book]
# What is left of a level after a take is a float difference: 16.065 - 16.065 can leave 2e-15,
# a level of nothing that would still be shown and walked. Less than this is nothing.
DUST = 1e-9


def less(size: float, amount: float) -> float:
    """`size` less `amount` (never below zero; float dust is zero)."""
    left = size - amount
    return left if left > DUST else 0.0


def exact(size: float) -> Decimal:
    """A displayed size as the decimal it stands for: 9.99999999882e-05 (0.0001 less float
    error) is 0.0001, which rounds down to a whole lot, not to nothing."""
    return Decimal(repr(round(size, 12)))


class BookLiquidity:
    def __init__(self, half_life_s: Callable[[str], float], now: Callable[[], float]) -> None:
        self.half_life_s = half_life_s
        self.now = now
        self._taken: dict[str, tuple[list[float], list[float]]] = {}
        self._at: dict[str, float] = {}

    def taken(self, symbol: str) -> tuple[list[float], list[float]] | None:
        """What is still missing from each bid and ask level (None when nothing is)."""
        return self._taken.get(symbol)

    def levels(self, book: OrderBook) -> list[list[Level]]:
        """[bids, asks] as mutable levels with what our orders took subtracted."""
        bids = [[p, s, i] for i, (p, s) in enumerate(book.bids)]
        asks = [[p, s, i] for i, (p, s) in enumerate(book.asks)]
        taken = self._decay(book.symbol)
        if taken is not None:
            for levels, gone in ((bids, taken[0]), (asks, taken[1])):
                for level, amount in zip(levels, gone, strict=False):
                    if amount:
                        level[1] = less(level[1], amount)
        return [bids, asks]

    def refill(self, book: OrderBook, levels: list[list[Level]]) -> None:
        """`levels`, made by `levels(book)` and walked by our orders since, as `levels(book)`
        would make them now, in place: only the levels our orders have taken from are set
        again (from the book's size less what is still missing), not all of the book's."""
        before = self._taken.get(book.symbol)
        if before is None:
            return  # nothing taken since they were made: they are the book's
        spans = len(before[0]), len(before[1])  # the levels our orders took from (lists only grow)
        taken = self._decay(book.symbol)
        for side, market in enumerate((book.bids, book.asks)):
            gone = taken[side] if taken is not None else []
            ours = levels[side]
            for i in range(min(spans[side], len(ours))):
                amount = gone[i] if i < len(gone) else 0.0
                size = market[i][1]
                ours[i][1] = less(size, amount) if amount else size

    def take(self, symbol: str, side: int, index: int, qty: float) -> None:
        """Our order took `qty` from level `index` of side 0 (bids) or 1 (asks)."""
        self._decay(symbol)
        taken = self._taken.get(symbol)
        if taken is None:
            taken = self._taken[symbol] = ([], [])
            self._at[symbol] = self.now()
        gone = taken[side]
        while len(gone) <= index:
            gone.append(0.0)
        gone[index] += qty

    def _decay(self, symbol: str) -> tuple[list[float], list[float]] | None:
        taken = self._taken.get(symbol)
        if taken is None:
            return None
        now = self.now()
        elapsed = now - self._at[symbol]
        if elapsed > 0:
            keep = math.exp(-math.log(2) * elapsed / max(1e-9, self.half_life_s(symbol)))
            left = False
            for gone in taken:
                for i, amount in enumerate(gone):
                    amount *= keep
                    gone[i] = amount if amount > 1e-12 else 0.0
                    left = left or gone[i] > 0
            self._at[symbol] = now
            if not left:
                del self._taken[symbol]
                return None
        return taken


def displayed(book: OrderBook, levels: list[list[Level]]) -> OrderBook:
    """The book as the market shows it: emptied levels left out."""
    bids = tuple((p, s) for p, s, _ in levels[0] if s > 0)
    asks = tuple((p, s) for p, s, _ in levels[1] if s > 0)
    return OrderBook(book.venue, book.symbol, book.ts, bids, asks)
