"""What to do with one leader fill: the follower's order, or why it is skipped. Pure.

- Too old (now minus the leader's fill time beyond max_delay_s): skipped.
- A symbol outside `symbols`, inside `deny`, or not traded on the follower's venue: skipped.
- Against what the follower copied from this leader (a sell while it holds a copied long):
  an exit. With mirror_exits it closes the same share of the copy, never more than the copy
  (a leader that flips does not flip you); without, it is skipped.
- Otherwise an entry of the leader's quantity times the ratio (scale, times your equity over
  the leader's with scale_by = "equity"); a sell that opens a short only with shorts = true.
- Rounded down to the lot; below the minimum quantity or notional: skipped.
- Your price (the ask to buy, the bid to sell) more than max_slippage_bps worse than the
  leader's fill price: skipped. Otherwise a limit IOC at the leader's price plus that many bps
  is sent, so the fill can never be worse than the bound even if the market moves meanwhile.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from tui_trader.config.copy import CopySettings
from tui_trader.core.enums import OrderType, Side, TimeInForce
from tui_trader.core.instrument import Instrument, quantize
from tui_trader.core.orders import OrderRequest
from tui_trader.engine.copy.leaders import LeaderFill

BPS = Decimal(10_000)


@dataclass(frozen=True)
class Skip:
    code: str  # late | symbol | exit | short | size | slippage | no_quote | notional | equity
    reason: str


@dataclass(frozen=True)
class Plan:
    request: OrderRequest
    exit: bool
    ratio: float
    reference: float  # the follower's price when planned (ask / bid)
    slippage_bps: float  # how much worse than the leader's price the reference was


@dataclass(frozen=True)
class Situation:
    """What the follower knows when the fill arrives."""

    now: datetime
    venue: str
    instrument: Instrument | None
    bid: float | None
    ask: float | None
    held: Decimal  # the follower's copied position from this leader in the symbol (signed)
    ratio: float | None  # None: the equity ratio could not be known


def plan(fill: LeaderFill, cfg: CopySettings, at: Situation, name: str) -> Plan | Skip:
    age = (at.now - fill.ts).total_seconds()
    if age > cfg.max_delay_s:
        return Skip("late", f"{age:.1f} s old, beyond max_delay_s {cfg.max_delay_s:g}")
    if cfg.symbols and fill.symbol not in cfg.symbols:
        return Skip("symbol", f"{fill.symbol} is not in symbols")
    if fill.symbol in cfg.deny:
        return Skip("symbol", f"{fill.symbol} is denied")
    inst = at.instrument
    if inst is None:
        return Skip("symbol", f"{fill.symbol} is not traded on {at.venue}")
    if at.ratio is None:
        return Skip("equity", "the leader's equity is not known (scale_by = equity)")
    sign = fill.side.sign
    exit_ = at.held * sign < 0
    if exit_ and not cfg.mirror_exits:
        return Skip("exit", "an exit, and mirror_exits is off")
    if not exit_ and fill.side is Side.SELL and not cfg.shorts:
        return Skip("short", "a sell with nothing copied to close; shorts = true mirrors it as a short")
    wanted = fill.quantity * Decimal(str(at.ratio))
    if exit_:
        wanted = min(wanted, abs(at.held))
    qty = inst.round_qty(wanted)
    if qty <= 0 or qty < inst.min_qty:
        return Skip("size", f"{wanted.normalize()} after scaling is below {fill.symbol}'s lot or minimum quantity")
    reference = at.ask if fill.side is Side.BUY else at.bid
    if not reference:
        return Skip("no_quote", f"no {'ask' if fill.side is Side.BUY else 'bid'} for {fill.symbol} on {at.venue}")
    price = float(fill.price)
    slip = (reference - price) / price * 10_000 * sign if price > 0 else 0.0
    if slip > cfg.max_slippage_bps:
        return Skip(
            "slippage",
            f"your {'ask' if sign > 0 else 'bid'} {reference:g} is {slip:.1f} bps worse than the leader's "
            f"{fill.price}, beyond max_slippage_bps {cfg.max_slippage_bps:g}",
        )
    notional = float(qty) * reference
    if inst.min_notional and notional < float(inst.min_notional):
        return Skip("size", f"{notional:.2f} is below {fill.symbol}'s minimum notional {inst.min_notional}")
    if cfg.max_order_notional is not None and notional > cfg.max_order_notional:
        return Skip("notional", f"{notional:,.2f} is above the copy's max_order_notional {cfg.max_order_notional:g}")
    bound = fill.price * (1 + sign * Decimal(str(cfg.max_slippage_bps)) / BPS)
    limit = quantize(bound, inst.tick_size, ROUND_DOWN if sign > 0 else ROUND_UP)
    request = OrderRequest(
        fill.symbol,
        fill.side,
        qty,
        OrderType.LIMIT,
        price=limit,
        time_in_force=TimeInForce.IOC,
        venue=at.venue,
        reduce_only=exit_,
        tag=f"copy:{name}",
    )
    return Plan(request, exit_, at.ratio, reference, slip)


def order_id(name: str, fill_key: str) -> str:
    """The follower's client order id for a leader fill: the same fill always gives the same id."""
    return "cp" + hashlib.sha256(f"{name}\x00{fill_key}".encode()).hexdigest()[:22]


def plan_detail(p: Plan) -> dict[str, Any]:
    r = p.request
    return {
        "order_quantity": str(r.quantity),
        "limit": str(r.price),
        "exit": p.exit,
        "ratio": p.ratio,
        "reference": p.reference,
        "planned_slippage_bps": round(p.slippage_bps, 2),
        "venue": r.venue,
    }
