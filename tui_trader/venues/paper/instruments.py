"""Instruments the paper exchange lists, with realistic increments and price levels."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tui_trader.core.enums import AssetClass
from tui_trader.core.instrument import Instrument


@dataclass(frozen=True, slots=True)
class SimProfile:
    """How the simulator moves a symbol: start price, annual volatility, spread, depth."""

    start: float
    annual_vol: float
    spread_bps: float
    level_size: float  # typical size per book level, in base units


PROFILES: dict[str, SimProfile] = {
    "BTC/USDT": SimProfile(65_000.0, 0.60, 0.5, 0.8),
    "ETH/USDT": SimProfile(3_400.0, 0.70, 0.8, 12.0),
    "SOL/USDT": SimProfile(150.0, 0.90, 1.5, 250.0),
    "AAPL": SimProfile(190.0, 0.25, 1.0, 400.0),
    "MSFT": SimProfile(420.0, 0.25, 1.0, 200.0),
    "SPY": SimProfile(560.0, 0.15, 0.4, 800.0),
}

_INCREMENTS: dict[str, tuple[str, str, str]] = {  # tick, lot, min notional
    "BTC/USDT": ("0.01", "0.00001", "5"),
    "ETH/USDT": ("0.01", "0.0001", "5"),
    "SOL/USDT": ("0.001", "0.001", "5"),
}


def paper_instrument(symbol: str, venue: str = "paper") -> Instrument:
    """An instrument for any symbol: BASE/QUOTE is crypto (24/7), a bare ticker is a US stock."""
    if "/" in symbol:
        base, quote = symbol.split("/", 1)
        tick, lot, min_notional = _INCREMENTS.get(symbol, ("0.01", "0.0001", "5"))
        return Instrument(
            symbol,
            venue,
            base,
            quote,
            AssetClass.CRYPTO,
            Decimal(tick),
            Decimal(lot),
            Decimal(lot),
            Decimal(min_notional),
        )
    return Instrument(
        symbol,
        venue,
        symbol,
        "USD",
        AssetClass.EQUITY,
        Decimal("0.01"),
        Decimal("0.0001"),
        Decimal("0.0001"),
        Decimal("1"),
        always_open=True,
        fractional=True,
    )


def profile_for(symbol: str) -> SimProfile:
    """Known symbols have a tuned profile; others get a plausible generic one."""
    if symbol in PROFILES:
        return PROFILES[symbol]
    return SimProfile(100.0, 0.5 if "/" in symbol else 0.3, 2.0, 100.0)
