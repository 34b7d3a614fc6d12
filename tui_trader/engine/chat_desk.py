"""Chat trade signals on their way to orders: pending tickets, auto-execution for trusted
providers, and each provider's track record from the positions their signals opened.

Every order goes through `engine.place`, so every risk check applies.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.core.enums import Side
from tui_trader.core.errors import UserError
from tui_trader.core.events import FillEvent
from tui_trader.signals.providers import ProviderBook, r_multiple

if TYPE_CHECKING:
    from tui_trader.core.orders import Order, OrderRequest
    from tui_trader.engine.ports import EnginePort
    from tui_trader.signals.chat import ParsedSignal
    from tui_trader.signals.settings import SignalsSettings

log = logging.getLogger(__name__)

STATE_KEY = "__signals__"  # strategy_state row reserved for the service (no strategy uses __)
MAX_PENDING = 100


@dataclass
class PendingChat:
    """A parsed chat signal waiting for the trader (or executed for an auto-execute provider)."""

    id: str
    provider: str
    parsed: ParsedSignal
    at: datetime
    origin: str  # paste | webhook | discord
    status: str = "pending"  # pending | confirmed | executed | rejected | dismissed
    note: str = ""
    order_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "at": self.at,
            "origin": self.origin,
            "status": self.status,
            "note": self.note,
            "order_id": self.order_id,
            "signal": self.parsed.as_dict(),
        }


@dataclass
class _Trade:
    """A position opened from a provider's signal, followed until it is flat again."""

    provider: str
    side: Side
    stop: Decimal
    qty: Decimal = Decimal(0)  # open quantity, unsigned
    entry_cost: Decimal = Decimal(0)
    entry_qty: Decimal = Decimal(0)
    exit_cost: Decimal = Decimal(0)
    exit_qty: Decimal = Decimal(0)


class ChatDesk:
    """Owned by the signal service (`service.chat`)."""

    def __init__(
        self, engine: EnginePort, settings: SignalsSettings, on_change: Callable[[], None]
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.providers = ProviderBook()
        self.pending: dict[str, PendingChat] = {}
        self._changed = on_change
        self._ids = itertools.count(1)
        self._trades: dict[tuple[str, str], _Trade] = {}

    # -- persistence ---------------------------------------------------------------------

    async def load_state(self) -> None:
        store = self.engine.store
        if store is None:
            return
        state = await store.load_strategy_state(STATE_KEY)
        if state.get("providers"):
            try:
                self.providers = ProviderBook.from_dict(state["providers"])
            except UserError as exc:
                log.warning("%s; starting with empty provider records", exc)

    async def save_state(self) -> None:
        store = self.engine.store
        if store is None:
            return
        with contextlib.suppress(Exception):  # a closed store at shutdown is not worth a crash
            await store.save_strategy_state(
                STATE_KEY, {"providers": self.providers.to_dict()}, self.engine.clock.now()
            )


    async def submit_chat(
        self, text: str, provider: str = "paste", origin: str = "paste"
    ) -> PendingChat:
        """Parse, publish as a signal, and either hold for confirmation or auto-execute.
        ParseError (a UserError) when the text holds no trade signal."""
        from tui_trader.signals.chat import parse_signal

        parsed = parse_signal(text, known_symbols=self.engine.symbols() or None)
        now = self.engine.clock.now()
        reliability = self.providers.stats(provider).reliability
        self.engine.publish_signal(parsed.to_signal(provider, now, reliability=reliability))
        item = PendingChat(f"chat-{next(self._ids)}", provider, parsed, now, origin)
        self.pending[item.id] = item
        while len(self.pending) > MAX_PENDING:
            self.pending.pop(next(iter(self.pending)))
        await self.engine.audit(
            f"signal:{provider}",
            "chat_signal",
            {"id": item.id, "origin": origin, **parsed.as_dict()},
        )
        chat = self.settings.chat
        if provider in chat.auto_execute:
            refusal = self.providers.auto_execute_refusal(
                provider, min_trades=chat.min_trades, min_average_r=chat.min_average_r
            )
            if parsed.confidence < chat.min_confidence:
                item.note = (
                    f"not auto-executed: confidence {parsed.confidence:.2f} is below "
                    f"{chat.min_confidence:.2f}; confirm it yourself"
                )
            elif refusal is not None:
                item.note = f"not auto-executed: {refusal}; confirm it yourself"
            else:
                await self._auto_execute(item)
        self._changed()
        return item

    async def _auto_execute(self, item: PendingChat) -> None:
        try:
            req = self.order_request(item)
        except UserError as exc:
            item.note = f"not auto-executed: {exc}"
            return
        order = await self.engine.place(req, actor=f"signal:{item.provider}")
        item.order_id = order.client_order_id
        if order.status.value == "rejected":
            item.status = "rejected"
            item.note = f"auto-execution rejected: {order.reason}"
        else:
            item.status = "executed"
            item.note = f"auto-executed as {order.client_order_id}"

    def order_request(self, item: PendingChat, quantity: Decimal | None = None) -> OrderRequest:
        """The bracket order for a chat signal: limit at the entry, provider's stop and first
        target; sized by [risk.sizing] unless a quantity is given."""
        parsed = item.parsed
        symbol, side = parsed.symbol, parsed.side
        if not parsed.is_entry or symbol is None or side is None:
            raise UserError(f"chat signal {item.id} is a {parsed.kind.value} message, not an order to open")
        venue = self.engine.venue_for(symbol)
        inst = self.engine.instrument(venue, symbol)
        if inst is None:
            raise UserError(f"{symbol} is not traded on {venue}; edit the symbol in the ticket")
        if quantity is None:
            quantity = self._size(parsed, symbol, side, inst)
        return parsed.to_order_request(quantity, venue=venue, provider=item.provider)

    def _size(self, parsed: ParsedSignal, symbol: str, side: Side, inst: Any) -> Decimal:
        from tui_trader.risk.sizing import Sizer, SizingInput

        price = float(parsed.entry_price or 0) or self.engine.mid(symbol, inst.venue)
        account = self.engine.account()
        qty = Sizer(self.engine.settings.risk.sizing).order_quantity(
            SizingInput(
                symbol=symbol,
                price=price,
                side=side.sign,
                equity=account.equity,
                available=account.cash,
                stop_price=None if parsed.stop is None else float(parsed.stop),
            ),
            inst,
        )
        if qty <= 0:
            raise UserError(
                f"[risk.sizing] gives no tradable size for {symbol} at {price:g}; "
                "enter a quantity"
            )
        return qty

    async def confirm(self, chat_id: str, quantity: Decimal | None = None) -> dict[str, Any]:
        """Turn a pending chat signal into an order request for the ticket (not placed)."""
        item = self.pending.get(chat_id)
        if item is None:
            raise UserError(f"no pending chat signal {chat_id!r}; `signals.pending` lists them")
        if item.status != "pending":
            raise UserError(f"chat signal {chat_id} is already {item.status}")
        req = self.order_request(item, quantity)
        item.status = "confirmed"
        self._changed()
        return {
            "id": item.id,
            "provider": item.provider,
            "request": req,
            "signal": item.parsed.as_dict(),
        }

    async def on_webhook(self, text: str, provider: str) -> dict[str, Any]:
        item = await self.submit_chat(text, provider, origin="webhook")
        return {**item.as_dict(), "at": item.at.isoformat()}

    # -- provider track records ----------------------------------------------------------

    async def on_fill(self, event: FillEvent) -> None:
        """Follow positions opened from a provider's signal and score them in R when flat."""
        fill = event.fill
        oms = self.engine.oms
        order: Order | None = None
        if oms is not None:
            order = oms.orders.get(fill.client_order_id)
        order = order or self.engine.recent_orders.get(fill.client_order_id)
        key = (fill.venue, fill.symbol)
        trade = self._trades.get(key)
        if trade is None:
            if order is None or not order.source.startswith("signal:") or order.reduce_only:
                return
            stop = order.meta.get("stop_loss")
            if stop is None:
                return  # without a stop there is no R to score
            trade = self._trades[key] = _Trade(
                order.source.split(":", 1)[1], fill.side, Decimal(stop)
            )
        if fill.side is trade.side:
            trade.qty += fill.quantity
            trade.entry_cost += fill.quantity * fill.price
            trade.entry_qty += fill.quantity
            return
        closing = min(fill.quantity, trade.qty)
        trade.qty -= closing
        trade.exit_cost += closing * fill.price
        trade.exit_qty += closing
        if trade.qty > 0:
            return
        del self._trades[key]
        entry = trade.entry_cost / trade.entry_qty
        exit_price = trade.exit_cost / trade.exit_qty
        try:
            r = r_multiple(trade.side, entry, trade.stop, exit_price)
        except ValueError:
            return
        await self.record_outcome(trade.provider, r, at=fill.ts)

    async def record_outcome(self, provider: str, r: float, *, at: datetime | None = None) -> None:
        self.providers.record(provider, r, at=at or self.engine.clock.now())
        self._changed()
        await self.save_state()
