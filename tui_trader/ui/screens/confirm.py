"""Yes/no confirmation for everything that sends or changes an order, quits or flattens.

It cannot be answered by keys typed before it was shown:
- keys that arrived before the dialog was painted are dropped (the app asks `typed_before`);
- the confirm key is ctrl+y, which is no letter of the command grammar, or Enter (or a click)
  on the Send button, which is disabled until the dialog has been visible for `arm_s` and
  starts unfocused (focus starts on No, so a stray Enter answers no);
- for orders the dialog opens at once in a "checking…" state while the engine's dry run
  (`order.check`) answers; only a passing check enables Send, a refusal shows its reason and
  offers nothing to confirm.
n or Esc answers no at any time after it is shown.
"""

from __future__ import annotations

import asyncio
import io
import math

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual._time import get_time  # the clock Textual stamps input events with
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Event
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui_trader.core.enums import OrderType
from tui_trader.ui import format as fmt
from tui_trader.ui.order_preview import OrderPreview

ARM_S = 0.4  # how long the dialog must be visible before it can be confirmed
CONFIRM_KEY = "ctrl+y"


class ConfirmScreen(ModalScreen[bool]):
    class Shown(Message):
        """Posted after the dialog's first frame (the app closes the command line it came from)."""

    BINDINGS = [
        Binding(CONFIRM_KEY, "answer(True)", "Confirm", id="confirm_yes", priority=True),
        Binding("n,escape", "answer(False)", "No", id="confirm_no", priority=True),
    ]

    def __init__(
        self,
        title: str,
        body: RenderableType,
        *,
        yes: str = "Yes",
        danger: bool = False,
        checking: str | None = None,
        arm_s: float | None = None,
    ) -> None:
        super().__init__(classes="danger" if danger else "")
        self.title_text = title
        self.body = body
        self.yes = yes
        self.arm_s = ARM_S if arm_s is None else arm_s
        # "ready" (may be confirmed once armed), "checking" (waiting for the engine's dry run),
        # "refused" (the engine would reject it: nothing to confirm).
        self.state = "checking" if checking else "ready"
        self.check_text: RenderableType = Text(f"… {checking}", style="italic") if checking else ""
        self.shown_at = math.inf  # input events older than this are dropped
        self.armed_at = math.inf  # the confirm key works from this time on
        self.refusal = ""
        self._answered: asyncio.Future[bool] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.title_text, id="confirm-title")
            yield Static(self.body, id="confirm-body")
            yield Static(self.check_text, id="confirm-check")
            yield Static("", id="confirm-hint")
            with Horizontal(id="confirm-buttons"):
                yield Button(
                    f"{self.yes} ({CONFIRM_KEY})",
                    id="yes",
                    variant="error" if self.has_class("danger") else "success",
                    compact=True,
                    disabled=True,
                )
                yield Button("No (n/Esc)", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()
        self._render_state()
        self.call_after_refresh(self._shown)

    def _shown(self) -> None:
        self.shown_at = get_time()
        if self.state == "ready":
            self._arm()
        self.post_message(self.Shown())

    def _arm(self) -> None:
        self.armed_at = get_time() + self.arm_s
        self.set_timer(self.arm_s, self._armed)

    def _armed(self) -> None:
        if self.state == "ready":
            self.query_one("#yes", Button).disabled = False
            self._hint()

    def _hint(self) -> None:
        if self.state == "checking":
            text = "waiting for the engine's check; Esc to cancel"
        elif self.state == "refused":
            text = "nothing to confirm: Esc closes"
        elif get_time() < self.armed_at:
            text = f"{CONFIRM_KEY} to confirm (in a moment) · n/Esc: no"
        else:
            text = f"{CONFIRM_KEY} (or Tab to {self.yes}, Enter) to confirm · n/Esc: no"
        self.query_one("#confirm-hint", Static).update(Text(text, style="dim"))

    def _render_state(self) -> None:
        check = self.query_one("#confirm-check", Static)
        check.display = bool(self.check_text)
        check.update(self.check_text)
        if self.state == "refused":
            self.add_class("refused")
            self.query_one("#yes", Button).display = False
            self.query_one("#no", Button).label = "Close (Esc)"
        self._hint()

    def answered(self) -> asyncio.Future[bool]:
        """The answer (False for any way out but the confirm key), however the dialog was shown:
        App.switch_screen keeps no result callback."""
        if self._answered is None:
            self._answered = asyncio.get_running_loop().create_future()
        return self._answered

    def dismiss(self, result: bool | None = None) -> AwaitComplete:
        if self._answered is not None and not self._answered.done():
            self._answered.set_result(bool(result))
        return super().dismiss(result)

    def typed_before(self, event: Event) -> bool:
        """True for input that arrived before the dialog was on screen: the app drops it."""
        return event.time < self.shown_at

    def checked(self, ok: bool, message: str | Text) -> None:
        """The engine's dry-run answer: ok enables Send (after the arming delay), else refused."""
        if self.state != "checking":
            return
        if ok:
            self.state = "ready"
            self.check_text = message
        else:
            self.state = "refused"
            self.refusal = message.plain if isinstance(message, Text) else str(message)
            self.check_text = Text.assemble(("✗ the engine would refuse it: ", "bold"), message)
        if self.is_mounted:
            self._render_state()
            if ok and self.shown_at != math.inf:
                self._arm()

    @property
    def body_text(self) -> str:
        """The body and the check line as plain text (tests, logs)."""
        from rich.console import Console

        console = Console(width=80, record=True, file=io.StringIO())
        console.print(self.body)
        console.print(self.check_text)
        return console.export_text()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        if answer and (self.state != "ready" or get_time() < self.armed_at):
            self._hint()
            return  # not confirmable yet (checking, refused, or not visible long enough)
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
