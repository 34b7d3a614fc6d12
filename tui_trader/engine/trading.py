"""Order commands every front end reaches through the engine: place, modify, cancel, OCO, the
kill switch and breaker resets. Every order from every source passes `place` (checks,
persistence, venue)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.core.enums import OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.errors import UsageError, UserError
from tui_trader.core.events import RiskEvent
from tui_trader.core.numbers import MAX_NUMBER
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.engine.identity import Origin, identify
from tui_trader.engine.route_state import AUTO, is_child, is_parent
from tui_trader.risk.checks import CheckContext, RiskRejection
from tui_trader.risk.sessions import market_open
from tui_trader.store.db import DuplicateOrderId, StoreWriteError
from tui_trader.venues.base import VenueError

if TYPE_CHECKING:
    from tui_trader.core.clock import Clock
    from tui_trader.core.instrument import Instrument
    from tui_trader.core.market import OrderBook, Ticker
    from tui_trader.engine.bus import EventBus
    from tui_trader.engine.derivatives import Derivatives
    from tui_trader.engine.risk_journal import RiskJournal
    from tui_trader.engine.router import Router
    from tui_trader.execution.emulator import OrderEmulator
    from tui_trader.execution.ids import ClientOrderIds
    from tui_trader.execution.oms import OrderManager
    from tui_trader.execution.portfolio import Portfolio
    from tui_trader.risk.checks import PreTradeChecks
    from tui_trader.risk.manager import RiskManager
    from tui_trader.store.db import Store
    from tui_trader.venues.base import Venue


class Trading:
    """The order half of `Engine` (root.py holds its lifecycle and state)."""

    clock: Clock
    bus: EventBus
    oms: OrderManager | None
    store: Store | None
    emulator: OrderEmulator | None
    venues: dict[str, Venue]
    books: dict[tuple[str, str], OrderBook]  # by (venue, symbol)
    portfolio: Portfolio
    risk: RiskManager
    risk_journal: RiskJournal | None
    checks: PreTradeChecks
    new_id: ClientOrderIds
    router: Router
    live_armed: bool
    derivatives: Derivatives
    audit: Callable[[str, str, dict[str, Any]], Any]

    def instrument(self, venue: str, symbol: str) -> Instrument | None:
        raise NotImplementedError

    def mid(self, symbol: str, venue: str | None = None) -> float:
        raise NotImplementedError

    def venue_for(self, symbol: str, requested: str | None = None) -> str:
        raise NotImplementedError

    def ticker(self, symbol: str, venue: str | None = None) -> Ticker | None:
        raise NotImplementedError

    async def place(self, req: OrderRequest, actor: str = "user") -> Order:
        """Every order from every source comes through here: identity, checks, persistence, venue.

        Who the order belongs to comes from `actor` (engine/identity.py), never from the
        request. A client order id any order already has is refused (UserError) and nothing
        changes; so is any order while the database cannot be written."""
        req, origin = identify(req, actor)
        return await self._place(req, actor, origin)

    async def _place(self, req: OrderRequest, actor: str, origin: Origin) -> Order:
        """`place` once the identity is settled (OCO legs and replacements come in here)."""
        assert self.oms is not None
        self._refuse_while_store_down()
        if req.client_order_id:
            await self._refuse_used_id(req.client_order_id, actor)
        if req.venue is not None and req.venue.lower() == AUTO:  # best price across venues
            out_of_range = _out_of_range(req)
            if out_of_range:
                return await self._reject(req, AUTO, RiskRejection("bad_number", out_of_range), actor)
            return await self.router.place(req.with_(venue=AUTO), actor, origin)
        venue_name = self.venue_for(req.symbol, req.venue)
        try:
            checked = self._admit(req, venue_name, origin)
        except RiskRejection as rej:
            return await self._reject(req, venue_name, rej, actor)
        if checked.leverage is not None:
            await self.derivatives.set_leverage(venue_name, checked.symbol, checked.leverage, actor=actor)
        cid = checked.client_order_id or self.new_id()
        order = Order.from_request(checked, cid, venue_name, self.clock.now())
        await self.audit(actor, "place", _describe(order))
        assert self.emulator is not None
        try:
            placed = await self.emulator.place(
                order, stop_loss=checked.stop_loss, take_profit=checked.take_profit, new_id=self.new_id
            )
        except StoreWriteError as exc:
            raise self._store_refusal(exc) from None
        await self.emulator.settle()  # so the caller sees fills (and armed bracket children) that already happened
        current = self.oms.orders.get(placed.client_order_id)
        return current.copy() if current is not None else placed

    def check(self, req: OrderRequest, actor: str = "user") -> dict[str, Any]:
        """A dry run of `place`: the same identity, admission and pre-trade checks, nothing
        recorded, audited or sent.

        Returns {"ok": True, "venue", "request"} (the request as it would be placed, possibly
        rounded) or {"ok": False, "venue", "code", "message"} with the refusal `place` would give.
        """
        req, origin = identify(req, actor)
        if req.venue is not None and req.venue.lower() == AUTO:
            out_of_range = _out_of_range(req)
            if out_of_range:
                return {"ok": False, "venue": AUTO, "code": "bad_number", "message": out_of_range}
            return self.router.check(req.with_(venue=AUTO), origin)
        venue_name = self.venue_for(req.symbol, req.venue)
        try:
            self._refuse_while_store_down()
            checked = self._admit(req, venue_name, origin)
        except RiskRejection as rej:
            return {"ok": False, "venue": venue_name, "code": rej.code, "message": rej.message}
        except UserError as exc:
            return {"ok": False, "venue": venue_name, "code": "refused", "message": str(exc)}
        return {"ok": True, "venue": venue_name, "request": checked}

    def _admit(self, req: OrderRequest, venue_name: str, origin: Origin) -> OrderRequest:
        """Numbers in range, a known venue, live trading armed where it must be, then the
        pre-trade checks; raises RiskRejection. `place` and `check` share it."""
        out_of_range = _out_of_range(req)
        if out_of_range:
            raise RiskRejection("bad_number", out_of_range)
        if venue_name not in self.venues:
            raise RiskRejection("unknown_venue", f"unknown venue {venue_name!r}")
        if self.venues[venue_name].is_live and not self.live_armed:
            raise RiskRejection(
                "live_not_armed",
                f"{venue_name} trades real money and live trading is not armed: "
                "confirm arming in the TUI or start the daemon with --live",
            )
        req = self._resolve_offsets(req, venue_name)
        if req.leverage is not None:
            inst = self.instrument(venue_name, req.symbol)
            reason = None if inst is None else self.derivatives.check_leverage(inst, req.leverage)
            if reason is not None:
                raise RiskRejection("bad_leverage", reason)
        legs = (req.stop_loss is not None) + (req.take_profit is not None)
        return self._check(req, venue_name, automated=origin.automated, new_orders=1 + legs)

    def _resolve_offsets(self, req: OrderRequest, venue_name: str) -> OrderRequest:
        """Bracket legs given as distances (`sl 20p`) become prices: from the limit (or stop)
        price, or for a market order from the touch it would take (the ask for a buy, the bid
        for a sell), rounded to the tick."""
        if req.stop_loss_offset is None and req.take_profit_offset is None:
            return req
        if (req.stop_loss_offset is not None and req.stop_loss is not None) or (
            req.take_profit_offset is not None and req.take_profit is not None
        ):
            raise RiskRejection("bad_bracket", "give each bracket leg as a price or as a distance (pips), not both")
        ref = req.price if req.price is not None else req.stop_price
        if ref is None:
            t = self.ticker(req.symbol, venue_name)
            touch = (t.ask if req.side is Side.BUY else t.bid) if t is not None else 0.0
            if not touch:
                raise RiskRejection(
                    "no_price", f"no quote for {req.symbol} yet: a stop-loss or take-profit in pips needs one"
                )
            ref = Decimal(repr(touch))
        inst = self.instrument(venue_name, req.symbol)
        sign = req.side.sign
        changes: dict[str, Any] = {"stop_loss_offset": None, "take_profit_offset": None}
        for offset, name, direction in (
            (req.stop_loss_offset, "stop_loss", -sign),
            (req.take_profit_offset, "take_profit", sign),
        ):
            if offset is None:
                continue
            level = ref + direction * offset
            if level <= 0:
                raise RiskRejection("bad_price", f"{name.replace('_', ' ')} {offset} away from {ref} is below zero")
            changes[name] = inst.round_price(level) if inst is not None else level
        return req.with_(**changes)

    def _refuse_while_store_down(self) -> None:
        fault = self.store.fault if self.store is not None else None
        if fault:
            raise UserError(
                f"order refused: the database cannot be written ({fault}); new orders are halted until it can"
            )

    def _store_refusal(self, exc: StoreWriteError) -> UserError:
        self.bus.publish(RiskEvent(self.clock.now(), "store_fault", f"{exc}; new orders are halted"))
        return UserError(f"order refused, nothing was sent: {exc}; new orders are halted until it can be written")

    async def _refuse_used_id(self, cid: str, actor: str) -> None:
        """Client order ids are unique forever: memory first, then the database (old orders)."""
        assert self.oms is not None and self.store is not None
        existing = self.oms.orders.get(cid) or await self.store.get_order(cid)
        if existing is not None:
            await self.audit(actor, "duplicate_id_refused", {"client_order_id": cid})
            raise DuplicateOrderId(
                f"client order id {cid} is already used by an order ({existing.status.value}); "
                "nothing was changed: choose a new id"
            )

    def _check(
        self, req: OrderRequest, venue_name: str, *, automated: bool = False, new_orders: int = 1
    ) -> OrderRequest:
        """The pre-trade checks for `req` on `venue_name`; raises RiskRejection."""
        inst = self.instrument(venue_name, req.symbol)
        venue = self.venues[venue_name]
        is_open = inst is None or market_open(inst, self.clock.now(), venue)
        shorting = getattr(getattr(venue, "capabilities", None), "shorting", True)
        # the price bands use this venue's own market: another venue's price for the symbol is
        # not where this order will trade
        ctx = CheckContext(
            inst,
            self.mid(req.symbol, venue_name),
            venue_name,
            is_open,
            shorting,
            self.books.get((venue_name, req.symbol)),
            automated=automated,
            new_orders=new_orders,
            leverage=req.leverage,
        )
        return self.checks.check(req, ctx)

    async def modify(
        self,
        client_order_id: str,
        *,
        price: Decimal | None = None,
        quantity: Decimal | None = None,
        actor: str = "user",
        dry_run: bool = False,
    ) -> Order:
        """Change a working limit order's price and/or total quantity.

        With dry_run the change is checked (and refused with the same message) but not made;
        the order is returned as it stands.

        The change passes the same checks as a new order first (the old order still counts
        towards the limits, so a change never slips past them); a refused change leaves the
        order as it was. A venue that amends in place keeps the order and its id; elsewhere
        the order is cancelled and, once the venue confirms, a replacement is placed (a new
        client id; its meta names the order it replaces). A bracket entry's stop-loss and
        take-profit come along (checked against the new price first). Returns the order as it
        now stands.
        """
        assert self.oms is not None
        cid = client_order_id
        order = self.oms.orders.get(cid)
        if order is None or not order.is_open:
            raise UserError(f"no open order {cid}; `orders` lists the open ones")
        if price is None and quantity is None:
            raise UserError("nothing to change: give a new price, a new quantity or both")
        if order.status is OrderStatus.UNKNOWN:
            raise UserError(f"{cid}'s outcome at {order.venue} is not known yet: cancel it, or wait until it settles")
        if is_parent(order) or is_child(order):
            raise UserError(f"{cid} is a routed order (or part of one): cancel it and place a new one")
        if order.meta.get("held") or order.parent_id or order.oco_id:
            raise UserError(
                f"{cid} is emulated or a linked leg (trailing, bracket leg, OCO): cancel it and place a new one"
            )
        if order.type not in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            raise UserError(f"only limit orders can be modified; {cid} is a {order.type.value} order")
        new_qty = order.quantity if quantity is None else quantity
        if new_qty <= order.filled_quantity:
            raise UserError(f"the new quantity {new_qty} must be above the {order.filled_quantity} already filled")
        legs = self._bracket_legs(order)
        req = OrderRequest(
            order.symbol,
            order.side,
            new_qty - order.filled_quantity,
            order.type,
            order.price if price is None else price,
            order.stop_price,
            order.time_in_force,
            order.venue,
            stop_loss=legs.get("stop_loss"),
            take_profit=legs.get("take_profit"),
            post_only=order.post_only,
            reduce_only=order.reduce_only,
            extended_hours=bool(order.meta.get("extended_hours")),
            source=order.source,
            strategy=order.strategy,
            tag=order.tag,
        )
        try:
            # The replacement takes the old order's place (and its legs'): no new orders counted.
            self._check(req, order.venue, new_orders=0)
        except RiskRejection as rej:
            if not dry_run:
                await self.audit(actor, "modify_refused", {"client_order_id": cid, "code": rej.code})
            raise UserError(f"change refused, {cid} is unchanged: {rej.message}") from None
        if dry_run:
            return order.copy()
        await self.audit(
            actor,
            "modify",
            {
                "client_order_id": cid,
                "price": None if price is None else str(price),
                "quantity": str(new_qty),
                "legs": {k: str(v) for k, v in legs.items()},
            },
        )
        venue = self.venues[order.venue]
        if venue.capabilities.amend:  # same order, same id: its legs stay linked to it
            try:
                await venue.amend_order(order.copy(), quantity=new_qty, price=req.price)
            except VenueError as exc:
                raise UserError(f"{order.venue} refused the change, {cid} is unchanged: {exc}") from None
            return await self.oms.amended(cid, price=req.price, quantity=new_qty)
        await self.oms.cancel(cid)
        cancelled = await self._until_final(cid)
        if cancelled.status is not OrderStatus.CANCELLED:
            state = "still working" if cancelled.is_open else cancelled.status.value
            raise UserError(f"{cid} could not be cancelled ({state}); nothing was placed in its place")
        # The old legs go with the cancelled entry (sized to what it filled, if anything); the
        # replacement carries the same stop-loss and take-profit.
        if self.emulator is not None:
            await self.emulator.settle()
        owner = Origin(order.source, order.strategy, automated=False)
        replacement = await self._place(req, actor, owner)
        await self.oms.annotate(replacement.client_order_id, replaces=cid)
        for old in order.meta.get("children", []):
            await self.oms.annotate(old, moved_to=replacement.client_order_id)
        return self.oms.orders[replacement.client_order_id].copy()

    def _bracket_legs(self, order: Order) -> dict[str, Decimal]:
        """A bracket entry's working stop-loss / take-profit levels, by role."""
        assert self.oms is not None
        out: dict[str, Decimal] = {}
        for child_id in order.meta.get("children", []):
            child = self.oms.orders.get(child_id)
            if child is None or not child.is_open:
                continue
            role = child.meta.get("role")
            level = child.stop_price if role == "stop_loss" else child.price
            if role in ("stop_loss", "take_profit") and level is not None:
                out[role] = level
        return out

    async def _until_final(self, client_order_id: str, timeout: float = 5.0) -> Order:
        """The order once the venue has settled it (some confirm a cancel only on their stream),
        or as it stands after `timeout` seconds."""
        assert self.oms is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.oms.flush()
            order = self.oms.orders[client_order_id]
            if not order.is_open or loop.time() >= deadline:
                return order.copy()
            await asyncio.sleep(0.02)

    async def _reject(
        self, req: OrderRequest, venue: str, rej: RiskRejection, actor: str, meta: dict[str, Any] | None = None
    ) -> Order:
        assert self.oms is not None
        now = self.clock.now()
        order = Order.from_request(req, req.client_order_id or self.new_id(), venue, now)
        order.status = OrderStatus.REJECTED
        order.reason = rej.message
        order.meta.update(meta or {})
        order.meta["reject_code"] = rej.code
        try:
            await self.oms.record_rejection(order)
        except StoreWriteError as exc:
            raise self._store_refusal(exc) from None
        self.bus.publish(RiskEvent(now, rej.code, rej.message, order.client_order_id))
        await self.audit(actor, "reject", {"code": rej.code, "reason": rej.message, **_describe(order)})
        return order

    async def cancel(self, client_order_id: str, actor: str = "user") -> Order:
        assert self.oms is not None
        await self.audit(actor, "cancel", {"client_order_id": client_order_id})
        order = self.oms.orders.get(client_order_id)
        if order is not None and order.is_open and is_parent(order):  # a routed order: all of it
            return await self.router.cancel(order)
        if order is not None and order.is_open and is_child(order):  # the route sends no more for it
            await self.oms.annotate(client_order_id, cancelled_by_user=actor)
        try:
            return await self.oms.cancel(client_order_id)
        except KeyError:
                raise UserError(f"no open order {client_order_id}; `orders` lists the open ones") from None

    async def cancel_all(self, actor: str = "user", symbol: str | None = None) -> list[Order]:
        assert self.oms is not None
        await self.audit(actor, "cancel_all", {"symbol": symbol})
        out = []
        chosen = [o for o in self.oms.open_orders() if symbol is None or o.symbol == symbol]
        for order in [o for o in chosen if is_parent(o)]:  # first, so no child's end is taken for a failure
            await self.router.cancel(order, children=False)
            out.append(order)
        for order in chosen:  # `unknown` ones too: they may be working
            if not is_parent(order):
                await self.oms.cancel_at_venue(order, "cancelled by cancel all")
                out.append(order)
        await self.oms.flush()
        return [o.copy() for o in out]

    async def flatten(self, actor: str = "user", *, halt: bool = True) -> dict[str, Any]:
        """The kill switch: halt new entries, cancel every open order, then close every position
        at market. The halt is stored before anything is cancelled (a crash mid-way keeps it) and
        lasts until the breakers are reset: a strategy does not open again on its next candle.
        `halt=False`: a breaker's own flatten (`flatten_on_breaker`), whose breaker is the halt."""
        assert self.oms is not None
        await self.audit(actor, "flatten", {})
        if halt:
            self.risk.kill(actor, self.clock.now())
            if self.risk_journal is not None:
                await self.risk_journal.flush()
        self.bus.publish(RiskEvent(self.clock.now(), "kill_switch", f"flatten requested by {actor}"))
        cancelled = await self.cancel_all(actor)
        closing: list[Order] = []
        for pos in list(self.portfolio.open_positions()):
            side = Side.SELL if pos.quantity > 0 else Side.BUY
            req = OrderRequest(
                pos.symbol,
                side,
                abs(pos.quantity),
                OrderType.MARKET,
                venue=pos.venue,
                time_in_force=TimeInForce.IOC,
                reduce_only=True,
                source="kill_switch",
            )
            inst = self.instrument(pos.venue, pos.symbol)
            order = Order.from_request(req, self.new_id(), pos.venue, self.clock.now())
            if inst is None:
                continue
            closing.append(await self.oms.submit(order))
        await self.oms.flush()
        # Orders a venue has that the OMS does not know (placed elsewhere) go too.
        for name, venue in self.venues.items():
            with contextlib.suppress(Exception):
                for vo in await venue.fetch_open_orders():
                    if vo.client_order_id not in self.oms.orders or not self.oms.orders[vo.client_order_id].is_open:
                        now = self.clock.now()
                        await venue.cancel_order(
                            Order(
                                vo.client_order_id,
                                name,
                                vo.symbol,
                                Side(vo.side),
                                OrderType(vo.type),
                                Decimal(vo.quantity),
                                None,
                                None,
                                TimeInForce.GTC,
                                now,
                                now,
                                venue_order_id=vo.venue_order_id,
                            )
                        )
        if self.emulator is not None:
            await self.emulator.settle()
        left = [p.symbol for p in self.portfolio.open_positions()]
        result = {
            "cancelled": len(cancelled),
            "closing_orders": [o.client_order_id for o in closing],
            "still_open": left,
            # a closing order the venue or the checks refused (a venue down): why, by symbol
            "refused": {o.symbol: o.reason or o.status.value for o in closing if o.status is OrderStatus.REJECTED},
            # sent, outcome not known yet: cancelled if they are there, and settled as the venue says
            "unknown_orders": [o.client_order_id for o in self.oms.open_orders() if o.status is OrderStatus.UNKNOWN],
        }
        await self.audit(actor, "flatten_done", result)
        return result

    async def place_oco(self, first: OrderRequest, second: OrderRequest, actor: str = "user") -> list[Order]:
        """Two orders linked one-cancels-other: when one fills, the other is cancelled; never both."""
        first, origin = identify(first, actor)
        second, _ = identify(second, actor)
        oco = f"oco-{self.new_id()}"
        a_id, b_id = first.client_order_id or self.new_id(), second.client_order_id or self.new_id()
        if a_id == b_id:
            raise UserError(f"both legs have client order id {a_id}; give each its own")
        for cid in (first.client_order_id, second.client_order_id):
            if cid:
                await self._refuse_used_id(cid, actor)
        legs = [first.with_(oco_id=oco, client_order_id=a_id), second.with_(oco_id=oco, client_order_id=b_id)]
        placed = []
        for req in legs:
            order = await self._place(req, actor, origin)
            placed.append(order)
            if order.status.is_final and order.filled_quantity == 0:  # a refused leg takes the pair down
                for other in placed[:-1]:
                    with contextlib.suppress(KeyError):
                        await self.oms.cancel(other.client_order_id)  # type: ignore[union-attr]
                break
        return placed

    async def reset_breakers(self, which: str | None = None, actor: str = "user") -> list[str]:
        """Clear tripped circuit breakers (all or one: daily_loss, max_drawdown, consecutive_losses, kill_switch)."""
        try:
            cleared = self.risk.reset(which)  # stored at once: a crash right after keeps the reset
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        await self.audit(actor, "risk_reset", {"breaker": which or "all", "cleared": cleared})
        self.bus.publish(
            RiskEvent(
                self.clock.now(),
                "breaker_reset",
                f"breakers reset by {actor}: {', '.join(cleared) or 'none were tripped'}",
            )
        )
        return cleared


def _out_of_range(req: OrderRequest) -> str | None:
    """Why a number of `req` is unusable (NaN, Infinity, above 1e15), whichever front end or
    strategy sent it; zero and negative numbers are the risk checks' (bad_quantity, bad_price)."""
    for name in (
        "quantity", "price", "stop_price", "stop_loss", "take_profit", "trail_amount", "trail_percent", "leverage",
        "stop_loss_offset", "take_profit_offset",
    ):
        value = getattr(req, name)
        if value is not None and (not value.is_finite() or value > MAX_NUMBER):
            return f"{name.replace('_', ' ')} {value} is out of range (a finite number up to {MAX_NUMBER:,f})"
    return None


def _describe(order: Order) -> dict[str, Any]:
    return {
        "client_order_id": order.client_order_id,
        "venue": order.venue,
        "symbol": order.symbol,
        "side": str(order.side),  # a StrEnum's str is its value
        "type": str(order.type),
        "quantity": str(order.quantity),
        "price": None if order.price is None else str(order.price),
        "stop_price": None if order.stop_price is None else str(order.stop_price),
        "source": order.source,
    }
