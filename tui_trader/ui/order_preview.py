"""What an order will cost before it is sent: field checks, notional, fee, distance from the mid.

Shared by the ticket (validation as you type), the command line and the confirmation dialog.
Pure: it reads an EngineSnapshot's instruments and tickers and never talks to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from tui_trader.core.enums import OrderType, Side

if TYPE_CHECKING:
    from tui_trader.core.instrument import Instrument
    from tui_trader.core.market import Ticker
    from tui_trader.core.orders import OrderRequest

NEEDS_PRICE = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
NEEDS_STOP = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})


def check_request(
    req: OrderRequest, instrument: Instrument | None, ticker: Ticker | None = None
) -> dict[str, str]:
    """Problems per field name (symbol, quantity, price, stop_price, stop_loss, take_profit)."""
    errors: dict[str, str] = {}
    if instrument is None:
        errors["symbol"] = f"unknown symbol {req.symbol!r}; pick one from the watchlist"
    if req.quantity <= 0:
        errors["quantity"] = "quantity must be greater than zero"
    elif instrument is not None:
        if not instrument.on_lot(req.quantity):
            errors["quantity"] = f"quantity must be a multiple of {instrument.lot_size.normalize()}"
        elif req.quantity < instrument.min_qty:
            errors["quantity"] = f"quantity below the minimum {instrument.min_qty.normalize()}"
    if req.type in NEEDS_PRICE and req.price is None:
        errors["price"] = f"a {req.type.value} order needs a limit price"
    if req.type in NEEDS_STOP and req.stop_price is None:
        errors["stop_price"] = f"a {req.type.value} order needs a stop price"
    if req.type is OrderType.MARKET and req.price is not None:
        errors["price"] = "a market order takes no limit price"
    for name in ("price", "stop_price", "stop_loss", "take_profit"):
        value: Decimal | None = getattr(req, name)
        if value is None or name in errors:
            continue
        if value <= 0:
            errors[name] = "must be greater than zero"
        elif instrument is not None and not instrument.on_tick(value):
            errors[name] = f"must be a multiple of the tick {instrument.tick_size.normalize()}"
    ref = reference_price(req, ticker)
    if ref is not None:
        errors.update(_bracket_errors(req, Decimal(str(ref))))
    if (
        instrument is not None
        and ref is not None
        and instrument.min_notional
        and "quantity" not in errors
    ) and req.quantity * Decimal(str(ref)) < instrument.min_notional:
        errors["quantity"] = (
            f"order value below the minimum {instrument.min_notional.normalize()} {instrument.quote}"
        )
    return errors


def _bracket_errors(req: OrderRequest, ref: Decimal) -> dict[str, str]:
    """A buy's stop-loss sits below the entry and its take-profit above (a sell's the other way)."""
    out: dict[str, str] = {}
    below, above = ("below", "above") if req.side is Side.BUY else ("above", "below")
    if req.stop_loss is not None and (
        req.stop_loss >= ref if req.side is Side.BUY else req.stop_loss <= ref
    ):
        out["stop_loss"] = (
            f"a {req.side.value}'s stop-loss must be {below} the entry {ref.normalize()}"
        )
    if req.take_profit is not None and (
        req.take_profit <= ref if req.side is Side.BUY else req.take_profit >= ref
    ):
        out["take_profit"] = (
            f"a {req.side.value}'s take-profit must be {above} the entry {ref.normalize()}"
        )
    return out


def reference_price(req: OrderRequest, ticker: Ticker | None) -> float | None:
    """The price the order is expected to trade at: its limit, its stop, or the touch."""
    if req.price is not None:
        return float(req.price)
    if req.stop_price is not None:
        return float(req.stop_price)
    if ticker is None:
        return None
    touch = ticker.ask if req.side is Side.BUY else ticker.bid
    return touch or ticker.mid or None


@dataclass(frozen=True, slots=True)
class OrderPreview:
    """Everything the confirmation dialog shows."""

    request: OrderRequest
    price: float | None  # reference price (limit, stop or touch)
    mid: float | None
    notional: float | None
    fee: float | None
    fee_rate: float
    quote: str
    distance: float | None  # |price / mid - 1|
    far: bool  # beyond the far-price threshold: needs a second confirmation
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def describe(self) -> str:
        r = self.request
        priced = f" @ {_num(self.price)}" if r.type is not OrderType.MARKET and self.price else ""
        return (
            f"{r.side.value.upper()} {r.quantity.normalize():f} {r.symbol} {r.type.value}{priced}"
        )


def preview_order(
    req: OrderRequest,
    instrument: Instrument | None,
    ticker: Ticker | None,
    *,
    fee_rate: float,
    far_pct: float,
) -> OrderPreview:
    """Notional and fee at the reference price; `far` when the price is far_pct or more from the mid."""
    price = reference_price(req, ticker)
    mid = ticker.mid if ticker is not None and ticker.mid else None
    notional = float(req.quantity) * price if price is not None else None
    fee = notional * fee_rate if notional is not None else None
    distance = abs(price / mid - 1.0) if price is not None and mid else None
    far = req.type is not OrderType.MARKET and distance is not None and distance >= far_pct
    quote = instrument.quote if instrument is not None else ""
    return OrderPreview(
        req,
        price,
        mid,
        notional,
        fee,
        fee_rate,
        quote,
        distance,
        far,
        check_request(req, instrument, ticker),
    )


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.8f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:,.2f}"
