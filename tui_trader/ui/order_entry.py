"""Orders from the keyboard: the ticket, one-key orders at the touch, closing a position,
modify, cancel, cancel all and the kill switch.

Every path that sends or changes an order asks first (ConfirmScreen), and the dialog opens at
once while the engine's own checks answer as a dry run (`order.check`, `order.modify` with
dry_run): what the engine would refuse is shown with its reason and never offered.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.worker import Worker

from tui_trader.core.enums import OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.errors import UserError
from tui_trader.ui import format as fmt
from tui_trader.ui import screens  # the dialogs load when first opened (screens/__init__.py)
from tui_trader.ui.panes import BlotterPane, PositionsPane
from tui_trader.ui.panes.statusbar import StatusBar
from tui_trader.ui.workstation_state import Verdict, WorkstationState

if TYPE_CHECKING:
    from tui_trader.core.orders import Order, OrderRequest
    from tui_trader.core.positions import Position

GC_HOLD_S = 2.0  # the garbage collector is held off at most this long for a confirmation


class OrderEntry(WorkstationState):
    """Sending, changing and cancelling orders; every path asks first."""

    _gc_held = False  # hold_gc disabled the garbage collector; release_gc enables it again

    # -- confirming --------------------------------------------------------------------------

    async def confirm(self, screen: screens.ConfirmScreen, check: Awaitable[Verdict] | None = None) -> bool:
        """Show `screen` now; feed it the engine's answer when it comes. True when confirmed.

        From a ticket the dialog takes that screen's place; from the docked command line it
        opens over the workstation while the line still has the keyboard, and the line closes
        once the dialog is on screen (screens/hand_off.py)."""
        answer = screen.answered()
        if getattr(self.screen, "handed_off", False):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)
        if check is None:
            return bool(await answer)
        task = asyncio.ensure_future(check)

        def answered(t: asyncio.Future[Verdict]) -> None:
            if not t.cancelled() and t.exception() is None:
                screen.checked(*t.result())

        task.add_done_callback(answered)
        try:
            return bool(await answer)
        finally:
            task.cancel()

    async def engine_check(self, request: OrderRequest) -> Verdict:
        """The engine's pre-trade checks as a dry run; a check that cannot run is a refusal."""
        try:
            answer = await self.client.call("order.check", request=request)
        except Exception as exc:  # unreachable daemon, old daemon without the command...
            return False, f"could not check it with the engine ({exc}); nothing was sent"
        if answer.get("ok"):
            route = f"\n{answer['route']}" if answer.get("route") else ""  # `auto`: where it would go now
            passes = f"✓ passes the engine's risk checks ({answer.get('venue')}){route}"
            return True, Text(passes, style=self.palette.up)
        return False, str(answer.get("message") or answer.get("code") or "refused")

    def arm_s(self) -> float:
        return self.ui.confirm_arm_ms / 1000

    # -- sending -----------------------------------------------------------------------------

    def submit_order(
        self, request: OrderRequest, title: str = "", oco: OrderRequest | None = None
    ) -> Worker[Order | None]:
        """Confirm (while the engine checks), confirm again when the price is far from the mid,
        then place and report. With `oco`, the two legs go as one-cancels-other (order.oco).

        Python's cyclic garbage collector waits until the confirmation is on screen: a full
        collection of the workstation's heap takes 60-240 ms, and one landing between Enter
        and the dialog's first frame was the worst of the tail. The dialog cannot be confirmed
        for its first 400 ms anyway, so the collection runs then instead."""
        self.hold_gc()
        return self._order_worker(request, title, oco)

    @work(exclusive=True, group="order", exit_on_error=False)
    async def _order_worker(self, request: OrderRequest, title: str, oco: OrderRequest | None) -> Order | None:
        try:
            return await self._submit_order(request, title, oco)
        finally:
            self.release_command_line()
            self.release_gc()

    def hold_gc(self) -> None:
        """Hold the garbage collector off until release_gc (at the latest GC_HOLD_S from now)."""
        if gc.isenabled():
            gc.disable()
            self._gc_held = True
            self.set_timer(GC_HOLD_S, self.release_gc)

    def release_gc(self) -> None:
        if self._gc_held:
            self._gc_held = False
            gc.enable()

    def release_command_line(self) -> None:
        """Close a command line or ticket that handed its order over but saw no confirmation
        open (the order was not valid, or the worker was cancelled): screens/hand_off.py."""
        if getattr(self.screen, "handed_off", False):
            self.screen.dismiss(None)
        if self.command_line.handed_off:
            self.command_line.close()

    def on_confirm_screen_shown(self, event: screens.ConfirmScreen.Shown) -> None:
        """The dialog is on screen: the command line that handed it its order closes under it
        (after the dialog's first frame, so closing it costs the dialog nothing), and the
        garbage collector may run again."""
        self.release_gc()
        if self.command_line.handed_off:
            self.command_line.close()

    async def _submit_order(self, request: OrderRequest, title: str, oco: OrderRequest | None) -> Order | None:
        if request.venue is None and self.venue and request.symbol == self.symbol:
            request = request.with_(venue=self.venue)  # the active symbol trades where it is shown
            oco = oco.with_(venue=self.venue) if oco is not None else None
        from tui_trader.ui.order_preview import preview_order  # with the first order, after the first paint

        inst, ticker = self.lookup(request.symbol, request.venue)
        preview = preview_order(
            request, inst, ticker, fee_rate=self.ui.fee_estimate, far_pct=self.ui.confirm_far_price_pct
        )
        other = None if oco is None else preview_order(oco, inst, ticker, fee_rate=self.ui.fee_estimate, far_pct=1e9)
        status = self.query_one(StatusBar)
        errors = {**(other.errors if other else {}), **preview.errors}
        if errors:
            message = "; ".join(errors.values())
            self.notify(message, title="Order not sent", severity="error")
            status.say(f"order not sent: {message}", self.palette.error)
            return None
        nd = inst.price_decimals if inst else 2
        details: Any = screens.order_details(preview, nd)
        describe = preview.describe
        if other is not None:
            describe += f" OCO {other.describe}"
            note = Text(f"\nOne cancels the other: {other.describe}; when one fills the engine cancels the other.")
            details = Group(details, note)
        screen = screens.ConfirmScreen(
            title or f"Send {describe}?",
            details,
            yes="Send",
            checking="checking with the engine's risk checks",
            arm_s=self.arm_s(),
        )
        ok = await self.confirm(screen, self.engine_check(request) if oco is None else self._check_pair(request, oco))
        if screen.state == "refused":
            status.say(f"order not sent: {screen.refusal}", self.palette.error)
            return None
        if ok and preview.far:
            warning = Text.assemble(
                ("Price far from the market\n\n", "bold"),
                f"{fmt.price(preview.price, nd)} is {fmt.pct(preview.distance, signed=False)} from the mid "
                f"{fmt.price(preview.mid, nd)} (threshold {self.ui.confirm_far_price_pct * 100:g}%).\n",
                "Confirm again to send it anyway.",
            )
            again = screens.ConfirmScreen(
                "Second confirmation", warning, yes="Send anyway", danger=True, arm_s=self.arm_s()
            )
            ok = await self.confirm(again)
        if not ok:
            status.say("order not sent")
            return None
        try:
            if oco is None:
                order = await self.client.place(request)
                legs = [order]
            else:  # in-process: Orders; attached to a daemon: their JSON
                legs = [_as_order(o) for o in await self.client.call("order.oco", first=request, second=oco)]
                order = legs[0]
        except UserError as exc:
            self.notify(str(exc), title="Order not sent", severity="error")
            status.say(str(exc), self.palette.error)
            return None
        for leg in legs:
            self._mine.add(leg.client_order_id)
        self.last_order = order
        rejected = [leg for leg in legs if leg.status is OrderStatus.REJECTED]
        if rejected:
            self.show_reject(rejected[0])
        else:
            placed = ", ".join(f"{leg.status.value} ({leg.client_order_id})" for leg in legs)
            msg = f"{describe} → {placed}"
            self.notify(msg, title="Order sent", timeout=4)
            status.say(msg)
        await self.refresh_snapshot()
        return order

    async def _check_pair(self, first: OrderRequest, second: OrderRequest) -> Verdict:
        """Both legs of an OCO through the engine's dry run; the first refusal is the answer."""
        for leg in (first, second):
            ok, said = await self.engine_check(leg)
            if not ok:
                return ok, said
        return True, Text("✓ both legs pass the engine's risk checks", style=self.palette.up)

    def show_reject(self, order: Order) -> None:
        why = order.reason or "no reason given"
        text = f"REJECTED {order.side.value} {order.quantity.normalize():f} {order.symbol}: {why}"
        self.notify(text, title="Order rejected", severity="error", timeout=10)
        self.query_one(StatusBar).say(text, f"bold {self.palette.error}")

    def action_ticket(self, side: str, order_type: str = "limit") -> None:
        if not self.symbol:
            self.notify("no symbol yet: the engine is still starting", severity="warning")
            return

        def done(result: OrderRequest | tuple[OrderRequest, OrderRequest] | None) -> bool:
            if isinstance(result, tuple):  # with an OCO leg
                self.submit_order(result[0], oco=result[1])
            elif result is not None:
                self.submit_order(result)
            return result is not None

        venues = [v.name for v in self.snapshot.venues] if self.snapshot is not None else []
        # A reviewed order is handed over in place (hand_off.py): no dismiss callback needed.
        ticket = screens.TicketScreen(
            Side(side), self.symbol, self.lookup, OrderType(order_type), venues=venues, run_in_place=done
        )
        self.push_screen(ticket)

    def action_quick_order(self, side: str) -> None:
        """One key: the default size at the touch (a buy at the ask, a sell at the bid) as an
        immediate-or-cancel limit, so nothing is left resting; confirmed like any order."""
        request = self.quick_order(Side(side))
        if isinstance(request, str):
            self.notify(request, severity="warning")
            self.query_one(StatusBar).say(request, self.palette.warning)
            return
        self.submit_order(request, f"One-key {side}: {request.quantity.normalize():f} {request.symbol} at the touch?")

    def quick_order(self, side: Side) -> OrderRequest | str:
        """The one-key order for the active symbol, or why there is none."""
        inst, ticker = self.lookup(self.symbol, self.venue)
        if inst is None or ticker is None:
            return f"no quote for {self.symbol or 'the active symbol'} yet"
        touch = ticker.ask if side is Side.BUY else ticker.bid
        if not touch:
            return f"no {'ask' if side is Side.BUY else 'bid'} for {self.symbol}"
        given = self.ui.quick_size.get(self.symbol)
        if given is not None:
            qty = given
        else:
            raw = Decimal(str(self.ui.quick_notional)) / Decimal(str(touch))
            qty = (raw / inst.lot_size).to_integral_value(ROUND_DOWN) * inst.lot_size
        if qty <= 0 or qty < inst.min_qty:
            return f"the default size is below {self.symbol}'s minimum; set ui.quick_size"
        from tui_trader.core.orders import OrderRequest  # the order types load after the first paint

        return OrderRequest(
            self.symbol,
            side,
            qty,
            OrderType.LIMIT,
            price=inst.round_price(Decimal(str(touch))),
            time_in_force=TimeInForce.IOC,
            source="manual",
        )

    def open_position(self, symbol: str) -> Position | None:
        positions = self.snapshot.positions if self.snapshot else []
        return next((p for p in positions if p.symbol == symbol and not p.is_flat), None)

    def working(self, symbol: str | None = None) -> list[Order]:
        """Working orders (of `symbol`, or all)."""
        return [o for o in (self.snapshot.open_orders if self.snapshot else []) if symbol in (None, o.symbol)]

    def close_position(self, symbol: str) -> None:
        """Close one position at market (reduce-only), after the usual confirmation."""
        pos = self.open_position(symbol)
        if pos is None:
            message = f"no open position in {symbol}"
            self.notify(message, severity="warning")
            self.query_one(StatusBar).say(message, self.palette.warning)
            return
        side = Side.SELL if pos.quantity > 0 else Side.BUY
        from tui_trader.core.orders import OrderRequest  # the order types load after the first paint

        request = OrderRequest(
            symbol, side, abs(pos.quantity), OrderType.MARKET, venue=pos.venue, reduce_only=True, source="manual"
        )
        self.submit_order(request, f"Close {symbol}: {side.value} {abs(pos.quantity).normalize():f} at market?")

    def on_positions_pane_close_requested(self, event: PositionsPane.CloseRequested) -> None:
        self.close_position(event.symbol)

    # -- changing and cancelling -------------------------------------------------------------

    @work(exclusive=True, group="cancel", exit_on_error=False)
    async def cancel_order(self, client_order_id: str) -> None:
        status = self.query_one(StatusBar)
        try:
            order = await self.client.cancel(client_order_id)
        except UserError as exc:
            self.notify(str(exc), severity="error")
            status.say(str(exc), self.palette.error)
            return
        msg = f"cancel {order.client_order_id}: {order.status.value}"
        self.notify(msg, title="Cancel")
        status.say(msg)
        await self.refresh_snapshot()

    async def _modify_check(self, params: dict[str, Any]) -> Verdict:
        try:
            await self.client.call("order.modify", dry_run=True, **params)
        except Exception as exc:
            return False, str(exc)
        return True, Text("✓ the engine accepts the change", style=self.palette.up)

    @work(exclusive=True, group="modify", exit_on_error=False)
    async def modify_order(self, client_order_id: str, price: Decimal | None, quantity: Decimal | None) -> None:
        status = self.query_one(StatusBar)
        params = {"id": client_order_id, "price": price and str(price), "quantity": quantity and str(quantity)}
        order = next(
            (o for o in (self.snapshot.open_orders if self.snapshot else []) if o.client_order_id == client_order_id),
            None,
        )
        body = _modify_body(client_order_id, order, price, quantity)
        screen = screens.ConfirmScreen(
            f"Modify {fmt.short_id(client_order_id, 14)}?",
            body,
            yes="Modify",
            checking="checking the change with the engine",
            arm_s=self.arm_s(),
        )
        if not await self.confirm(screen, self._modify_check(params)):
            refused = f": {screen.refusal}" if screen.refusal else ""
            status.say(f"order not changed{refused}", self.palette.error if refused else "")
            return
        try:
            changed = await self.client.call("order.modify", **params)
        except UserError as exc:
            self.notify(str(exc), severity="error")
            status.say(str(exc), self.palette.error)
            return
        order_id = changed.client_order_id if hasattr(changed, "client_order_id") else changed["client_order_id"]
        meta = changed.meta if hasattr(changed, "meta") else changed.get("meta", {})
        from tui_trader.core.orders import legs_note  # the order types load after the first paint

        msg = (
            f"modified {client_order_id}"
            + (f" -> {order_id}" if order_id != client_order_id else "")
            + legs_note(meta)  # a bracket's stop-loss and take-profit came along
        )
        self.notify(msg, title="Modify")
        status.say(msg)
        await self.refresh_snapshot()

    def on_blotter_pane_cancel_requested(self, event: BlotterPane.CancelRequested) -> None:
        if not event.is_open:
            self.notify(f"order {event.client_order_id} is not working", severity="warning")
            return
        self.cancel_order(event.client_order_id)

    @work(exclusive=True, group="cancel", exit_on_error=False)
    async def action_cancel_all(self, symbol: str | None = None) -> None:
        working = self.working(symbol)
        if not working:
            self.notify("no working orders", severity="warning")
            return
        what = f"{len(working)} working order(s)" + (f" on {symbol}" if symbol else "")
        screen = screens.ConfirmScreen("Cancel all?", f"Cancel {what}?", yes="Cancel them", arm_s=self.arm_s())
        try:
            if not await self.confirm(screen):
                return
        finally:
            self.release_command_line()  # `:cancel` handed over: closed under the dialog, or now
        cancelled = await self.client.cancel_all(symbol)
        self.notify(f"cancel sent for {len(cancelled)} order(s)", title="Cancel all")
        self.query_one(StatusBar).say(f"cancel all: {len(cancelled)} order(s)")
        await self.refresh_snapshot()

    @work(exclusive=True, group="flatten", exit_on_error=False)
    async def action_kill_switch(self) -> None:
        from tui_trader.core.orders import as_placed  # the order types load after the first paint

        snap = self.snapshot
        n_orders = len(as_placed(snap.open_orders)) if snap else 0
        n_pos = len(snap.positions) if snap else 0
        body = Text.assemble(
            ("KILL SWITCH\n\n", "bold"),
            f"Cancel {n_orders} working order(s) and close {n_pos} position(s) at market?\n\n",
            "New entries, strategies' too, stay refused until you reset it (R in the Risk pane).",
        )
        screen = screens.ConfirmScreen("Flatten everything", body, yes="Flatten", danger=True, arm_s=self.arm_s())
        try:
            if not await self.confirm(screen):
                return
        finally:
            self.release_command_line()  # `:flatten` handed over: closed under the dialog, or now
        result = await self.client.flatten()
        closing = len(result.get("closing_orders", []))
        msg = f"flatten: {result.get('cancelled', 0)} cancelled, {closing} closing order(s); entries halted"
        left = result.get("still_open") or []
        if left:
            msg += f"; still open: {', '.join(left)}"
        refused = result.get("refused") or {}
        if refused:  # the venue down: the trader flattens again once it is back
            msg += " (refused: " + "; ".join(f"{sym}: {why}" for sym, why in refused.items()) + "; flatten again)"
        self.notify(msg, title="Kill switch", severity="warning" if left else "information", timeout=8)
        self.query_one(StatusBar).say(msg, self.palette.warning)
        await self.refresh_snapshot()


def _modify_body(cid: str, order: Order | None, price: Decimal | None, quantity: Decimal | None) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_row("Order", cid)
    if order is not None:
        grid.add_row("", f"{order.side.value} {order.symbol} {order.type.value}")
    old_price = order.price if order is not None else None
    old_qty = order.quantity if order is not None else None
    if price is not None:
        grid.add_row("Price", f"{_dec(old_price)} → {_dec(price)}")
    if quantity is not None:
        grid.add_row("Quantity", f"{_dec(old_qty)} → {_dec(quantity)}")
    return grid


def _dec(value: Decimal | None) -> str:
    return "?" if value is None else f"{value.normalize():f}"


def _as_order(value: Any) -> Order:
    from tui_trader.core.orders import Order  # the order types load after the first paint

    if isinstance(value, Order):
        return value
    from tui_trader.daemon.protocol import decode_dataclass

    return decode_dataclass(Order, value)
