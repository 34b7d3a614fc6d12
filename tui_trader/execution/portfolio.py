"""Positions, cash, marks and equity, maintained from fills and tickers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tui_trader.core.fills import Fill
from tui_trader.core.positions import Position

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
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

    @property
    def day_pnl(self) -> float:
        return self.equity - self.day_start_equity

    @property
    def drawdown(self) -> float:
        """Fraction below the peak equity (0 at a new high)."""
        return 0.0 if self.peak_equity <= 0 else max(0.0, 1.0 - self.equity / self.peak_equity)


class Portfolio:
    """Cash is kept per currency; stablecoins and USD are counted 1:1 in equity."""

    def __init__(self) -> None:
        self.positions: dict[tuple[str, str], Position] = {}
        self.cash: dict[str, Decimal] = {}
        self.marks: dict[tuple[str, str], float] = {}  # (venue, symbol) -> mid
        self.quote_of: dict[str, str] = {}
        self.peak_equity = 0.0
        self.day_start_equity = 0.0
        self._day: object = None

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
        """A venue's price for a symbol values that venue's position only."""
        key = (venue, symbol)
        self.marks[key] = price
        pos = self.positions.get(key)
        if pos is not None:
            pos.mark = price

    def mark_of(self, venue: str, symbol: str) -> float:
        return self.marks.get((venue, symbol), 0.0)

    def snapshot(self, now: datetime) -> AccountSnapshot:
        cash = float(sum(self.cash.values(), ZERO))
        gross = net = unreal = realized = fees = 0.0
        for pos in self.positions.values():
            value = pos.market_value
            gross += abs(value)
            net += value
            unreal += pos.unrealized_pnl
            realized += float(pos.realized_pnl)
            fees += float(pos.fees)
        equity = cash + net
        day = now.date()
        if day != self._day:
            self._day = day
            self.day_start_equity = equity
        self.peak_equity = max(self.peak_equity, equity)
        return AccountSnapshot(
            now, equity, cash, gross, net, unreal, realized, fees, self.day_start_equity, self.peak_equity
        )
