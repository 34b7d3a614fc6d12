"""Instruments: what can be traded and its increments."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from tui_trader.core.enums import AssetClass


def quantize(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round `value` to a multiple of `step`."""
    if step <= 0:
        return value
    return ((value / step).to_integral_value(rounding=rounding) * step).quantize(step)


@dataclass(frozen=True, slots=True)
class Instrument:
    symbol: str  # "BTC/USDT", "AAPL"
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
