"""Derivative contracts: ccxt's unified symbols and the venues' margin tier tables.

A ccxt unified symbol says what a contract is: `BTC/USDT` spot, `BTC/USDT:USDT` a linear
perpetual settled in USDT, `BTC/USD:BTC` an inverse perpetual settled in BTC, and
`BTC/USDT:USDT-261225` a future expiring on 25 December 2026.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tui_trader.core.enums import InstrumentKind


@dataclass(frozen=True, slots=True)
class SymbolParts:
    base: str
    quote: str
    settle: str  # "" for spot
    expiry: datetime | None = None

    @property
    def kind(self) -> InstrumentKind:
        if not self.settle:
            return InstrumentKind.SPOT
        if self.expiry is not None:
            return InstrumentKind.FUTURE
        return InstrumentKind.INVERSE_PERP if self.settle == self.base else InstrumentKind.LINEAR_PERP

    @property
    def spot(self) -> str:
        """The spot symbol of the same pair (the index a perpetual follows)."""
        return f"{self.base}/{self.quote}"


def parse_symbol(symbol: str) -> SymbolParts | None:
    """ccxt's unified symbol split into its parts; None for a bare ticker (AAPL) or an option."""
    pair, _, contract = symbol.partition(":")
    base, slash, quote = pair.partition("/")
    if not slash or not base or not quote:
        return None
    if not contract:
        return SymbolParts(base, quote, "")
    settle, _, rest = contract.partition("-")
    expiry = None
    if rest:
        if "-" in rest or len(rest) != 6 or not rest.isdigit():
            return None  # an option (BTC/USD:BTC-261225-60000-C) or something else
        expiry = datetime(2000 + int(rest[:2]), int(rest[2:4]), int(rest[4:6]), 8, tzinfo=UTC)
    return SymbolParts(base, quote, settle, expiry) if settle else None


def kind_of(symbol: str) -> InstrumentKind:
    """The kind a ccxt symbol names (spot for anything without a settle currency)."""
    parts = parse_symbol(symbol)
    return parts.kind if parts is not None else InstrumentKind.SPOT


@dataclass(frozen=True, slots=True)
class MarginTier:
    """One bracket of a venue's tier table (Binance's leverage brackets, Bybit's risk limits).

    A position whose notional is in [floor, cap) may use up to `max_leverage` and must keep
    `maintenance_rate` x notional - `maintenance_amount` as maintenance margin (`maintenance_amount`
    is Binance's "cum": it makes the maintenance margin continuous across brackets).
    """

    floor: Decimal
    cap: Decimal
    max_leverage: Decimal
    maintenance_rate: Decimal
    maintenance_amount: Decimal = Decimal(0)

    def maintenance(self, notional: Decimal) -> Decimal:
        return notional * self.maintenance_rate - self.maintenance_amount


def tier_for(tiers: Sequence[MarginTier], notional: Decimal) -> MarginTier:
    """The bracket `notional` falls in (the last one beyond the table's end)."""
    if not tiers:
        raise ValueError("no margin tiers")
    for tier in reversed(tiers):
        if notional >= tier.floor:
            return tier
    return tiers[0]


def tiers_from_rows(rows: Iterable[tuple[str | float, str | float, str | float, str | float, str | float]]) -> tuple[
    MarginTier, ...
]:
    """(floor, cap, max leverage, maintenance rate, maintenance amount) rows as tiers, numbers read
    through their text so no binary noise gets in."""
    return tuple(
        MarginTier(Decimal(str(a)), Decimal(str(b)), Decimal(str(c)), Decimal(str(d)), Decimal(str(e)))
        for a, b, c, d, e in rows
    )
