"""Order tickets pre-filled from a recommendation, a signal or a confirmed chat signal.

Only the fields are filled: the trader still reviews the ticket, confirms the order, and the
engine's risk checks run as for any other order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.core.enums import OrderType, Side

if TYPE_CHECKING:
    from tui_trader.core.instrument import Instrument
    from tui_trader.core.market import Ticker
    from tui_trader.core.orders import OrderRequest


@dataclass(frozen=True, slots=True)
class TicketPrefill:
    side: Side
    symbol: str
    order_type: OrderType = OrderType.LIMIT
    fields: dict[str, str] = field(default_factory=dict)  # ticket field name -> text
    note: str = ""  # shown at the top of the ticket: where the idea came from


class NoTrade(ValueError):
    """The idea has no side to trade (a flat recommendation)."""


def side_of(direction: str) -> Side:
    if direction == "long":
        return Side.BUY
    if direction == "short":
        return Side.SELL
    raise NoTrade(f"direction {direction!r} has no side to trade")


def _price_text(value: float | Decimal | None, inst: Instrument | None) -> str:
    if value is None or value == 0:
        return ""
    if inst is not None:
        return f"{inst.round_price(Decimal(str(value))):f}"
    return f"{float(value):.2f}"


def from_recommendation(rec: dict[str, Any], inst: Instrument | None, ticker: Ticker | None) -> TicketPrefill:
    """Side from the direction, the symbol, a limit at the mid; the top reason as the note."""
    side = side_of(str(rec.get("direction", "")))
    symbol = str(rec.get("symbol", ""))
    fields = {"price": _price_text(ticker.mid if ticker else None, inst)}
    reasons = rec.get("top_reasons") or []
    score = float(rec.get("score") or 0.0)
    note = f"recommendation {score:+.2f}" + (f": {reasons[0]}" if reasons else "")
    return TicketPrefill(side, symbol, OrderType.LIMIT, {k: v for k, v in fields.items() if v}, note)


def from_request(request: OrderRequest | dict[str, Any], note: str = "") -> TicketPrefill:
    """A request the engine proposed (chat signal confirm); a dict when it came over the daemon."""
    from tui_trader.core.orders import OrderRequest  # the order types load after the first paint

    if isinstance(request, OrderRequest):
        data: dict[str, Any] = {
            "side": request.side.value,
            "symbol": request.symbol,
            "type": request.type.value,
            "quantity": request.quantity,
            "price": request.price,
            "stop_price": request.stop_price,
            "stop_loss": request.stop_loss,
            "take_profit": request.take_profit,
            "time_in_force": request.time_in_force.value,
        }
    else:
        data = request
    fields: dict[str, str] = {}
    for name in ("quantity", "price", "stop_price", "stop_loss", "take_profit"):
        value = data.get(name)
        if value is not None and str(value) != "":
            fields[name] = f"{Decimal(str(value)).normalize():f}"
    if data.get("time_in_force"):
        fields["time_in_force"] = str(data["time_in_force"])
    otype = OrderType(str(data.get("type") or "limit"))
    return TicketPrefill(Side(str(data["side"])), str(data["symbol"]), otype, fields, note)


def chat_note(confirmed: dict[str, Any]) -> str:
    """For the ticket: provider, entry, stop and targets as read, the confidence, and a line for
    each doubt (what was not read or not sure)."""
    sig = confirmed.get("signal") or {}
    parts = [f"chat signal from {confirmed.get('provider', '?')}"]
    if sig.get("entry"):
        entry = sig["entry"]
        parts.append("entry " + ("-".join(entry) if isinstance(entry, list) else str(entry)))
    if sig.get("stop"):
        parts.append(f"SL {sig['stop']}")
    if sig.get("targets"):
        parts.append("TP " + ", ".join(sig["targets"]))
    if sig.get("confidence") is not None:
        parts.append(f"read with confidence {float(sig['confidence']):.2f}")
    line = " · ".join(parts)
    reasons = sig.get("reasons") or []
    return line + "".join(f"\nnot sure: {r}" for r in reasons) if reasons else line
