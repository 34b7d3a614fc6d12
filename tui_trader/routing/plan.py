"""Where an order should go: the best expected fill after fees for its size, walking each
venue's book, within what each venue's balances allow; split across venues when that is
cheaper.

The greedy walk is exact for this cost model: each venue's cost is piecewise linear and
convex in the quantity (its levels get worse as they are taken), so taking the best
fee-adjusted level anywhere, one after another, gives the cheapest total (the same argument
as merging sorted lists). Lot sizes and minimums are applied afterwards: a venue whose share
would be below its minimum is dropped and the walk repeated without it.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from tui_trader.core.enums import Side
from tui_trader.routing.market import Level


@dataclass(frozen=True, slots=True)
class Candidate:
    """One venue as the router sees it for this order."""

    venue: str
    levels: Sequence[Level]  # the side the order takes: asks for a buy, bids for a sell, best first
    fee: float  # taker fee rate
    lot: Decimal
    min_qty: Decimal = Decimal(0)
    min_notional: float = 0.0
    quote_budget: float | None = None  # a buy: the quote currency it may spend here (None: not limited)
    max_qty: float | None = None  # the most it may trade here (what it holds to sell, a reduce-only cap)
    rate: float = 1.0  # its quote currency in the currency prices are compared in
    symbol: str = ""  # the instrument at this venue (the order's own unless failing over across quotes)


@dataclass(frozen=True, slots=True)
class Leg:
    venue: str
    symbol: str
    quantity: Decimal
    price: float  # expected average fill price (before fees)
    fee: float
    # part of it is not in the book shown: a market order's share past the shown depth (priced at
    # the last level shown, a floor), or the share of a limit order that rests
    past_book: bool = False

    @property
    def notional(self) -> float:
        return float(self.quantity) * self.price


@dataclass(slots=True)
class RoutePlan:
    side: Side
    quantity: Decimal
    legs: list[Leg] = field(default_factory=list)
    unrouted: Decimal = Decimal(0)  # what no venue can take (balances, minimums, no book)
    excluded: dict[str, str] = field(default_factory=dict)  # venue -> why it gets nothing
    limit: float | None = None  # a limit order's price: the part past the book rests there

    @property
    def routed(self) -> Decimal:
        return sum((leg.quantity for leg in self.legs), Decimal(0))

    def expected_price(self) -> float | None:
        """The expected average fill price over every leg (before fees)."""
        qty = float(self.routed)
        return sum(leg.notional for leg in self.legs) / qty if qty else None

    def expected_cost(self) -> float:
        """Expected quote paid (a buy) or received (a sell) including fees, in the comparison currency."""
        sign = 1 if self.side is Side.BUY else -1
        return sum(leg.notional * (1 + sign * leg.fee) for leg in self.legs)

    def describe(self) -> str:
        past = "part rests at the limit" if self.limit is not None else "partly past the book"
        parts = [
            f"{leg.quantity} on {leg.venue} ~{leg.price:,.6g}" + (f" ({past})" if leg.past_book else "")
            for leg in self.legs
        ]
        text = " + ".join(parts) or "nothing routed"
        if self.unrouted:
            text += f"; {self.unrouted} not routed"
        return text


def plan_route(
    side: Side,
    quantity: Decimal,
    candidates: Sequence[Candidate],
    *,
    limit: float | None = None,
    split: bool = True,
    max_legs: int = 5,
    min_leg_notional: float = 0.0,
) -> RoutePlan:
    """The legs that fill `quantity` at the best expected price after fees.

    `limit` (a limit order's price, in each venue's own quote) stops the walk at that price;
    the part no book offers within it rests on the venue with the best price after fees.
    Without `split` the whole order goes to the one venue with the best expected price for the
    full size (or, when none can take all of it, the one that can take the most)."""
    out = RoutePlan(side, quantity, limit=limit)
    legs: list[Leg] = []
    pool = [c for c in candidates if c.levels]
    for c in candidates:
        if not c.levels:
            out.excluded[c.venue] = "no book"
    if not pool or quantity <= 0:
        out.unrouted = max(quantity, Decimal(0))
        return out
    for _ in range(len(pool) + 2):
        takes = _walk(side, float(quantity), pool, limit) if split else _single(side, float(quantity), pool, limit)
        if len(takes) > max_legs:  # the largest shares stay; the walk is done again on them
            keep = sorted(takes, key=lambda v: -takes[v][0])[:max_legs]
            for c in pool:
                if c.venue not in keep:
                    out.excluded.setdefault(c.venue, f"more than {max_legs} venues")
            pool = [c for c in pool if c.venue in keep]
            continue
        legs, dropped = _legs(side, quantity, pool, takes, min_leg_notional)
        if not dropped:
            break
        for venue, why in dropped.items():
            out.excluded[venue] = why
        pool = [c for c in pool if c.venue not in dropped]
        if not pool:
            legs = []
            break
    out.legs = legs
    _settle_dust(out, pool)
    return out


# -- the walk ---------------------------------------------------------------------------------------

def _effective(side: Side, price: float, c: Candidate) -> float:
    """The comparison key of a level: lower is better for either side."""
    if side is Side.BUY:
        return price * (1 + c.fee) * c.rate
    return -price * (1 - c.fee) * c.rate


def _within(side: Side, price: float, limit: float | None) -> bool:
    if limit is None:
        return True
    return price <= limit if side is Side.BUY else price >= limit


Takes = dict[str, tuple[float, float, bool]]  # venue -> (quantity, notional, past_book)


def _walk(side: Side, qty: float, pool: Sequence[Candidate], limit: float | None) -> Takes:
    """venue -> (quantity, notional, past_book) by the greedy merge of every book."""
    heap: list[tuple[float, int, int]] = []
    for i, c in enumerate(pool):
        p = c.levels[0][0]
        if _within(side, p, limit):
            heap.append((_effective(side, p, c), i, 0))
    heapq.heapify(heap)
    got: dict[int, _Taken] = {}
    left = qty
    while heap and left > 1e-15:
        _, i, j = heapq.heappop(heap)
        c = pool[i]
        price, size = c.levels[j]
        acc = got.get(i) or got.setdefault(i, _Taken(side, c))
        take = min(size, left, acc.affordable(price))
        if take > 0:
            acc.add(take, price)
            left -= take
        if acc.spent():
            continue  # this venue's balance is used up
        if j + 1 < len(c.levels) and _within(side, c.levels[j + 1][0], limit):
            heapq.heappush(heap, (_effective(side, c.levels[j + 1][0], c), i, j + 1))
    out = {pool[i].venue: (a.qty, a.notional, False) for i, a in got.items() if a.qty > 0}
    if left > 1e-15:  # past every book shown: the best venue with money left takes the rest
        _beyond(side, left, pool, got, out, limit)
    return out


class _Taken:
    """What the walk has taken from one venue, and what its balances still allow."""

    __slots__ = ("c", "notional", "qty", "quote_left", "side")

    def __init__(self, side: Side, c: Candidate) -> None:
        self.side, self.c = side, c
        self.qty = self.notional = 0.0
        self.quote_left = math.inf if side is Side.SELL or c.quote_budget is None else max(0.0, c.quote_budget)

    def affordable(self, price: float) -> float:
        cap = math.inf if self.c.max_qty is None else max(0.0, self.c.max_qty - self.qty)
        if self.quote_left != math.inf:
            cap = min(cap, self.quote_left / (price * (1 + self.c.fee)))
        return cap

    def add(self, qty: float, price: float) -> None:
        self.qty += qty
        self.notional += qty * price
        if self.quote_left != math.inf:
            self.quote_left -= qty * price * (1 + self.c.fee)

    def spent(self) -> bool:
        return self.quote_left <= 1e-9 or (self.c.max_qty is not None and self.qty >= self.c.max_qty - 1e-15)


def _beyond(
    side: Side,
    left: float,
    pool: Sequence[Candidate],
    got: dict[int, _Taken],
    out: Takes,
    limit: float | None,
) -> None:
    """What no shown level covers: a market order's rest goes past the shown depth at the venue
    whose last shown level is the best, priced at that level (a floor of what it will cost); a
    limit order's rest rests at its price on the venue with the best touch after fees."""
    best: tuple[float, int, float] | None = None
    for i, c in enumerate(pool):
        acc = got.get(i) or _Taken(side, c)
        if acc.spent():
            continue
        price = c.levels[-1][0] if limit is None else limit
        key = _effective(side, c.levels[-1][0] if limit is None else c.levels[0][0], c)
        if best is None or key < best[0]:
            best = (key, i, price)
    if best is None:
        return
    _, i, price = best
    c = pool[i]
    acc = got.get(i) or _Taken(side, c)
    take = min(left, acc.affordable(price))
    if take <= 0:
        return
    q, n, _ = out.get(c.venue, (0.0, 0.0, False))
    out[c.venue] = (q + take, n + take * price, True)


def _single(side: Side, qty: float, pool: Sequence[Candidate], limit: float | None) -> Takes:
    """The one venue with the best expected price for the whole order (or, when none can take
    all of it, the one that can take the most)."""
    best: tuple[tuple[int, float], str, tuple[float, float, bool]] | None = None
    for c in pool:
        takes = _walk(side, qty, [c], limit)
        if c.venue not in takes:
            continue
        q, n, past = takes[c.venue]
        key = (0, _effective(side, n / q, c)) if q >= qty * (1 - 1e-12) else (1, -q)
        if best is None or key < best[0]:
            best = (key, c.venue, (q, n, past))
    return {} if best is None else {best[1]: best[2]}


# -- lots, minimums, dust ---------------------------------------------------------------------------

def _legs(
    side: Side,
    quantity: Decimal,
    pool: Sequence[Candidate],
    takes: Takes,
    min_leg_notional: float,
) -> tuple[list[Leg], dict[str, str]]:
    """The walk's shares as legs on each venue's lots; the venues to drop and why (every share
    below the venue's own minimum; of the shares below the smallest child, only the smallest)."""
    by_venue = {c.venue: c for c in pool}
    legs: list[Leg] = []
    dropped: dict[str, str] = {}
    small: list[tuple[float, str]] = []
    for venue, (q, n, past) in takes.items():
        c = by_venue[venue]
        qty = _to_lot(min(Decimal(repr(q)), quantity), c.lot)
        price = n / q if q else 0.0
        notional = float(qty) * price
        if qty <= 0 or qty < c.min_qty:
            dropped[venue] = f"its share {qty} is below its minimum quantity {c.min_qty}"
            continue
        if notional < c.min_notional:
            dropped[venue] = f"its share ({notional:,.2f}) is below its minimum order {c.min_notional:g}"
            continue
        if len(takes) > 1 and notional < min_leg_notional:
            small.append((notional, venue))
        legs.append(Leg(venue, c.symbol, qty, price, c.fee, past))
    if small and not dropped:
        notional, venue = min(small)
        dropped[venue] = f"its share ({notional:,.2f}) is below the smallest child order ({min_leg_notional:g})"
    legs.sort(key=lambda leg: -leg.quantity)
    return legs, dropped


def _to_lot(qty: Decimal, lot: Decimal) -> Decimal:
    """Down to the lot, except that float sums a hair under a lot (0.0999999...) round to it."""
    if lot <= 0:
        return qty
    near = (qty / lot).to_integral_value()
    if abs(qty / lot - near) < Decimal("1e-6"):
        snapped = near * lot
        return qty if snapped == qty else snapped  # 0.1, not 0.10000
    down = _round_down(qty, lot)
    return qty if down == qty else down


def _round_down(qty: Decimal, lot: Decimal) -> Decimal:
    if lot <= 0:
        return qty
    return (qty / lot).to_integral_value(rounding=ROUND_DOWN) * lot


def _settle_dust(plan: RoutePlan, pool: Sequence[Candidate]) -> None:
    """Lots leave crumbs (under a lot per leg): they go to the largest leg whose lot fits them.
    A larger shortfall (balances, no book) stays unrouted."""
    rest = plan.quantity - plan.routed
    lots = {c.venue: c.lot for c in pool}
    if rest > 0 and plan.legs:
        crumbs = max(lots.get(leg.venue, Decimal(0)) for leg in plan.legs) * (len(plan.legs) + 1)
        if rest <= crumbs:
            for k, leg in enumerate(plan.legs):
                lot = lots.get(leg.venue, Decimal(0))
                extra = _round_down(rest, lot)
                if extra > 0:
                    plan.legs[k] = Leg(leg.venue, leg.symbol, leg.quantity + extra, leg.price, leg.fee, leg.past_book)
                    rest -= extra
                if rest <= 0:
                    break
    plan.unrouted = max(rest, Decimal(0))
