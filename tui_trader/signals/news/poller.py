"""Background polling of configured feeds with aiohttp; each new item becomes a NewsEvent once."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.clock import Clock
from tui_trader.core.errors import DataError
from tui_trader.core.signals import Signal
from tui_trader.signals.news.events import NewsEvent, NewsItem, analyse, parse_feed

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger(__name__)

OnEvent = Callable[[NewsEvent], Any]  # may be a coroutine function


class NewsPoller:
    """Polls every feed each `interval_s`; conditional GETs (ETag / Last-Modified) keep it cheap.

    A failing feed is recorded in `errors` and retried next round; it never stops the others.
    Feeds may be http(s) URLs, file:// URLs or local paths (handy offline).
    """

    def __init__(
        self,
        feeds: Sequence[str],
        *,
        clock: Clock,
        interval_s: float = 300.0,
        timeout_s: float = 10.0,
        on_event: OnEvent | None = None,
        max_seen: int = 10_000,
        user_agent: str = "tui-trader news reader",
    ) -> None:
        self.feeds = list(feeds)
        self.clock = clock
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.on_event = on_event
        self.max_seen = max_seen
        self.user_agent = user_agent
        self.errors: dict[str, str] = {}
        self.polls = 0
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._validators: dict[str, dict[str, str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    # -- one round ---------------------------------------------------------------

    async def poll_once(self) -> list[NewsEvent]:
        """Fetch every feed once and return the events not seen before (oldest first)."""
        import aiohttp

        own = self._session is None or self._session.closed
        session = (
            aiohttp.ClientSession(headers={"User-Agent": self.user_agent}) if own else self._session
        )
        assert session is not None
        try:
            batches = await asyncio.gather(*(self._one_feed(session, url) for url in self.feeds))
        finally:
            if own:
                await session.close()
        self.polls += 1
        fresh = sorted(
            (ev for batch in batches for ev in batch if self._remember(ev.item)),
            key=lambda ev: ev.item.published,
        )
        for ev in fresh:
            await self._deliver(ev)
        return fresh

    async def _one_feed(self, session: aiohttp.ClientSession, url: str) -> list[NewsEvent]:
        try:
            data = await self._fetch(session, url)
            if data is None:  # 304 Not Modified
                self.errors.pop(url, None)
                return []
            fetched_at = self.clock.now()
            events = await asyncio.to_thread(_parse_and_analyse, data, url, fetched_at)
        except Exception as exc:  # network, HTTP, file or feed errors: keep the poller alive
            self.errors[url] = _describe(exc)
            log.warning("news feed %s: %s", url, self.errors[url])
            return []
        self.errors.pop(url, None)
        return events

    async def _fetch(self, session: aiohttp.ClientSession, url: str) -> bytes | None:
        import aiohttp

        if not url.startswith(("http://", "https://")):
            path = Path(url.removeprefix("file://")).expanduser()
            return await asyncio.to_thread(path.read_bytes)
        headers: dict[str, str] = {}
        cached = self._validators.get(url, {})
        if "etag" in cached:
            headers["If-None-Match"] = cached["etag"]
        if "modified" in cached:
            headers["If-Modified-Since"] = cached["modified"]
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with session.get(url, headers=headers, timeout=timeout) as resp:
            if resp.status == 304:
                return None
            if resp.status != 200:
                raise DataError(f"HTTP {resp.status}")
            data = await resp.read()
            validators = {}
            if resp.headers.get("ETag"):
                validators["etag"] = resp.headers["ETag"]
            if resp.headers.get("Last-Modified"):
                validators["modified"] = resp.headers["Last-Modified"]
            self._validators[url] = validators
            return data

    def _remember(self, item: NewsItem) -> bool:
        """True the first time an id or link is seen; bounded so a long run stays flat."""
        keys = [k for k in (item.id, item.link) if k]
        if any(k in self._seen for k in keys):
            return False
        for k in keys:
            self._seen[k] = None
        while len(self._seen) > self.max_seen:
            self._seen.popitem(last=False)
        return True

    async def _deliver(self, event: NewsEvent) -> None:
        if self.on_event is None:
            return
        try:
            result = self.on_event(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("news event handler failed for %s", event.item.link or event.item.id)

    # -- background --------------------------------------------------------------

    async def run(self) -> None:
        """Poll until cancelled."""
        import aiohttp

        async with aiohttp.ClientSession(headers={"User-Agent": self.user_agent}) as session:
            self._session = session
            try:
                while True:
                    await self.poll_once()
                    await asyncio.sleep(self.interval_s)
            finally:
                self._session = None

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="news-poller")
        return self._task

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:  # bounded: a fetch that swallowed its cancel cannot hold the stop
            task.cancel()
            await asyncio.wait({task}, timeout=2.0)
            if task.done() and not task.cancelled():
                task.exception()  # an error while stopping is the stop's, not "never retrieved"


def _parse_and_analyse(data: bytes, url: str, fetched_at: Any) -> list[NewsEvent]:
    return [analyse(item) for item in parse_feed(data, url, fetched_at=fetched_at)]


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:200]


def signals_for(
    events: Collection[NewsEvent], known_symbols: Collection[str] | None = None
) -> list[Signal]:
    """All Signals from a batch of events (convenience for the engine)."""
    return [sig for ev in events for sig in ev.to_signals(known_symbols)]
