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

    @property
    def quote(self) -> str:
        """The currency the notional is paid in: the symbol's quote (a stock's: the fee's)."""
        _, slash, quote = self.symbol.partition("/")
        return quote.split(":")[0] if slash else self.fee_currency

    @property
    def fee_in_base(self) -> bool:
        """The fee was taken in the base asset (a spot buy on Bybit or OKX): it shrinks the
        position rather than the cash."""
        base, slash, _ = self.symbol.partition("/")
        return bool(slash) and self.fee_currency == base and self.fee != 0

    @property
    def fee_in_quote(self) -> bool:
        return not self.fee_currency or self.fee_currency == self.quote

    @property
    def quote_fee(self) -> Decimal:
        """The fee in the quote currency (P&L, risk, the fees column). A fee in a third currency
        (BNB on Binance) has no price here and counts 0."""
        if self.fee_in_base:
            return self.fee * self.price
        return self.fee if self.fee_in_quote else Decimal(0)
