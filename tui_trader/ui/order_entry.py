"""Orders from the keyboard: the ticket, confirmation and sending, cancel, modify, cancel all and
the kill switch. Every order ends in `submit_order`: a confirmation, then the engine."""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import work

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.core.orders import Order, OrderRequest, legs_note
from tui_trader.ui import format as fmt
from tui_trader.ui.order_preview import preview_order
from tui_trader.ui.panes import BlotterPane
from tui_trader.ui.panes.statusbar import StatusBar
from tui_trader.ui.screens import ConfirmScreen, TicketScreen, order_details
from tui_trader.ui.workstation_state import WorkstationState


class OrderEntry(WorkstationState):
    """Sending, changing and cancelling orders; every path asks first."""

    @work(exclusive=True, group="order", exit_on_error=False)
    async def submit_order(self, request: OrderRequest) -> Order | None:
        """Confirm (twice when the price is far from the mid), then place and report."""
        if request.venue is None and self.venue and request.symbol == self.symbol:
            request = request.with_(venue=self.venue)  # the active symbol trades where it is shown
        inst, ticker = self.lookup(request.symbol, request.venue)
        preview = preview_order(
            request,
            inst,
            ticker,
            fee_rate=self.ui.fee_estimate,
            far_pct=self.ui.confirm_far_price_pct,
        )
        status = self.query_one(StatusBar)
        if preview.errors:
            message = "; ".join(preview.errors.values())
            self.notify(message, title="Order not sent", severity="error")
            status.say(f"order not sent: {message}", self.palette.error)
            return None
        nd = inst.price_decimals if inst else 2
        ok = await self.push_screen_wait(
            ConfirmScreen(f"Send {preview.describe}?", order_details(preview, nd), yes="Send (y/Enter)")
        )
        if ok and preview.far:
            warning = Text.assemble(
                ("Price far from the market\n\n", "bold"),
                f"{fmt.price(preview.price, nd)} is {fmt.pct(preview.distance, signed=False)} from the mid "
                f"{fmt.price(preview.mid, nd)} (threshold {self.ui.confirm_far_price_pct * 100:g}%).\n",
                "Press y again to send it anyway.",
            )
            ok = await self.push_screen_wait(
                ConfirmScreen("Second confirmation", warning, yes="Send anyway (y)", danger=True)
            )
        if not ok:
            status.say("order not sent")
            return None
        try:
            order = await self.client.place(request)
        except UserError as exc:
            self.notify(str(exc), title="Order not sent", severity="error")
            status.say(str(exc), self.palette.error)
            return None
        self._mine.add(order.client_order_id)
        self.last_order = order
        if order.status is OrderStatus.REJECTED:
            self.show_reject(order)
        else:
            msg = f"{preview.describe} → {order.status.value} ({order.client_order_id})"
            self.notify(msg, title="Order sent", timeout=4)
            status.say(msg)
        await self.refresh_snapshot()
        return order

    def show_reject(self, order: Order) -> None:
        why = order.reason or "no reason given"
        text = f"REJECTED {order.side.value} {order.quantity.normalize():f} {order.symbol}: {why}"
        self.notify(text, title="Order rejected", severity="error", timeout=10)
        self.query_one(StatusBar).say(text, f"bold {self.palette.error}")

    def action_ticket(self, side: str, order_type: str = "limit") -> None:
        if not self.symbol:
            self.notify("no symbol yet: the engine is still starting", severity="warning")
            return

        def done(request: OrderRequest | None) -> None:
            if request is not None:
                self.submit_order(request)

        self.push_screen(TicketScreen(Side(side), self.symbol, self.lookup, OrderType(order_type)), done)

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

    @work(exclusive=True, group="modify", exit_on_error=False)
    async def modify_order(self, client_order_id: str, price: Decimal | None, quantity: Decimal | None) -> None:
        status = self.query_one(StatusBar)
        params = {"id": client_order_id, "price": price and str(price), "quantity": quantity and str(quantity)}
        try:
            order = await self.client.call("order.modify", **params)
        except UserError as exc:
            self.notify(str(exc), severity="error")
            status.say(str(exc), self.palette.error)
            return
        order_id = order.client_order_id if hasattr(order, "client_order_id") else order["client_order_id"]
        meta = order.meta if hasattr(order, "meta") else order.get("meta", {})
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
        working = [o for o in (self.snapshot.open_orders if self.snapshot else []) if symbol in (None, o.symbol)]
        if not working:
            self.notify("no working orders", severity="warning")
            return
        what = f"{len(working)} working order(s)" + (f" on {symbol}" if symbol else "")
        if not await self.push_screen_wait(ConfirmScreen("Cancel all?", f"Cancel {what}?", yes="Cancel them (y)")):
            return
        cancelled = await self.client.cancel_all(symbol)
        self.notify(f"cancel sent for {len(cancelled)} order(s)", title="Cancel all")
        self.query_one(StatusBar).say(f"cancel all: {len(cancelled)} order(s)")
        await self.refresh_snapshot()

    @work(exclusive=True, group="flatten", exit_on_error=False)
    async def action_kill_switch(self) -> None:
        snap = self.snapshot
        n_orders = len(snap.open_orders) if snap else 0
        n_pos = len(snap.positions) if snap else 0
        body = Text.assemble(
            ("KILL SWITCH\n\n", "bold"),
            f"Cancel {n_orders} working order(s) and close {n_pos} position(s) at market?",
        )
        if not await self.push_screen_wait(ConfirmScreen("Flatten everything", body, yes="Flatten (y)", danger=True)):
            return
        result = await self.client.flatten()
        closing = len(result.get("closing_orders", []))
        msg = f"flatten: {result.get('cancelled', 0)} cancelled, {closing} closing order(s)"
        left = result.get("still_open") or []
        if left:
            msg += f"; still open: {', '.join(left)}"
        self.notify(msg, title="Kill switch", severity="warning" if left else "information", timeout=8)
        self.query_one(StatusBar).say(msg, self.palette.warning)
        await self.refresh_snapshot()
