"""Yes/no confirmation: orders, the far-price second check, flatten, quit. y/Enter yes, n/Esc no."""

from __future__ import annotations

import io

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui_trader.core.enums import OrderType
from tui_trader.ui import format as fmt
from tui_trader.ui.order_preview import OrderPreview


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm_yes", priority=True),
        Binding("n,escape", "answer(False)", "No", id="confirm_no", priority=True),
    ]

    def __init__(
        self, title: str, body: RenderableType, *, yes: str = "Yes (y)", danger: bool = False
    ) -> None:
        super().__init__(classes="danger" if danger else "")
        self.title_text = title
        self.body = body
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.title_text, id="confirm-title")
            yield Static(self.body, id="confirm-body")
            with Horizontal(id="confirm-buttons"):
                yield Button(
                    self.yes,
                    id="yes",
                    variant="error" if self.has_class("danger") else "success",
                    compact=True,
                )
                yield Button("No (n/Esc)", id="no", compact=True)

    @property
    def body_text(self) -> str:
        """The body as plain text (tests, logs)."""
        from rich.console import Console

        console = Console(width=80, record=True, file=io.StringIO())
        console.print(self.body)
        return console.export_text()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


def order_details(preview: OrderPreview, price_decimals: int = 2) -> RenderableType:
    """The confirmation body: side, quantity, symbol, price, notional, estimated fee..."""
    r = preview.request
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(no_wrap=True)
    side_style = "bold green" if r.side.value == "buy" else "bold red"
    grid.add_row("Side", Text(r.side.value.upper(), style=side_style))
    grid.add_row("Quantity", f"{r.quantity.normalize():f}")
    grid.add_row("Symbol", r.symbol)
    grid.add_row("Type", f"{r.type.value} · {r.time_in_force.value}")
    price_label = "Price" if r.type is not OrderType.MARKET else "Price (est.)"
    grid.add_row(price_label, fmt.price(preview.price, price_decimals))
    if r.stop_price is not None and r.price is not None:
        grid.add_row("Stop", fmt.price(r.stop_price, price_decimals))
    grid.add_row("Notional", f"{fmt.money(preview.notional)} {preview.quote}".strip())
    grid.add_row(
        "Est. fee",
        f"{fmt.money(preview.fee)} {preview.quote} ({preview.fee_rate * 100:.3g}%)".strip(),
    )
    if r.stop_loss is not None:
        grid.add_row("Stop-loss", fmt.price(r.stop_loss, price_decimals))
    if r.take_profit is not None:
        grid.add_row("Take-profit", fmt.price(r.take_profit, price_decimals))
    if preview.mid is not None:
        dist = (
            f" ({fmt.pct(preview.distance, signed=False)} away)"
            if preview.distance is not None
            else ""
        )
        grid.add_row("Mid", fmt.price(preview.mid, price_decimals) + dist)
    return grid
