"""Instruments the paper exchange lists, with realistic increments, price levels and volatility."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tui_trader.core.enums import AssetClass
from tui_trader.core.instrument import Instrument

FIAT = frozenset({"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK"})


@dataclass(frozen=True, slots=True)
class SimProfile:
    """How the paper market moves a symbol.

    `start` is the level the price wanders around (its long-run anchor), `annual_vol` the
    volatility of log returns, `minute_volume` the typical traded volume per trading minute.
    """

    start: float
    annual_vol: float
    spread_bps: float
    level_size: float  # typical size per book level, in base units
    minute_volume: float = 0.0  # 0: 20 levels' worth
    jumps_per_week: float = 0.5
    jump_std: float = 0.015
    gap_minutes: float = 0.0  # variance of the opening gap, in average trading minutes
    resilience_s: float = 5.0  # half-life of the book refilling after an order takes liquidity

    @property
    def volume_per_minute(self) -> float:
        return self.minute_volume or self.level_size * 20


def _crypto(start: float, vol: float, spread: float, level: float, volume: float) -> SimProfile:
    return SimProfile(start, vol, spread, level, volume, 0.8, 0.02, 0.0, 3.0)


def _stock(start: float, vol: float, spread: float, level: float, volume: float) -> SimProfile:
    # Overnight gaps carry about a fifth of a day's variance (~100 of 390 session minutes).
    return SimProfile(start, vol, spread, level, volume, 0.15, 0.012, 100.0, 6.0)


def _fx(start: float, vol: float, spread: float, level: float, volume: float) -> SimProfile:
    return SimProfile(start, vol, spread, level, volume, 0.1, 0.004, 20.0, 2.0)


PROFILES: dict[str, SimProfile] = {
    "BTC/USDT": _crypto(65_000.0, 0.55, 0.5, 0.8, 15.0),
    "ETH/USDT": _crypto(3_400.0, 0.70, 0.8, 12.0, 220.0),
    "SOL/USDT": _crypto(150.0, 0.90, 1.5, 250.0, 4_000.0),
    # A stablecoin against the dollar: pinned near 1, moves by hundredths of a percent.
    "USDT/USD": SimProfile(1.0, 0.0015, 1.0, 50_000.0, 400_000.0, 0.0, 0.0, 0.0, 3.0),
    "AAPL": _stock(190.0, 0.25, 1.0, 400.0, 25_000.0),
    "MSFT": _stock(420.0, 0.24, 1.0, 200.0, 12_000.0),
    "SPY": _stock(560.0, 0.15, 0.4, 800.0, 60_000.0),
    "EUR/USD": _fx(1.08, 0.07, 0.3, 2_000_000.0, 30_000_000.0),
    "GBP/USD": _fx(1.27, 0.08, 0.5, 1_000_000.0, 15_000_000.0),
    "USD/JPY": _fx(150.0, 0.09, 0.4, 1_000_000.0, 20_000_000.0),
}

_INCREMENTS: dict[str, tuple[str, str, str]] = {  # tick, lot, min notional
    "BTC/USDT": ("0.01", "0.00001", "5"),
    "ETH/USDT": ("0.01", "0.0001", "5"),
    "SOL/USDT": ("0.001", "0.001", "5"),
    "USDT/USD": ("0.0001", "0.01", "1"),
}


def asset_class_of(symbol: str) -> AssetClass:
    """BASE/QUOTE of two currencies is forex, any other pair crypto, a bare ticker a US stock."""
    if "/" not in symbol:
        return AssetClass.EQUITY
    base, quote = symbol.split("/", 1)
    return AssetClass.FOREX if base in FIAT and quote in FIAT else AssetClass.CRYPTO


def paper_instrument(symbol: str, venue: str = "paper") -> Instrument:
    """An instrument for any symbol: crypto trades 24/7, forex Sunday to Friday, stocks NYSE hours."""
    kind = asset_class_of(symbol)
    if kind is AssetClass.EQUITY:
        return Instrument(
            symbol,
            venue,
            symbol,
            "USD",
            kind,
            Decimal("0.01"),
            Decimal("0.0001"),
            Decimal("0.0001"),
            Decimal("1"),
            always_open=False,
            fractional=True,
        )
    base, quote = symbol.split("/", 1)
    if kind is AssetClass.FOREX:
        tick = "0.001" if quote == "JPY" else "0.00001"
        return Instrument(symbol, venue, base, quote, kind, Decimal(tick), Decimal("1"), Decimal("1"), Decimal("1"),
                          always_open=False)
    tick, lot, min_notional = _INCREMENTS.get(symbol, ("0.01", "0.0001", "5"))
    return Instrument(
        symbol, venue, base, quote, kind, Decimal(tick), Decimal(lot), Decimal(lot), Decimal(min_notional)
    )


def profile_for(symbol: str) -> SimProfile:
    """Known symbols have a tuned profile; others get a plausible one for their asset class."""
    if symbol in PROFILES:
        return PROFILES[symbol]
    kind = asset_class_of(symbol)
    if kind is AssetClass.EQUITY:
        return _stock(100.0, 0.30, 2.0, 100.0, 5_000.0)
    if kind is AssetClass.FOREX:
        return _fx(1.0, 0.08, 0.5, 1_000_000.0, 10_000_000.0)
    return _crypto(100.0, 0.80, 2.0, 100.0, 2_000.0)
