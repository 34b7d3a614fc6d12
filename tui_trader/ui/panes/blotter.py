"""Orders and fills blotter: working orders first (cancel the selected one with `c`, Enter for
its details), then the latest finished ones with their status and reason, and the recent fills.

Orders the engine holds back (bracket children waiting for their entry, the held leg of an
OCO pair) show as `held`, not `working`: they are not at the venue yet. A routed order
(`--venue auto`) is one row (its id in the accent colour) with its average fill; its children,
one per venue, are behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from tui_trader.core.enums import OrderStatus, OrderType
from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.screens.order_info import OrderInfoScreen, order_state
from tui_trader.ui.tables import Cell, FittedTable, LiveTable
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

if TYPE_CHECKING:
    from tui_trader.core.instrument import Instrument
    from tui_trader.core.orders import Order

ORDER_COLUMNS = (
    ("Id", 11, "left"),
    ("Time", 8, "left"),
    ("Side", 4, "left"),
    ("Symbol", 9, "left"),
    ("Type", 6, "left"),
    ("Qty", 9, "right"),
    ("Filled", 9, "right"),
    ("Price", 10, "right"),
    ("Status", 9, "left"),
    ("Reason", 30, "left"),
)
FILL_COLUMNS = (
    ("Time", 8, "left"),
    ("Side", 4, "left"),
    ("Symbol", 9, "left"),
    ("Qty", 9, "right"),
    ("Price", 10, "right"),
    ("Fee", 8, "right"),
    ("Liq", 5, "left"),
    ("Order", 11, "left"),
)
FINISHED_SHOWN = 15
FILLS_SHOWN = 30


class BlotterPane(Pane):
    KEY = "blotter"
    TITLE = "Orders & fills"
    TAB = "Orders"

    BINDINGS = [
        Binding(
            "c,delete",
            "cancel_selected",
            "Cancel order",
            id="cancel_order",
            tooltip="cancel the order under the cursor",
        ),
        Binding(
            "m",
            "modify_selected",
            "Modify order",
            id="modify_order",
            tooltip="change the price or quantity of the order under the cursor",
        ),
    ]

    class ModifyRequested(Message):
        def __init__(self, order: Order) -> None:
            super().__init__()
            self.order = order

    class CancelRequested(Message):
        def __init__(self, client_order_id: str, is_open: bool) -> None:
            super().__init__()
            self.client_order_id = client_order_id
            self.is_open = is_open

    def __init__(self) -> None:
        super().__init__()
        self._open_ids: set[str] = set()
        self._orders_by_id: dict[str, Order] = {}

    def compose(self) -> ComposeResult:
        self._orders_table = LiveTable(id="orders-table", cursor_type="row")
        fills = LiveTable(id="fills-table", cursor_type="row")
        # Narrow panes keep id, side, symbol, quantity, price and status; the reason takes the rest.
        self._orders = FittedTable(
            self._orders_table, ORDER_COLUMNS, drop=("Time", "Filled", "Type", "Id"), flex="Reason"
        )
        self._fills = FittedTable(fills, FILL_COLUMNS, drop=("Liq", "Order", "Fee", "Time"))
        yield self._orders_table
        yield Static("Fills", id="fills-title", classes="subtitle")
        yield fills

    def update_view(self, view: View) -> None:
        snap, pal = view.snapshot, view.palette
        open_orders = sorted(snap.open_orders, key=lambda o: o.created_at, reverse=True)
        self._open_ids = {o.client_order_id for o in open_orders}
        finished = [o for o in snap.recent_orders if not o.is_open]
        finished.sort(key=lambda o: o.updated_at, reverse=True)
        rows: dict[str, list[Cell]] = {}
        # a routed order (`--venue auto`) is one row: its children stay behind it (Enter shows them)
        open_orders = [o for o in open_orders if not o.meta.get("route_parent")]
        finished = [o for o in finished if not o.meta.get("route_parent")]
        shown = [*open_orders, *finished[:FINISHED_SHOWN]]
        self._orders_by_id = {o.client_order_id: o for o in shown}
        for order in shown:
            rows[order.client_order_id] = self._order_row(order, snap.instrument(order.symbol, order.venue), pal)
        self._orders.fit()
        self._orders.sync(rows)
        fill_rows: dict[str, list[Cell]] = {}
        for f in reversed(snap.fills[-FILLS_SHOWN:]):
            inst = snap.instrument(f.symbol, f.venue)
            side_style = pal.up if f.side.value == "buy" else pal.down
            fill_rows[f"{f.venue}:{f.fill_id}"] = [
                fmt.clock(f.ts),
                (f.side.value, side_style),
                f.symbol,
                fmt.qty(f.quantity, inst.qty_decimals if inst else 4),
                fmt.price(f.price, inst.price_decimals if inst else 2),
                fmt.money(f.quote_fee),
                f.liquidity.value,
                fmt.short_id(f.client_order_id, 11),
            ]
        self._fills.fit()
        self._fills.sync(fill_rows)
        held = sum(1 for o in open_orders if o.meta.get("held"))
        title = f"Orders & fills · {len(open_orders) - held} working"
        self.set_title(title + (f" · {held} held" if held else ""))

    def _order_row(self, o: Order, inst: Instrument | None, pal: Palette) -> list[Cell]:
        nd, qd = (inst.price_decimals, inst.qty_decimals) if inst else (2, 4)
        px = o.price if o.price is not None else o.stop_price
        shown_px = "mkt" if o.type is OrderType.MARKET and px is None else fmt.price(px, nd)
        routed = isinstance(o.meta.get("route"), dict)
        if routed and o.average_price is not None:  # one row for the route: its average fill
            shown_px = "~" + fmt.price(o.average_price, nd)
        status_style = {
            OrderStatus.REJECTED: f"bold {pal.error}",
            OrderStatus.FILLED: pal.up,
            OrderStatus.CANCELLED: pal.muted,
            OrderStatus.EXPIRED: pal.muted,
            OrderStatus.UNKNOWN: f"bold reverse {pal.warning}",  # sent, not confirmed: looked up
        }.get(o.status, f"bold {pal.accent}")
        state = order_state(o)
        if state == "held":
            status_style = f"italic {pal.warning}"
        return [
            fmt.short_id(o.client_order_id, 11) if not routed else (fmt.short_id(o.client_order_id, 11), pal.accent),
            fmt.clock(o.created_at),
            (o.side.value, pal.up if o.side.value == "buy" else pal.down),
            o.symbol,
            o.type.value,
            fmt.qty(o.quantity, qd),
            fmt.qty(o.filled_quantity, qd),
            shown_px,
            (state, status_style),
            (o.reason or "", {OrderStatus.REJECTED: pal.error, OrderStatus.UNKNOWN: pal.warning}.get(o.status, "")),
        ]

    def action_cancel_selected(self) -> None:
        key = self._orders.selected_key()
        if key is None:
            self.notify("no order selected", severity="warning")
            return
        self.post_message(self.CancelRequested(key, key in self._open_ids))

    def action_modify_selected(self) -> None:
        key = self._orders.selected_key()
        order = self._orders_by_id.get(key) if key is not None else None
        if order is None or key not in self._open_ids:
            self.notify("select a working order to modify", severity="warning")
            return
        self.post_message(self.ModifyRequested(order))

    @on(DataTable.RowSelected, "#orders-table")
    def _show_details(self, event: DataTable.RowSelected) -> None:
        event.stop()
        order = self._orders_by_id.get(str(event.row_key.value))
        if order is not None:
            self.app.push_screen(OrderInfoScreen(order))

    def select_order(self, client_order_id: str) -> bool:
        """Put the cursor on an order's row (tests, palette)."""
        keys = list(self._orders.rows)
        if client_order_id not in keys:
            return False
        table = self._orders_table
        table.move_cursor(row=keys.index(client_order_id), animate=False)
        table.focus()
        return True
