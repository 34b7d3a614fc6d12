"""One provider message, read: its kind, the levels found, how sure we are, and why not more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tui_trader.core.enums import Direction, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.core.orders import OrderRequest
from tui_trader.core.signals import Signal
from tui_trader.signals.chat.kinds import Kind
from tui_trader.signals.chat.text import shorten

EXAMPLE = "BTC/USDT LONG entry 64000-64500 SL 63000 TP1 66000 TP2 68000"


class ParseError(UserError):
    """The message is empty, or (for `parse_signal`) not a trade entry."""


@dataclass(frozen=True, slots=True)
class ParsedSignal:
    """A message of any kind. Entries carry side, entry, stop, targets; exits a `fraction` of
    the position (1 = all); updates a new `stop` (or `breakeven`) and/or `targets`; `all_symbols`
    marks an exit, update or cancel of every position or order the provider opened."""

    text: str
    kind: Kind
    symbol: str | None = None
    side: Side | None = None  # entry: the trade's side; others: the position's, when named
    entry: tuple[Decimal, ...] = ()  # () market, (price,) or (low, high)
    entry_type: OrderType | None = None  # market | limit | stop (entries only)
    stop: Decimal | None = None
    breakeven: bool = False  # update: move the stop to the position's entry price
    targets: tuple[Decimal, ...] = ()
    leverage: Decimal | None = None
    fraction: Decimal | None = None  # exit: part of the position to close; None = unknown
    all_symbols: bool = False
    confidence: float = 1.0
    reasons: tuple[str, ...] = ()

    @property
    def direction(self) -> Direction:
        if self.side is None:
            return Direction.FLAT
        return Direction.LONG if self.side is Side.BUY else Direction.SHORT

    @property
    def is_entry(self) -> bool:
        return self.kind is Kind.ENTRY

    @property
    def entry_price(self) -> Decimal | None:
        """The single price an order would use: the price, or the middle of the zone."""
        if not self.entry:
            return None
        return sum(self.entry, Decimal(0)) / len(self.entry)

    @property
    def risk_reward(self) -> float | None:
        """Reward to the first target over the risk to the stop (the R of target 1); None if
        a level is missing or on the wrong side."""
        entry = self.entry_price
        if self.side is None or entry is None or self.stop is None or not self.targets:
            return None
        sign = self.side.sign
        if (entry - self.stop) * sign <= 0 or (self.targets[0] - entry) * sign <= 0:
            return None  # a level on the wrong side: no meaningful R
        return float((self.targets[0] - entry) * sign / ((entry - self.stop) * sign))

    def to_order_request(
        self,
        quantity: Decimal,
        *,
        venue: str | None = None,
        provider: str | None = None,
        symbol: str | None = None,
    ) -> OrderRequest:
        """A bracket order: limit at the entry (or zone middle), a stop order for a trigger
        ("if it loses 62k"), market without a price; the stop loss and the first target."""
        if self.kind is not Kind.ENTRY or self.side is None or self.symbol is None:
            raise UserError(f"a {self.kind.value} message is not an order to open; nothing to place")
        if quantity <= 0:
            raise UserError(f"order quantity must be positive, got {quantity}; pass a size above 0")
        price = self.entry_price
        otype = self.entry_type or OrderType.MARKET
        if price is None:
            otype = OrderType.MARKET
        return OrderRequest(
            symbol=symbol or self.symbol,
            side=self.side,
            quantity=quantity,
            type=otype,
            price=price if otype is OrderType.LIMIT else None,
            stop_price=price if otype is OrderType.STOP else None,
            venue=venue,
            stop_loss=self.stop,
            take_profit=self.targets[0] if self.targets else None,
            source=f"signal:{provider or 'chat'}",
            tag="chat",
        )

    def to_signal(self, provider: str, at: datetime, *, reliability: float | None = None) -> Signal:
        """The engine-wide Signal of an entry; `reliability` (0..1) scales confidence."""
        if self.kind is not Kind.ENTRY or self.symbol is None:
            raise UserError(f"a {self.kind.value} message is not a trade signal")
        confidence = self.confidence * (1.0 if reliability is None else reliability)
        return Signal(
            source=f"chat:{provider}",
            symbol=self.symbol,
            direction=self.direction,
            strength=self.confidence,
            ts=at,
            reason=shorten(self.text, 120),
            confidence=max(0.0, min(1.0, confidence)),
            meta=self.as_dict(),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: prices as strings, `entry` a list (empty for market)."""
        price = self.entry_price
        rr = self.risk_reward

        def s(d: Decimal | None) -> str | None:
            return None if d is None else _plain(d)

        return {
            "kind": self.kind.value,
            "symbol": self.symbol,
            "side": None if self.side is None else self.side.value,
            "direction": self.direction.value,
            "entry": [_plain(e) for e in self.entry],
            "entry_type": None if self.entry_type is None else self.entry_type.value,
            "entry_price": s(price),
            "stop": s(self.stop),
            "breakeven": self.breakeven,
            "targets": [_plain(t) for t in self.targets],
            "leverage": s(self.leverage),
            "fraction": s(self.fraction),
            "all_symbols": self.all_symbols,
            "risk_reward": None if rr is None else round(rr, 2),
            "confidence": round(self.confidence, 2),
            "reasons": list(self.reasons),
            "text": self.text,
        }


def _plain(d: Decimal) -> str:
    """'3450', '0.5150' (as written), never an exponent."""
    return format(d, "f")
