"""The consolidated view of one symbol across venues: each venue's best bid and offer, fees and
state, and one depth ladder merging every usable venue's book with the venue on each level
(`tui-trader quote SYMBOL --all-venues`, the Venues pane)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui_trader.routing.market import Level, VenueMarket


@dataclass(frozen=True, slots=True)
class VenueRow:
    venue: str
    kind: str
    state: str
    bid: float | None
    bid_size: float | None
    ask: float | None
    ask_size: float | None
    maker_fee: float
    taker_fee: float
    age_s: float | None
    problem: str
    best_bid: bool = False  # this venue has the highest bid of the usable ones
    best_ask: bool = False  # ... the lowest offer

    @property
    def buy_cost(self) -> float | None:
        """What one unit costs here after the taker fee (the offer plus fee)."""
        return None if self.ask is None else self.ask * (1 + self.taker_fee)

    @property
    def sell_proceeds(self) -> float | None:
        return None if self.bid is None else self.bid * (1 - self.taker_fee)


@dataclass(frozen=True, slots=True)
class LadderLevel:
    price: float
    size: float
    venue: str


@dataclass(slots=True)
class Consolidated:
    symbol: str
    rows: list[VenueRow] = field(default_factory=list)
    bids: list[LadderLevel] = field(default_factory=list)  # best first, every usable venue
    asks: list[LadderLevel] = field(default_factory=list)

    def row(self, venue: str) -> VenueRow | None:
        return next((r for r in self.rows if r.venue == venue), None)

    @property
    def best_bid(self) -> VenueRow | None:
        return next((r for r in self.rows if r.best_bid), None)

    @property
    def best_ask(self) -> VenueRow | None:
        return next((r for r in self.rows if r.best_ask), None)

    @property
    def crossed(self) -> bool:
        """One venue bids above another's offer: a spread the scanner reports."""
        bid, ask = self.best_bid, self.best_ask
        return bid is not None and ask is not None and bid.bid is not None and ask.ask is not None and bid.bid > ask.ask

    def document(self) -> dict[str, Any]:
        """As `quote --all-venues --json` prints it."""
        bid, ask = self.best_bid, self.best_ask
        return {
            "symbol": self.symbol,
            "best_bid": None if bid is None else {"venue": bid.venue, "price": bid.bid, "size": bid.bid_size},
            "best_ask": None if ask is None else {"venue": ask.venue, "price": ask.ask, "size": ask.ask_size},
            "crossed": self.crossed,
            "venues": [
                {
                    "venue": r.venue,
                    "kind": r.kind,
                    "state": r.state,
                    "bid": r.bid,
                    "bid_size": r.bid_size,
                    "ask": r.ask,
                    "ask_size": r.ask_size,
                    "maker_fee": r.maker_fee,
                    "taker_fee": r.taker_fee,
                    "buy_after_fee": r.buy_cost,
                    "sell_after_fee": r.sell_proceeds,
                    "age_s": None if r.age_s is None else round(r.age_s, 3),
                    "usable": not r.problem,
                    "problem": r.problem or None,
                }
                for r in self.rows
            ],
            "book": {
                "bids": [[lv.price, lv.size, lv.venue] for lv in self.bids],
                "asks": [[lv.price, lv.size, lv.venue] for lv in self.asks],
            },
        }


def consolidate(symbol: str, markets: list[VenueMarket], depth: int = 10) -> Consolidated:
    """Every venue that lists `symbol` in one view; `depth` levels a side in the merged ladder.

    Best bid and offer are chosen among usable venues by price after the taker fee (what a
    market order would really get); venues that are down or stale are listed with the reason
    and kept out of the ladder."""
    out = Consolidated(symbol)
    usable = [m for m in markets if m.usable]
    best_bid = max(usable, key=lambda m: _after_fee(m.best_bid(), -m.fees.taker), default=None)
    best_ask = min(usable, key=lambda m: _after_fee(m.best_ask(), m.fees.taker, missing=float("inf")), default=None)
    for m in sorted(markets, key=lambda m: m.venue):
        b, a = m.best_bid(), m.best_ask()
        out.rows.append(
            VenueRow(
                m.venue,
                m.kind,
                m.state,
                b[0] if b else None,
                b[1] if b else None,
                a[0] if a else None,
                a[1] if a else None,
                m.fees.maker,
                m.fees.taker,
                m.age_s,
                m.problem,
                best_bid=m is best_bid and b is not None,
                best_ask=m is best_ask and a is not None,
            )
        )
    out.bids = _merge([(m.venue, m.bids()[:depth]) for m in usable], descending=True)[:depth]
    out.asks = _merge([(m.venue, m.asks()[:depth]) for m in usable], descending=False)[:depth]
    return out


def _after_fee(level: Level | None, fee: float, missing: float = float("-inf")) -> float:
    return missing if level is None else level[0] * (1 + fee)


def _merge(books: list[tuple[str, tuple[Level, ...]]], *, descending: bool) -> list[LadderLevel]:
    levels = [LadderLevel(p, s, venue) for venue, side in books for p, s in side]
    levels.sort(key=lambda lv: (-lv.price if descending else lv.price, lv.venue))
    return levels
