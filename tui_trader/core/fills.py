"""Fills: a (partial) execution of an order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tui_trader.core.enums import Liquidity, Side


@dataclass(frozen=True, slots=True)
class Fill:
    fill_id: str  # unique per venue; duplicates are ignored
    client_order_id: str
    venue: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: Liquidity
    ts: datetime
    venue_order_id: str | None = None

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity * self.side.sign

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price
