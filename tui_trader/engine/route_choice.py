"""Choosing venues for a routed order: every venue listing the symbol that may take an order
now (market_view.problem), with its book side, taker fee, lot rules and what its balances
allow, handed to the planner (routing/plan.py). No I/O in `decide`: balances come from a
cache `refresh_balances` fills before each routing."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

from tui_trader.core.enums import OrderType, Side
from tui_trader.engine import market_view as mv
from tui_trader.routing.plan import Candidate, RoutePlan, plan_route

if TYPE_CHECKING:
    from tui_trader.core.orders import OrderRequest
    from tui_trader.core.positions import Balance
    from tui_trader.execution.portfolio import Portfolio

log = logging.getLogger(__name__)
BUDGET_SHARE = 0.995  # of a venue's free balance the router plans to spend


class ChooserPort(mv.MarketState, Protocol):
    portfolio: Portfolio


class VenueChooser:
    def __init__(self, engine: ChooserPort) -> None:
        self.engine = engine
        self.balances: dict[str, tuple[float, dict[str, Balance]]] = {}  # venue -> (monotonic, balances)
        self.decisions_us: list[float] = []  # the last routing decisions' times (status, bench)

    def candidates(
        self, req: OrderRequest, *, exclude: dict[str, str] | None = None, other_quotes: bool = False
    ) -> tuple[list[Candidate], dict[str, str]]:
        """Every venue listing the symbol that may take an order now, as the planner wants it,
        and why each other one may not. With `other_quotes` (failover `any`, market orders),
        venues listing the same base in another quote currency too, compared at live rates."""
        e = self.engine
        exclude = exclude or {}
        out: list[Candidate] = []
        why: dict[str, str] = {}
        listings = [(v, req.symbol) for v in mv.listing(e, req.symbol)]
        if other_quotes:
            listings += self._other_quotes(req.symbol)
        for venue, symbol in listings:
            key = venue if symbol == req.symbol else f"{venue}:{symbol}"
            if venue in exclude:
                why[key] = exclude[venue]
                continue
            market = mv.venue_market(e, venue, symbol)
            inst = market.instrument
            if market.problem or inst is None:
                why[key] = market.problem or "not listed"
                continue
            levels = market.asks() if req.side is Side.BUY else market.bids()
            rate = self._rate(inst.quote, req.symbol)
            if rate is None:
                why[key] = f"no rate for {inst.quote}"
                continue
            out.append(
                Candidate(
                    venue,
                    levels,
                    market.fees.taker,
                    inst.lot_size,
                    inst.min_qty,
                    float(inst.min_notional),
                    *self._budgets(req, venue, symbol, inst.base, inst.quote, levels[0][0] if levels else 0.0),
                    rate=rate,
                    symbol=symbol,
                )
            )
        return out, why

    def decide(self, req: OrderRequest, **kwargs: Any) -> tuple[RoutePlan, dict[str, str]]:
        """The plan for `req` from the market as it is now (no I/O: balances come from the cache)."""
        t0 = time.perf_counter()
        cands, why = self.candidates(req, **kwargs)
        cfg = self.engine.settings.routing
        limit = float(req.price) if req.type is OrderType.LIMIT and req.price is not None else None
        plan = plan_route(
            req.side,
            req.quantity,
            cands,
            limit=limit,
            split=cfg.split,
            max_legs=cfg.max_children,
            min_leg_notional=cfg.min_child_notional,
        )
        self.decisions_us.append((time.perf_counter() - t0) * 1e6)
        del self.decisions_us[:-1000]
        return plan, why

    def _other_quotes(self, symbol: str) -> list[tuple[str, str]]:
        e = self.engine
        base_inst = next((i for insts in e.instruments.values() for s, i in insts.items() if s == symbol), None)
        if base_inst is None:
            return []
        return [
            (venue, s)
            for venue, insts in e.instruments.items()
            for s, inst in insts.items()
            if venue in e.venues
            and s != symbol
            and inst.base == base_inst.base
            and inst.asset_class is base_inst.asset_class
        ]

    def _rate(self, quote: str, symbol: str) -> float | None:
        """`quote` in the order's own quote currency (1 for the same symbol)."""
        insts = self.engine.instruments.values()
        own = next((i.quote for listed in insts for s, i in listed.items() if s == symbol), quote)
        if quote == own:
            return 1.0
        a, b = self.engine.portfolio.rate(quote), self.engine.portfolio.rate(own)
        return None if not a or not b else a / b

    def _budgets(
        self, req: OrderRequest, venue: str, symbol: str, base: str, quote: str, price: float
    ) -> tuple[float | None, float | None]:
        """(quote it may spend, most it may trade) at `venue` from its cached balances and our
        position there; None where nothing is known (the venue decides). A little of each
        balance is held back: prices move between the decision and the venue's own check."""
        e = self.engine
        balances = self.balances.get(venue, (0.0, {}))[1]
        pos = e.portfolio.positions.get((venue, symbol))
        held = float(pos.quantity) if pos is not None else 0.0
        cash = balances.get(quote)
        spend = None if cash is None else float(cash.free) * BUDGET_SHARE
        if req.side is Side.BUY:
            return spend, (max(-held, 0.0) if req.reduce_only else None)
        if req.reduce_only:
            return None, max(held, 0.0)
        if getattr(e.venues[venue].capabilities, "shorting", False):  # a short needs margin in the quote
            return None, (None if spend is None or price <= 0 else max(held, 0.0) + max(spend, 0.0) / price)
        coins = balances.get(base)
        if coins is not None:
            return None, float(coins.free)
        return None, (max(held, 0.0) if pos is not None else None)

    async def refresh_balances(self, venues: list[str]) -> None:
        """Balances no older than `balance_max_age_s` for these venues (fetched together, 2 s
        at most; a venue that does not answer keeps what was known)."""
        e = self.engine
        now = e.clock.monotonic()
        max_age = e.settings.routing.balance_max_age_s
        due = [v for v in venues if v in e.venues and now - self.balances.get(v, (-1e18, {}))[0] > max_age]

        async def one(name: str) -> None:
            try:
                got = await asyncio.wait_for(e.venues[name].fetch_balances(), 2.0)
            except Exception as exc:  # the venue decides then: an order it cannot pay for is refused
                log.warning("balances of %s not refreshed for routing: %s", name, exc)
                return
            self.balances[name] = (e.clock.monotonic(), got)

        if due:
            await asyncio.gather(*(one(v) for v in due))

