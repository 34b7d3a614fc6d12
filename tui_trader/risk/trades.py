"""Round trips from fills: a trade opens when a position leaves flat and closes when it
returns to flat (or flips). Breakers, protections and Kelly sizing read these closed trades."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from tui_trader.core.enums import OrderType
from tui_trader.core.fills import Fill
from tui_trader.core.orders import Order
from tui_trader.core.positions import Position
from tui_trader.risk.protections import ClosedTrade, to_ns

_REASONS = {
    "stop_loss",
    "trailing_stop_loss",
    "roi",
    "exit_signal",
    "force_exit",
    "custom_exit",
    "liquidation",
}


@dataclass(slots=True)
class _Open:
    side: int
    entry_ns: int
    entry_price: float
    peak_qty: float
    realized: float = 0.0
    fees: float = 0.0
    strategy: str | None = None


def exit_reason(order: Order) -> str:
    """Freqtrade's exit reason names, from what closed the trade."""
    for candidate in (order.meta.get("exit_reason"), order.tag):
        if candidate in _REASONS:
            return str(candidate)
    if order.source == "kill_switch":
        return "force_exit"
    if order.type is OrderType.TRAILING_STOP:
        return "trailing_stop_loss"
    if (
        order.type in (OrderType.STOP, OrderType.STOP_LIMIT)
        or order.meta.get("role") == "stop_loss"
    ):
        return "stop_loss"
    if order.meta.get("role") == "take_profit":
        return "roi"
    return "exit_signal"


class TradeTracker:
    def __init__(self, keep: int = 1000) -> None:
        self.open: dict[tuple[str, str], _Open] = {}
        self.closed: list[ClosedTrade] = []
        self.keep = keep

    def on_fill(
        self, order: Order, fill: Fill, position: Position, realized: Decimal
    ) -> ClosedTrade | None:
        key = (fill.venue, fill.symbol)
        rec = self.open.get(key)
        after = float(position.quantity)
        before = after - float(fill.signed_quantity)
        now_ns = to_ns(fill.ts)
        if rec is None and before != 0:  # a position from before a restart
            rec = self.open[key] = _Open(
                1 if before > 0 else -1,
                now_ns,
                float(position.average_price or fill.price),
                abs(before),
            )
        if rec is None:
            if after == 0:
                return None
            self.open[key] = _Open(
                1 if after > 0 else -1,
                now_ns,
                float(fill.price),
                abs(after),
                0.0,
                float(fill.quote_fee),
                order.strategy,
            )
            return None
        rec.realized += float(realized)
        rec.fees += float(fill.quote_fee)
        rec.peak_qty = max(rec.peak_qty, abs(after) if after * rec.side > 0 else 0.0)
        if after != 0 and (after > 0) == (rec.side > 0):
            return None
        pnl = rec.realized - rec.fees
        basis = rec.entry_price * rec.peak_qty
        trade = ClosedTrade(
            fill.symbol,
            rec.side,
            rec.entry_ns,
            now_ns,
            pnl,
            pnl / basis if basis else 0.0,
            exit_reason(order),
            rec.strategy or order.strategy,
        )
        self.closed.append(trade)
        del self.closed[: -self.keep]
        del self.open[key]
        if after != 0:  # flipped through flat: the rest opens a new trade
            self.open[key] = _Open(
                1 if after > 0 else -1,
                now_ns,
                float(fill.price),
                abs(after),
                0.0,
                0.0,
                order.strategy,
            )
        return trade

    def for_strategy(self, strategy: str | None) -> list[ClosedTrade]:
        return [t for t in self.closed if t.strategy == strategy]

    # -- persistence -------------------------------------------------------------------------

    def open_state(self) -> list[dict[str, Any]]:
        """The round trips still open (closed ones are stored one row each as they close)."""
        return [{"venue": v, "symbol": s, **asdict(rec)} for (v, s), rec in self.open.items()]

    def restore(self, open_state: list[dict[str, Any]], closed: list[ClosedTrade]) -> None:
        self.open = {}
        for row in open_state:
            fields = {k: v for k, v in row.items() if k not in ("venue", "symbol")}
            self.open[(str(row["venue"]), str(row["symbol"]))] = _Open(**fields)
        self.closed = list(closed)[-self.keep :]


def trade_state(trade: ClosedTrade) -> dict[str, Any]:
    return asdict(trade)


def trade_from_state(data: dict[str, Any]) -> ClosedTrade:
    return ClosedTrade(**data)
