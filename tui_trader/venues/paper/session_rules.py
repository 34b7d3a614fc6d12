"""Which orders the paper exchange takes, and when they may trade, by the market's session.

As Alpaca does for US stocks: in the regular session everything trades; outside it a market
order is refused unless it is a day order, which waits for the open; limit orders are taken
and wait, and trade in pre-market and after-hours only when marked `extended_hours` (limit
orders only). A day order ends when the session it can trade in closes. Crypto never closes;
forex closes from Friday 17:00 to Sunday 17:00 New York time and has no extended hours.
"""

from __future__ import annotations

from datetime import datetime

from tui_trader.core.enums import OrderType, TimeInForce
from tui_trader.core.hours import Phase, SessionState
from tui_trader.core.orders import Order

EXT_HOURS_NOTE = "pre-market from 04:00, after-hours until 20:00 New York"


def extended(order: Order) -> bool:
    return bool(order.meta.get("extended_hours"))


def tradable(order: Order, phase: Phase, triggered: bool = False) -> bool:
    """May this order take or receive liquidity now?"""
    if phase is Phase.OPEN:
        return True
    if phase in (Phase.PRE, Phase.POST):
        limit = order.type is OrderType.LIMIT or (order.type is OrderType.STOP_LIMIT and triggered)
        return limit and extended(order)
    return False


def refusal(order: Order, state: SessionState, now: datetime) -> str | None:
    """Why the venue does not take `order` in this session, or None."""
    if state.market == "24/7":
        return None
    if extended(order):
        if state.market != "NYSE":
            return f"{state.market} has no extended hours; send the order without --ext-hours"
        if order.type is not OrderType.LIMIT:
            return f"extended hours take limit orders only ({EXT_HOURS_NOTE}): use --type limit --price P"
    if state.phase is Phase.OPEN or order.type is not OrderType.MARKET:
        return None
    if order.time_in_force is TimeInForce.DAY:
        return None  # queued for the open
    how = "send it as a day order (--tif day) to queue it for the open"
    if state.market == "NYSE":
        how += f", or as a limit order with --ext-hours ({EXT_HOURS_NOTE})"
    return f"market closed: {order.symbol} {state.describe(now)}; {how}"


def waiting_note(order: Order, state: SessionState, now: datetime) -> str:
    """The reason an accepted order does not trade yet."""
    return f"waiting for the open: {order.symbol} {state.describe(now)}"
