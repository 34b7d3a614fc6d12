"""When an order the engine holds (instead of the venue) should go to the market. Pure functions.

Sells watch the bid, buys watch the ask: the price the order would actually trade at.
"""

from __future__ import annotations

from decimal import Decimal

from tui_trader.core.enums import OrderType, Side
from tui_trader.core.market import Ticker
from tui_trader.core.orders import Order


def watch_price(side: Side, ticker: Ticker) -> float:
    price = ticker.bid if side is Side.SELL else ticker.ask
    return price if price > 0 else ticker.last


def trail_stop(side: Side, best: float, amount: Decimal | None, percent: Decimal | None) -> float:
    """The stop of a trailing order whose most favourable price so far is `best`."""
    if amount is not None:
        return best - float(amount) if side is Side.SELL else best + float(amount)
    frac = float(percent or 0)
    return best * (1.0 - frac) if side is Side.SELL else best * (1.0 + frac)


def update_trail(order: Order, price: float) -> bool:
    """Ratchet a trailing stop with a new price (in place, in `meta` and `stop_price`); True if it moved."""
    side = order.side
    best = order.meta.get("trail_best")
    best_f = (
        price
        if best is None
        else (max(float(best), price) if side is Side.SELL else min(float(best), price))
    )
    if best is not None and best_f == float(best):
        return False
    amount = order.meta.get("trail_amount")
    percent = order.meta.get("trail_percent")
    stop = trail_stop(
        side,
        best_f,
        None if amount is None else Decimal(amount),
        None if percent is None else Decimal(percent),
    )
    order.meta["trail_best"] = best_f
    order.meta["trail_stop"] = stop
    return True


def triggered(order: Order, price: float) -> bool:
    """Whether a held order fires at `price` (stops and trailing stops on a cross, limits on a touch)."""
    if order.type is OrderType.TRAILING_STOP:
        stop = order.meta.get("trail_stop")
        if stop is None:
            return False
        return price <= float(stop) if order.side is Side.SELL else price >= float(stop)
    if order.type in (OrderType.STOP, OrderType.STOP_LIMIT) and order.stop_price is not None:
        stop_f = float(order.stop_price)
        return price <= stop_f if order.side is Side.SELL else price >= stop_f
    if order.type is OrderType.LIMIT and order.price is not None:
        limit = float(order.price)
        return price >= limit if order.side is Side.SELL else price <= limit
    return False


def released_type(order: Order) -> OrderType:
    """What the venue receives when a held order fires."""
    if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        return OrderType.LIMIT
    return OrderType.MARKET
