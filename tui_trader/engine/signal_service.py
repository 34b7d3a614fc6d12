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
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UserError
from tui_trader.core.events import CandleEvent, Event, FillEvent, OrderEvent, SignalEvent
from tui_trader.core.signals import Signal
from tui_trader.engine.chat_desk import ChatDesk
from tui_trader.signals.decision import DecisionEngine, Recommendation
from tui_trader.signals.settings import SignalsSettings, load_signals_settings
from tui_trader.strategy.window import BarWindow
from tui_trader.venues.resilience import stop_tasks

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.core.market import Candle
    from tui_trader.engine.ports import EnginePort
    from tui_trader.signals.discord_source import ChatSignal, DiscordSignalSource
    from tui_trader.signals.ml.inference import Predictor
    from tui_trader.signals.news import NewsEvent

log = logging.getLogger(__name__)

MODEL_RECHECK_S = 60.0  # how often the registry is re-read for a newer model
REFRESH_S = 1.0  # recommendations are re-ranked at most this often (decay moves slowly)
CONF_STEP = 0.05  # an ML call is re-published when confidence moves this much


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

    def __init__(self, engine: EnginePort, settings: SignalsSettings | None = None) -> None:
        self.engine = engine
        self.settings = settings or load_signals_settings(engine.settings.signals)
        self.decision = DecisionEngine(self.settings.decision, engine.clock)
        self.chat = ChatDesk(engine, self.settings, self._mark_dirty)
        self.webhook: Any = None
        self.webhook_token: str | None = None
        self.poller: Any = None
        self.discord: DiscordSignalSource | None = None
        self._discord_task: asyncio.Task[None] | None = None
        self.inference_ms: deque[float] = deque(maxlen=500)
        self._windows: dict[tuple[str, str, str], BarWindow] = {}
        self._warming: set[tuple[str, str, str]] = set()
        self._predictors: dict[tuple[str, str], tuple[float, Predictor | None]] = {}
        self._last_emitted: dict[tuple[str, str, str | None], Signal] = {}
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
        await self.chat.load_state()
        eng.bus.on(self._on_signal_event, kinds={"signal"}, name="signals-decision")
        for sig in eng.signals:  # signals published before we started still count
            self.decision.add(sig)
        self._sub = eng.bus.subscribe("signals-service", kinds={"candle", "fill", "order"}, coalesce=False)
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
        self.webhook = ChatWebhook(self.chat.on_webhook, self.webhook_token, port=port)
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
            await self.chat.submit_chat(sig.parsed.text, sig.provider, origin="discord")
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
        await stop_tasks(self._task)
        if self.poller is not None:
            await self.poller.stop()
        if self.webhook is not None:
            await self.webhook.stop()
        if self.discord is not None:
            with contextlib.suppress(Exception):
                await self.discord.close()
        await stop_tasks(self._discord_task)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        await self.chat.save_state()

    def _mark_dirty(self) -> None:
        self._dirty = True

    # -- the event loop ------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._sub is not None
        async for event in self._sub:
            try:
                if isinstance(event, CandleEvent) and event.candle.closed:
                    await self.on_candle(event.venue, event.candle)
                elif isinstance(event, FillEvent):
                    await self.chat.on_fill(event)
                elif isinstance(event, OrderEvent):
                    await self.chat.on_order(event)
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
                "pending_chat": [p.as_dict() for p in self.chat.pending.values()],
                "providers": list(self.chat.providers.all_stats()),
                "chat_links": self.chat.link_rows(),
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


def _wanted(engine: EnginePort, settings: SignalsSettings) -> bool:
    if settings.enabled is not None:
        return settings.enabled
    if settings.news.feeds or settings.chat.webhook_port is not None or settings.chat.discord.enabled:
        return True
    home = engine.home
    return home is not None and any(home.models_dir.glob("*/*/*.json"))


async def _open_chat_links(engine: EnginePort) -> bool:
    """Positions or orders opened from chat messages are still being followed (saved state)."""
    if engine.store is None:
        return False
    from tui_trader.engine.chat_desk import STATE_KEY
    from tui_trader.signals.chat_links import ACTIVE

    links = (await engine.store.load_strategy_state(STATE_KEY)).get("links") or {}
    return any(d.get("status") in ACTIVE for d in links.get("links", []))


async def maybe_start(engine: EnginePort) -> SignalService | None:
    """Called by EnginePort.start: a running service, or None when nothing asks for one (it
    also starts while positions opened from chat messages are open, to follow them)."""
    settings = load_signals_settings(engine.settings.signals)
    if not _wanted(engine, settings) and not (settings.enabled is None and await _open_chat_links(engine)):
        return None
    service = SignalService(engine, settings)
    await service.start()
    return service


async def ensure_service(engine: EnginePort) -> SignalService:
    """The engine's service, started on demand (a pasted chat signal needs one)."""
    service = getattr(engine, "signal_service", None)
    if service is None:
        service = SignalService(engine)
        await service.start()
        engine.signal_service = service
    return service


