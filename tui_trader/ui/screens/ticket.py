"""The order ticket: side, symbol, type (trailing stop too), quantity, price, stop, trail, time
in force, SL/TP, an OCO leg, post-only and reduce-only.

Validated as you type; each field's error shows right under it. Enter (or ctrl+s) on a valid
ticket returns the OrderRequest (with an OCO leg: the pair, as a tuple); the app then asks for
confirmation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static

from tui_trader.core.enums import OrderType, Side, TimeInForce
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Ticker
from tui_trader.core.orders import OrderRequest
from tui_trader.ui.order_preview import NEEDS_PRICE, NEEDS_STOP, check_request, reference_price
from tui_trader.ui.screens.hand_off import HandsOff, RunInPlace
from tui_trader.ui.screens.type_ahead import HoldsKeys
from tui_trader.ui.symbols import ParseError

Lookup = Callable[[str], tuple[Instrument | None, Ticker | None]]
PRICE_FIELDS = ("price", "stop_price", "stop_loss", "take_profit")
LABELS = {
    "side": "Side",
    "symbol": "Symbol",
    "type": "Type",
    "quantity": "Quantity",
    "price": "Limit price",
    "stop_price": "Stop price",
    "time_in_force": "TIF",
    "stop_loss": "Stop-loss",
    "take_profit": "Take-profit",
    "trail": "Trail",
    "oco": "OCO leg",
    "flags": "Flags",
    "venue": "Venue",
}
AUTO_CHOICE = ("auto: best price after fees", "auto")
Result = OrderRequest | tuple[OrderRequest, OrderRequest]  # a pair: one cancels the other


def ticket_order(values: dict[str, str], lookup: Lookup) -> tuple[Result | None, dict[str, str]]:
    """Fields as typed -> (the request, or the OCO pair; {}) when valid, else (None, errors)."""
    request, errors = ticket_request(values, lookup)
    raw = values.get("oco", "").strip()
    if request is None or not raw:
        return request, errors
    from tui_trader.ui.commandline import oco_leg, parse_decimal

    try:
        other = oco_leg(request, parse_decimal(raw, "oco price"))
    except ParseError as exc:
        return None, {**errors, "oco": str(exc)}
    instrument, ticker = lookup(request.symbol)
    problems = check_request(other, instrument, ticker)
    if problems:
        return None, {**errors, "oco": "; ".join(problems.values())}
    return (request, other), errors


def ticket_request(
    values: dict[str, str], lookup: Lookup
) -> tuple[OrderRequest | None, dict[str, str]]:
    """Fields as typed -> (request, {}) when valid, else (None or partial, errors per field)."""
    from tui_trader.ui.commandline import parse_decimal  # the grammar: not before the first paint

    errors: dict[str, str] = {}
    symbol = values.get("symbol", "").strip().upper()
    if not symbol:
        errors["symbol"] = "symbol is required"
    otype = OrderType(values.get("type") or "market")
    numbers: dict[str, Decimal | None] = {}
    for name in ("quantity", *PRICE_FIELDS):
        raw = values.get(name, "").strip()
        if not raw:
            numbers[name] = None
            continue
        try:
            numbers[name] = parse_decimal(raw, LABELS[name].lower())
        except ParseError as exc:
            errors[name] = str(exc)
            numbers[name] = None
    if numbers["quantity"] is None and "quantity" not in errors:
        errors["quantity"] = "quantity is required"
    if otype not in NEEDS_PRICE:
        numbers["price"] = None
    if otype not in NEEDS_STOP:
        numbers["stop_price"] = None
    trail: dict[str, Decimal] = {}
    if otype is OrderType.TRAILING_STOP:
        raw = values.get("trail", "").strip()
        try:
            if not raw:
                raise ParseError("a trailing stop needs a distance: 2% or 500")
            from tui_trader.ui.commandline import set_trail

            set_trail(trail, raw)  # type: ignore[arg-type]
        except ParseError as exc:
            errors["trail"] = str(exc)
    if "symbol" in errors or numbers["quantity"] is None or "trail" in errors:
        return None, errors
    request = OrderRequest(
        symbol,
        Side(values.get("side") or "buy"),
        numbers["quantity"],
        otype,
        price=numbers["price"],
        stop_price=numbers["stop_price"],
        time_in_force=TimeInForce(values.get("time_in_force") or "gtc"),
        stop_loss=numbers["stop_loss"],
        take_profit=numbers["take_profit"],
        post_only=values.get("post_only") == "True",
        reduce_only=values.get("reduce_only") == "True",
        venue=values.get("venue") or None,
        source="manual",
        **trail,  # type: ignore[arg-type]
    )
    if request.post_only and otype is not OrderType.LIMIT:
        errors["flags"] = "post-only applies to limit orders only"
    instrument, ticker = lookup(symbol)
    for name, message in check_request(request, instrument, ticker).items():
        errors.setdefault(name, message)
    return (None if errors else request), errors


class TicketScreen(HandsOff, HoldsKeys, ModalScreen[Result | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="ticket_cancel"),
        Binding("ctrl+s", "submit", "Review", id="ticket_submit", priority=True),
    ]

    def __init__(
        self,
        side: Side,
        symbol: str,
        lookup: Lookup,
        order_type: OrderType = OrderType.LIMIT,
        prefill: dict[str, str] | None = None,
        note: str = "",
        venues: Sequence[str] = (),
        run_in_place: RunInPlace | None = None,
    ) -> None:
        """With two or more `venues` the ticket has a Venue field: the one shown (default), any
        venue by name, or auto (the router's best price after fees, docs/routing.md).
        `run_in_place` sends the reviewed order while the ticket is up (hand_off.py)."""
        super().__init__()
        self.run_in_place = run_in_place
        self.venues = list(venues)
        self.side = side
        self.symbol = symbol
        self.lookup = lookup
        self.order_type = order_type
        # Field name -> text (quantity, price, stop_price, stop_loss, take_profit, time_in_force)
        # for tickets opened from a recommendation or a chat signal; `note` says where from.
        self.prefill = prefill or {}
        self.note = note
        self.errors: dict[str, str] = {}
        self.request: Result | None = None
        self.hold_keys()

    def compose(self) -> ComposeResult:
        inst, ticker = self.lookup(self.symbol)
        touch = None
        if ticker is not None:
            probe = OrderRequest(self.symbol, self.side, Decimal(1))
            touch = reference_price(probe, ticker)
        price = (
            ""
            if touch is None
            else (f"{touch:.{inst.price_decimals}f}" if inst else f"{touch:.2f}")
        )
        price = self.prefill.get("price", price)
        given = self.prefill
        with Vertical(id="ticket-box", classes=self.side.value):
            yield Static(id="ticket-title")
            if self.note:
                yield Static(self.note, id="ticket-note", markup=False)
            yield from self._row(
                "side",
                Select(
                    [("Buy", "buy"), ("Sell", "sell")],
                    value=self.side.value,
                    allow_blank=False,
                    compact=True,
                    id="f-side",
                ),
            )
            yield from self._row("symbol", Input(self.symbol, id="f-symbol", compact=True))
            yield from self._row(
                "type",
                Select(
                    [(t.value, t.value) for t in OrderType],
                    value=self.order_type.value,
                    allow_blank=False,
                    compact=True,
                    id="f-type",
                ),
            )
            yield from self._row(
                "quantity",
                Input(
                    given.get("quantity", ""), placeholder="e.g. 0.5", id="f-quantity", compact=True
                ),
            )
            yield from self._row("price", Input(price, id="f-price", compact=True))
            yield from self._row(
                "stop_price",
                Input(
                    given.get("stop_price", ""),
                    placeholder="stop trigger",
                    id="f-stop_price",
                    compact=True,
                ),
            )
            yield from self._row(
                "trail",
                Input(given.get("trail", ""), placeholder="2% or a distance, e.g. 500", id="f-trail", compact=True),
            )
            yield from self._row(
                "time_in_force",
                Select(
                    [(t.value.upper(), t.value) for t in TimeInForce],
                    value=given.get("time_in_force") or "gtc",
                    allow_blank=False,
                    compact=True,
                    id="f-time_in_force",
                ),
            )
            yield from self._row(
                "stop_loss",
                Input(
                    given.get("stop_loss", ""), placeholder="optional", id="f-stop_loss", compact=True
                ),
            )
            yield from self._row(
                "take_profit",
                Input(
                    given.get("take_profit", ""), placeholder="optional", id="f-take_profit", compact=True
                ),
            )
            yield from self._row(
                "oco",
                Input(
                    given.get("oco", ""),
                    placeholder="optional: the other leg's price (one cancels the other)",
                    id="f-oco",
                    compact=True,
                ),
            )
            with Horizontal(classes="ticket-row", id="row-flags"):
                yield Static(LABELS["flags"], classes="ticket-label")
                yield Checkbox("post-only", id="f-post_only", compact=True)
                yield Checkbox("reduce-only", id="f-reduce_only", compact=True)
            yield Static("", id="err-flags", classes="ticket-error")
            if len(self.venues) > 1:
                yield from self._row(
                    "venue",
                    Select(
                        [("as shown", ""), AUTO_CHOICE, *((v, v) for v in self.venues)],
                        value=given.get("venue", ""),
                        allow_blank=False,
                        compact=True,
                        id="f-venue",
                    ),
                )
            with Horizontal(id="ticket-buttons"):
                yield Button("Review (Enter)", id="ticket-review", variant="primary", compact=True)
                yield Button("Cancel (Esc)", id="ticket-cancel", compact=True)

    def _row(self, name: str, widget: Input | Select) -> ComposeResult:
        with Horizontal(classes="ticket-row", id=f"row-{name}"):
            yield Static(LABELS[name], classes="ticket-label")
            yield widget
        yield Static("", id=f"err-{name}", classes="ticket-error")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False
        self.release_keys_to(self.query_one("#f-quantity", Input))
        self.validate()

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for field in self.query(Input):
            out[str(field.id)[2:]] = field.value
        for select in self.query(Select):
            out[str(select.id)[2:]] = "" if select.value is Select.NULL else str(select.value)
        for box in self.query(Checkbox):
            out[str(box.id)[2:]] = str(box.value) if box.value else ""
        return out

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self.validate()

    def validate(self) -> None:
        values = self.values()
        self.request, self.errors = ticket_order(values, self.lookup)
        otype = OrderType(values.get("type") or "market")
        self.query_one("#row-price").display = otype in NEEDS_PRICE
        self.query_one("#row-stop_price").display = otype in NEEDS_STOP
        self.query_one("#row-trail").display = otype is OrderType.TRAILING_STOP
        self.query_one("#row-oco").display = otype in (OrderType.LIMIT, OrderType.STOP)
        typed = {k for k, v in values.items() if v.strip()}
        shown = 0
        for name in self._fields():
            label = self.query_one(f"#err-{name}", Static)
            # Only complain about fields the trader has touched (or that a valid order needs now).
            message = (
                self.errors.get(name, "") if (name in typed or name not in ("quantity",)) else ""
            )
            label.update(f"✗ {message}" if message else "")
            label.display = bool(message)
            shown += bool(message)
        side = values.get("side") or "buy"
        box = self.query_one("#ticket-box")
        box.set_class(side == "buy", "buy")
        box.set_class(side == "sell", "sell")
        if self.request:
            status = "ready: Enter to review"
        elif shown:
            status = f"{shown} problem(s)"
        else:  # nothing wrong yet: a fresh ticket waits for its quantity
            status = "enter a quantity"
        self.query_one("#ticket-title", Static).update(
            f"[b]{side.upper()} ticket[/]  [dim]{status}[/]"
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ticket-review":
            self.action_submit()
        else:
            self.dismiss(None)

    def action_submit(self) -> None:
        if self.handed_off:
            return
        self.validate()
        if self.request is not None:
            if not self.hand_off(self.request):
                self.dismiss(self.request)
            return
        for name in self._fields():  # show every problem, including untouched required fields
            message = self.errors.get(name, "")
            label = self.query_one(f"#err-{name}", Static)
            label.update(f"✗ {message}" if message else "")
            label.display = bool(message)
        self.notify("fix the highlighted fields first", severity="warning")

    def _fields(self) -> list[str]:
        return [name for name in LABELS if name != "venue" or len(self.venues) > 1]

    def action_cancel(self) -> None:
        self.dismiss(None)
