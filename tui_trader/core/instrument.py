"""Instruments: what can be traded and its increments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from tui_trader.core.contracts import MarginTier
from tui_trader.core.enums import AssetClass, InstrumentKind, MarginMode


def quantize(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round `value` to a multiple of `step`."""
    if step <= 0:
        return value
    return ((value / step).to_integral_value(rounding=rounding) * step).quantize(step)


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable symbol. Spot is the default; a derivative (perpetual, future, FX pair or CFD at
    a broker) is traded on margin: quantities count contracts of `contract_size` (base units for
    a linear contract, quote currency for an inverse one), profit and loss settle in `settle`."""

    symbol: str  # "BTC/USDT", "AAPL", "BTC/USDT:USDT"
    venue: str
    base: str  # "BTC", "AAPL"
    quote: str  # "USDT", "USD"
    asset_class: AssetClass
    tick_size: Decimal
    lot_size: Decimal
    min_qty: Decimal = Decimal(0)
    min_notional: Decimal = Decimal(0)
    always_open: bool = True  # 24/7 (crypto) or exchange hours (stocks)
    fractional: bool = True
    kind: InstrumentKind = InstrumentKind.SPOT
    contract_size: Decimal = Decimal(1)
    settle: str = ""  # "" : the quote currency
    min_leverage: Decimal = Decimal(1)
    max_leverage: Decimal = Decimal(1)
    margin_modes: tuple[MarginMode, ...] = ()  # the first is the default
    tiers: tuple[MarginTier, ...] = ()  # maintenance margin by notional (empty: spot)
    expiry: datetime | None = None  # dated futures
    pip: Decimal | None = None  # FX pairs and metals: the price step traders count in

    @property
    def margined(self) -> bool:
        return self.kind.margined

    @property
    def inverse(self) -> bool:
        return self.kind is InstrumentKind.INVERSE_PERP or (
            self.kind is InstrumentKind.FUTURE and self.settle_currency == self.base
        )

    @property
    def settle_currency(self) -> str:
        return self.settle or self.quote

    @property
    def default_margin_mode(self) -> MarginMode | None:
        return self.margin_modes[0] if self.margin_modes else None

    def round_price(self, price: Decimal) -> Decimal:
        return quantize(price, self.tick_size)

    def round_qty(self, qty: Decimal) -> Decimal:
        """Quantities round down: never trade more than asked."""
        return quantize(qty, self.lot_size, ROUND_DOWN)

    def on_tick(self, price: Decimal) -> bool:
        return price == self.round_price(price)

    def on_lot(self, qty: Decimal) -> bool:
        return qty == self.round_qty(qty)

    @property
    def price_decimals(self) -> int:
        return max(0, -self.tick_size.normalize().as_tuple().exponent)  # type: ignore[operator]

    @property
    def qty_decimals(self) -> int:
        return max(0, -self.lot_size.normalize().as_tuple().exponent)  # type: ignore[operator]
