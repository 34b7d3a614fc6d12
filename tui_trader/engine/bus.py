"""In-process event bus.

`publish` never blocks and never fails because of a subscriber. Each subscriber has its own
mailbox: coalescable market data keeps only the latest value per key (a slow consumer skips
stale quotes), everything else (orders, fills, risk, signals) is queued and never dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable

from tui_trader.core.events import Event

log = logging.getLogger(__name__)

Handler = Callable[[Event], None]


class Subscription:
    """A mailbox. Iterate it (`async for event in sub`) or drain it in batches."""

    def __init__(
        self, bus: EventBus, name: str, kinds: frozenset[str] | None, coalesce: bool, limit: int | None = None
    ) -> None:
        self._bus = bus
        self.name = name
        self.kinds = kinds
        self.coalesce = coalesce
        self.limit = limit  # queued reliable events before the subscriber counts as gone
        self.overflowed = False
        self._queue: deque[Event] = deque()
        self._latest: dict[tuple[str, ...], Event] = {}
        self._wake = asyncio.Event()
        self.closed = False
        self.coalesced = 0  # how many market-data updates were superseded before delivery

    def wants(self, event: Event) -> bool:
        return self.kinds is None or event.kind in self.kinds

    def put(self, event: Event) -> None:
        if self.coalesce and event.coalescable:
            key = event.key
            if key in self._latest:
                self.coalesced += 1
            self._latest[key] = event
        elif self.limit is not None and len(self._queue) >= self.limit:
            self.overflowed = True  # its owner disconnects it; the others carry on
        else:
            self._queue.append(event)
        self._wake.set()

    def pending(self) -> int:
        return len(self._queue) + len(self._latest)

    def drain(self) -> list[Event]:
        """Everything waiting now: reliable events in order, then the latest market data."""
        events = list(self._queue)
        self._queue.clear()
        if self._latest:
            events.extend(self._latest.values())
            self._latest.clear()
        self._wake.clear()
        return events

    async def wait(self) -> list[Event]:
        while not self.pending():
            if self.closed:
                return []
            self._wake.clear()
            await self._wake.wait()
        return self.drain()

    async def __aiter__(self) -> AsyncIterator[Event]:
        while not self.closed:
            for event in await self.wait():
                yield event

    def close(self) -> None:
        self.closed = True
        self._wake.set()
        self._bus.unsubscribe(self)


class EventBus:
    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._handlers: list[tuple[frozenset[str] | None, Handler, str]] = []
        self.published = 0

    def subscribe(
        self, name: str, kinds: Iterable[str] | None = None, *, coalesce: bool = True, limit: int | None = None
    ) -> Subscription:
        """A mailbox for an async consumer. `coalesce=False` delivers every market-data event;
        with `limit`, more than that many undelivered reliable events mark it `overflowed`."""
        sub = Subscription(self, name, frozenset(kinds) if kinds is not None else None, coalesce, limit)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def on(self, handler: Handler, kinds: Iterable[str] | None = None, name: str = "") -> None:
        """A synchronous in-line handler (engine internals). Exceptions are logged, never raised."""
        self._handlers.append((frozenset(kinds) if kinds is not None else None, handler, name or repr(handler)))

    def off(self, handler: Handler) -> None:
        self._handlers = [h for h in self._handlers if h[1] is not handler]

    def publish(self, event: Event) -> None:
        self.published += 1
        for kinds, handler, name in self._handlers:
            if kinds is None or event.kind in kinds:
                try:
                    handler(event)
                except Exception:  # a crashed subscriber never stalls the engine
                    log.exception("event handler %s failed on %s", name, event.kind)
        for sub in self._subs:
            if sub.wants(event):
                sub.put(event)
