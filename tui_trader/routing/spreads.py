"""Spreads the scanner reports: the same symbol bought on one venue and sold on another, and
triangles of three markets on one venue, net of taker fees (and, across venues, of a
transfer-cost placeholder: what moving the asset back would cost)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from tui_trader.routing.market import Level, VenueMarket


@dataclass(frozen=True, slots=True)
class Spread:
    """Buy `symbol` at `buy_venue`'s offer, sell it at `sell_venue`'s bid."""

    symbol: str
    buy_venue: str
    sell_venue: str
    ask: float
    bid: float
    quote: str
    gross_bps: float  # (bid - ask) / ask
    fees_bps: float  # both taker fees
    transfer_bps: float
    net_bps: float  # what is left after fees and transfer
    size: float  # what both tops hold
    max_qty: float  # the quantity with a positive net edge walking both books (0 when none)
    profit: float  # net profit of `max_qty`, in the quote currency
    stale: bool = False  # one side's data is old or its venue has a problem: not to be trusted

    @property
    def key(self) -> str:
        return f"{self.symbol} {self.buy_venue}>{self.sell_venue}"

    def document(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "buy_venue": self.buy_venue,
            "sell_venue": self.sell_venue,
            "ask": self.ask,
            "bid": self.bid,
            "quote": self.quote,
            "gross_bps": round(self.gross_bps, 3),
            "fees_bps": round(self.fees_bps, 3),
            "transfer_bps": round(self.transfer_bps, 3),
            "net_bps": round(self.net_bps, 3),
            "size": self.size,
            "max_qty": round(self.max_qty, 10),  # a sum of book sizes: no float noise (871.6555000000001)
            "profit": round(self.profit, 8),
            "stale": self.stale,
        }


def cross_venue(
    markets: dict[str, list[VenueMarket]], transfer_bps: Callable[[str], float] = lambda symbol: 0.0
) -> list[Spread]:
    """For every symbol quoted on two or more venues, each pair of venues once, in its better
    direction; best net edge first. A venue with a problem (down, stale) still shows, flagged
    stale, so the trader sees why a wide spread is not real."""
    out: list[Spread] = []
    for symbol, listed in markets.items():
        quoted = [m for m in listed if m.best_bid() and m.best_ask()]
        if len(quoted) < 2:
            continue
        cost = transfer_bps(symbol)
        for a, b in combinations(sorted(quoted, key=lambda m: m.venue), 2):
            one, two = _spread(symbol, a, b, cost), _spread(symbol, b, a, cost)
            out.append(one if one.net_bps >= two.net_bps else two)
    out.sort(key=lambda s: (s.stale, -s.net_bps, s.key))
    return out


def _spread(symbol: str, buy: VenueMarket, sell: VenueMarket, transfer_bps: float) -> Spread:
    ask, ask_size = buy.best_ask() or (0.0, 0.0)
    bid, bid_size = sell.best_bid() or (0.0, 0.0)
    fa, fb = buy.fees.taker, sell.fees.taker
    net = (bid * (1 - fb) - ask * (1 + fa)) / ask * 1e4 - transfer_bps if ask else 0.0
    max_qty, profit = _walk(buy.asks(), sell.bids(), fa, fb, transfer_bps / 1e4)
    return Spread(
        symbol,
        buy.venue,
        sell.venue,
        ask,
        bid,
        buy.quote_currency or sell.quote_currency,
        (bid - ask) / ask * 1e4 if ask else 0.0,
        (fa + fb) * 1e4,
        transfer_bps,
        net,
        min(ask_size, bid_size),
        max_qty,
        profit,
        stale=not (buy.usable and sell.usable),
    )


def _walk(asks: Iterable[Level], bids: Iterable[Level], fa: float, fb: float, transfer: float) -> tuple[float, float]:
    """Buy up one book and sell down the other while each unit still nets a profit."""
    a_it, b_it = iter(asks), iter(bids)
    a, b = next(a_it, None), next(b_it, None)
    a_left = a[1] if a else 0.0
    b_left = b[1] if b else 0.0
    qty = profit = 0.0
    while a is not None and b is not None:
        edge = b[0] * (1 - fb) - a[0] * (1 + fa) - a[0] * transfer
        if edge <= 0:
            break
        take = min(a_left, b_left)
        qty += take
        profit += take * edge
        a_left -= take
        b_left -= take
        if a_left <= 1e-15:
            a = next(a_it, None)
            a_left = a[1] if a else 0.0
        if b_left <= 1e-15:
            b = next(b_it, None)
            b_left = b[1] if b else 0.0
    return qty, profit


# -- triangles ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Triangle:
    """Three trades on one venue that end in the currency they started from."""

    venue: str
    path: tuple[str, str, str]  # currencies: start -> second -> third -> start
    trades: tuple[tuple[str, str, float], ...]  # (symbol, buy|sell, price) in order
    gross_bps: float
    fees_bps: float
    net_bps: float
    stale: bool = False

    @property
    def key(self) -> str:
        return f"{self.venue} {'>'.join(self.path)}"

    def document(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "path": [*self.path, self.path[0]],
            "trades": [{"symbol": s, "side": side, "price": p} for s, side, p in self.trades],
            "gross_bps": round(self.gross_bps, 3),
            "fees_bps": round(self.fees_bps, 3),
            "net_bps": round(self.net_bps, 3),
            "stale": self.stale,
        }


def triangular(markets: Iterable[VenueMarket]) -> list[Triangle]:
    """Every cycle of three currencies one venue's quoted markets connect (both directions),
    each at the touch with the taker fee on every trade; best net first."""
    by_venue: dict[str, list[VenueMarket]] = {}
    for m in markets:
        if m.instrument is not None and m.best_bid() and m.best_ask():
            by_venue.setdefault(m.venue, []).append(m)
    out: list[Triangle] = []
    for venue, listed in by_venue.items():
        # edges[x][y]: (rate x -> y before fees, fee, symbol, side, price, stale)
        edges: dict[str, dict[str, tuple[float, float, str, str, float, bool]]] = {}
        for m in listed:
            assert m.instrument is not None
            base, quote = m.instrument.base, m.instrument.quote
            (bid, _), (ask, _) = m.best_bid() or (0.0, 0.0), m.best_ask() or (0.0, 0.0)
            stale = not m.usable
            edges.setdefault(quote, {})[base] = (1.0 / ask, m.fees.taker, m.instrument.symbol, "buy", ask, stale)
            edges.setdefault(base, {})[quote] = (bid, m.fees.taker, m.instrument.symbol, "sell", bid, stale)
        for x in sorted(edges):
            for y in edges[x]:
                if y <= x:
                    continue
                for z in edges.get(y, {}):
                    if z <= x or z == y or x not in edges.get(z, {}):
                        continue
                    hops = (edges[x][y], edges[y][z], edges[z][x])
                    gross = hops[0][0] * hops[1][0] * hops[2][0]
                    net = gross * (1 - hops[0][1]) * (1 - hops[1][1]) * (1 - hops[2][1])
                    out.append(
                        Triangle(
                            venue,
                            (x, y, z),
                            tuple((h[2], h[3], h[4]) for h in hops),
                            (gross - 1) * 1e4,
                            sum(h[1] for h in hops) * 1e4,
                            (net - 1) * 1e4,
                            stale=any(h[5] for h in hops),
                        )
                    )
    out.sort(key=lambda t: (t.stale, -t.net_bps, t.key))
    return out
