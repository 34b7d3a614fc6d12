"""The paper account: cash per currency and signed positions, 1x margin for spot.

Buying power = cash - reservations for working orders - collateral for shorts (2 x short value,
since the short sale's proceeds sit in cash) - the margin held by positions on margin. Only the
part of an order that *increases* the absolute position needs buying power; reducing a position
never does.

A symbol on margin (a perpetual, an FX pair: `set_margin`) is not paid for: an order needs its
notional / leverage (and the fee) free in the margin currency, a fill moves only the P&L it
realises and its fee (in the settle currency), and shorting is always allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from tui_trader.core.enums import Side

ZERO = Decimal(0)


@dataclass(slots=True)
class _Reservation:
    currency: str
    per_unit: Decimal  # buying power held per unit of remaining quantity
    remaining: Decimal


@dataclass(frozen=True, slots=True)
class MarginTerms:
    """How a symbol on margin is held: its contract size, the leverage it trades at, the
    currency its P&L settles in and the one its margin is held in (a forex broker's account
    currency, a perpetual's settle currency)."""

    contract_size: Decimal
    leverage: Decimal
    settle: str
    margin_currency: str
    base: str = ""

    def notional(self, qty: Decimal, price: Decimal) -> Decimal:
        """|qty| in the margin currency (a pair whose base is the margin currency: its units)."""
        size = abs(qty) * self.contract_size
        if self.base and self.base == self.margin_currency:
            return size
        return size * price


class PaperAccount:
    def __init__(self, balances: dict[str, Decimal], *, allow_short: bool) -> None:
        self.cash: dict[str, Decimal] = dict(balances)
        self.positions: dict[str, Decimal] = {}
        self.avg_price: dict[str, Decimal] = {}
        self.quote_of: dict[str, str] = {}
        self.fees_paid: dict[str, Decimal] = {}
        self.allow_short = allow_short
        self._reserved: dict[str, _Reservation] = {}
        self.margin: dict[str, MarginTerms] = {}  # symbols traded on margin

    def set_margin(self, symbol: str, terms: MarginTerms) -> None:
        self.margin[symbol] = terms

    def margin_used(self, currency: str) -> Decimal:
        """Initial margin of the open positions on margin held in `currency` (at their entry)."""
        used = ZERO
        for symbol, qty in self.positions.items():
            terms = self.margin.get(symbol)
            if terms is not None and terms.margin_currency == currency:
                used += terms.notional(qty, self.avg_price.get(symbol, ZERO)) / terms.leverage
        return used

    def position(self, symbol: str) -> Decimal:
        return self.positions.get(symbol, ZERO)

    def increasing_qty(self, symbol: str, side: Side, qty: Decimal) -> Decimal:
        """How much of `qty` opens or adds to a position (the rest closes one)."""
        pos = self.position(symbol)
        closing = min(qty, abs(pos)) if (pos > 0 and side is Side.SELL) or (pos < 0 and side is Side.BUY) else ZERO
        return qty - closing

    def reserved(self, currency: str) -> Decimal:
        return sum((r.per_unit * r.remaining for r in self._reserved.values() if r.currency == currency), ZERO)

    def buying_power(self, currency: str, mark: Callable[[str], float]) -> Decimal:
        collateral = ZERO
        for symbol, qty in self.positions.items():
            if qty < 0 and symbol not in self.margin and self.quote_of.get(symbol) == currency:
                price = Decimal(str(mark(symbol) or self.avg_price.get(symbol, ZERO)))
                collateral += 2 * -qty * price
        return self.cash.get(currency, ZERO) - self.reserved(currency) - collateral - self.margin_used(currency)

    def check(
        self,
        symbol: str,
        quote: str,
        side: Side,
        qty: Decimal,
        price: Decimal,
        fee_rate: Decimal,
        mark: Callable[[str], float],
        reserve_as: str | None = None,
    ) -> str | None:
        """None if the order fits the account, else the reason it does not.

        With `reserve_as` (a client order id) the buying power stays held until released.
        """
        self.quote_of.setdefault(symbol, quote)
        adding = self.increasing_qty(symbol, side, qty)
        if adding <= 0:
            return None
        terms = self.margin.get(symbol)
        if terms is not None:
            currency = terms.margin_currency
            need = terms.notional(adding, price) * (1 / terms.leverage + fee_rate)
            what = f"margin at {terms.leverage:g}x"
        else:
            if side is Side.SELL and not self.allow_short:
                return f"insufficient position: selling {qty} {symbol} but holding {self.position(symbol)}"
            currency = quote
            need = adding * price * (1 + fee_rate)
            what = ""
        available = self.buying_power(currency, mark)
        if need > available:
            needs = f"{need:.2f} {currency}" + (f" of {what}" if what else "")
            return f"insufficient balance: needs {needs}, {max(available, ZERO):.2f} available"
        if reserve_as is not None:
            self._reserved[reserve_as] = _Reservation(currency, need / qty, qty)
        return None

    def release(self, client_order_id: str, qty: Decimal | None = None) -> None:
        """Release a reservation, entirely or for `qty` filled units."""
        res = self._reserved.get(client_order_id)
        if res is None:
            return
        if qty is None or qty >= res.remaining:
            del self._reserved[client_order_id]
        else:
            res.remaining -= qty

    def apply_fill(self, symbol: str, quote: str, side: Side, qty: Decimal, price: Decimal, fee: Decimal) -> None:
        self.quote_of.setdefault(symbol, quote)
        signed = qty * side.sign
        pos = self.position(symbol)
        terms = self.margin.get(symbol)
        if terms is None:
            self.cash[quote] = self.cash.get(quote, ZERO) - signed * price - fee
        else:  # on margin: only the P&L the fill realises, and the fee
            closing = min(qty, abs(pos)) if pos * signed < 0 else ZERO
            avg = self.avg_price.get(symbol, ZERO)
            realized = (price - avg) * closing * (1 if pos > 0 else -1) * terms.contract_size
            self.cash[terms.settle] = self.cash.get(terms.settle, ZERO) + realized - fee
        self.fees_paid[quote] = self.fees_paid.get(quote, ZERO) + fee
        new = pos + signed
        if pos == 0 or (pos > 0) == (signed > 0):
            self.avg_price[symbol] = (self.avg_price.get(symbol, ZERO) * abs(pos) + price * qty) / abs(new)
        elif new == 0:
            self.avg_price.pop(symbol, None)
        elif (new > 0) != (pos > 0):
            self.avg_price[symbol] = price
        if new == 0:
            self.positions.pop(symbol, None)
        else:
            self.positions[symbol] = new

    def apply_cash_flow(self, currency: str, amount: Decimal) -> None:
        """Funding or swap paid (< 0) or received (> 0)."""
        self.cash[currency] = self.cash.get(currency, ZERO) + amount
