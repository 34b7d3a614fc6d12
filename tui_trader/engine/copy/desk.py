"""The copy desk: follows each `[copy.NAME]` leader and mirrors its fills through the engine.

For each leader fill, in order, one at a time per leader:
1. a fill already recorded (in memory, or its row in the database) is a duplicate: nothing;
2. the plan (engine/copy/plan.py) says what to send or why not;
3. the row (leader fill, plan, the client order id it will use) is committed;
4. only then is the order placed, through `engine.place` as `copy:NAME`: identity, every risk
   check, persistence and the venue, as any order; a rejection is recorded with its reason.

The client order id is derived from the leader and the leader fill, so even a lost row could
not mirror a fill twice (the engine refuses a used id). At start, a row left `sending` by a
crash is settled from the orders table: the order exists (it was persisted before it was
sent: reconciliation follows it) or it was never sent, and is then sent now if still within
max_delay_s, else recorded as skipped. A leader (re)connection first asks for the fills since
max(when you started following it, the newest leader fill on record, at most a day back), so
fills made while the follower or the link was down are mirrored if they are still fresh enough
(max_delay_s), and recorded as skipped (late) if not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.core.enums import OrderStatus
from tui_trader.core.errors import UserError
from tui_trader.core.events import FillEvent
from tui_trader.engine.copy.chat import ChatCalls, ChatLeader
from tui_trader.engine.copy.follow import Follow
from tui_trader.engine.copy.leaders import Leader, LeaderFill, make_leader
from tui_trader.engine.copy.plan import Plan, Situation, Skip, order_id, plan, plan_detail
from tui_trader.store.mirrors import SENDING, DuplicateMirror, Mirror, MirrorRecords
from tui_trader.venues.resilience import stop_tasks

if TYPE_CHECKING:
    from tui_trader.engine.chat_desk import PendingChat
    from tui_trader.engine.ports import EnginePort

log = logging.getLogger(__name__)
STATE_KEY = "__copy__"  # strategy_state row: which leaders are followed, since when
CATCH_UP_LOOKBACK = timedelta(days=1)  # how far back a reconnection looks for fills it missed


class CopyDesk:
    """Owned by the engine (`engine.copy`); start() / stop() with it."""

    def __init__(self, engine: EnginePort) -> None:
        self.engine = engine
        self.follows: dict[str, Follow] = {}
        self.records: MirrorRecords | None = None
        self._sub: Any = None
        self._task: asyncio.Task[None] | None = None
        self.chat = ChatCalls(self)
        self._chat_desk: Any = None  # the signal service's chat desk, when a provider is followed

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        from tui_trader.secrets import load_credentials

        eng = self.engine
        assert eng.store is not None
        self.records = MirrorRecords(eng.store)
        saved = (await eng.store.load_strategy_state(STATE_KEY)).get("leaders") or {}
        now = eng.clock.now()
        # before settling rows a crash left `sending`: the fills of the orders sent then count
        self._sub = eng.bus.subscribe("copy-desk", kinds={"fill"}, coalesce=False)
        for name, cfg in eng.settings.copy_trading.items():
            state = saved.get(name) or {}
            enabled = bool(state.get("enabled", cfg.enabled))
            since = datetime.fromisoformat(state["since"]) if state.get("since") else now
            if cfg.provider is not None:
                leader: Leader = ChatLeader(name, cfg, lambda p=cfg.provider: self._chat_refusal(p))
            else:
                leader = make_leader(name, cfg, load_credentials(f"copy.{name}", eng.home), eng.clock)
            follow = Follow(name, cfg, leader, enabled, since)
            self.follows[name] = follow
            for mirror in await self.records.load(name):
                follow.record.add(mirror)
            for fill, level in await self.records.fills(name):
                if follow.record.on_fill(fill) is None and level is not None:
                    follow.record.on_protective_fill(fill, level)
            await self._settle_pending(follow)
        if any(f.cfg.provider is not None for f in self.follows.values()):
            from tui_trader.engine.signal_service import ensure_service

            self._chat_desk = (await ensure_service(eng)).chat
            self._chat_desk.listeners.append(self.on_chat)
        await self._save_state()
        self._task = asyncio.create_task(self._own_fills(), name="copy-fills")
        for follow in self.follows.values():
            if follow.enabled:
                self._run(follow)
        eng.snapshot_extras.append(self.snapshot_extra)

    async def stop(self) -> None:
        if self._chat_desk is not None:
            with contextlib.suppress(ValueError):
                self._chat_desk.listeners.remove(self.on_chat)
        for follow in self.follows.values():
            await self._halt(follow)
        if self._sub is not None:
            self._sub.close()
        await stop_tasks(self._task)
        with contextlib.suppress(ValueError):
            self.engine.snapshot_extras.remove(self.snapshot_extra)

    def _run(self, follow: Follow) -> None:
        async def on_fill(fill: LeaderFill, history: bool) -> None:
            await self.on_leader_fill(follow, fill)

        def since() -> datetime:
            # from the newest leader fill on record (at most a day back): fills missed beyond
            # max_delay_s while the follower or the link was down are seen, and recorded as late
            now = self.engine.clock.now()
            fresh = now - timedelta(seconds=follow.cfg.max_delay_s)
            newest = follow.record.newest_leader_ts()
            start = fresh if newest is None else max(min(fresh, newest), now - CATCH_UP_LOOKBACK)
            return max(follow.since, start)

        follow.task = asyncio.create_task(follow.leader.run(on_fill, since), name=f"copy-{follow.name}")

    async def _halt(self, follow: Follow) -> None:
        await stop_tasks(follow.task)
        follow.task = None
        await follow.leader.close()
        follow.leader.state = "stopped"

    # -- control -------------------------------------------------------------------------------

    def follow(self, name: str) -> Follow:
        found = self.follows.get(name)
        if found is None:
            known = ", ".join(sorted(self.follows)) or "none configured"
            raise UserError(f"no copy leader {name!r} (known: {known}); add a [copy.{name}] table")
        return found

    async def set_enabled(self, name: str, enabled: bool, actor: str) -> dict[str, Any]:
        follow = self.follow(name)
        if enabled and not follow.enabled:
            follow.enabled = True
            follow.since = self.engine.clock.now()  # what the leader did while stopped is not mirrored
            self._run(follow)
        elif not enabled and follow.enabled:
            follow.enabled = False
            await self._halt(follow)
        await self._save_state()
        await self.engine.audit(actor, "copy_start" if enabled else "copy_stop", {"leader": name})
        self.engine.notify("info", f"copy {name}: {'following' if enabled else 'stopped'}", "copy")
        return self.status(name)

    async def _save_state(self) -> None:
        store = self.engine.store
        if store is None:
            return
        state = {n: {"enabled": f.enabled, "since": f.since.isoformat()} for n, f in self.follows.items()}
        await store.save_strategy_state(STATE_KEY, {"leaders": state}, self.engine.clock.now())

    # -- mirroring -----------------------------------------------------------------------------

    def _chat_refusal(self, provider: str) -> str | None:
        service = getattr(self.engine, "signal_service", None)
        if service is not None and provider in service.settings.chat.auto_execute:
            return (f"{provider} is also in [signals.chat] auto_execute: each call would be traded twice; "
                    "remove it there or remove this copy")  # fmt: skip
        return None

    async def on_chat(self, item: PendingChat) -> None:
        """A chat provider's call (from the chat desk): mirrored by each copy following it."""
        for follow in self.follows.values():
            if follow.cfg.provider == item.provider and follow.enabled and follow.leader.state == "connected":
                await self.chat.on_call(follow, item)

    async def on_leader_fill(self, follow: Follow, fill: LeaderFill) -> Mirror | None:
        """Mirror one leader fill (or record why not); None for a duplicate or a fill from
        before following started."""
        async with follow.lock:
            if fill.key in follow.record.mirrors:
                follow.record.duplicates += 1
                return None
            if fill.ts < follow.since - timedelta(seconds=1):
                return None
            return await self._mirror(follow, fill)

    async def _mirror(self, follow: Follow, fill: LeaderFill) -> Mirror | None:
        eng, cfg = self.engine, follow.cfg
        assert self.records is not None
        situation = await self._situation(follow, fill)
        result = plan(fill, cfg, situation, follow.name)
        cid = order_id(follow.name, fill.key)
        mirror = Mirror(follow.name, fill.key, fill.ts, fill.symbol, fill.side, fill.quantity, fill.price,
                        situation.now, SENDING, "", cid)  # fmt: skip
        if isinstance(result, Skip):
            mirror.status, mirror.reason, mirror.client_order_id = "skipped", result.reason, None
            mirror.detail = {"code": result.code}
        else:
            mirror.detail = plan_detail(result) | {"leader_fee": str(fill.fee)}
        try:
            await self.records.insert(mirror)  # committed before anything is sent
        except DuplicateMirror:
            follow.record.duplicates += 1
            return None
        follow.record.add(mirror)
        if isinstance(result, Skip):
            log.info("copy %s: skipped %s %s %s: %s", follow.name, fill.side.value, fill.quantity, fill.symbol,
                     result.reason)  # fmt: skip
            await eng.audit(f"copy:{follow.name}", "copy_skip", mirror.as_dict())
            if result.code == "late":  # missed while the follower or the link was down
                eng.notify("warning", f"copy {follow.name}: {fill.symbol} not mirrored: {result.reason}", "copy")
            return mirror
        await self._send(follow, mirror, result)
        return mirror

    async def _send(self, follow: Follow, mirror: Mirror, planned: Plan) -> None:
        assert self.records is not None and mirror.client_order_id is not None
        try:
            order = await self.engine.place(
                planned.request.with_(client_order_id=mirror.client_order_id), actor=f"copy:{follow.name}"
            )
        except UserError as exc:
            mirror.status, mirror.reason = "rejected", str(exc)
        else:
            if order.status is OrderStatus.REJECTED:
                mirror.status, mirror.reason = "rejected", order.reason or "rejected"
                mirror.detail["code"] = str(order.meta.get("reject_code") or "rejected")
            else:
                mirror.status = "sent"
        if mirror.status == "rejected":
            self.engine.notify("warning", f"copy {follow.name}: {mirror.symbol} not mirrored: {mirror.reason}", "copy")
        await self.records.update(mirror)

    async def _situation(self, follow: Follow, fill: LeaderFill) -> Situation:
        eng, cfg = self.engine, follow.cfg
        venue = eng.venue_for(fill.symbol, cfg.venue)
        ticker = eng.ticker(fill.symbol, venue)
        held = follow.record.held(fill.symbol)
        account = eng.portfolio.positions.get((venue, fill.symbol))
        actual = account.quantity if account is not None else Decimal(0)
        if held * actual <= 0:  # closed by hand or by the kill switch: nothing left to exit
            held = Decimal(0)
        elif abs(actual) < abs(held):
            held = actual
        ratio: float | None = cfg.scale
        if cfg.scale_by == "equity":
            try:
                theirs = await follow.leader.equity()
            except UserError:
                theirs = None
            ours = eng.account().equity
            ratio = cfg.scale * ours / theirs if theirs and theirs > 0 and ours > 0 else None
        return Situation(
            eng.clock.now(),
            venue,
            eng.instrument(venue, fill.symbol),
            ticker.bid if ticker is not None else None,
            ticker.ask if ticker is not None else None,
            held,
            ratio,
        )

    async def _settle_pending(self, follow: Follow) -> None:
        """Rows a crash left `sending`: the order exists (sent) or never reached the engine."""
        eng = self.engine
        assert self.records is not None and eng.store is not None
        for mirror in list(follow.record.mirrors.values()):
            if mirror.status != SENDING:
                continue
            if mirror.client_order_id is None:  # a chat update stopped between its cancels and places
                mirror.status, mirror.reason = "skipped", "the follower stopped while moving the copy's stop and target"
                mirror.detail["code"] = "restart"
                await self.records.update(mirror)
                eng.notify("warning", f"copy {follow.name}: check the stop of {mirror.symbol}: {mirror.reason}", "copy")
                continue
            order = await eng.store.get_order(mirror.client_order_id)
            if order is not None:
                mirror.status = "rejected" if order.status is OrderStatus.REJECTED else "sent"
                mirror.reason = order.reason or ""
                await self.records.update(mirror)
                continue
            age = (eng.clock.now() - mirror.leader_ts).total_seconds()
            if age > follow.cfg.max_delay_s:
                mirror.status, mirror.reason = "skipped", f"the follower stopped before sending it; now {age:.0f} s old"
                mirror.detail["code"] = "late"
                await self.records.update(mirror)
                continue
            if follow.cfg.provider is not None:  # a chat call: send what was planned (the call is not kept)
                await self.chat.send(follow, mirror, ChatCalls.request_of(mirror, follow.name))
                continue
            fill = LeaderFill(mirror.fill_key, mirror.symbol, mirror.side, mirror.quantity, mirror.price,
                              mirror.leader_ts)  # fmt: skip
            result = plan(fill, follow.cfg, await self._situation(follow, fill), follow.name)
            if isinstance(result, Skip):
                mirror.status, mirror.reason, mirror.detail = "skipped", result.reason, {"code": result.code}
                await self.records.update(mirror)
                continue
            mirror.detail = plan_detail(result) | {"leader_fee": mirror.detail.get("leader_fee", "0")}
            await self._send(follow, mirror, result)

    async def _own_fills(self) -> None:
        """The follower's fills of mirrored orders feed each leader's track record."""
        assert self._sub is not None
        async for event in self._sub:
            if not isinstance(event, FillEvent):
                continue
            fill = event.fill
            oms = self.engine.oms
            order = oms.orders.get(fill.client_order_id) if oms is not None else None
            order = order or self.engine.recent_orders.get(fill.client_order_id)
            for follow in self.follows.values():
                if follow.record.on_fill(fill) is not None:
                    break
                if order is not None and order.tag == f"copy:{follow.name}" and order.reduce_only:
                    follow.record.on_protective_fill(fill, order.stop_price or order.price)
                    break

    # -- views ---------------------------------------------------------------------------------

    def status(self, name: str | None = None, *, recent: bool = True) -> dict[str, Any]:
        if name is not None:
            return self._status(self.follow(name), recent)
        return {"leaders": [self._status(f, recent) for f in self.follows.values()]}

    def _status(self, follow: Follow, recent: bool) -> dict[str, Any]:
        eng, cfg = self.engine, follow.cfg
        marks = {s: eng.mid(s, eng.venue_for(s, cfg.venue)) for s in follow.record.ours}
        doc = {
            "name": follow.name,
            "leader": follow.describe(),
            "kind": cfg.leader,
            "enabled": follow.enabled,
            "state": follow.leader.state if follow.enabled else "stopped",
            "detail": follow.leader.detail,
            "since": follow.since,
            "scale": cfg.scale,
            "scale_by": cfg.scale_by,
            "max_slippage_bps": cfg.max_slippage_bps,
            "max_delay_s": cfg.max_delay_s,
            "mirror_exits": cfg.mirror_exits,
            **follow.record.summary(marks),
        }
        if recent:
            doc["recent"] = follow.record.recent()
        return doc

    def snapshot_extra(self) -> dict[str, Any]:
        return {"copy": self.status(recent=False)["leaders"]} if self.follows else {}


async def maybe_start(engine: EnginePort) -> CopyDesk | None:
    """The engine's copy desk when `[copy.*]` tables follow a daemon, an exchange or a chat provider."""
    if not engine.settings.copy_trading:
        return None
    desk = CopyDesk(engine)
    await desk.start()
    return desk
