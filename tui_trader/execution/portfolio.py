"""Positions, cash, marks and equity, maintained from fills and tickers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tui_trader.core.fills import Fill
from tui_trader.core.positions import Position

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class CurrencyBalance:
    """One currency's cash and the value of the positions quoted in it, and what they are worth
    in the reporting currency at the live rate (`rate` None: no quote yet, counted 1:1)."""

    currency: str
    cash: float
    positions: float
    rate: float | None

    @property
    def total(self) -> float:
        return self.cash + self.positions

    @property
    def value(self) -> float:
        return self.total * (1.0 if self.rate is None else self.rate)


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Money figures are in `currency` (the reporting currency), converted at live rates."""

    ts: datetime
    equity: float
    cash: float
    gross_exposure: float
    net_exposure: float
    unrealized_pnl: float
    realized_pnl: float
    fees: float
    day_start_equity: float
    peak_equity: float
    currency: str = "USD"
    balances: tuple[CurrencyBalance, ...] = ()

    @property
    def day_pnl(self) -> float:
        return self.equity - self.day_start_equity

    @property
    def drawdown(self) -> float:
        """Fraction below the peak equity (0 at a new high)."""
        return 0.0 if self.peak_equity <= 0 else max(0.0, 1.0 - self.equity / self.peak_equity)


class Portfolio:
    """Cash is kept per currency; equity is reported in one currency, each converted at the live
    rate of a quoted pair (USDT/USD, EUR/USD, or USD/JPY inverted). USDT is not USD."""

    def __init__(self, reporting: str = "USD") -> None:
        self.reporting = reporting
        self.positions: dict[tuple[str, str], Position] = {}
        self.cash: dict[str, Decimal] = {}
        self.marks: dict[tuple[str, str], float] = {}  # (venue, symbol) -> mid
        self.quote_of: dict[str, str] = {}
        self.rates: dict[str, float] = {}  # one unit in the reporting currency, from live quotes
        self.peak_equity = 0.0
        self.day_start_equity = 0.0
        self._day: object = None

    def resume(self, day: object, day_start_equity: float, peak_equity: float) -> None:
        """After a restart: today's anchor and the peak as they were (the risk engine stores them)."""
        if day is not None:
            self._day = day
            self.day_start_equity = day_start_equity
        self.peak_equity = max(self.peak_equity, peak_equity)

    def position(self, venue: str, symbol: str) -> Position:
        key = (venue, symbol)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = Position(venue, symbol, mark=self.marks.get(key, 0.0))
        return pos

    def open_positions(self) -> list[Position]:
        return [p for p in self.positions.values() if not p.is_flat]

    def set_cash(self, currency: str, amount: Decimal) -> None:
        self.cash[currency] = amount

    def apply_fill(self, fill: Fill) -> Position:
        pos = self.position(fill.venue, fill.symbol)
        pos.apply(fill)
        quote = fill.quote
        self.cash[quote] = self.cash.get(quote, ZERO) - fill.signed_quantity * fill.price
        if fill.fee_in_quote:  # a base-coin fee left the position; a third currency's (BNB) is not tracked
            self.cash[quote] -= fill.fee
        self.quote_of[fill.symbol] = quote
        key = (fill.venue, fill.symbol)
        if key not in self.marks:
            self.marks[key] = float(fill.price)
        pos.mark = self.marks[key]
        return pos

    def mark(self, venue: str, symbol: str, price: float) -> None:
        """A venue's price for a symbol values that venue's position only. A currency pair's
        price (USDT/USD, EUR/USD, USD/JPY) is also the rate that converts that currency."""
        key = (venue, symbol)
        self.marks[key] = price
        pos = self.positions.get(key)
        if pos is not None:
            pos.mark = price
        base, slash, quote = symbol.partition("/")
        if slash and price > 0:
            if quote == self.reporting:
                self.rates[base] = price
            elif base == self.reporting:
                self.rates[quote] = 1.0 / price

    def mark_of(self, venue: str, symbol: str) -> float:
        return self.marks.get((venue, symbol), 0.0)

    def rate(self, currency: str) -> float | None:
        """One unit of `currency` in the reporting currency; None when no pair quotes it yet."""
        if currency == self.reporting:
            return 1.0
        return self.rates.get(currency)

    def balances(self) -> list[CurrencyBalance]:
        """Per currency: cash, the value of positions quoted in it, and its rate."""
        positions: dict[str, float] = {}
        for pos in self.positions.values():
            if not pos.is_flat:
                quote = self.quote_of.get(pos.symbol, self.reporting)
                positions[quote] = positions.get(quote, 0.0) + pos.market_value
        currencies = list(dict.fromkeys([*self.cash, *positions]))
        return [
            CurrencyBalance(ccy, float(self.cash.get(ccy, ZERO)), positions.get(ccy, 0.0), self.rate(ccy))
            for ccy in currencies
        ]

    def snapshot(self, now: datetime) -> AccountSnapshot:
        balances = self.balances()
        cash = sum(b.cash * (1.0 if b.rate is None else b.rate) for b in balances)
        gross = net = unreal = realized = fees = 0.0
        for pos in self.positions.values():
            rate = self.rate(self.quote_of.get(pos.symbol, self.reporting))
            rate = 1.0 if rate is None else rate
            value = pos.market_value * rate
            gross += abs(value)
            net += value
            unreal += pos.unrealized_pnl * rate
            realized += float(pos.realized_pnl) * rate
            fees += float(pos.fees) * rate
        equity = cash + net
        day = now.date()
        if day != self._day:
            self._day = day
            self.day_start_equity = equity
        self.peak_equity = max(self.peak_equity, equity)
        return AccountSnapshot(
            now,
            equity,
            cash,
            gross,
            net,
            unreal,
            realized,
            fees,
            self.day_start_equity,
            self.peak_equity,
            self.reporting,
            tuple(balances),
        )
