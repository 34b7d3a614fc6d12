"""Order details (Enter on an order in the blotter): every field, its links (bracket parent,
OCO), and how the engine handles it when the venue cannot (`meta["emulated"]`, held or not)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from tui_trader.core.orders import Order


HIDDEN_META = frozenset({"emulated", "held"})


def order_state(order: Order) -> str:
    """`held` for orders the engine keeps back (bracket children, OCO legs), else the status."""
    return order.state


def order_info(order: Order) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    state = order_state(order)
    grid.add_row("Id", order.client_order_id)
    if order.venue_order_id:
        grid.add_row("Venue id", f"{order.venue_order_id} ({order.venue})")
    else:
        grid.add_row("Venue", f"{order.venue} · not at the venue")
    grid.add_row("Status", Text(state, style="bold"))
    grid.add_row("Side", order.side.value)
    grid.add_row("Symbol", order.symbol)
    grid.add_row("Type", f"{order.type.value} · {order.time_in_force.value}")
    grid.add_row("Quantity", f"{order.quantity.normalize():f} (filled {order.filled_quantity.normalize():f})")
    if order.price is not None:
        grid.add_row("Price", f"{order.price.normalize():f}")
    if order.stop_price is not None:
        grid.add_row("Stop", f"{order.stop_price.normalize():f}")
    if order.average_price is not None:
        grid.add_row("Avg fill", f"{order.average_price.normalize():f}")
    grid.add_row("Source", order.source + (f" ({order.strategy})" if order.strategy else ""))
    if order.tag:
        grid.add_row("Tag", order.tag)
    if order.parent_id:
        grid.add_row("Parent", order.parent_id)
    if order.oco_id:
        grid.add_row("OCO group", order.oco_id)
    if order.reduce_only or order.post_only:
        grid.add_row(
            "Flags", " ".join(f for f, on in (("reduce-only", order.reduce_only), ("post-only", order.post_only)) if on)
        )
    grid.add_row("Created", order.created_at.isoformat(timespec="seconds"))
    grid.add_row("Updated", order.updated_at.isoformat(timespec="seconds"))
    if order.reason:
        grid.add_row("Reason", order.reason)
    emulated = order.meta.get("emulated")
    if emulated:
        grid.add_row("Emulated", Text(str(emulated), style="bold"))
    if order.meta.get("held"):
        grid.add_row("Held", "the engine holds this order and sends it when its condition is met")
    for key, value in order.meta.items():
        if key not in HIDDEN_META and value not in (None, "", [], {}):
            grid.add_row(key.replace("_", " ").capitalize(), str(value))
    return grid


class OrderInfoScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="order_info_close")]

    def __init__(self, order: Order) -> None:
        super().__init__()
        self.order = order

    def compose(self) -> ComposeResult:
        with Vertical(id="order-info-box"):
            yield Static(f"[b]Order {self.order.client_order_id}[/]  [dim]Esc closes[/]", id="order-info-title")
            with VerticalScroll():
                yield Static(order_info(self.order), id="order-info-body")

    def action_close(self) -> None:
        self.dismiss(None)
