"""The notifier: listens on the bus, batches alerts per sink and rate-limits the sends.

A fill storm becomes one message per sink every `min_interval_s` (after a `batch_window_s`
pause to gather), with the first `max_lines` lines and a count of the rest. A failing sink is
logged and never slows the engine or the other sinks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tui_trader.config.daemon import NotificationSettings
from tui_trader.daemon.notify.alerts import KINDS, Alert, classify, summarize
from tui_trader.daemon.notify.sinks import EmailSink, SecretFn, Sink, SinkError, WebhookSink, keyring_secret
from tui_trader.venues.resilience import stop_tasks

if TYPE_CHECKING:
    from tui_trader.engine.bus import EventBus, Subscription

log = logging.getLogger(__name__)


class _Outbox:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.pending: list[Alert] = []
        self.last_sent = -1e18
        self.task: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0


class Notifier:
    def __init__(
        self,
        bus: EventBus,
        settings: NotificationSettings,
        sinks: list[Sink],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bus = bus
        self.settings = settings
        self.outboxes = [_Outbox(s) for s in sinks]
        self._monotonic = monotonic
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(
        cls, bus: EventBus, settings: NotificationSettings, home: Any = None, secret: SecretFn | None = None
    ) -> Notifier:
        secret = secret or keyring_secret(home)
        sinks: list[Sink] = []
        if settings.enabled:
            sinks.extend(WebhookSink(w, secret) for w in settings.webhooks)
            if settings.email is not None:
                sinks.append(EmailSink(settings.email, secret))
        return cls(bus, settings, sinks)

    def start(self) -> None:
        if not self.outboxes:
            return
        self._sub = self.bus.subscribe("notifier", KINDS, coalesce=False)
        self._task = asyncio.create_task(self._listen(), name="notifier")

    async def stop(self) -> None:
        """Stop listening, then send whatever is still waiting (so a shutdown loses no alert)."""
        if self._sub is not None:
            for alert in filter(None, map(classify, self._sub.drain())):
                self._queue(alert)
            self._sub.close()
        await stop_tasks(self._task)
        for box in self.outboxes:
            await stop_tasks(box.task)
            if box.pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._send(box), 10.0)

    async def _listen(self) -> None:
        assert self._sub is not None
        while not self._sub.closed:
            for event in await self._sub.wait():
                alert = classify(event)
                if alert is not None:
                    self._queue(alert)

    def _queue(self, alert: Alert) -> None:
        for box in self.outboxes:
            if alert.kind in box.sink.events:
                box.pending.append(alert)
                if box.task is None or box.task.done():
                    with contextlib.suppress(RuntimeError):  # no loop running (stop() sends it)
                        box.task = asyncio.get_running_loop().create_task(self._flush_later(box))

    async def _flush_later(self, box: _Outbox) -> None:
        while box.pending:
            now = self._monotonic()
            wait = max(self.settings.batch_window_s, box.last_sent + self.settings.min_interval_s - now)
            await asyncio.sleep(wait)
            await self._send(box)

    async def _send(self, box: _Outbox) -> None:
        alerts, box.pending = box.pending, []
        if not alerts:
            return
        box.last_sent = self._monotonic()
        subject, body = summarize(alerts, self.settings.max_lines)
        try:
            await box.sink.send(subject, body)
            box.sent += 1
        except SinkError as exc:
            box.failed += 1
            log.warning("notification not delivered: %s", exc)
        except Exception as exc:
            box.failed += 1
            log.warning("notification via %s failed: %s", box.sink.name, type(exc).__name__)
