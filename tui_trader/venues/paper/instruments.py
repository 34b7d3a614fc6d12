"""Instruments the paper exchange lists, with realistic increments, price levels and volatility.

Spot crypto, US stocks, FX pairs and gold on margin (a forex broker's terms: 50:1 on the
majors, 20:1 on gold, one margin for the whole account, closed out at half the margin used),
and linear perpetuals `BASE/QUOTE:QUOTE` on the spot symbol's price path, with Binance's
USDⓈ-M increments and leverage brackets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from tui_trader.core.contracts import MarginTier, parse_symbol, tiers_from_rows
from tui_trader.core.enums import AssetClass, InstrumentKind, MarginMode
from tui_trader.core.forex import METALS, is_fx_pair, pip_size
from tui_trader.core.instrument import Instrument


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
    "AUD/USD": _fx(0.66, 0.10, 0.6, 800_000.0, 10_000_000.0),
    # Gold: spreads of about 25 cents, a lot of 100 ounces, busier than a minor pair.
    "XAU/USD": SimProfile(2_350.0, 0.15, 1.0, 500.0, 8_000.0, 0.3, 0.006, 20.0, 2.0),
}

_INCREMENTS: dict[str, tuple[str, str, str]] = {  # tick, lot, min notional
    "BTC/USDT": ("0.01", "0.00001", "5"),
    "ETH/USDT": ("0.01", "0.0001", "5"),
    "SOL/USDT": ("0.001", "0.001", "5"),
    "USDT/USD": ("0.0001", "0.01", "1"),
}


# Linear perpetuals: (tick, lot, min notional) as Binance USDⓈ-M lists them, and its leverage
# brackets (floor, cap, max leverage, maintenance rate, maintenance amount) from its
# /fapi/v1/leverageBracket (as Freqtrade 2026.9 ships them in binance_leverage_tiers.json;
# the first brackets, where a paper account trades).
_PERP_INCREMENTS: dict[str, tuple[str, str, str]] = {
    "BTC/USDT:USDT": ("0.1", "0.001", "100"),
    "ETH/USDT:USDT": ("0.01", "0.001", "20"),
    "SOL/USDT:USDT": ("0.01", "1", "5"),
}
_MAJOR_TIERS = tiers_from_rows(
    [
        (0, 300_000, 150, "0.004", 0),
        (300_000, 800_000, 100, "0.005", 300),
        (800_000, 3_000_000, 75, "0.0065", 1_500),
        (3_000_000, 12_000_000, 50, "0.01", 12_000),
        (12_000_000, 70_000_000, 25, "0.02", 132_000),
        (70_000_000, 100_000_000, 20, "0.025", 482_000),
        (100_000_000, 230_000_000, 10, "0.05", 2_982_000),
        (230_000_000, 480_000_000, 5, "0.1", 14_482_000),
    ]
)
_PERP_TIERS: dict[str, tuple[MarginTier, ...]] = {
    "BTC/USDT:USDT": _MAJOR_TIERS,
    "ETH/USDT:USDT": _MAJOR_TIERS[:5],
    "SOL/USDT:USDT": tiers_from_rows(
        [
            (0, 50_000, 100, "0.005", 0),
            (50_000, 400_000, 75, "0.0065", 75),
            (400_000, 1_000_000, 50, "0.01", 1_475),
            (1_000_000, 4_000_000, 25, "0.02", 11_475),
            (4_000_000, 8_000_000, 20, "0.025", 31_475),
            (8_000_000, 40_000_000, 10, "0.05", 231_475),
        ]
    ),
}
_OTHER_PERP_TIERS = tiers_from_rows(
    [(0, 25_000, 50, "0.01", 0), (25_000, 100_000, 25, "0.02", 250), (100_000, 1_000_000, 10, "0.05", 3_250)]
)
# A forex broker's margin: 2 % on the majors (50:1), 5 % on gold (20:1); the account is closed
# out when its value falls to half the margin used (OANDA's margin closeout), so the
# maintenance rate is half the initial one.
FX_MAX_LEVERAGE = Decimal(50)
METAL_MAX_LEVERAGE = Decimal(20)


def asset_class_of(symbol: str) -> AssetClass:
    """Two currencies (or a metal against one) are forex, any other pair crypto, a bare ticker a
    US stock."""
    if "/" not in symbol:
        return AssetClass.EQUITY
    return AssetClass.FOREX if is_fx_pair(symbol) and ":" not in symbol else AssetClass.CRYPTO


def _fx_instrument(symbol: str, venue: str) -> Instrument:
    base, quote = symbol.split("/", 1)
    metal = base in METALS
    tick = "0.01" if metal else "0.001" if quote == "JPY" else "0.00001"
    lev = METAL_MAX_LEVERAGE if metal else FX_MAX_LEVERAGE
    tier = MarginTier(Decimal(0), Decimal("1e30"), lev, Decimal(1) / lev / 2)
    return Instrument(
        symbol, venue, base, quote, AssetClass.FOREX, Decimal(tick), Decimal("1"), Decimal("1"), Decimal("1"),
        always_open=False, kind=InstrumentKind.FX, max_leverage=lev, margin_modes=(MarginMode.CROSS,),
        tiers=(tier,), pip=pip_size(symbol),
    )


def _perp_instrument(symbol: str, venue: str) -> Instrument:
    parts = parse_symbol(symbol)
    assert parts is not None
    spot = paper_instrument(parts.spot, venue)
    tick, lot, min_notional = _PERP_INCREMENTS.get(symbol, (str(spot.tick_size), str(spot.lot_size), "5"))
    tiers = _PERP_TIERS.get(symbol, _OTHER_PERP_TIERS)
    return replace(
        spot,
        symbol=symbol,
        tick_size=Decimal(tick),
        lot_size=Decimal(lot),
        min_qty=Decimal(lot),
        min_notional=Decimal(min_notional),
        kind=parts.kind,
        settle=parts.settle,
        max_leverage=tiers[0].max_leverage,
        margin_modes=(MarginMode.ISOLATED, MarginMode.CROSS),
        tiers=tiers,
    )


def paper_instrument(symbol: str, venue: str = "paper") -> Instrument:
    """An instrument for any symbol: crypto trades 24/7, forex Sunday to Friday, stocks NYSE
    hours; `BASE/QUOTE:QUOTE` is a linear perpetual on the spot pair."""
    parts = parse_symbol(symbol)
    if parts is not None and parts.kind is InstrumentKind.LINEAR_PERP:
        return _perp_instrument(symbol, venue)
    if parts is not None and parts.settle:
        raise ValueError(f"the paper exchange lists linear perpetuals (BASE/QUOTE:QUOTE), not {symbol}")
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
        return _fx_instrument(symbol, venue)
    tick, lot, min_notional = _INCREMENTS.get(symbol, ("0.01", "0.0001", "5"))
    return Instrument(
        symbol, venue, base, quote, kind, Decimal(tick), Decimal(lot), Decimal(lot), Decimal(min_notional)
    )


def profile_for(symbol: str) -> SimProfile:
    """Known symbols have a tuned profile; others get a plausible one for their asset class. A
    perpetual moves with its spot pair (its index), with a deeper book and more volume."""
    if symbol in PROFILES:
        return PROFILES[symbol]
    parts = parse_symbol(symbol)
    if parts is not None and parts.settle:
        spot = profile_for(parts.spot)
        return replace(spot, level_size=spot.level_size * 3, minute_volume=spot.volume_per_minute * 4)
    kind = asset_class_of(symbol)
    if kind is AssetClass.EQUITY:
        return _stock(100.0, 0.30, 2.0, 100.0, 5_000.0)
    if kind is AssetClass.FOREX:
        return _fx(1.0, 0.08, 0.5, 1_000_000.0, 10_000_000.0)
    return _crypto(100.0, 0.80, 2.0, 100.0, 2_000.0)
