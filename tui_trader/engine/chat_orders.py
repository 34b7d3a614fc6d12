"""Acting on a provider's exit, update and cancel messages: only on the orders and position
that provider's own messages opened (the links), and only through `engine.place` /
`engine.cancel`, so every risk check applies and every order is audited.

- exit: close the link's open quantity (or `fraction` of it, rounded down to the lot) with a
  reduce-only market order; its protective orders are cancelled first and, after a partial
  exit, placed again for what is left. A link whose entry has not filled is cancelled instead.
  The close is checked by a dry run first; if it is refused only when sent, the stop and
  take-profit are placed again, and if those are refused too the trader is told at once that
  nothing protects the position.
- update: move the stop (a price, or breakeven = the average entry) and/or the take-profit:
  the protective orders are cancelled and placed again (a one-cancels-other pair); if the new
  ones are refused (by the checks or the venue), the old ones are placed again and a warning
  says so. A stop that would trigger at once (on the wrong side of the market) is refused, not
  sent.
- cancel: cancel a link's entry order while nothing has filled.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING

from tui_trader.core.enums import OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.engine.protection_orders import place_protection, rejection
from tui_trader.signals.chat import Kind
from tui_trader.signals.symbols import resolve_symbol

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tui_trader.engine.ports import EnginePort
    from tui_trader.signals.chat import ParsedSignal
    from tui_trader.signals.chat_links import ChatLink, LinkBook

log = logging.getLogger(__name__)

# What the dry run of a close may answer only because the link's own stop and take-profit are
# still working (they are cancelled before the close is sent).
_OWN_PROTECTION_CODES = frozenset({"reduce_only", "max_open_orders", "max_open_orders_per_symbol"})
_PLACED_AGAIN = "; the stop and take-profit placed again"


def targets(links: LinkBook, provider: str, parsed: ParsedSignal) -> list[ChatLink]:
    """The provider's active links the message is about: its symbol (however it is spelled),
    or all of them; narrowed to the position side when the message names it."""
    found = links.active_for(provider, None)
    if not parsed.all_symbols:
        if parsed.symbol is None:
            return []
        symbols = sorted({lk.symbol for lk in found})
        match = resolve_symbol(parsed.symbol, symbols) if symbols else None
        found = [lk for lk in found if lk.symbol == match]
    if parsed.side is not None:
        found = [lk for lk in found if lk.side is parsed.side]
    return found


class ChatOrders:
    """Owned by the chat desk; `act` runs one exit, update or cancel message."""

    def __init__(self, engine: EnginePort, links: LinkBook, save: Callable[[], Awaitable[None]]) -> None:
        self.engine = engine
        self.links = links
        self._save = save  # persists the links (a link's `moving` mark must be stored first)

    async def act(self, provider: str, parsed: ParsedSignal, message_id: str) -> list[str]:
        """Apply the message to every link it is about; returns one note per thing done (or
        refused). Raises UserError when no link matches."""
        found = targets(self.links, provider, parsed)
        if not found:
            what = "any symbol" if parsed.all_symbols else (parsed.symbol or "that symbol")
            raise UserError(f"nothing from {provider}'s messages is open in {what}; nothing to do")
        notes: list[str] = []
        for link in found:
            try:
                if parsed.kind is Kind.EXIT:
                    note = await self._exit(link, parsed, message_id)
                elif parsed.kind is Kind.UPDATE:
                    note = await self._update(link, parsed, message_id)
                elif parsed.kind is Kind.CANCEL:
                    note = await self._cancel(link)
                else:
                    raise UserError(f"a {parsed.kind.value} message does not act on orders")
            except UserError as exc:
                note = str(exc)
            link.moving = None  # done: what protects it now is what the note says
            link.actions.append({"message": message_id, "kind": parsed.kind.value, "note": note})
            notes.append(f"{link.id} {link.symbol}: {note}")
        return notes

    # -- kinds -------------------------------------------------------------------------------

    async def _exit(self, link: ChatLink, parsed: ParsedSignal, message_id: str) -> str:
        if link.status == "placed" and link.qty == 0:
            return await self._cancel(link)
        if parsed.fraction is None:
            raise UserError("the message does not say how much to close; close it yourself")
        await self._cancel_entry_rest(link)
        inst = self.engine.instrument(link.venue, link.symbol)
        open_qty = link.qty
        qty = open_qty if parsed.fraction >= 1 else open_qty * parsed.fraction
        qty = inst.round_qty(qty) if inst is not None else qty
        if qty <= 0:
            raise UserError(f"{parsed.fraction} of {open_qty} is below one lot; nothing closed")
        close = OrderRequest(
            link.symbol,
            link.side.opposite,
            qty,
            OrderType.MARKET,
            venue=link.venue,
            reduce_only=True,
            source=f"signal:{link.provider}",
            tag=link.id,
        )
        # A dry run first, so a close the checks refuse (the market is shut, live trading is not
        # armed, the database cannot be written, the size is below the minimum) never takes the
        # stop away. Refusals caused by the link's own stop and target still working are not
        # refusals of the close: they are cancelled next.
        dry = self.engine.check(close, actor=f"signal:{link.provider}")
        if not dry["ok"] and dry["code"] not in _OWN_PROTECTION_CODES:
            raise UserError(f"refused by the risk checks: {dry['message']}; the stop and take-profit stay")
        await self._cancel_protection(link, f"the exit {message_id}")
        try:
            order = await self._send(link, close)
        except UserError as exc:
            return f"{exc}{await self._restore(link, link.stop, link.take_profit)}"
        rest = open_qty - qty
        stop = self._new_stop(link, parsed)
        if rest > 0:
            extra = await self._protect(link, rest, stop, link.take_profit)
            return f"closing {qty} of {open_qty} ({order.client_order_id}){self._unprotected(link, extra) or extra}"
        return f"closing all {qty} ({order.client_order_id})"

    async def _update(self, link: ChatLink, parsed: ParsedSignal, message_id: str) -> str:
        if link.status == "placed" and link.qty == 0:
            raise UserError("the entry has not filled; its levels were not changed (cancel and re-enter)")
        stop = self._new_stop(link, parsed)
        take_profit = parsed.targets[0] if parsed.targets else link.take_profit
        mid = Decimal(str(self.engine.mid(link.symbol) or 0))
        if stop is not None and mid > 0 and (mid - stop) * link.side.sign <= 0:
            where = "above" if link.side is Side.BUY else "below"
            raise UserError(f"stop {stop} is {where} the market {mid:f}: it would close at once; not moved")
        if take_profit is not None and mid > 0 and (take_profit - mid) * link.side.sign <= 0:
            raise UserError(f"take-profit {take_profit} is past the market {mid:f}: it would fill at once; not moved")
        old_stop, old_take_profit = link.stop, link.take_profit
        await self._cancel_protection(link, f"the update {message_id}")
        placed = await self._protect(link, link.qty, stop, take_profit)
        if placed.startswith("; protection refused"):
            restored = await self._restore(link, old_stop, old_take_profit)
            if restored == _PLACED_AGAIN:  # (when nothing protects it, _restore already said so loudly)
                self.engine.notify(
                    "warning",
                    f"{link.symbol} from {link.id}: the provider's new stop or take-profit was refused "
                    f"({placed[2:]}); the old stop {old_stop or '-'} and take-profit "
                    f"{old_take_profit or '-'} work again",
                    source=f"signal:{link.provider}",
                )
            return f"not moved{placed}{restored}"
        return f"stop {stop if stop is not None else '-'}, take-profit {take_profit or '-'}{placed}"

    async def _cancel(self, link: ChatLink) -> str:
        entry = self._order(link.entry_order)
        if entry is None or not entry.is_open:
            if link.qty > 0:
                raise UserError("the entry already filled; send an exit to close it")
            raise UserError("the entry is no longer working; nothing to cancel")
        await self.engine.cancel(entry.client_order_id, actor=f"signal:{link.provider}")
        if link.qty > 0:
            return f"cancelled the unfilled rest of {entry.client_order_id}; {link.qty} stays open"
        return f"cancelled {entry.client_order_id}"

    async def protect_again(self, link: ChatLink) -> str | None:
        """At start, for a link still marked `moving`: the engine stopped between cancelling its
        stop and take-profit and placing what follows. If it is still open and nothing of its
        own protects it (no working reduce-only order tagged with it, a close included), its
        stop and take-profit are placed again. Returns what was done, None when nothing was
        needed."""
        why, link.moving = link.moving, None
        oms = self.engine.oms
        if why is None or oms is None or link.status != "open" or link.qty == 0:
            return None
        if link.stop is None and link.take_profit is None:
            return None  # it had nothing to put back
        if any(o.tag == link.id and o.reduce_only for o in oms.open_orders()):
            return None
        placed = await self._restore(link, link.stop, link.take_profit)  # (a refusal is said loudly there)
        if placed == _PLACED_AGAIN:
            self.engine.notify(
                "warning",
                f"{link.symbol} from {link.id}: the engine stopped while acting on {why}, with its stop and "
                f"take-profit cancelled; stop {link.stop or '-'} and take-profit {link.take_profit or '-'} "
                "placed again",
                source=f"signal:{link.provider}",
            )
        return f"the engine stopped while acting on {why}{placed}"

    # -- helpers -----------------------------------------------------------------------------

    def _new_stop(self, link: ChatLink, parsed: ParsedSignal) -> Decimal | None:
        if parsed.stop is not None:
            return parsed.stop
        if parsed.breakeven and link.average_entry is not None:
            inst = self.engine.instrument(link.venue, link.symbol)
            avg = link.average_entry
            return inst.round_price(avg) if inst is not None else avg
        return link.stop

    def _order(self, client_order_id: str | None) -> Order | None:
        oms = self.engine.oms
        if client_order_id is None or oms is None:
            return None
        return oms.orders.get(client_order_id)

    async def _cancel_entry_rest(self, link: ChatLink) -> None:
        entry = self._order(link.entry_order)
        if entry is not None and entry.is_open:
            await self.engine.cancel(entry.client_order_id, actor=f"signal:{link.provider}")

    async def _cancel_protection(self, link: ChatLink, why: str) -> None:
        """Cancel the link's working reduce-only orders (bracket children, earlier stops), once
        the link is stored as `moving` (so a start after a crash in between finds it)."""
        oms = self.engine.oms
        if oms is None:
            return
        link.moving = why
        await self._save()
        for order in list(oms.open_orders()):
            if order.tag == link.id and order.reduce_only:
                try:
                    await self.engine.cancel(order.client_order_id, actor=f"signal:{link.provider}")
                except UserError:
                    log.info("protective order %s was already gone", order.client_order_id)

    async def _protect(self, link: ChatLink, qty: Decimal, stop: Decimal | None, take_profit: Decimal | None) -> str:
        """Place the stop and take-profit for `qty` (one-cancels-other when both)."""
        try:
            orders = await place_protection(
                self.engine, link.symbol, link.venue, link.side, qty, stop, take_profit,
                source=f"signal:{link.provider}", tag=link.id,
            )  # fmt: skip
        except UserError as exc:
            return f"; protection refused: {exc}"
        if not orders:
            return "; no stop or take-profit to protect it"
        link.stop, link.take_profit = stop, take_profit
        why = rejection(orders)
        return f"; protection refused: {why}" if why is not None else ""

    async def _restore(self, link: ChatLink, stop: Decimal | None, take_profit: Decimal | None) -> str:
        """Place the link's earlier stop and take-profit again after a refusal."""
        if stop is None and take_profit is None:
            return ""
        placed = await self._protect(link, link.qty, stop, take_profit)
        return self._unprotected(link, placed) or _PLACED_AGAIN

    def _unprotected(self, link: ChatLink, placed: str) -> str:
        """When the checks refused the protective orders, the position has none: say so loudly
        (in the note and as a notification), never quietly."""
        if not placed.startswith("; protection refused"):
            return ""
        message = f"{link.symbol} from {link.id} has no stop now ({placed[2:]}): protect it yourself"
        self.engine.notify("error", message, source=f"signal:{link.provider}")
        return f"; {message}"

    async def _send(self, link: ChatLink, req: OrderRequest) -> Order:
        order = await self.engine.place(req, actor=f"signal:{link.provider}")
        if order.status.value == "rejected":
            raise UserError(f"refused by the risk checks: {order.reason}")
        return order
