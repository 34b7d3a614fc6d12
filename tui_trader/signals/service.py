"""The engine-side signal service: closed candles -> ML and regime signals, news feeds, chat
(paste, webhook, Discord), provider track records, and the decision engine's ranked recommendations.

Optional and lazy: `maybe_start(engine)` starts it only when `[signals] enabled = true`, or
(unset) when feeds, a webhook port or a trained model exist; an engine command that needs it
(`signals.parse_chat`) starts a minimal one on demand. Nothing heavy is imported until a
candle needs a model. Chat signals wait for the trader unless the provider is listed in
`[signals.chat] auto_execute`; then the order goes through `engine.place`, so every risk
check applies.

Recommendations reach the UI as `snapshot.extra["recommendations"]`: a list, strongest
first, of plain dicts (see `recommendation_dict`); the service's state is in
`snapshot.extra["signals"]` (pending chat signals, providers, news, webhook, models).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.commands import command
from tui_trader.core.enums import Side
from tui_trader.core.errors import UserError
from tui_trader.core.events import CandleEvent, Event, FillEvent, SignalEvent
from tui_trader.core.signals import Signal
from tui_trader.signals.decision import DecisionEngine, Recommendation
from tui_trader.signals.providers import ProviderBook, r_multiple
from tui_trader.signals.settings import SignalsSettings, load_signals_settings
from tui_trader.strategy.window import BarWindow

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.core.market import Candle
    from tui_trader.core.orders import Order, OrderRequest
    from tui_trader.engine import Engine
    from tui_trader.signals.chat import ParsedSignal
    from tui_trader.signals.discord_source import ChatSignal, DiscordSignalSource
    from tui_trader.signals.ml.inference import Predictor
    from tui_trader.signals.news import NewsEvent

log = logging.getLogger(__name__)

STATE_KEY = "__signals__"  # strategy_state row reserved for the service (no strategy uses __)
MODEL_RECHECK_S = 60.0  # how often the registry is re-read for a newer model
MAX_PENDING = 100
REFRESH_S = 1.0  # recommendations are re-ranked at most this often (decay moves slowly)
CONF_STEP = 0.05  # an ML call is re-published when confidence moves this much


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


def _single_openmp_thread() -> None:
    """One-row predictions are fastest without OpenMP fan-out (p99 6 ms -> 4 ms on 2 busy cores);
    the limit applies to this worker thread only."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="openmp")


def recommendation_dict(rec: Recommendation) -> dict[str, Any]:
    """The shape the Signals pane reads from snapshot.extra["recommendations"]."""
    return {
        "symbol": rec.symbol,
        "score": rec.score,  # -1 strong short .. +1 strong long
        "direction": rec.direction.value,  # long | short | flat
        "confidence": rec.confidence,  # 0..1
        "top_reasons": list(rec.top_reasons),
        "notes": list(rec.notes),
        "as_of": rec.as_of,
        "sources": [
            {
                "source": c.signal.source,
                "timeframe": c.signal.timeframe,
                "direction": c.signal.direction.value,
                "value": round(c.value, 4),
                "age_s": round(c.age_s, 1),
                "reason": c.signal.reason,
                "ts": c.signal.ts,
            }
            for c in rec.contributions
        ],
    }


class SignalService:
    """Owned by the engine (`engine.signal_service`); start() / stop() with it."""

    def __init__(self, engine: Engine, settings: SignalsSettings | None = None) -> None:
        self.engine = engine
        self.settings = settings or load_signals_settings(engine.settings.signals)
        self.decision = DecisionEngine(self.settings.decision, engine.clock)
        self.providers = ProviderBook()
        self.pending: dict[str, PendingChat] = {}
        self.webhook: Any = None
        self.webhook_token: str | None = None
        self.poller: Any = None
        self.discord: DiscordSignalSource | None = None
        self._discord_task: asyncio.Task[None] | None = None
        self.inference_ms: deque[float] = deque(maxlen=500)
        self._ids = itertools.count(1)
        self._windows: dict[tuple[str, str, str], BarWindow] = {}
        self._warming: set[tuple[str, str, str]] = set()
        self._predictors: dict[tuple[str, str], tuple[float, Predictor | None]] = {}
        self._last_emitted: dict[tuple[str, str, str | None], Signal] = {}
        self._trades: dict[tuple[str, str], _Trade] = {}
        self._sub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None  # one worker: inference off the loop
        self._recs: list[Recommendation] = []
        self._recs_at = float("-inf")
        self._dirty = True
        self.started = False

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        if self.started:
            return
        eng = self.engine
        await self._load_state()
        eng.bus.on(self._on_signal_event, kinds={"signal"}, name="signals-decision")
        for sig in eng.signals:  # signals published before we started still count
            self.decision.add(sig)
        self._sub = eng.bus.subscribe("signals-service", kinds={"candle", "fill"}, coalesce=False)
        self._task = asyncio.create_task(self._run(), name="signals-service")
        if self.settings.news.feeds:
            from tui_trader.signals.news import NewsPoller

            self.poller = NewsPoller(
                self.settings.news.feeds,
                clock=eng.clock,
                interval_s=self.settings.news.interval_s,
                timeout_s=self.settings.news.timeout_s,
                on_event=self._on_news,
            )
            self.poller.start()
        if self.settings.chat.webhook_port is not None:
            await self._start_webhook(self.settings.chat.webhook_port)
        if self.settings.chat.discord.enabled:
            self._start_discord()
        if self.snapshot_extra not in eng.snapshot_extras:
            eng.snapshot_extras.append(self.snapshot_extra)
        self.started = True

    async def _start_webhook(self, port: int) -> None:
        from tui_trader.signals.webhook import ChatWebhook, load_or_create_token

        if self.engine.home is not None:
            self.webhook_token = load_or_create_token(self.engine.home.run_dir)
        else:
            import secrets

            self.webhook_token = secrets.token_urlsafe(32)
        self.webhook = ChatWebhook(self._on_webhook, self.webhook_token, port=port)
        await self.webhook.start()
        log.info("chat webhook listening on %s", self.webhook.url)

    def _start_discord(self) -> None:
        """The Discord bot in a background task; the token is read from the keyring only as it
        connects. Failures (no discord.py, no token, bad token) become notices, not crashes."""
        import importlib.util

        cfg = self.settings.chat.discord
        if importlib.util.find_spec("discord") is None:
            msg = "discord.py is not installed; run `pip install 'tui-trader[discord]'` to read Discord"
            log.warning("%s", msg)
            self.engine.notify("warning", msg, source="signals")
            return
        from tui_trader.signals.discord_source import DiscordSignalSource

        self.discord = DiscordSignalSource(
            self._discord_token,
            channels=cfg.channels,
            on_signal=self._on_discord,
            clock=self.engine.clock,
            known_symbols=lambda: self.engine.symbols() or None,
            on_state=self._on_discord_state,
        )
        self._discord_task = asyncio.create_task(self.discord.run(), name="signals-discord")

    def _discord_token(self) -> str | None:
        """Read once per connection and handed straight to discord.py; never kept here."""
        from tui_trader.secrets import load_credentials

        creds = load_credentials(self.settings.chat.discord.token_key, self.engine.home)
        return None if creds is None else creds.secret

    def _on_discord_state(self, state: str, message: str) -> None:
        self._dirty = True
        level = {"connected": "info", "disconnected": "warning"}.get(state)
        if state in ("no_token", "auth_failed", "error"):
            level = "error"
        if level is not None:
            self.engine.notify(level, message, source="signals")

    async def _on_discord(self, sig: ChatSignal) -> None:
        try:
            await self.submit_chat(sig.parsed.text, sig.provider, origin="discord")
        except UserError as exc:
            log.info("discord message %s from %s not used: %s", sig.message_id, sig.provider, exc)

    async def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        eng = self.engine
        eng.bus.off(self._on_signal_event)
        with contextlib.suppress(ValueError):
            eng.snapshot_extras.remove(self.snapshot_extra)
        if self._sub is not None:
            self._sub.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.poller is not None:
            await self.poller.stop()
        if self.webhook is not None:
            await self.webhook.stop()
        if self.discord is not None:
            with contextlib.suppress(Exception):
                await self.discord.close()
        if self._discord_task is not None:
            self._discord_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._discord_task
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        await self._save_state()

    # -- persistence ---------------------------------------------------------------------

    async def _load_state(self) -> None:
        store = self.engine.store
        if store is None:
            return
        state = await store.load_strategy_state(STATE_KEY)
        if state.get("providers"):
            try:
                self.providers = ProviderBook.from_dict(state["providers"])
            except UserError as exc:
                log.warning("%s; starting with empty provider records", exc)

    async def _save_state(self) -> None:
        store = self.engine.store
        if store is None:
            return
        with contextlib.suppress(Exception):  # a closed store at shutdown is not worth a crash
            await store.save_strategy_state(
                STATE_KEY, {"providers": self.providers.to_dict()}, self.engine.clock.now()
            )

    # -- the event loop ------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._sub is not None
        async for event in self._sub:
            try:
                if isinstance(event, CandleEvent) and event.candle.closed:
                    await self.on_candle(event.venue, event.candle)
                elif isinstance(event, FillEvent):
                    await self._on_fill(event)
            except Exception:
                log.exception("signal service failed on %s", event.kind)

    def _on_signal_event(self, event: Event) -> None:
        if isinstance(event, SignalEvent):
            self.decision.add(event.signal)
            self._dirty = True

    def _emit(self, sig: Signal) -> None:
        """Publish when the call changed (direction or confidence); else refresh silently, so a
        model speaking every bar does not flood the signal list."""
        key = (sig.symbol, sig.source, sig.timeframe)
        prev = self._last_emitted.get(key)
        changed = (
            prev is None
            or prev.direction is not sig.direction
            or abs((prev.confidence or 0) - (sig.confidence or 0)) >= CONF_STEP
            or prev.meta.get("regime") != sig.meta.get("regime")
        )
        if changed:
            self._last_emitted[key] = sig
            self.engine.publish_signal(sig)
        else:
            self.decision.add(sig)
            self._dirty = True

    # -- candles: ML and regime ----------------------------------------------------------

    async def on_candle(self, venue: str, candle: Candle) -> list[Signal]:
        """One closed candle: update its window, then model and regime signals for it."""
        from tui_trader.signals.ml.inference import window_bars

        key = (venue, candle.symbol, candle.timeframe)
        win = self._windows.get(key)
        if win is None:
            win = self._windows[key] = BarWindow(window_bars(candle.timeframe))
            await self._warm_up(key, win)
        if not win.add(candle):
            return []
        df = win.frame()
        predictor = self._predictor(candle.symbol, candle.timeframe)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                1, thread_name_prefix="signals-ml", initializer=_single_openmp_thread
            )
        loop = asyncio.get_running_loop()
        sigs = await loop.run_in_executor(
            self._executor, self._compute, df, candle, venue, predictor
        )
        for sig in sigs:
            self._emit(sig)
        return sigs

    async def _warm_up(self, key: tuple[str, str, str], win: BarWindow) -> None:
        """History so the first live candle already has enough bars behind it."""
        venue, symbol, tf = key
        try:
            history = await self.engine.fetch_candles(symbol, tf, limit=win.size, venue=venue)
        except Exception as exc:  # no history is not fatal: the window fills as bars close
            log.info("no candle history for %s %s %s: %s", venue, symbol, tf, exc)
            return
        for c in history:
            if c.closed:
                win.add(c)

    def _predictor(self, symbol: str, timeframe: str) -> Predictor | None:
        now = self.engine.clock.monotonic()
        cached = self._predictors.get((symbol, timeframe))
        if cached is not None and now - cached[0] < MODEL_RECHECK_S:
            return cached[1]
        predictor = None
        if self.engine.home is not None:
            from tui_trader.signals.ml.inference import Predictor, load_model, registry_for

            registry = registry_for(self.engine.home)
            try:
                info = registry.latest(symbol, timeframe)
                if info is not None:
                    predictor = Predictor(info, load_model(registry, info))
            except UserError as exc:  # e.g. a model file whose hash does not match
                self.engine.notify("warning", str(exc), source="signals")
        self._predictors[(symbol, timeframe)] = (now, predictor)
        return predictor

    def _compute(
        self, df: pd.DataFrame, candle: Candle, venue: str, predictor: Predictor | None
    ) -> list[Signal]:
        """Runs in a worker thread: pure functions of the window."""
        import time

        from tui_trader.signals.regime import regime_signal

        at = self.engine.clock.now()
        out: list[Signal] = []
        if predictor is not None:
            t0 = time.perf_counter()
            pred = predictor.predict_last(df)
            self.inference_ms.append((time.perf_counter() - t0) * 1000)
            if pred is not None:
                out.append(pred.to_signal(at, venue))
        reg = regime_signal(df, candle.symbol, at, timeframe=candle.timeframe)
        if reg is not None:
            out.append(reg)
        return out

    # -- news ----------------------------------------------------------------------------

    async def _on_news(self, event: NewsEvent) -> None:
        for sig in event.to_signals(self.engine.symbols()):
            self.engine.publish_signal(sig)

    # -- chat ----------------------------------------------------------------------------

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
            if parsed.confidence < chat.min_confidence:
                item.note = (
                    f"not auto-executed: confidence {parsed.confidence:.2f} is below "
                    f"{chat.min_confidence:.2f}; confirm it yourself"
                )
            else:
                await self._auto_execute(item)
        self._dirty = True
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
        venue = self.engine._venue_for(parsed.symbol)
        inst = self.engine.instrument(venue, parsed.symbol)
        if inst is None:
            raise UserError(
                f"{parsed.symbol} is not traded on {venue}; edit the symbol in the ticket"
            )
        if quantity is None:
            quantity = self._size(item, inst)
        return parsed.to_order_request(quantity, venue=venue, provider=item.provider)

    def _size(self, item: PendingChat, inst: Any) -> Decimal:
        from tui_trader.risk.sizing import Sizer, SizingInput

        parsed = item.parsed
        price = float(parsed.entry_price or 0) or self.engine.mid(parsed.symbol)
        account = self.engine.account()
        qty = Sizer(self.engine.settings.risk.sizing).order_quantity(
            SizingInput(
                symbol=parsed.symbol,
                price=price,
                side=parsed.side.sign,
                equity=account.equity,
                available=account.cash,
                stop_price=None if parsed.stop is None else float(parsed.stop),
            ),
            inst,
        )
        if qty <= 0:
            raise UserError(
                f"[risk.sizing] gives no tradable size for {parsed.symbol} at {price:g}; "
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
        self._dirty = True
        return {
            "id": item.id,
            "provider": item.provider,
            "request": req,
            "signal": item.parsed.as_dict(),
        }

    async def _on_webhook(self, text: str, provider: str) -> dict[str, Any]:
        item = await self.submit_chat(text, provider, origin="webhook")
        return {**item.as_dict(), "at": item.at.isoformat()}

    # -- provider track records ----------------------------------------------------------

    async def _on_fill(self, event: FillEvent) -> None:
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
        self._dirty = True
        await self._save_state()

    # -- outputs -------------------------------------------------------------------------

    def recommendations(self) -> list[Recommendation]:
        now = self.engine.clock.monotonic()
        if self._dirty or now - self._recs_at >= REFRESH_S:
            self._recs = self.decision.recommend()
            self._recs_at = now
            self._dirty = False
        return self._recs

    def snapshot_extra(self) -> dict[str, Any]:
        """What the engine adds to every snapshot (cheap: cached at most once per second)."""
        latency = sorted(self.inference_ms)
        return {
            "recommendations": [recommendation_dict(r) for r in self.recommendations()],
            "signals": {
                "pending_chat": [p.as_dict() for p in self.pending.values()],
                "providers": [s for s in self.providers.all_stats()],
                "news_errors": dict(self.poller.errors) if self.poller is not None else {},
                "webhook": None if self.webhook is None else {"url": self.webhook.url},
                "discord": self._discord_status(),
                "models": sorted(f"{s} {tf}" for (s, tf), (_, p) in self._predictors.items() if p),
                "inference_ms_p50": latency[len(latency) // 2] if latency else None,
            },
        }


    def _discord_status(self) -> dict[str, Any] | None:
        """None when Discord is not configured; else its state (also 'unavailable')."""
        if self.discord is not None:
            return self.discord.status()
        cfg = self.settings.chat.discord
        if not cfg.enabled:
            return None
        return {
            "state": "unavailable",
            "message": "discord.py is not installed",
            "channels": dict(cfg.channels),
            "parsed": 0,
            "unparsed": 0,
        }


# -- engine wiring -----------------------------------------------------------------------


def _wanted(engine: Engine, settings: SignalsSettings) -> bool:
    if settings.enabled is not None:
        return settings.enabled
    if settings.news.feeds or settings.chat.webhook_port is not None or settings.chat.discord.enabled:
        return True
    home = engine.home
    return home is not None and any(home.models_dir.glob("*/*/*.json"))


async def maybe_start(engine: Engine) -> SignalService | None:
    """Called by Engine.start: a running service, or None when nothing asks for one."""
    settings = load_signals_settings(engine.settings.signals)
    if not _wanted(engine, settings):
        return None
    service = SignalService(engine, settings)
    await service.start()
    return service


async def ensure_service(engine: Engine) -> SignalService:
    """The engine's service, started on demand (a pasted chat signal needs one)."""
    service = getattr(engine, "signal_service", None)
    if service is None:
        service = SignalService(engine)
        await service.start()
        engine.signal_service = service
    return service


# -- commands (in-process client and daemon alike) ----------------------------------------


@command("signals.recommendations")
async def _cmd_recommendations(
    engine: Engine, params: dict[str, Any], actor: str
) -> list[dict[str, Any]]:
    """Ranked recommendations (the same dicts as snapshot.extra["recommendations"])."""
    service = getattr(engine, "signal_service", None)
    if service is None:
        return []
    return [recommendation_dict(r) for r in service.recommendations()]


@command("signals.parse_chat")
async def _cmd_parse_chat(engine: Engine, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """A pasted provider message -> a pending chat signal (or executed, for auto providers)."""
    text = str(params.get("text") or "").strip()
    if not text:
        raise UserError("paste a signal message, e.g. BTC/USDT LONG entry 64000 SL 63000 TP1 66000")
    provider = str(params.get("provider") or "paste")
    service = await ensure_service(engine)
    return (await service.submit_chat(text, provider, origin="paste")).as_dict()


@command("signals.confirm")
async def _cmd_confirm(engine: Engine, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """A pending chat signal -> an OrderRequest for the ticket to pre-fill (nothing is placed)."""
    chat_id = str(params.get("id") or "")
    qty = params.get("quantity")
    quantity = None
    if qty is not None:
        try:
            quantity = Decimal(str(qty))
        except ArithmeticError:
            raise UserError(f"quantity {qty!r} is not a number") from None
    service = await ensure_service(engine)
    return await service.confirm(chat_id, quantity)


@command("signals.pending")
async def _cmd_pending(engine: Engine, params: dict[str, Any], actor: str) -> list[dict[str, Any]]:
    service = getattr(engine, "signal_service", None)
    return [] if service is None else [p.as_dict() for p in service.pending.values()]


@command("signals.dismiss")
async def _cmd_dismiss(engine: Engine, params: dict[str, Any], actor: str) -> dict[str, Any]:
    service = getattr(engine, "signal_service", None)
    item = None if service is None else service.pending.get(str(params.get("id") or ""))
    if item is None:
        raise UserError(f"no pending chat signal {params.get('id')!r}")
    item.status = "dismissed"
    return item.as_dict()
