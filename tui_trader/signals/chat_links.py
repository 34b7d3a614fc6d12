"""Which orders and position came from which provider's message: the record exits, updates
and cancels act on, and the provider's track record is scored from.

Every order sent for a chat message carries the message's id as its `tag` (bracket children
inherit it), so a link is simply "the orders tagged chat-N". A link follows the fills of
those orders: entry-side fills open it, opposite fills close it, and when it is flat again
its R goes to the provider's record. Pure: the engine feeds it orders and fills and
persists `LinkBook.to_dict()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from tui_trader.core.enums import Side
from tui_trader.core.errors import DataError
from tui_trader.core.fills import Fill
from tui_trader.core.orders import Order
from tui_trader.signals.providers import r_multiple

STATE_VERSION = 1
ZERO = Decimal(0)
ACTIVE = ("placed", "open")  # statuses an exit, update or cancel can act on
MAX_CLOSED = 500  # closed links kept for the record; older ones are dropped


@dataclass
class ChatLink:
    """One chat entry and everything done for it."""

    id: str  # the chat message id, also the `tag` of its orders
    provider: str
    symbol: str
    venue: str
    side: Side
    at: datetime
    text: str = ""
    status: str = "placed"  # placed (entry working) | open | closed | cancelled
    entry_order: str | None = None  # client order id of the entry
    initial_stop: Decimal | None = None  # the risk R is measured against
    stop: Decimal | None = None  # the protective stop now
    take_profit: Decimal | None = None
    entry_qty: Decimal = ZERO
    entry_cost: Decimal = ZERO
    exit_qty: Decimal = ZERO
    exit_cost: Decimal = ZERO
    fills: set[str] = field(default_factory=set)  # fill ids applied (a fill is never counted twice)
    r: float | None = None  # once closed, when it had a stop
    actions: list[dict[str, Any]] = field(default_factory=list)  # what exits/updates/cancels did
    # set (and saved) before its stop and take-profit are cancelled to be moved or to make room
    # for a close, cleared once the step is done: still set at start means the engine stopped
    # in between, and the position may have nothing protecting it
    moving: str | None = None

    @property
    def qty(self) -> Decimal:
        """Open quantity (unsigned)."""
        return max(self.entry_qty - self.exit_qty, ZERO)

    @property
    def average_entry(self) -> Decimal | None:
        return self.entry_cost / self.entry_qty if self.entry_qty else None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def apply_fill(self, fill: Fill) -> bool:
        """Count one fill of a tagged order; True when it changed the link."""
        key = f"{fill.venue}:{fill.fill_id}"
        if key in self.fills:
            return False
        self.fills.add(key)
        if fill.side is self.side:
            self.entry_qty += fill.quantity
            self.entry_cost += fill.quantity * fill.price
            self.status = "open"
            return True
        closing = min(fill.quantity, self.qty)
        self.exit_qty += closing
        self.exit_cost += closing * fill.price
        if self.qty == 0 and self.entry_qty > 0:
            self.status = "closed"
            self.r = self._r()
        return True

    def close_outside(self, quantity: Decimal, price: Decimal, key: str) -> bool:
        """Part of the position was closed by an order that is not the link's own (the kill
        switch, a manual close): count it at that fill's price. True when changed."""
        if key in self.fills or quantity <= 0 or self.qty == 0:
            return False
        self.fills.add(key)
        closing = min(quantity, self.qty)
        self.exit_qty += closing
        self.exit_cost += closing * price
        if self.qty == 0:
            self.status = "closed"
            self.r = self._r()
        return True

    def apply_order(self, order: Order) -> bool:
        """The entry order ended without a fill: the link is cancelled. True when changed."""
        if order.client_order_id != self.entry_order or not order.status.is_final:
            return False
        if self.status == "placed" and order.filled_quantity == 0 and self.entry_qty == 0:
            self.status = "cancelled"
            return True
        return False

    def _r(self) -> float | None:
        entry = self.average_entry
        if entry is None or self.initial_stop is None or not self.exit_qty:
            return None
        try:
            return r_multiple(self.side, entry, self.initial_stop, self.exit_cost / self.exit_qty)
        except ValueError:
            return None

    def as_dict(self) -> dict[str, Any]:
        def s(d: Decimal | None) -> str | None:
            return None if d is None else str(d)

        return {
            "id": self.id,
            "provider": self.provider,
            "symbol": self.symbol,
            "venue": self.venue,
            "side": self.side.value,
            "at": self.at.isoformat(),
            "text": self.text,
            "status": self.status,
            "entry_order": self.entry_order,
            "initial_stop": s(self.initial_stop),
            "stop": s(self.stop),
            "take_profit": s(self.take_profit),
            "entry_qty": str(self.entry_qty),
            "entry_cost": str(self.entry_cost),
            "exit_qty": str(self.exit_qty),
            "exit_cost": str(self.exit_cost),
            "fills": sorted(self.fills),
            "r": self.r,
            "actions": self.actions,
            "moving": self.moving,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChatLink:
        def dec(v: Any) -> Decimal | None:
            return None if v is None else Decimal(str(v))

        return cls(
            id=str(d["id"]),
            provider=str(d["provider"]),
            symbol=str(d["symbol"]),
            venue=str(d["venue"]),
            side=Side(d["side"]),
            at=datetime.fromisoformat(d["at"]),
            text=str(d.get("text", "")),
            status=str(d["status"]),
            entry_order=d.get("entry_order"),
            initial_stop=dec(d.get("initial_stop")),
            stop=dec(d.get("stop")),
            take_profit=dec(d.get("take_profit")),
            entry_qty=Decimal(str(d["entry_qty"])),
            entry_cost=Decimal(str(d["entry_cost"])),
            exit_qty=Decimal(str(d["exit_qty"])),
            exit_cost=Decimal(str(d["exit_cost"])),
            fills=set(d.get("fills", [])),
            r=None if d.get("r") is None else float(d["r"]),
            actions=list(d.get("actions", [])),
            moving=None if d.get("moving") is None else str(d["moving"]),
        )


@dataclass
class LinkBook:
    """Every link by id, with the next message number (ids stay unique across restarts)."""

    links: dict[str, ChatLink] = field(default_factory=dict)
    next_number: int = 1

    def new_id(self) -> str:
        n = self.next_number
        self.next_number += 1
        return f"chat-{n}"

    def add(self, link: ChatLink) -> None:
        self.links[link.id] = link
        closed = [lk for lk in self.links.values() if not lk.active]
        for old in closed[: max(0, len(closed) - MAX_CLOSED)]:
            del self.links[old.id]

    def get(self, tag: str | None) -> ChatLink | None:
        return None if tag is None else self.links.get(tag)

    def active_for(self, provider: str, symbol: str | None, *, status: tuple[str, ...] = ACTIVE) -> list[ChatLink]:
        """A provider's links in `status`, for one symbol (None: every symbol), oldest first."""
        return [
            lk
            for lk in self.links.values()
            if lk.provider == provider and lk.status in status and (symbol is None or lk.symbol == symbol)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "next_number": self.next_number,
            "links": [lk.as_dict() for lk in self.links.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkBook:
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise DataError(f"chat links: expected version {STATE_VERSION}; delete the saved state to start afresh")
        try:
            links = [ChatLink.from_dict(d) for d in data.get("links", [])]
            return cls({lk.id: lk for lk in links}, int(data.get("next_number", 1)))
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise DataError(f"chat links are malformed ({exc}); delete the saved state to start afresh") from None
