"""`tui-trader venue adopt NAME SYMBOL`: the broker's position in SYMBOL taken as the engine's.

A broker says what it holds (engine/position_check.py); where that is less than the engine
counted from its fills (shares sold in the broker's own app, a fill never heard of), exits are
held to the broker's figure and the disagreement is shown until the two agree. They would never
agree by themselves: the engine's count moves only by fills. Adopting books the difference as
one adjustment, the broker's figure then the engine's:

- read first, with nothing ambiguous left: the venue reconciled (a fill it lists that we lack
  is applied as a fill, with its price and fee), and none of our orders in SYMBOL working there
  (a fill of it may be in the broker's figure and not yet in ours: adopting then would count
  it twice). Either refused in one line, nothing changed;
- booked as an order of the venue's own (`source` "adopt", like a liquidation the venue makes),
  filled at once: its one fill is the difference at the broker's own valuation of the position
  (else the last price here), no fee. Its owner is nobody's order: it reduces manual's part
  first, then the strategies' (execution/ledger.py), so the sub-ledgers still add up. Stored
  like any fill: a restart finds the adopted position;
- then the venue's balances are read again (engine/cash_reread.py): the money the broker's
  own trade moved comes in as cash, not as profit or loss of a trade here (the breakers'
  day start and peak move with it). The adjustment's fill moves cash at that price, so the
  account's value does not jump meanwhile; the realised P&L it books is an estimate at that
  price (the broker's own price is not known here), said in the answer.
"""

from __future__ import annotations

import asyncio
import weakref
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.core.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.errors import UsageError, UserError
from tui_trader.core.events import ExecutionReport
from tui_trader.core.fills import Fill
from tui_trader.core.orders import Order
from tui_trader.engine import params as P
from tui_trader.engine.cash_reread import amount
from tui_trader.engine.commands import command
from tui_trader.engine.venue_commands import venue_named

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tui_trader.core.positions import Balance
    from tui_trader.engine.ports import EnginePort
    from tui_trader.venues.base import Venue


_ONE_AT_A_TIME: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


@command("venue.adopt")
async def _adopt(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """Take the broker's position in a symbol as the engine's: params {"name", "symbol"}. One
    at a time per engine: two at once would each book the same difference."""
    lock = _ONE_AT_A_TIME.setdefault(engine, asyncio.Lock())
    async with lock:
        return await _adopted(engine, params, actor)


async def _adopted(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    venue = venue_named(engine, params)
    symbol = (P.text(params, "symbol", required=True, max_len=64) or "").upper()
    if getattr(venue, "fetch_positions", None) is None:
        raise UsageError(
            f"{venue.name} ({venue.kind}) does not say what it holds: there is no figure of its to adopt; "
            "positions there move only by their fills"
        )
    oms = engine.oms
    if oms is None:
        raise UserError("the engine is not trading yet; nothing changed")
    working = [o.client_order_id for o in oms.open_orders() if o.venue == venue.name and o.symbol == symbol]
    if working:
        raise UserError(
            f"{venue.name}: an order of ours in {symbol} is working there ({', '.join(working[:3])}): a fill of it "
            "may be in the broker's figure and not yet in ours; cancel it or let it finish, then adopt; nothing changed"
        )
    try:
        report = await engine.reconciler.reconcile_now(venue.name)  # what it lists that we lack, as fills
        await oms.flush()
        balances, held = await _read(venue)
    except Exception as exc:
        raise UserError(f"{venue.name}: its orders and positions could not be read ({exc}); nothing changed") from None
    if report is not None and report.unsettled:
        raise UserError(
            f"{venue.name}: {len(report.unsettled)} order(s) of ours there have an outcome not known yet: a fill of "
            "one may be in the broker's figure; adopt once they are settled; nothing changed"
        )
    ours = engine.portfolio.position(venue.name, symbol).quantity
    theirs = held.get(symbol, Decimal(0))
    answer: dict[str, Any] = {"venue": venue.name, "symbol": symbol, "was": str(ours), "now": str(theirs)}
    if theirs == ours:
        return {**answer, "changed": False, "price": None, "cash": ""}
    price = _price(engine, venue.name, symbol, balances)
    if price is None:
        raise UserError(
            f"{venue.name}: no price for {symbol} to book the change at (the broker gave no value and no "
            "quote has come here); subscribe it or wait for a quote; nothing changed"
        )
    now = engine.clock.now()
    delta = theirs - ours
    cid = f"adopt-{venue.name}-{symbol}-{int(now.timestamp() * 1000)}"
    side = Side.BUY if delta > 0 else Side.SELL
    inst = engine.instrument(venue.name, symbol)
    currency = inst.quote if inst is not None and inst.quote else "USD"
    order = Order(
        client_order_id=cid, venue=venue.name, symbol=symbol, side=side, type=OrderType.MARKET,
        quantity=abs(delta), price=None, stop_price=None, time_in_force=TimeInForce.IOC, created_at=now,
        updated_at=now, status=OrderStatus.ACCEPTED, source="adopt",
        meta={"external": True, "adopted": {"was": str(ours), "now": str(theirs)}},
    )  # fmt: skip
    fill = Fill(cid, cid, venue.name, symbol, side, abs(delta), price, Decimal(0), currency, Liquidity.TAKER, now)
    oms.on_report(ExecutionReport(venue.name, cid, None, now, None, None, fill, order=order))
    await oms.flush()
    moved = await engine.reconciler.cash.reread(venue.name, f"adopting {symbol}")
    cash = ", ".join(f"{ccy} {amount(was)} -> {amount(new)}" for ccy, (was, new) in (moved or {}).items())
    detail = {**answer, "price": str(price), "order": cid}
    await engine.audit(actor, "position_adopt", detail)
    engine.notify(
        "warning",
        f"{venue.name}: {symbol} position set to the broker's {theirs} (was {ours}), booked at {price}; "
        "its realised P&L here is an estimate at that price",
    )
    return {**answer, "changed": True, "price": str(price), "order": cid, "cash": cash}


async def _read(venue: Venue) -> tuple[Mapping[str, Balance], Mapping[str, Decimal]]:
    """The broker's positions now, with its balances where one read gives both (their value)."""
    both = getattr(venue, "fetch_account", None)
    if both is not None:
        balances, held = await both()
        return balances, held
    return {}, await venue.fetch_positions()  # type: ignore[attr-defined]


def _price(engine: EnginePort, venue: str, symbol: str, balances: Mapping[str, Balance]) -> Decimal | None:
    """The broker's own value of one unit (its market value over its quantity), else the last
    price quoted here."""
    for balance in balances.values():
        for held, qty, value in balance.valued:
            if held == symbol and qty:
                return abs(value / qty)
    ticker = engine.ticker(symbol, venue)
    last = ticker.last if ticker is not None else 0
    return Decimal(str(last)) if last else None
