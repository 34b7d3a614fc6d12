"""A seeded market simulator: GARCH(1,1) volatility clustering, Poisson jumps, an evolving
L2 book (>= 20 levels a side) around the mid and random trade prints.

Deterministic for a seed: the same seed and step count give the same prices.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from tui_trader.core.enums import Side
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import OrderBook, Ticker, TradePrint
from tui_trader.venues.paper.instruments import SimProfile

SECONDS_PER_YEAR = 365.0 * 24 * 3600
BOOK_LEVELS = 25


@dataclass(slots=True)
class _SymbolState:
    instrument: Instrument
    profile: SimProfile
    rng: np.random.Generator
    mid: float
    open_24h: float
    variance: float  # per-step variance of log returns (GARCH state)
    base_variance: float
    last_shock: float = 0.0
    last_price: float = 0.0
    volume: float = 0.0
    bid_sizes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ask_sizes: np.ndarray = field(default_factory=lambda: np.zeros(0))


class MarketSimulator:
    """Steps every symbol's price, book and trade flow by `dt` seconds."""

    # GARCH(1,1): sigma2' = omega + alpha * eps^2 + beta * sigma2, omega set for the long-run level.
    ALPHA = 0.08
    BETA = 0.90
    JUMP_PER_YEAR = 40.0  # expected jumps per symbol per year of simulated time
    JUMP_STD = 0.015

    def __init__(
        self, instruments: dict[str, Instrument], profiles: dict[str, SimProfile], seed: int, dt: float
    ) -> None:
        self.dt = dt
        self._states: dict[str, _SymbolState] = {}
        for symbol, inst in instruments.items():
            prof = profiles[symbol]
            rng = np.random.default_rng([seed, zlib.crc32(symbol.encode())])
            base_var = prof.annual_vol**2 * dt / SECONDS_PER_YEAR
            state = _SymbolState(inst, prof, rng, prof.start, prof.start, base_var, base_var, last_price=prof.start)
            state.bid_sizes = self._fresh_sizes(state)
            state.ask_sizes = self._fresh_sizes(state)
            self._states[symbol] = state

    @property
    def symbols(self) -> list[str]:
        return list(self._states)

    def mid(self, symbol: str) -> float:
        return self._states[symbol].mid

    def _fresh_sizes(self, s: _SymbolState) -> np.ndarray:
        depth_shape = 1.0 + np.arange(BOOK_LEVELS) * 0.15  # deeper levels hold more
        return s.profile.level_size * depth_shape * s.rng.lognormal(0.0, 0.35, BOOK_LEVELS)

    def step(self, symbol: str, now: datetime) -> tuple[OrderBook, list[TradePrint], Ticker]:
        """Advance one symbol by one step: new mid, new book, the trades that printed."""
        s = self._states[symbol]
        omega = s.base_variance * (1.0 - self.ALPHA - self.BETA)
        s.variance = omega + self.ALPHA * s.last_shock**2 + self.BETA * s.variance
        shock = math.sqrt(s.variance) * float(s.rng.standard_normal())
        jump_p = self.JUMP_PER_YEAR * self.dt / SECONDS_PER_YEAR
        if s.rng.random() < jump_p:
            shock += float(s.rng.normal(0.0, self.JUMP_STD))
        s.last_shock = shock
        s.mid *= math.exp(shock - 0.5 * s.variance)

        book = self._book(s, now)
        trades = self._trades(s, book, now, shock)
        if trades:
            s.last_price = trades[-1].price
        ticker = Ticker(
            venue=s.instrument.venue,
            symbol=symbol,
            ts=now,
            bid=book.bids[0][0],
            ask=book.asks[0][0],
            last=s.last_price,
            bid_size=book.bids[0][1],
            ask_size=book.asks[0][1],
            open_24h=s.open_24h,
            volume_24h=s.volume,
        )
        return book, trades, ticker

    def _book(self, s: _SymbolState, now: datetime) -> OrderBook:
        tick = float(s.instrument.tick_size)
        half_spread = max(tick, s.mid * s.profile.spread_bps / 2e4)
        step = max(tick, s.mid * 0.5 / 1e4)  # level spacing: 0.5 bp
        # Sizes evolve: mean-revert toward fresh random depth.
        s.bid_sizes = 0.7 * s.bid_sizes + 0.3 * self._fresh_sizes(s)
        s.ask_sizes = 0.7 * s.ask_sizes + 0.3 * self._fresh_sizes(s)
        lot = float(s.instrument.lot_size)
        best_bid = math.floor((s.mid - half_spread) / tick) * tick
        best_ask = math.ceil((s.mid + half_spread) / tick) * tick
        if best_ask <= best_bid:
            best_ask = best_bid + tick
        nd = s.instrument.price_decimals
        qd = s.instrument.qty_decimals
        bids = tuple(
            (round(best_bid - i * step, nd), round(max(lot, float(s.bid_sizes[i])), qd)) for i in range(BOOK_LEVELS)
        )
        asks = tuple(
            (round(best_ask + i * step, nd), round(max(lot, float(s.ask_sizes[i])), qd)) for i in range(BOOK_LEVELS)
        )
        return OrderBook(s.instrument.venue, s.instrument.symbol, now, bids, asks)

    def _trades(self, s: _SymbolState, book: OrderBook, now: datetime, shock: float) -> list[TradePrint]:
        n = int(s.rng.poisson(1.2))
        out: list[TradePrint] = []
        up_bias = 0.5 + max(-0.3, min(0.3, shock / (3 * math.sqrt(s.base_variance) + 1e-12) * 0.1))
        qd = s.instrument.qty_decimals
        for _ in range(n):
            side = Side.BUY if s.rng.random() < up_bias else Side.SELL
            # Aggressive flow occasionally sweeps a level or two.
            depth = int(s.rng.random() < 0.15) + int(s.rng.random() < 0.03)
            level = (book.asks if side is Side.BUY else book.bids)[depth]
            size = round(
                max(float(s.instrument.lot_size), float(s.rng.lognormal(-1.5, 1.0)) * s.profile.level_size), qd
            )
            s.volume += size
            out.append(TradePrint(s.instrument.venue, s.instrument.symbol, now, level[0], size, side))
        return out
