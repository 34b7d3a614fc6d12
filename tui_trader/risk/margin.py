"""Margin of positions on margin, as the risk engine sees it: each position's figures (margin,
margin balance and ratio, liquidation and guard prices), the margin an account has free, and
the pre-trade check of an order on margin (margin, leverage, distance to liquidation).

The arithmetic is core/margin.py's (Decimal); this module decides what backs a position:
- isolated: its own margin (entry notional / leverage) plus the funding it received, less
  what it paid (Binance takes funding from the isolated margin);
- cross, on a crypto venue: the venue's cash of the settle currency plus its other cross
  positions' P&L less their maintenance margin (Binance's single-asset cross margin);
- cross, at a forex broker: the whole account's value, converted (OANDA's account margin).
An account is one venue's: another venue's cash, positions and orders back or use nothing here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from tui_trader.core import margin as M
from tui_trader.core.enums import InstrumentKind, MarginMode, Side
from tui_trader.core.instrument import Instrument
from tui_trader.core.orders import Order
from tui_trader.core.positions import Position
from tui_trader.execution.portfolio import Portfolio

if TYPE_CHECKING:
    from tui_trader.core.market import Ticker

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class LeverageSetting:
    leverage: Decimal
    margin_mode: MarginMode


class MarginBook(Protocol):
    """Where instruments and their leverage settings come from (the engine's Derivatives)."""

    def instrument(self, venue: str, symbol: str) -> Instrument | None: ...

    def setting(self, venue: str, symbol: str, inst: Instrument | None = None) -> LeverageSetting: ...


def account_wide(inst: Instrument) -> bool:
    """A forex broker margins the whole account; a crypto venue one settle currency."""
    return inst.kind in (InstrumentKind.FX, InstrumentKind.CFD)


def dec(value: float) -> Decimal:
    return Decimal(repr(value))


@dataclass(frozen=True, slots=True)
class MarginFigures:
    """One position on margin, in its settle currency (prices in its quote)."""

    venue: str
    symbol: str
    quantity: Decimal
    entry: Decimal
    mark: Decimal
    settle: str
    leverage: Decimal
    margin_mode: str
    notional: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    margin_balance: Decimal
    margin_ratio: Decimal | None
    liquidation_price: Decimal | None
    guard_price: Decimal | None
    unrealized_pnl: Decimal
    funding: Decimal
    funding_rate: float | None = None
    next_funding: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, Decimal):
                out[key] = str(value)
        out["next_funding"] = None if self.next_funding is None else self.next_funding.isoformat()
        return out


def venue_wallet(portfolio: Portfolio, inst: Instrument) -> Decimal:
    """The cash of `inst`'s venue that backs its positions on margin, in its settle currency:
    that currency's, or at a forex broker every currency it holds, converted. Another venue's
    cash backs nothing here (an account is one venue's)."""
    settle = inst.settle_currency
    held = portfolio.venue_cash.get(inst.venue, {})
    if not account_wide(inst):
        return held.get(settle, ZERO)
    total = sum((dec(float(amount) * (portfolio.rate(ccy) or 1.0)) for ccy, amount in held.items()), ZERO)
    return total / dec(portfolio.rate(settle) or 1.0)


def cross_wallet(
    portfolio: Portfolio, book: MarginBook, inst: Instrument, exclude: tuple[str, str] | None
) -> Decimal:
    """What backs a cross-margin position of `inst` besides its own P&L (see the module's
    docstring): its venue's own. `exclude`: the position itself."""
    settle = inst.settle_currency
    wide = account_wide(inst)
    to_settle = dec(portfolio.rate(settle) or 1.0)
    total = venue_wallet(portfolio, inst)
    for other in portfolio.open_positions():
        key = (other.venue, other.symbol)
        if key == exclude or not other.margined or other.venue != inst.venue:
            continue
        other_inst = book.instrument(other.venue, other.symbol)
        if other_inst is None or book.setting(*key, other_inst).margin_mode is MarginMode.ISOLATED:
            continue
        other_settle = other_inst.settle_currency
        if not wide and other_settle != settle:
            continue
        mark = dec(other.mark) if other.mark else other.average_price
        part = M.pnl(other_inst, other.quantity, other.average_price, mark) - M.maintenance_margin(
            other_inst, other.quantity, mark
        )
        if other_settle != settle:
            part = part * dec(portfolio.rate(other_settle) or 1.0) / to_settle
        total += part
    return total


def figures(
    pos: Position,
    inst: Instrument,
    setting: LeverageSetting,
    portfolio: Portfolio,
    book: MarginBook,
    buffer: Decimal,
    ticker: Ticker | None = None,
) -> MarginFigures | None:
    """The margin figures of an open position on margin (None for spot or flat)."""
    if not inst.margined or pos.is_flat:
        return None
    entry = pos.average_price
    mark = dec(pos.mark) if pos.mark else entry
    qty = pos.quantity
    isolated = setting.margin_mode is MarginMode.ISOLATED
    initial = M.initial_margin(inst, qty, entry if isolated else mark, setting.leverage)
    maintenance = M.maintenance_margin(inst, qty, mark)
    upnl = M.pnl(inst, qty, entry, mark)
    wallet = initial + pos.funding if isolated else cross_wallet(portfolio, book, inst, (pos.venue, pos.symbol))
    liq = M.liquidation_price(inst, qty, entry, wallet)
    guard = None
    if liq is not None:
        liq = M.round_liquidation(inst, liq, qty)
        guard = inst.round_price(M.guard_price(liq, entry, buffer))
    balance = wallet + upnl
    return MarginFigures(
        pos.venue,
        pos.symbol,
        qty,
        entry,
        mark,
        inst.settle_currency,
        setting.leverage,
        setting.margin_mode.value,
        M.settle_notional(inst, qty, mark),
        initial,
        maintenance,
        balance,
        M.margin_ratio(maintenance, balance),
        liq,
        guard,
        upnl,
        pos.funding,
        ticker.funding_rate if ticker is not None else None,
        ticker.next_funding if ticker is not None else None,
    )


def used_margin(
    portfolio: Portfolio, book: MarginBook, inst: Instrument, open_orders: Iterable[Order]
) -> tuple[Decimal, Decimal]:
    """(free margin, margin in use) in `inst`'s settle currency on its venue: the wallet (that
    venue's cash of the settle currency, or its account for a forex broker) plus unrealised
    losses, less the initial margin of every position and working order there that shares it."""
    settle = inst.settle_currency
    wide = account_wide(inst)
    to_settle = dec(portfolio.rate(settle) or 1.0)
    wallet = venue_wallet(portfolio, inst)
    used = ZERO
    losses = ZERO

    def convert(amount: Decimal, ccy: str) -> Decimal:
        return amount if ccy == settle else amount * dec(portfolio.rate(ccy) or 1.0) / to_settle

    for pos in portfolio.open_positions():
        other = book.instrument(pos.venue, pos.symbol) if pos.venue == inst.venue else None
        if other is None or not other.margined or (other.settle_currency != settle and not wide):
            continue
        setting = book.setting(pos.venue, pos.symbol, other)
        mark = dec(pos.mark) if pos.mark else pos.average_price
        price = pos.average_price if setting.margin_mode is MarginMode.ISOLATED else mark
        used += convert(M.initial_margin(other, pos.quantity, price, setting.leverage), other.settle_currency)
        losses += convert(min(ZERO, M.pnl(other, pos.quantity, pos.average_price, mark)), other.settle_currency)
    for order in open_orders:
        if order.reduce_only or order.venue != inst.venue:
            continue
        other = book.instrument(order.venue, order.symbol)
        if other is None or not other.margined or (other.settle_currency != settle and not wide):
            continue
        price = order.price or order.stop_price or dec(portfolio.mark_of(order.venue, order.symbol))
        setting = book.setting(order.venue, order.symbol, other)
        used += convert(M.initial_margin(other, order.remaining, price, setting.leverage), other.settle_currency)
    return wallet + losses - used, used


@dataclass(frozen=True, slots=True)
class MarginRefusal:
    code: str
    message: str


def check_order(
    *,
    inst: Instrument,
    venue: str,
    side: Side,
    quantity: Decimal,
    price: Decimal,
    mark: Decimal,
    setting: LeverageSetting,
    portfolio: Portfolio,
    book: MarginBook,
    open_orders: Iterable[Order],
    fee_rate: Decimal,
    buffer: Decimal,
    min_distance: Decimal | None,
    check_funds: bool,
) -> MarginRefusal | None:
    """Why an order on margin cannot be placed, or None: leverage within the bracket of the
    position it makes, enough free margin for the part that adds (with fees), and the position's
    liquidation price far enough from the mark (beyond the guard, and `min_distance`)."""
    pos = portfolio.positions.get((venue, inst.symbol))
    held = pos.quantity if pos is not None else ZERO
    signed = quantity * side.sign
    new_qty = held + signed
    closing = min(quantity, abs(held)) if held * side.sign < 0 else ZERO
    adding = quantity - closing
    if adding <= 0 or new_qty == 0:
        return None
    if held == 0 or (held > 0) != (new_qty > 0):
        entry = price  # opens, or flips through flat
    else:
        entry = (pos.average_price * abs(held) + price * adding) / abs(new_qty) if pos is not None else price
    notional = M.settle_notional(inst, new_qty, entry)
    highest = M.max_leverage(inst, notional)
    if setting.leverage > highest:
        return MarginRefusal(
            "max_leverage",
            f"{inst.symbol} allows at most {highest:g}x for a position of {notional:,.2f} {inst.settle_currency}; "
            f"set a lower leverage first (it is at {setting.leverage:g}x)",
        )
    if check_funds:
        free, _ = used_margin(portfolio, book, inst, open_orders)
        fee = M.settle_notional(inst, adding, price) * fee_rate
        need = M.initial_margin(inst, adding, price, setting.leverage) + fee
        if need > free:
            return MarginRefusal(
                "insufficient_margin",
                f"order needs {need:,.2f} {inst.settle_currency} of margin at {setting.leverage:g}x, "
                f"{venue} has {max(free, ZERO):,.2f} free",
            )
    isolated = setting.margin_mode is MarginMode.ISOLATED
    funding = pos.funding if pos is not None and (held > 0) == (new_qty > 0) else ZERO
    if isolated:
        wallet = M.initial_margin(inst, new_qty, entry, setting.leverage) + funding
    else:
        fee = M.settle_notional(inst, adding, price) * fee_rate
        wallet = cross_wallet(portfolio, book, inst, (venue, inst.symbol)) - fee
    liq = M.liquidation_price(inst, new_qty, entry, wallet)
    if liq is None or mark <= 0:
        return None
    guard = M.guard_price(liq, entry, buffer)
    beyond = mark <= guard if new_qty > 0 else mark >= guard
    distance = abs(mark - liq) / mark
    if beyond or (min_distance is not None and distance < min_distance):
        limit = f" (risk.min_liquidation_distance = {min_distance:.1%})" if min_distance is not None else ""
        return MarginRefusal(
            "liquidation_distance",
            f"the position would be liquidated at {inst.round_price(liq)}, {distance:.2%} from the mark {mark}{limit}: "
            "use less leverage or a smaller size",
        )
    return None


def margin_rows(
    portfolio: Portfolio, book: MarginBook, buffer: Decimal, ticker: Callable[[str, str], Ticker | None]
) -> list[MarginFigures]:
    out = []
    for pos in portfolio.open_positions():
        inst = book.instrument(pos.venue, pos.symbol)
        if inst is None or not inst.margined:
            continue
        fig = figures(pos, inst, book.setting(pos.venue, pos.symbol, inst), portfolio, book, buffer,
                      ticker(pos.venue, pos.symbol))
        if fig is not None:
            out.append(fig)
    return out
