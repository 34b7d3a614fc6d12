"""A chat signal provider as a copy leader (`leader = "chat:PROVIDER"`, docs/social.md).

The provider's calls reach the engine as any chat message does (pasted, posted to the webhook,
read from Discord); the chat desk hands each actionable one to the copy desk once (not its
re-deliveries), and each becomes the leader's "fill" to mirror, under the same rules as a
daemon's or an exchange's fills (engine/copy/plan.py):

- entry: the call's price is its entry (the middle of a zone; the market's mid when the call
  has none). Sized by your [risk.sizing] (with the call's stop) times `scale`, planned like
  any leader fill against the zone's far edge (your price more than max_slippage_bps past it:
  skipped), and sent as a limit IOC with the call's stop and first target as its bracket. A
  conditional entry ("if it breaks 62k") is skipped: a copy never leaves an entry waiting.
- exit (all, or `fraction` of it): with mirror_exits, closes that share of what you copied
  from this provider in the symbol (or in every symbol), as a reduce-only limit IOC at the
  mid ± max_slippage_bps. The copy's stop and target are cancelled first and, after a
  partial exit, placed again for what is left (placed again as they were if the close is
  refused).
- update: with mirror_exits, moves the copy's stop (a price, or breakeven: your average entry)
  and/or target: the old pair is cancelled and the new one placed; refused ones restore the old.
- cancel: nothing waits to be cancelled (copied entries are immediate-or-cancel): recorded.

Every call is a row (leader, `chat:<message id>`) committed before anything is sent, so no call
is acted on twice, across restarts too; the same text from the provider within two minutes
of a recorded call (a webhook retried across a restart) is a duplicate.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from tui_trader.core.enums import OrderType, Side, TimeInForce
from tui_trader.core.errors import UserError
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.engine.copy.leaders import Leader, LeaderFill
from tui_trader.engine.copy.plan import Plan, Skip, order_id, plan, plan_detail
from tui_trader.engine.protection_orders import place_protection, rejection
from tui_trader.signals.chat import Kind
from tui_trader.signals.symbols import resolve_symbol
from tui_trader.store.mirrors import SENDING, DuplicateMirror, Mirror

if TYPE_CHECKING:
    from tui_trader.config.copy import CopySettings
    from tui_trader.engine.chat_desk import PendingChat
    from tui_trader.engine.copy.follow import Follow
    from tui_trader.engine.copy.plan import Situation
    from tui_trader.engine.ports import EnginePort
    from tui_trader.signals.chat import ParsedSignal
    from tui_trader.store.mirrors import MirrorRecords

TWIN_S = 120.0  # the chat desk's own re-delivery window, kept across restarts here
ZERO = Decimal(0)


class DeskPort(Protocol):
    """What the chat calls use of the copy desk (engine/copy/desk.py)."""

    engine: EnginePort
    records: MirrorRecords | None

    async def _situation(self, follow: Follow, fill: LeaderFill) -> Situation: ...

    async def _send(self, follow: Follow, mirror: Mirror, planned: Plan) -> None: ...


class ChatLeader(Leader):
    """Nothing to dial: connected while the chat desk hands this provider's calls over."""

    def __init__(self, name: str, cfg: CopySettings, refusal: Any) -> None:
        super().__init__(name, cfg, None)
        self.refusal = refusal  # () -> why this copy cannot follow now, or None

    async def follow(self, on_fill: Any, since: Any) -> None:
        why = self.refusal()
        if why:
            raise UserError(why)
        self.connected(f"calls of chat provider {self.cfg.provider} (paste, webhook, Discord)")
        await asyncio.Event().wait()  # until stopped: the calls come from the chat desk


def text_hash(provider: str, text: str) -> str:
    same = " ".join(text.split()).lower()
    return hashlib.sha256(f"{provider}\x00{same}".encode()).hexdigest()[:16]


@dataclass
class Protection:
    """The copy's working stop and target in one symbol (reduce-only orders tagged with it)."""

    orders: list[Order]
    stop: Decimal | None
    take_profit: Decimal | None


class ChatCalls:
    """Owned by the copy desk; `on_call` mirrors one provider call for one follow."""

    def __init__(self, desk: DeskPort) -> None:
        self.desk = desk
        self.engine = desk.engine

    # -- entry point ---------------------------------------------------------------------------

    async def on_call(self, follow: Follow, item: PendingChat) -> list[Mirror]:
        async with follow.lock:
            key = f"chat:{item.id}"
            record = follow.record
            if key in record.mirrors or any(k.startswith(key + ":") for k in record.mirrors):
                record.duplicates += 1
                return []
            if item.at < follow.since - timedelta(seconds=1):
                return []
            digest = text_hash(item.provider, item.parsed.text)
            if any(
                m.detail.get("text_hash") == digest and abs((item.at - m.leader_ts).total_seconds()) <= TWIN_S
                for m in record.mirrors.values()
            ):
                record.duplicates += 1
                return []
            parsed = item.parsed
            base = {"kind": parsed.kind.value, "text_hash": digest, "call": item.id, "text": parsed.text[:200]}
            if parsed.kind is Kind.ENTRY:
                return [await self._entry(follow, item, key, base)]
            if parsed.kind is Kind.CANCEL:
                why = (
                    "nothing waits to be cancelled: copied entries are immediate-or-cancel; an exit call closes a copy"
                )
                self._cancelled_but_held(follow, item)
                return [await self._skip(follow, item, key, base, Skip("cancel", why), parsed.symbol)]
            return await self._manage(follow, item, key, base)

    def _cancelled_but_held(self, follow: Follow, item: PendingChat) -> None:
        """The provider withdrew an entry your copy already filled: said, never guessed at."""
        parsed = item.parsed
        held = {s: p.quantity for s, p in follow.record.ours.items() if not p.is_flat}
        match = resolve_symbol(parsed.symbol, sorted(held)) if parsed.symbol and held else None
        what = ", ".join(f"{s} {q}" for s, q in held.items() if parsed.all_symbols or s == match)
        if what:
            message = (f"copy {follow.name}: {item.provider} cancelled an entry your copy already filled ({what}); "
                       "it stays until an exit call or you close it")  # fmt: skip
            self.engine.notify("warning", message, "copy")

    # -- entries -------------------------------------------------------------------------------

    async def _entry(self, follow: Follow, item: PendingChat, key: str, base: dict[str, Any]) -> Mirror:
        eng, cfg, parsed = self.engine, follow.cfg, item.parsed
        assert parsed.symbol is not None and parsed.side is not None  # an entry has both
        venue = eng.venue_for(parsed.symbol, cfg.venue)
        symbol = parsed.symbol
        skip = self._gate(parsed)
        if skip is None and parsed.entry_type is OrderType.STOP:
            trigger = parsed.entry_price
            skip = Skip("conditional", f"a conditional entry (triggers at {trigger}): a copy leaves no entry waiting")
        inst = eng.instrument(venue, symbol)
        if skip is None and inst is None:
            skip = Skip("symbol", f"{symbol} is not traded on {venue}")
        mid = eng.mid(symbol, venue)
        if skip is None and not parsed.entry and not mid:
            skip = Skip("no_quote", f"no price for {symbol} on {venue}: a market call needs one")
        price = parsed.entry_price if parsed.entry else Decimal(str(mid or 0))
        if skip is not None or inst is None or price is None:
            return await self._skip(follow, item, key, base, skip or Skip("size", "no price"), symbol)
        edge = (max(parsed.entry) if parsed.side is Side.BUY else min(parsed.entry)) if parsed.entry else price
        quantity = self._size(parsed, symbol, parsed.side, float(edge), inst)
        if quantity <= 0:
            why = Skip("size", f"[risk.sizing] gives no tradable size for {symbol} at {edge}")
            return await self._skip(follow, item, key, base, why, symbol)
        fill = LeaderFill(key, symbol, parsed.side, quantity, edge, item.at)
        result = plan(fill, cfg, await self.desk._situation(follow, fill), follow.name)
        if isinstance(result, Plan) and not result.exit:
            request = result.request.with_(
                stop_loss=parsed.stop, take_profit=parsed.targets[0] if parsed.targets else None
            )
            result = Plan(request, False, result.ratio, result.reference, result.slippage_bps)
            base |= {"stop_loss": _s(parsed.stop), "take_profit": _s(request.take_profit)}
        return await self._record(follow, item, key, base, result, symbol, parsed.side, price)

    def _gate(self, parsed: ParsedSignal) -> Skip | None:
        minimum = self._chat_settings_min_confidence()
        if parsed.confidence < minimum:
            return Skip("confidence", f"confidence {parsed.confidence:.2f} is below [signals.chat] min_confidence "
                        f"{minimum:.2f}")  # fmt: skip
        return None

    def _chat_settings_min_confidence(self) -> float:
        service = getattr(self.engine, "signal_service", None)
        return float(service.settings.chat.min_confidence) if service is not None else 0.0

    def _size(self, parsed: ParsedSignal, symbol: str, side: Side, price: float, inst: Any) -> Decimal:
        from tui_trader.risk.sizing import Sizer

        stop = None if parsed.stop is None else float(parsed.stop)
        # the free cash of the venue it goes to, as the balance check reads it
        risk = self.engine.risk
        inp = risk.sizing_input(symbol, side.sign, price, stop_price=stop, quote=inst.quote, venue=inst.venue)
        return Sizer(self.engine.settings.risk.sizing).order_quantity(inp, inst)

    # -- exits and updates ---------------------------------------------------------------------

    async def _manage(self, follow: Follow, item: PendingChat, key: str, base: dict[str, Any]) -> list[Mirror]:
        parsed, record = item.parsed, follow.record
        held = {s: p.quantity for s, p in record.ours.items() if not p.is_flat}
        if parsed.side is not None:  # "close the long": only positions on that side
            held = {s: q for s, q in held.items() if (q > 0) == (parsed.side is Side.BUY)}
        if parsed.all_symbols:
            symbols = sorted(held)
        else:
            match = resolve_symbol(parsed.symbol, sorted(held)) if parsed.symbol and held else None
            symbols = [match] if match else []
        if not symbols:
            what = "any symbol" if parsed.all_symbols else (parsed.symbol or "an unnamed symbol")
            why = Skip(parsed.kind.value, f"nothing copied from {follow.cfg.provider} is open in {what}")
            return [await self._skip(follow, item, key, base, why, parsed.symbol)]
        out = []
        for symbol in symbols:
            k = key if len(symbols) == 1 and not parsed.all_symbols else f"{key}:{symbol}"
            if not follow.cfg.mirror_exits:
                why = Skip("exit", f"an {parsed.kind.value} call, and mirror_exits is off")
                out.append(await self._skip(follow, item, k, base, why, symbol))
            elif parsed.kind is Kind.EXIT:
                out.append(await self._exit(follow, item, k, base, symbol))
            else:
                out.append(await self._update(follow, item, k, base, symbol))
        return out

    async def _exit(self, follow: Follow, item: PendingChat, key: str, base: dict[str, Any], symbol: str) -> Mirror:
        eng, parsed = self.engine, item.parsed
        if parsed.fraction is None:
            why = Skip("exit", "the call does not say how much to close; close it yourself")
            return await self._skip(follow, item, key, base, why, symbol)
        venue = eng.venue_for(symbol, follow.cfg.venue)
        mid = eng.mid(symbol, venue)
        held = follow.record.held(symbol)
        side = Side.SELL if held > 0 else Side.BUY
        if not mid:
            return await self._skip(follow, item, key, base, Skip("no_quote", f"no price for {symbol}"), symbol)
        share = min(parsed.fraction, Decimal(1))
        fill = LeaderFill(key, symbol, side, abs(held) * share, Decimal(str(mid)), item.at)
        situation = replace(await self.desk._situation(follow, fill), ratio=1.0)
        result = plan(fill, follow.cfg, situation, follow.name)
        if isinstance(result, Plan) and not result.exit:  # the account no longer holds the copy
            result = Skip("exit", f"your account no longer holds the {symbol} copied from {follow.cfg.provider}")
        base = base | {"fraction": str(parsed.fraction)}
        return await self._record(follow, item, key, base, result, symbol, side, Decimal(str(mid)))

    async def _update(self, follow: Follow, item: PendingChat, key: str, base: dict[str, Any], symbol: str) -> Mirror:
        eng, parsed = self.engine, item.parsed
        held = follow.record.held(symbol)
        side = Side.BUY if held > 0 else Side.SELL
        venue = eng.venue_for(symbol, follow.cfg.venue)
        old = self.protection(follow, symbol)
        stop = parsed.stop if parsed.stop is not None else old.stop
        if parsed.stop is None and parsed.breakeven:
            pos = follow.record.ours[symbol]
            inst = eng.instrument(venue, symbol)
            stop = inst.round_price(pos.average_price) if inst is not None else pos.average_price
        take_profit = parsed.targets[0] if parsed.targets else old.take_profit
        mid = Decimal(str(eng.mid(symbol, venue) or 0))
        why: Skip | None = None
        if stop is not None and mid > 0 and (mid - stop) * side.sign <= 0:
            why = Skip("update", f"stop {stop} is past the market {mid:f}: it would close at once; not moved")
        elif take_profit is not None and mid > 0 and (take_profit - mid) * side.sign <= 0:
            why = Skip("update", f"take-profit {take_profit} is past the market {mid:f}; not moved")
        elif stop == old.stop and take_profit == old.take_profit:
            why = Skip("update", "the stop and target are already there")
        mirror = self._mirror(follow, item, key, base, symbol, side, abs(held), stop or ZERO)
        if why is not None:
            return await self._insert_skip(follow, mirror, why)
        mirror.detail |= {"stop_loss": _s(stop), "take_profit": _s(take_profit)}
        if not await self._insert(follow, mirror):
            return mirror
        await self._cancel(follow, old)
        placed = await self.protect(follow, symbol, venue, side, abs(held), stop, take_profit)
        if placed:
            restored = await self.protect(follow, symbol, venue, side, abs(held), old.stop, old.take_profit)
            mirror.status, mirror.reason = "rejected", f"not moved: {placed}{restored and '; ' + restored}"
            self._warn_unprotected(follow, symbol, restored)
        else:
            mirror.status, mirror.reason = "sent", f"stop {stop or '-'}, take-profit {take_profit or '-'}"
        await self._done(follow, mirror)
        return mirror

    # -- protective orders ---------------------------------------------------------------------

    def protection(self, follow: Follow, symbol: str) -> Protection:
        oms, tag = self.engine.oms, f"copy:{follow.name}"
        orders = [o for o in (oms.open_orders() if oms is not None else [])
                  if o.tag == tag and o.reduce_only and o.symbol == symbol]  # fmt: skip
        stop = next((o.stop_price for o in orders if o.type is OrderType.STOP), None)
        take_profit = next((o.price for o in orders if o.type is OrderType.LIMIT and o.time_in_force is not
                            TimeInForce.IOC), None)  # fmt: skip
        return Protection(orders, stop, take_profit)

    async def _cancel(self, follow: Follow, protection: Protection) -> None:
        for order in protection.orders:
            try:
                await self.engine.cancel(order.client_order_id, actor=f"copy:{follow.name}")
            except UserError:
                pass  # already gone (filled, or its sibling's fill cancelled it)

    async def protect(self, follow: Follow, symbol: str, venue: str, side: Side, qty: Decimal,
                      stop: Decimal | None, take_profit: Decimal | None) -> str:  # fmt: skip
        """Place the copy's stop and target for `qty` (one-cancels-other); '' or why refused."""
        name = f"copy:{follow.name}"
        try:
            orders = await place_protection(
                self.engine, symbol, venue, side, qty, stop, take_profit, source=name, tag=name
            )
        except UserError as exc:
            return f"protection refused: {exc}"
        why = rejection(orders)
        return f"protection refused: {why}" if why is not None else ""

    def _warn_unprotected(self, follow: Follow, symbol: str, refused: str) -> None:
        if refused:
            message = f"copy {follow.name}: {symbol} has no stop now ({refused}): protect it yourself"
            self.engine.notify("error", message, "copy")

    # -- rows ----------------------------------------------------------------------------------

    def _mirror(self, follow: Follow, item: PendingChat, key: str, base: dict[str, Any], symbol: str | None,
                side: Side, quantity: Decimal, price: Decimal) -> Mirror:  # fmt: skip
        return Mirror(follow.name, key, item.at, symbol or "?", side, quantity, price, self.engine.clock.now(),
                      SENDING, "", None, dict(base))  # fmt: skip

    async def _skip(self, follow: Follow, item: PendingChat, key: str, base: dict[str, Any], why: Skip,
                    symbol: str | None) -> Mirror:  # fmt: skip
        side = item.parsed.side or Side.BUY
        return await self._insert_skip(follow, self._mirror(follow, item, key, base, symbol, side, ZERO, ZERO), why)

    async def _insert_skip(self, follow: Follow, mirror: Mirror, why: Skip) -> Mirror:
        mirror.status, mirror.reason = "skipped", why.reason
        mirror.detail["code"] = why.code
        if await self._insert(follow, mirror):
            await self.engine.audit(f"copy:{follow.name}", "copy_skip", mirror.as_dict())
        return mirror

    async def _insert(self, follow: Follow, mirror: Mirror) -> bool:
        assert self.desk.records is not None
        try:
            await self.desk.records.insert(mirror)  # committed before anything is sent
        except DuplicateMirror:
            follow.record.duplicates += 1
            return False
        follow.record.add(mirror)
        return True

    async def _done(self, follow: Follow, mirror: Mirror) -> None:
        assert self.desk.records is not None
        await self.desk.records.update(mirror)
        await self.engine.audit(f"copy:{follow.name}", "copy_call", mirror.as_dict())

    async def _record(self, follow: Follow, item: PendingChat, key: str, base: dict[str, Any], result: Plan | Skip,
                      symbol: str, side: Side, price: Decimal) -> Mirror:  # fmt: skip
        if isinstance(result, Skip):
            return await self._skip(follow, item, key, base, result, symbol)
        mirror = self._mirror(follow, item, key, base, symbol, side, result.request.quantity, price)
        mirror.client_order_id = order_id(follow.name, key)
        mirror.detail |= plan_detail(result)
        if not await self._insert(follow, mirror):
            return mirror
        await self.send(follow, mirror, result.request)
        return mirror

    async def send(self, follow: Follow, mirror: Mirror, request: OrderRequest) -> None:
        """An entry (with its bracket) or an exit (the copy's protection cancelled first and, after
        a partial exit, placed again for what is left; placed again as it was when refused)."""
        exit_ = bool(mirror.detail.get("exit"))
        old = self.protection(follow, mirror.symbol) if exit_ else None
        held = abs(follow.record.held(mirror.symbol))  # before this order's fills
        if old is not None:
            await self._cancel(follow, old)
        await self.desk._send(follow, mirror, Plan(request, exit_, 1.0, 0.0, 0.0))
        if old is None or not (old.stop or old.take_profit):
            return
        rest = held if mirror.status == "rejected" else held - request.quantity
        oms = self.engine.oms
        order = oms.orders.get(mirror.client_order_id or "") if oms is not None else None
        if order is not None and not order.is_open:  # the IOC is done: what it did not fill stays held
            rest = held - order.filled_quantity
        if rest > 0:
            side = Side.BUY if request.side is Side.SELL else Side.SELL
            refused = await self.protect(follow, mirror.symbol, request.venue or "", side, rest, old.stop,
                                         old.take_profit)  # fmt: skip
            self._warn_unprotected(follow, mirror.symbol, refused)

    @staticmethod
    def request_of(mirror: Mirror, name: str) -> OrderRequest:
        """The order a chat row planned (to send it after a crash between the row and the order)."""
        d = mirror.detail
        return OrderRequest(
            mirror.symbol, mirror.side, Decimal(str(d["order_quantity"])), OrderType.LIMIT,
            price=Decimal(str(d["limit"])), time_in_force=TimeInForce.IOC, venue=d.get("venue"),
            reduce_only=bool(d.get("exit")), tag=f"copy:{name}",
            stop_loss=_d(d.get("stop_loss")), take_profit=_d(d.get("take_profit")),
        )  # fmt: skip


def _s(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _d(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))
