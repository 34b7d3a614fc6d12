"""One-way perpetual positions for the fake futures exchanges (Binance USDⓈ-M, Bybit linear):
what a fill does to a position and the wallet, the same on every venue. Each wire layer adds its
own words, margin tiers and liquidation formula."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from fakes.fake_market import FakeTrade

ZERO = Decimal(0)


@dataclass
class FakePosition:
    """One symbol's one-way position."""

    amount: Decimal = ZERO  # signed: > 0 long
    entry: Decimal = ZERO
    leverage: int = 20
    margin_type: str = "cross"  # "isolated" / "cross"
    isolated_wallet: Decimal = ZERO  # the margin an isolated position holds
    update_ms: int = 0


class OneWayPositions:
    """Mixed into a FakeMarket: `positions`, a settle-currency `wallet`, a mark price."""

    prices: dict[str, Decimal]

    def _init_positions(self, symbols: Iterable[str], wallet: str = "100000") -> None:
        self.wallet = Decimal(wallet)
        self.positions: dict[str, FakePosition] = {s: FakePosition() for s in symbols}
        self.mark_premium: dict[str, Decimal] = {s: ZERO for s in self.positions}

    def mark(self, symbol: str) -> Decimal:
        return self.prices[symbol] + self.mark_premium[symbol]

    def _upnl(self, symbol: str) -> Decimal:
        pos = self.positions[symbol]
        return pos.amount * (self.mark(symbol) - pos.entry) if pos.amount else ZERO

    def settle(self, trade: FakeTrade) -> None:
        """A fill moves the position (one-way): realised P&L and the fee go to the wallet; an
        isolated position's wallet takes the margin of what it opens, gives back what it closes."""
        order = trade.order
        pos = self.positions[order.symbol]
        signed = trade.qty if order.side == "buy" else -trade.qty
        before, after = pos.amount, pos.amount + signed
        realized = ZERO
        if before and (before > 0) != (signed > 0):  # reduces, closes or flips
            closed = min(abs(signed), abs(before))
            realized = closed * (trade.price - pos.entry) * (1 if before > 0 else -1)
            pos.isolated_wallet -= pos.isolated_wallet * closed / abs(before)
        if after == 0:
            pos.entry = ZERO
        elif not before or (before > 0) != (after > 0):  # opened, or flipped
            pos.entry = trade.price
            pos.isolated_wallet = abs(after) * trade.price / pos.leverage
        elif abs(after) > abs(before):  # added to
            pos.entry = (abs(before) * pos.entry + abs(signed) * trade.price) / abs(after)
            pos.isolated_wallet += abs(signed) * trade.price / pos.leverage
        if pos.margin_type != "isolated":
            pos.isolated_wallet = ZERO
        pos.amount = after
        pos.update_ms = trade.time_ms
        self.wallet += realized - trade.commission
        trade.realized = realized  # type: ignore[attr-defined]

    def reduces(self, symbol: str, side: str, qty: Decimal) -> bool:
        amount = self.positions[symbol].amount
        return (amount > 0 and side == "sell" and qty <= amount) or (amount < 0 and side == "buy" and qty <= -amount)
