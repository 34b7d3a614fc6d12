"""Positions and balances, with P&L from fills (average-cost accounting)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from tui_trader.core.fills import Fill

ZERO = Decimal(0)


@dataclass(slots=True)
class Position:
    venue: str
    symbol: str
    quantity: Decimal = ZERO  # signed: > 0 long, < 0 short
    average_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO  # net of nothing: fees are tracked separately
    fees: Decimal = ZERO
    mark: float = 0.0

    def copy(self) -> Position:
        return replace(self)

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    @property
    def unrealized_pnl(self) -> float:
        if self.quantity == 0 or not self.mark:
            return 0.0
        return float(self.quantity) * (self.mark - float(self.average_price))

    @property
    def market_value(self) -> float:
        return float(self.quantity) * (self.mark or float(self.average_price))

    @property
    def cost_basis(self) -> Decimal:
        return self.quantity * self.average_price

    def apply(self, fill: Fill) -> Decimal:
        """Apply a fill; return the P&L it realized (before fees)."""
        q = fill.signed_quantity
        self.fees += fill.quote_fee
        realized = ZERO
        if self.quantity == 0 or (self.quantity > 0) == (q > 0):
            # Opening or adding: new weighted average.
            total = self.quantity + q
            self.average_price = (self.average_price * abs(self.quantity) + fill.price * abs(q)) / abs(total)
            self.quantity = total
        else:
            closing = min(abs(q), abs(self.quantity))
            direction = 1 if self.quantity > 0 else -1
            realized = (fill.price - self.average_price) * closing * direction
            self.realized_pnl += realized
            self.quantity += q
            if self.quantity == 0:
                self.average_price = ZERO
            elif (self.quantity > 0) != (direction > 0):
                # Flipped through zero: the remainder opens at the fill price.
                self.average_price = fill.price
        if fill.fee_in_base:  # the coin the exchange kept; its value is already in `fees`
            self.quantity -= fill.fee
            if self.quantity == 0:
                self.average_price = ZERO
        return realized


@dataclass(slots=True)
class Balance:
    currency: str
    total: Decimal
    free: Decimal

    @property
    def locked(self) -> Decimal:
        return self.total - self.free
