"""Pre-trade checks. A rejection carries a reason code and one sentence for the trader.

Exposure limits are checked against the worst case: the current position plus every working
order on the same side plus this order, so no set of accepted orders can breach a limit. Every
working order counts, whatever its kind (reduce-only, bracket leg, emulated, linked); an OCO
group counts its largest leg, since at most one leg fills. An order "reduces" only when it and
every working order on its side together cannot take the position past flat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from tui_trader.config.risk import RiskLimits, RiskSettings
from tui_trader.core.enums import OrderType, Side
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import OrderBook
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.execution.portfolio import Portfolio
from tui_trader.risk.margin import MarginBook, check_order

_LIMIT_KEYS = tuple(RiskLimits.model_fields)


@dataclass(frozen=True, slots=True)
class RiskRejection(Exception):
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(slots=True)
class CheckContext:
    instrument: Instrument | None
    mid: float  # 0 when unknown
    venue: str
    market_open: bool = True
    shorting: bool = True  # the venue allows selling what is not held
    book: OrderBook | None = None  # to estimate where a market order fills
    automated: bool = False  # from a strategy, signal or copy service (set by the engine, never by a request)
    new_orders: int = 1  # orders this request creates (a bracket adds its legs)
    leverage: Decimal | None = None  # on margin: the leverage the order trades at (None: the symbol's setting)


Locks = Callable[[OrderRequest, CheckContext], str | None]


class PreTradeChecks:
    """Validation and limits. Returns the (possibly rounded) request or raises RiskRejection."""

    def __init__(
        self,
        settings: RiskSettings,
        portfolio: Portfolio,
        halted: Callable[[], str | None] = lambda: None,
        *,
        open_orders: Callable[[], list[Order]] = list,
        locks: Locks | None = None,
        margin: MarginBook | None = None,
    ) -> None:
        self.settings = settings
        self.portfolio = portfolio
        self.halted = halted
        self.open_orders = open_orders
        self.locks = locks
        self.margin = margin  # instruments on margin and their leverage (the engine's Derivatives)

    def limits_for(self, strategy: str | None) -> RiskLimits:
        base = self.settings
        override = self.settings.strategies.get(strategy or "")
        if override is None:  # the settings are the limits (RiskSettings extends RiskLimits): no copy per order
            return base
        merged = {k: getattr(base, k) for k in _LIMIT_KEYS}
        merged.update({k: v for k, v in override.model_dump(include=set(_LIMIT_KEYS)).items() if v is not None})
        return RiskLimits.model_construct(**merged)

    def check(self, req: OrderRequest, ctx: CheckContext) -> OrderRequest:
        inst = ctx.instrument
        if inst is None:
            raise RiskRejection(
                "unknown_symbol",
                f"unknown symbol {req.symbol} on {ctx.venue}; check the watchlist for tradable symbols",
            )
        if not ctx.market_open:
            raise RiskRejection(
                "market_closed",
                f"the market for {req.symbol} is closed; try again in trading hours",
            )
        req = self._validate_shape(req, inst, ctx)
        reduces = self._reduces(req, ctx)
        if reduces:
            self._check_held_at_venue(req, ctx)
        if req.reduce_only and not reduces:
            raise RiskRejection(
                "reduce_only",
                f"reduce-only {req.side} of {req.quantity} {req.symbol} would not reduce the position"
                + self._working_note(req, ctx),
            )
        if not reduces:
            reason = self.halted()
            if reason:
                raise RiskRejection("halted", f"trading is halted: {reason}" + self._working_note(req, ctx))
            unread = self.portfolio.unread.get(ctx.venue)
            if unread is not None:  # its balances not believed: no balance check can be made
                raise RiskRejection(
                    "cash_unknown",
                    f"{ctx.venue}'s cash is not known ({unread}); `tui-trader venue reconnect {ctx.venue}` "
                    "reads its balances again (orders that reduce a position pass)",
                )
            if self.locks is not None:
                lock = self.locks(req, ctx)
                if lock:
                    raise RiskRejection("protection", lock)
        self._check_limits(req, inst, ctx, reduces)
        return req

    # -- shape -------------------------------------------------------------------------------

    def _validate_shape(self, req: OrderRequest, inst: Instrument, ctx: CheckContext) -> OrderRequest:
        if req.quantity <= 0:
            raise RiskRejection("bad_quantity", "quantity must be greater than zero")
        computed = ctx.automated
        qty = inst.round_qty(req.quantity)
        if qty != req.quantity:
            if not computed:
                raise RiskRejection(
                    "off_lot",
                    f"quantity {req.quantity} is not a multiple of the lot size {inst.lot_size} (try {qty})",
                )
            req = req.with_(quantity=qty)
        if qty <= 0 or qty < inst.min_qty:
            raise RiskRejection(
                "below_min_qty",
                f"quantity {req.quantity} is below the minimum {inst.min_qty} {inst.base}",
            )
        needs_price = req.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = req.type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_price and (req.price is None or req.price <= 0):
            raise RiskRejection("missing_price", f"a {req.type} order needs a positive price")
        if needs_stop and (req.stop_price is None or req.stop_price <= 0):
            raise RiskRejection("missing_stop", f"a {req.type} order needs a positive stop price")
        if req.type is OrderType.TRAILING_STOP:
            if (req.trail_amount is None) == (req.trail_percent is None):
                raise RiskRejection(
                    "bad_trail",
                    "a trailing stop needs exactly one of trail amount or trail percent",
                )
            if (req.trail_amount is not None and req.trail_amount <= 0) or (
                req.trail_percent is not None and not 0 < req.trail_percent < 1
            ):
                raise RiskRejection(
                    "bad_trail",
                    "trail amount must be positive and trail percent between 0 and 1 (0.02 = 2 %)",
                )
        if req.post_only and req.type is not OrderType.LIMIT:
            raise RiskRejection("bad_post_only", "post-only applies to limit orders only")
        for field_name in ("price", "stop_price", "stop_loss", "take_profit"):
            value: Decimal | None = getattr(req, field_name)
            if value is None:
                continue
            if value <= 0:
                raise RiskRejection("bad_price", f"{field_name.replace('_', ' ')} must be positive")
            if not inst.on_tick(value):
                if not computed:
                    raise RiskRejection(
                        "off_tick",
                        f"{field_name.replace('_', ' ')} {value} is not a multiple of the tick size "
                        f"{inst.tick_size} (try {inst.round_price(value)})",
                    )
                req = req.with_(**{field_name: inst.round_price(value)})
        mid = ctx.mid
        if mid and needs_stop and req.stop_price is not None:
            stop = float(req.stop_price)
            if req.side is Side.BUY and stop <= mid:
                raise RiskRejection(
                    "stop_wrong_side",
                    f"buy stop {req.stop_price} must be above the market ({mid:g}); a buy stop triggers on a rise",
                )
            if req.side is Side.SELL and stop >= mid:
                raise RiskRejection(
                    "stop_wrong_side",
                    f"sell stop {req.stop_price} must be below the market ({mid:g}); a sell stop triggers on a fall",
                )
        ref = self._reference_price(req, ctx)
        if ref:
            if req.stop_loss is not None:
                sl = float(req.stop_loss)
                if (req.side is Side.BUY and sl >= ref) or (req.side is Side.SELL and sl <= ref):
                    raise RiskRejection(
                        "sl_wrong_side",
                        f"stop-loss {req.stop_loss} is on the wrong side of the entry {ref:g}",
                    )
            if req.take_profit is not None:
                tp = float(req.take_profit)
                if (req.side is Side.BUY and tp <= ref) or (req.side is Side.SELL and tp >= ref):
                    raise RiskRejection(
                        "tp_wrong_side",
                        f"take-profit {req.take_profit} is on the wrong side of the entry {ref:g}",
                    )
        if ref and inst.min_notional and float(req.quantity) * ref < float(inst.min_notional):
            raise RiskRejection(
                "min_notional",
                f"order value {float(req.quantity) * ref:,.2f} is below the minimum {inst.min_notional} {inst.quote}",
            )
        return req

    @staticmethod
    def _reference_price(req: OrderRequest, ctx: CheckContext) -> float:
        if req.price is not None:
            return float(req.price)
        if req.stop_price is not None:
            return float(req.stop_price)
        return ctx.mid

    @staticmethod
    def _expected_fill(req: OrderRequest, ctx: CheckContext) -> float:
        """Where the order is expected to fill: its limit or stop, or for a market order the
        average price of walking the book for its size (the far touch when the book is thin)."""
        if req.price is not None or req.stop_price is not None or ctx.book is None:
            return PreTradeChecks._reference_price(req, ctx)
        levels = ctx.book.asks if req.side is Side.BUY else ctx.book.bids
        left, cost, last = float(req.quantity), 0.0, ctx.mid
        for price, size in levels:
            take = min(left, size)
            cost += take * price
            left -= take
            last = price
            if left <= 0:
                break
        filled = float(req.quantity) - max(left, 0.0)
        if left > 0:  # deeper than the book: assume the rest fills at the last level seen
            cost += left * last
            filled += left
        return cost / filled if filled else ctx.mid

    def _held(self, venue: str, symbol: str) -> float:
        pos = self.portfolio.positions.get((venue, symbol))
        return float(pos.quantity) if pos else 0.0

    def _reduces(self, req: OrderRequest, ctx: CheckContext) -> bool:
        """True when this order and every working order on its side together cannot take the
        position past flat (so it only ever reduces, whatever fills first)."""
        held = self._held(ctx.venue, req.symbol)
        if held == 0 or held * req.side.sign > 0:
            return False
        return self._pending(ctx.venue, req.symbol, req.side, joining=req) <= abs(held) + 1e-12

    def _check_held_at_venue(self, req: OrderRequest, ctx: CheckContext) -> None:
        """An exit where the broker holds less than we count (its last account read disagreed:
        `Portfolio.at_venue`) goes no further than what it holds: past it, the order would open
        the other side there (a short on a margin account) instead of closing ours."""
        theirs = self.portfolio.at_venue.get((ctx.venue, req.symbol))
        if theirs is None:
            return
        there = max(float(theirs) * -req.side.sign, 0.0)  # what it holds that this side reduces
        pending = self._pending(ctx.venue, req.symbol, req.side, joining=req)
        if pending > there + 1e-12:
            ours = self._held(ctx.venue, req.symbol)
            raise RiskRejection(
                "position_disagrees",
                f"{ctx.venue} holds {there:g} {req.symbol} where we count {abs(ours):g}: this {req.side.value} "
                f"of {req.quantity} would open the other side there; {req.side.value} at most {there:g}, or settle it "
                f"in {ctx.venue}'s own app (`tui-trader status` shows it until a read agrees)",
            )

    def _working_note(self, req: OrderRequest, ctx: CheckContext) -> str:
        """Why an order that looks like an exit is not one: working orders on its side."""
        held = self._held(ctx.venue, req.symbol)
        pending = self._pending(ctx.venue, req.symbol, req.side)
        if held * req.side.sign < 0 and pending > 0 and float(req.quantity) <= abs(held):
            return (
                f" (with the working {req.side.value} orders on {req.symbol}, {pending:g} more, it could go "
                "past flat: cancel them first, or use flatten)"
            )
        return ""

    # -- limits ------------------------------------------------------------------------------

    def _pending(self, venue: str, symbol: str, side: Side, joining: OrderRequest | None = None) -> float:
        """What the working orders on `side` add if all fill: every kind, legs and linked orders
        included; an OCO group counts its largest leg (never both fill), a bracket leg waiting for
        its entry what that entry has filled. `joining`, a new order, counts as working (in its
        OCO group when it has one: the second leg of a stop/target pair adds nothing)."""
        total = 0.0
        groups: dict[str, float] = {}
        if joining is not None:
            if joining.oco_id:
                groups[joining.oco_id] = float(joining.quantity)
            else:
                total += float(joining.quantity)
        working = self.open_orders()
        by_id: dict[str, Order] | None = None
        for o in working:
            if o.venue != venue or o.symbol != symbol or o.side is not side:
                continue
            left = float(o.remaining)
            parent_id = o.meta.get("waiting_for")
            entry = None
            if parent_id:
                by_id = by_id if by_id is not None else {w.client_order_id: w for w in working}
                entry = by_id.get(parent_id)
            if entry is not None:
                # A bracket leg waiting for its entry can only sell what the entry bought: the
                # rest would first have to fill the entry, which offsets it.
                left = min(left, float(entry.filled_quantity))
            if o.oco_id:
                groups[o.oco_id] = max(groups.get(o.oco_id, 0.0), left)
            else:
                total += left
        return total + sum(groups.values())

    def _projected_qty(self, venue: str, symbol: str, side: Side, extra: float) -> float:
        """The position if every working order on `side` (and this one) filled."""
        return self._held(venue, symbol) + side.sign * (self._pending(venue, symbol, side) + extra)

    def _worst_abs(self, venue: str, symbol: str) -> float:
        """The largest |position| the symbol can reach with its working orders (either side)."""
        return max(abs(self._projected_qty(venue, symbol, side, 0.0)) for side in (Side.BUY, Side.SELL))

    def _check_limits(self, req: OrderRequest, inst: Instrument, ctx: CheckContext, reduces: bool) -> None:
        limits = self.limits_for(req.strategy)
        ref = self._reference_price(req, ctx)
        if not ref:
            raise RiskRejection(
                "no_price",
                f"no market price for {req.symbol} yet; wait for a quote or give a limit price",
            )
        unit = _unit_value(inst, ref)
        notional = float(req.quantity) * unit
        if limits.price_band_pct and ctx.mid and req.price is not None:
            away = abs(float(req.price) / ctx.mid - 1.0)
            if away > limits.price_band_pct:
                raise RiskRejection(
                    "price_band",
                    f"price {req.price} is {away:.1%} from the mid {ctx.mid:g}, beyond the "
                    f"{limits.price_band_pct:.0%} band (risk.price_band_pct)",
                )
        if limits.max_order_notional and notional > limits.max_order_notional:
            raise RiskRejection(
                "max_order_notional",
                f"order value {notional:,.2f} exceeds max_order_notional {limits.max_order_notional:,.2f}",
            )
        self._check_open_orders(req, ctx, limits)
        if reduces:
            return
        # Value the projected position conservatively: at the worst of the mark, where this
        # order is expected to fill, and what the position already cost.
        pos = self.portfolio.positions.get((ctx.venue, req.symbol))
        mark = max(ctx.mid or ref, self._expected_fill(req, ctx), float(pos.average_price) if pos else 0.0)
        new_qty = self._projected_qty(ctx.venue, req.symbol, req.side, float(req.quantity))
        mark = _unit_value(inst, mark)
        if limits.max_position_notional and abs(new_qty) * mark > limits.max_position_notional:
            raise RiskRejection(
                "max_position_notional",
                f"position in {req.symbol} could reach {abs(new_qty) * mark:,.2f} with working orders, above "
                f"max_position_notional {limits.max_position_notional:,.2f}",
            )
        if limits.max_gross_exposure:
            gross = abs(new_qty) * mark
            others = {k for k, p in self.portfolio.positions.items() if not p.is_flat}
            others |= {(o.venue, o.symbol) for o in self.open_orders()}
            others.discard((ctx.venue, req.symbol))
            for venue, symbol in others:
                gross += self._worst_abs(venue, symbol) * self._value_price(venue, symbol)
            if gross > limits.max_gross_exposure:
                raise RiskRejection(
                    "max_gross_exposure",
                    f"gross exposure could reach {gross:,.2f}, above max_gross_exposure "
                    f"{limits.max_gross_exposure:,.2f}",
                )
        if limits.max_open_positions:
            held = {(p.venue, p.symbol) for p in self.portfolio.positions.values() if not p.is_flat}
            held |= {(o.venue, o.symbol) for o in self.open_orders()}
            if (ctx.venue, req.symbol) not in held and len(held) >= limits.max_open_positions:
                raise RiskRejection(
                    "max_open_positions",
                    f"{len(held)} positions are open or pending, the limit is "
                    f"max_open_positions = {limits.max_open_positions}",
                )
        if inst.margined:
            self._check_margin(req, inst, ctx, limits)
        elif self.settings.check_balance:
            self._check_balance(req, inst, ctx, ref)

    def _check_margin(self, req: OrderRequest, inst: Instrument, ctx: CheckContext, limits: RiskLimits) -> None:
        """An order on margin: leverage within the limits and the bracket, free margin, and the
        liquidation price far enough from the mark (risk/margin.py)."""
        if self.margin is None:
            return
        setting = self.margin.setting(ctx.venue, req.symbol, inst)
        if ctx.leverage is not None:
            setting = type(setting)(ctx.leverage, setting.margin_mode)
        if limits.max_leverage is not None and setting.leverage > Decimal(str(limits.max_leverage)):
            raise RiskRejection(
                "max_leverage",
                f"leverage {setting.leverage:g}x is above max_leverage = {limits.max_leverage:g} (risk settings)",
            )
        price = Decimal(repr(self._expected_fill(req, ctx)))
        mark = Decimal(repr(ctx.mid)) if ctx.mid else price
        refusal = check_order(
            inst=inst,
            venue=ctx.venue,
            side=req.side,
            quantity=req.quantity,
            price=price,
            mark=mark,
            setting=setting,
            portfolio=self.portfolio,
            book=self.margin,
            open_orders=self.open_orders(),
            fee_rate=Decimal(str(self.settings.fee_estimate)),
            buffer=Decimal(str(self.settings.liquidation_buffer)),
            min_distance=(
                None if self.settings.min_liquidation_distance is None
                else Decimal(str(self.settings.min_liquidation_distance))
            ),
            check_funds=self.settings.check_balance,
        )
        if refusal is not None:
            raise RiskRejection(refusal.code, refusal.message)

    def _value_price(self, venue: str, symbol: str) -> float:
        """A price to value another symbol's worst case: the worst of its mark, its working
        orders' prices and what its position cost."""
        prices = [self.portfolio.mark_of(venue, symbol)]
        pos = self.portfolio.positions.get((venue, symbol))
        if pos is not None and not pos.is_flat:
            prices.append(float(pos.average_price))
        prices += [
            float(o.price or o.stop_price or 0)
            for o in self.open_orders()
            if o.venue == venue and o.symbol == symbol
        ]
        return max(prices)

    def _check_open_orders(self, req: OrderRequest, ctx: CheckContext, limits: RiskLimits) -> None:
        if not (limits.max_open_orders or limits.max_open_orders_per_symbol):
            return
        working = self.open_orders()
        total = len(working) + ctx.new_orders
        if limits.max_open_orders and total > limits.max_open_orders:
            raise RiskRejection(
                "max_open_orders",
                f"{len(working)} orders are working and this adds {ctx.new_orders}; the limit is "
                f"max_open_orders = {limits.max_open_orders}: cancel some first",
            )
        here = sum(1 for o in working if o.venue == ctx.venue and o.symbol == req.symbol) + ctx.new_orders
        if limits.max_open_orders_per_symbol and here > limits.max_open_orders_per_symbol:
            raise RiskRejection(
                "max_open_orders_per_symbol",
                f"{here - ctx.new_orders} orders are working on {req.symbol} and this adds {ctx.new_orders}; "
                f"the limit is max_open_orders_per_symbol = {limits.max_open_orders_per_symbol}: cancel some first",
            )

    def _check_balance(self, req: OrderRequest, inst: Instrument, ctx: CheckContext, ref: float) -> None:
        """Estimate: the part of the order that adds exposure, with fees, against the ordering
        venue's free cash in the quote currency (its cash less its own working orders and
        short collateral)."""
        pos = self.portfolio.positions.get((ctx.venue, req.symbol))
        held = float(pos.quantity) if pos else 0.0
        closing = min(float(req.quantity), abs(held)) if held * req.side.sign < 0 else 0.0
        adding = float(req.quantity) - closing
        if adding <= 0:
            return
        if req.side is Side.SELL and not ctx.shorting:
            raise RiskRejection(
                "insufficient_position",
                f"selling {req.quantity} {req.symbol} but holding {held:g}; {ctx.venue} does not allow short selling",
            )
        free = free_cash(self.portfolio, self.open_orders(), ctx.venue, inst.quote)
        if free is None:
            return  # the venue reports no balance in this currency: let it decide
        need = adding * ref * (1.0 + self.settings.fee_estimate)
        if need > free:
            raise RiskRejection(
                "insufficient_balance",
                f"order needs about {need:,.2f} {inst.quote} but {ctx.venue} has {max(free, 0.0):,.2f} "
                f"{inst.quote} free (its cash less its working orders and short collateral)",
            )


def free_cash(portfolio: Portfolio, working: Iterable[Order], venue: str, quote: str) -> float | None:
    """`venue`'s own cash in `quote` less what its working orders there may spend and twice its
    short positions' value (what the balance check and a strategy's sizer read); never the
    cash summed over venues: USDT on one exchange pays for nothing on another. Nor the value of
    shares a broker held beyond ours at its last read, which its cash as read holds
    (`Portfolio.held_elsewhere`): worth, not money to pay with. None: the venue reports no
    balance in `quote` (the balance check lets the venue decide)."""
    held = portfolio.venue_cash.get(venue, {})
    if quote not in held:
        return None
    committed = 0.0
    for o in working:
        if o.venue == venue and not o.reduce_only and portfolio.quote_of.get(o.symbol, quote) == quote:
            committed += float(o.remaining) * float(
                o.price or o.stop_price or Decimal(portfolio.mark_of(o.venue, o.symbol))
            )
    collateral = sum(
        2 * -float(p.quantity) * (p.mark or float(p.average_price))
        for p in portfolio.positions.values()
        if p.venue == venue and p.quantity < 0 and portfolio.quote_of.get(p.symbol, quote) == quote
    )
    elsewhere = float(portfolio.held_elsewhere.get(venue, {}).get(quote, Decimal(0)))
    return float(held[quote]) - elsewhere - committed - collateral


def _unit_value(inst: Instrument, price: float) -> float:
    """What one unit of quantity is worth in the quote currency: its price, times the contract
    size on margin (an inverse contract is worth its size, whatever the price)."""
    if not inst.margined:
        return price
    if inst.inverse:
        return float(inst.contract_size)
    return price * float(inst.contract_size)
