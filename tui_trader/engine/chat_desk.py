"""Chat messages on their way to orders: pending items, auto-execution for trusted providers,
exits, updates and cancels of what a provider's own messages opened, and each provider's
track record from those positions.

Every order goes through `engine.place` / `engine.cancel`, so every risk check applies, and
every message acted on is audited with its text. The links (which orders and position came
from which message) persist with the provider records and are re-read from the stored orders
and fills at start, so fills that arrived while the service was down still count.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UserError
from tui_trader.core.events import FillEvent, OrderEvent
from tui_trader.engine.chat_orders import ChatOrders, targets
from tui_trader.signals.chat import Kind, ParseError
from tui_trader.signals.chat_links import ChatLink, LinkBook
from tui_trader.signals.providers import ProviderBook

if TYPE_CHECKING:
    from tui_trader.core.enums import Side
    from tui_trader.core.orders import Order, OrderRequest
    from tui_trader.engine.ports import EnginePort
    from tui_trader.signals.chat import ParsedSignal
    from tui_trader.signals.settings import SignalsSettings

log = logging.getLogger(__name__)

STATE_KEY = "__signals__"  # strategy_state row reserved for the service (no strategy uses __)
MAX_PENDING = 100
DUPLICATE_S = 120.0  # the same text from the same provider within this is a re-delivery


@dataclass
class PendingChat:
    """A message that asks for something, waiting for the trader or already acted on."""

    id: str  # chat-N: unique across restarts, and the tag of every order sent for it
    provider: str
    parsed: ParsedSignal
    at: datetime
    origin: str  # paste | webhook | discord
    status: str = "pending"  # pending | confirmed | executed | done | ignored | rejected | dismissed
    note: str = ""
    order_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "kind": self.parsed.kind.value,
            "at": self.at,
            "origin": self.origin,
            "status": self.status,
            "note": self.note,
            "order_id": self.order_id,
            "signal": self.parsed.as_dict(),
        }


class ChatDesk:
    """Owned by the signal service (`service.chat`)."""

    def __init__(self, engine: EnginePort, settings: SignalsSettings, on_change: Callable[[], None]) -> None:
        self.engine = engine
        self.settings = settings
        self.providers = ProviderBook()
        self.links = LinkBook()
        self.orders = ChatOrders(engine, self.links, self.save_state)
        self.pending: dict[str, PendingChat] = {}
        self._changed = on_change
        self._acting = asyncio.Lock()  # one message acts at a time: no double close
        # told of every actionable message once (not its re-deliveries): the copy desk's chat leaders
        self.listeners: list[Callable[[PendingChat], Awaitable[None]]] = []

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
        if state.get("links"):
            try:
                self.links = self.orders.links = LinkBook.from_dict(state["links"])
            except UserError as exc:
                log.warning("%s; starting without chat links", exc)
        await self._resync()
        await self._protect_interrupted()

    async def save_state(self) -> None:
        store = self.engine.store
        if store is None:
            return
        with contextlib.suppress(Exception):  # a closed store at shutdown is not worth a crash
            await store.save_strategy_state(
                STATE_KEY,
                {"providers": self.providers.to_dict(), "links": self.links.to_dict()},
                self.engine.clock.now(),
            )

    async def _protect_interrupted(self) -> None:
        """Links the engine stopped on between cancelling their stop and placing what follows
        (see ChatOrders.protect_again): protected again, audited, said."""
        for link in [lk for lk in self.links.links.values() if lk.moving]:
            note = await self.orders.protect_again(link)
            if note is not None:
                link.actions.append({"message": None, "kind": "restart", "note": note})
                await self.engine.audit(
                    f"signal:{link.provider}", "chat_protect", {"id": link.id, "symbol": link.symbol, "note": note}
                )
            await self.save_state()

    async def _resync(self) -> None:
        """Bring active links up to date from the stored orders and fills (the service may
        have been down while they filled); score the ones that closed meanwhile."""
        store = self.engine.store
        active = {lk.id: lk for lk in self.links.links.values() if lk.active}
        if store is None or not active:
            return
        orders = {o.client_order_id: o for o in await store.load_orders() if o.tag in active}
        changed = False
        fills = list(reversed(await store.load_fills()))  # oldest first
        for fill in fills:
            order = orders.get(fill.client_order_id)
            if order is not None:
                changed |= await self._apply_fill(active[order.tag or ""], fill)
        for order in orders.values():
            changed |= active[order.tag or ""].apply_order(order)
        # closed by other orders while we were away (the kill switch, a manual close): the
        # position is smaller than the links hold; the last such fill gives the price
        for fill in reversed(fills):
            if fill.client_order_id not in orders and any(
                lk.status == "open" and (lk.venue, lk.symbol) == (fill.venue, fill.symbol) and lk.side is not fill.side
                for lk in active.values()
            ):
                changed |= await self._follow_position(fill)
        if changed:
            await self.save_state()

    # -- messages ------------------------------------------------------------------------

    async def submit_chat(self, text: str, provider: str = "paste", origin: str = "paste") -> PendingChat:
        """Read a message and act on its kind: an entry is published as a signal and waits for
        the trader (or is sent, for a trusted provider); an exit, update or cancel waits too
        (or acts at once, for a trusted provider) on that provider's own positions and orders.
        ParseError (a UserError) when the message asks for nothing (info, unsupported)."""
        from tui_trader.signals.chat import parse_message

        parsed = parse_message(text, known_symbols=self.engine.symbols() or None)
        if not parsed.kind.actionable:
            why = parsed.reasons[0] if parsed.reasons else "nothing to act on"
            raise ParseError(f"not a trade signal ({parsed.kind.value}: {why})")
        now = self.engine.clock.now()
        twin = self._duplicate_of(provider, parsed.text, now)
        item = PendingChat(self.links.new_id(), provider, parsed, now, origin)
        if twin is not None:  # a webhook retry or a re-delivered post must not act twice
            item.status, item.note = "ignored", f"same message as {twin.id} a moment ago; not acted on twice"
            self.pending[item.id] = item
            self._changed()
            return item
        self.pending[item.id] = item
        while len(self.pending) > MAX_PENDING:
            self.pending.pop(next(iter(self.pending)))
        await self.engine.audit(
            f"signal:{provider}", "chat_message", {"id": item.id, "origin": origin, **parsed.as_dict()}
        )
        if parsed.kind is Kind.ENTRY:
            reliability = self.providers.stats(provider).reliability
            self.engine.publish_signal(parsed.to_signal(provider, now, reliability=reliability))
        await self._tell(item)
        found = [] if parsed.kind is Kind.ENTRY else targets(self.links, provider, parsed)
        waits = self._waits(provider, parsed)
        if parsed.kind is not Kind.ENTRY and not found:
            item.status = "ignored"
            what = "any symbol" if parsed.all_symbols else (parsed.symbol or "an unnamed symbol")
            item.note = f"nothing from {provider}'s messages is open in {what}"
        elif waits is not None:
            about = f"for {', '.join(f'{lk.id} {lk.symbol}' for lk in found)}" if found else ""
            item.note = "; ".join(n for n in (waits, about) if n)
        elif parsed.kind is Kind.ENTRY:
            await self._auto_execute(item)
        else:
            await self._act(item)
        await self.save_state()
        self._changed()
        return item

    async def _tell(self, item: PendingChat) -> None:
        for listener in list(self.listeners):
            try:
                await listener(item)
            except Exception:  # a listener's bug must not stop the message
                log.exception("chat listener failed on %s", item.id)

    def _duplicate_of(self, provider: str, text: str, now: datetime) -> PendingChat | None:
        same = " ".join(text.split()).lower()
        for item in reversed(self.pending.values()):
            if (now - item.at).total_seconds() > DUPLICATE_S:
                break
            if item.provider == provider and " ".join(item.parsed.text.split()).lower() == same:
                return item
        return None

    def _waits(self, provider: str, parsed: ParsedSignal) -> str | None:
        """None when the message may act without the trader; else why it waits for them."""
        chat = self.settings.chat
        if provider not in chat.auto_execute:
            return ""  # the usual case: every message waits for the trader
        if parsed.confidence < chat.min_confidence:
            return (
                f"not auto-executed: confidence {parsed.confidence:.2f} is below "
                f"{chat.min_confidence:.2f}; confirm it yourself"
            )
        if parsed.kind is Kind.ENTRY:  # new risk needs a track record; managing old risk does not
            refusal = self.providers.auto_execute_refusal(
                provider, min_trades=chat.min_trades, min_average_r=chat.min_average_r
            )
            if refusal is not None:
                return f"not auto-executed: {refusal}; confirm it yourself"
        return None

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
            return
        self._link(item.id, item.provider, order, item.parsed.text)
        item.status = "executed"
        item.note = f"auto-executed as {order.client_order_id}"

    async def _act(self, item: PendingChat) -> list[str]:
        """An exit, update or cancel, on the provider's links; audited with the message."""
        async with self._acting:
            try:
                notes = await self.orders.act(item.provider, item.parsed, item.id)
            except UserError as exc:
                item.status, item.note = "ignored", str(exc)
                notes = [str(exc)]
            else:
                item.status, item.note = "done", "; ".join(notes)
        await self.engine.audit(
            f"signal:{item.provider}",
            f"chat_{item.parsed.kind.value}",
            {"id": item.id, "text": item.parsed.text, "status": item.status, "notes": notes},
        )
        await self.save_state()
        self._changed()
        return notes

    def order_request(self, item: PendingChat, quantity: Decimal | None = None) -> OrderRequest:
        """The bracket order for an entry: limit at the entry (stop for a trigger, market
        without a price), the provider's stop and first target, tagged with the message id;
        sized by [risk.sizing] unless a quantity is given."""
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
        req = parsed.to_order_request(quantity, venue=venue, provider=item.provider)
        return req.with_(tag=item.id)

    def _size(self, parsed: ParsedSignal, symbol: str, side: Side, inst: Any) -> Decimal:
        from tui_trader.risk.sizing import Sizer

        price = float(parsed.entry_price or 0) or self.engine.mid(symbol, inst.venue)
        stop = None if parsed.stop is None else float(parsed.stop)
        # the free cash of the venue it goes to, as the balance check reads it (not every
        # venue's cash summed: sized from that, the order was then refused there)
        risk = self.engine.risk
        inp = risk.sizing_input(symbol, side.sign, price, stop_price=stop, quote=inst.quote, venue=inst.venue)
        qty = Sizer(self.engine.settings.risk.sizing).order_quantity(inp, inst)
        if qty <= 0:
            raise UserError(f"[risk.sizing] gives no tradable size for {symbol} at {price:g}; enter a quantity")
        return qty

    async def confirm(self, chat_id: str, quantity: Decimal | None = None) -> dict[str, Any]:
        """The trader confirms a pending message. An entry becomes an order request for the
        ticket (nothing is placed yet); an exit, update or cancel acts now."""
        item = self.pending.get(chat_id)
        if item is None:
            raise UserError(f"no pending chat signal {chat_id!r}; `signals.pending` lists them")
        if item.status != "pending":
            raise UserError(f"chat signal {chat_id} is already {item.status}")
        if not item.parsed.is_entry:
            notes = await self._act(item)
            return {"id": item.id, "provider": item.provider, "kind": item.parsed.kind.value,
                    "status": item.status, "notes": notes}  # fmt: skip
        req = self.order_request(item, quantity)
        item.status = "confirmed"
        self._changed()
        return {
            "id": item.id,
            "provider": item.provider,
            "kind": "entry",
            "request": req,
            "signal": item.parsed.as_dict(),
        }

    async def on_webhook(self, text: str, provider: str) -> dict[str, Any]:
        item = await self.submit_chat(text, provider, origin="webhook")
        return {**item.as_dict(), "at": item.at.isoformat()}

    # -- links: orders and fills ---------------------------------------------------------

    def _link(self, chat_id: str, provider: str, order: Order, text: str = "") -> ChatLink:
        """A link for the entry order of a message (auto-executed, or placed from a ticket)."""
        link = self.links.get(chat_id)
        if link is None:
            stop, tp = order.meta.get("stop_loss"), order.meta.get("take_profit")
            link = ChatLink(
                id=chat_id,
                provider=provider,
                symbol=order.symbol,
                venue=order.venue,
                side=order.side,
                at=order.created_at,
                text=text,
                entry_order=order.client_order_id,
                initial_stop=None if stop is None else Decimal(str(stop)),
                stop=None if stop is None else Decimal(str(stop)),
                take_profit=None if tp is None else Decimal(str(tp)),
            )
            self.links.add(link)
        return link

    def _link_for(self, order: Order | None) -> ChatLink | None:
        """The order's link; an entry placed from a confirmed ticket gets one on first sight."""
        if order is None or order.tag is None:
            return None
        link = self.links.get(order.tag)
        if link is not None:
            return link
        item = self.pending.get(order.tag)
        if item is None or not item.parsed.is_entry or order.reduce_only or order.source != f"signal:{item.provider}":
            return None
        return self._link(item.id, item.provider, order, item.parsed.text)

    async def on_order(self, event: OrderEvent) -> None:
        order = event.order
        if order.tag is None or not order.tag.startswith("chat-"):
            return
        known = order.tag in self.links.links
        link = self._link_for(order)
        if link is not None and (link.apply_order(order) or not known):
            await self.save_state()
            self._changed()

    async def on_fill(self, event: FillEvent) -> None:
        """Count fills of a link's orders; a link that is flat again is scored in R."""
        fill = event.fill
        oms = self.engine.oms
        order = oms.orders.get(fill.client_order_id) if oms is not None else None
        order = order or self.engine.recent_orders.get(fill.client_order_id)
        link = self._link_for(order)
        changed = await self._apply_fill(link, fill) if link is not None else await self._follow_position(fill)
        if changed:
            await self.save_state()
            self._changed()

    async def _follow_position(self, fill: Any) -> bool:
        """A fill of another order in a symbol the links hold: when the position is now smaller
        than the links' open quantity (the kill switch, a manual close), the oldest links give
        up the difference at this fill's price."""
        open_links = [
            lk for lk in self.links.links.values()
            if lk.status == "open" and (lk.venue, lk.symbol) == (fill.venue, fill.symbol) and lk.side is not fill.side
        ]  # fmt: skip
        if not open_links:
            return False
        side = open_links[0].side
        held = self.engine.portfolio.position(fill.venue, fill.symbol).quantity * side.sign
        excess = sum((lk.qty for lk in open_links if lk.side is side), Decimal(0)) - max(held, Decimal(0))
        changed = False
        for link in [lk for lk in open_links if lk.side is side]:
            if excess <= 0:
                break
            part = min(excess, link.qty)
            was_open = link.status != "closed"
            if link.close_outside(part, fill.price, f"{fill.venue}:{fill.fill_id}"):
                excess -= part
                changed = True
                if was_open and link.status == "closed" and link.r is not None:
                    self.providers.record(link.provider, link.r, at=fill.ts)
        return changed

    async def _apply_fill(self, link: ChatLink, fill: Any) -> bool:
        was_open = link.status != "closed"
        if not link.apply_fill(fill):
            return False
        if was_open and link.status == "closed" and link.r is not None:
            self.providers.record(link.provider, link.r, at=fill.ts)
        return True

    async def record_outcome(self, provider: str, r: float, *, at: datetime | None = None) -> None:
        self.providers.record(provider, r, at=at or self.engine.clock.now())
        self._changed()
        await self.save_state()

    def link_rows(self) -> list[dict[str, Any]]:
        """Active links for snapshots: what each provider's messages have open."""
        return [
            {
                "id": lk.id,
                "provider": lk.provider,
                "symbol": lk.symbol,
                "side": lk.side.value,
                "status": lk.status,
                "qty": str(lk.qty),
                "entry": None if lk.average_entry is None else str(lk.average_entry),
                "stop": None if lk.stop is None else str(lk.stop),
                "take_profit": None if lk.take_profit is None else str(lk.take_profit),
            }
            for lk in self.links.links.values()
            if lk.active
        ]
