"""Positions and balances, with P&L from fills (average-cost accounting).

A spot position is paid for: its value is quantity x mark. A position on margin (perpetual,
future, FX pair, CFD) is not: it adds only its unrealised P&L to the account, its realised P&L
settles in cash, and its funding (perpetuals) or swap (FX rollover) is kept beside it. Its
quantity counts contracts of `contract_size`; an inverse contract's P&L is in the base coin.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from tui_trader.core.fills import Fill

if TYPE_CHECKING:
    from datetime import datetime

    from tui_trader.core.instrument import Instrument

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(slots=True)
class Position:
    venue: str
    symbol: str
    quantity: Decimal = ZERO  # signed: > 0 long, < 0 short
    average_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO  # net of nothing: fees and funding are tracked separately
    fees: Decimal = ZERO
    mark: float = 0.0  # the venue's mark price for a derivative, else the mid
    # On margin (set from the instrument, `configure`): spot leaves these at their defaults.
    margined: bool = False
    contract_size: Decimal = ONE
    inverse: bool = False
    settle: str = ""  # the currency P&L, margin and funding are in ("": the quote)
    leverage: Decimal = ONE
    margin_mode: str = ""  # "isolated" | "cross"
    funding: Decimal = ZERO  # funding (perpetuals) or swap (FX) received (+) and paid (-) while open

    def copy(self) -> Position:
        return replace(self)

    def configure(self, inst: Instrument, leverage: Decimal | None = None, margin_mode: str | None = None) -> None:
        """Take the contract terms of `inst` (and the leverage and margin mode it trades at)."""
        self.margined = inst.margined
        self.contract_size = inst.contract_size
        self.inverse = inst.inverse
        self.settle = inst.settle_currency if inst.margined else ""
        if leverage is not None:
            self.leverage = leverage
        if margin_mode is not None:
            self.margin_mode = margin_mode

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    @property
    def unrealized_pnl(self) -> float:
        """On the mark, in the settle currency (the quote for spot and linear contracts)."""
        if self.quantity == 0 or not self.mark or self.average_price <= 0:
            return 0.0
        size = float(self.quantity * self.contract_size)
        if self.inverse:
            return size * (1.0 / float(self.average_price) - 1.0 / self.mark)
        return size * (self.mark - float(self.average_price))

    @property
    def market_value(self) -> float:
        """Signed exposure in the quote currency (for a position on margin: its notional)."""
        size = float(self.quantity * self.contract_size)
        if self.inverse:
            return size
        return size * (self.mark or float(self.average_price))

    @property
    def equity_value(self) -> float:
        """What the position adds to the account: spot its value, a position on margin its
        unrealised P&L (in the settle currency)."""
        return self.unrealized_pnl if self.margined else self.market_value

    @property
    def cost_basis(self) -> Decimal:
        return self.quantity * self.average_price

    def fee_of(self, fill: Fill) -> Decimal:
        """The fill's fee in the currency this position's P&L is in (a margined position's
        settle currency; spot: the quote)."""
        if self.margined and fill.fee_currency in ("", self.settle):
            return fill.fee
        return fill.quote_fee

    def apply(self, fill: Fill) -> Decimal:
        """Apply a fill; return the P&L it realized (before fees)."""
        q = fill.signed_quantity
        self.fees += self.fee_of(fill)
        realized = ZERO
        if self.quantity == 0 or (self.quantity > 0) == (q > 0):
            # Opening or adding: new weighted average (harmonic for inverse contracts, whose
            # value is counted in coins).
            total = self.quantity + q
            if self.inverse and self.average_price > 0:
                coins = abs(self.quantity) / self.average_price + abs(q) / fill.price
                self.average_price = abs(total) / coins
            else:
                self.average_price = (self.average_price * abs(self.quantity) + fill.price * abs(q)) / abs(total)
            self.quantity = total
        else:
            closing = min(abs(q), abs(self.quantity))
            direction = 1 if self.quantity > 0 else -1
            if self.inverse:
                realized = closing * direction * self.contract_size * (ONE / self.average_price - ONE / fill.price)
            else:
                realized = (fill.price - self.average_price) * closing * direction * self.contract_size
            self.realized_pnl += realized
            self.quantity += q
            if self.quantity == 0:
                self.average_price = ZERO
            elif (self.quantity > 0) != (direction > 0):
                # Flipped through zero: the remainder opens at the fill price.
                self.average_price = fill.price
        if fill.fee_in_base and not self.margined:  # the coin the exchange kept; its value is in `fees`
            self.quantity -= fill.fee
            if self.quantity == 0:
                self.average_price = ZERO
        return realized


@dataclass(slots=True)
class Balance:
    currency: str
    total: Decimal
    free: Decimal
    # The venue's time of the balances it answered (what was booked up to then is in them), where
    # it gives one (ccxt's `timestamp`: Binance spot's updateTime, OKX's uTime, Bybit's time)
    as_of: datetime | None = None
    # The positions whose market value `total` holds, as the venue valued them in this read:
    # (symbol, signed quantity, market value). A broker's liquidation value (IB's NetLiquidation,
    # Schwab's liquidationValue) is the cash and the stocks held; the portfolio counts the stocks
    # it holds itself, so the reader takes their value out (`cash_reread.cash_from`).
    valued: tuple[tuple[str, Decimal, Decimal], ...] = ()

    @property
    def locked(self) -> Decimal:
        return self.total - self.free
