"""Staying connected: backoff with jitter, stalled-stream detection, a token bucket for order
endpoints, per-venue connection state.

Adapters own one `ConnectionMonitor` each. It is the only thing that emits their
`ConnectionEvent`s, so the state a trader sees (connected / degraded / reconnecting, attempt
count, last message age) always follows the same rules whatever the venue.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tui_trader.core.clock import Clock
from tui_trader.core.enums import ConnectionState
from tui_trader.core.events import ConnectionEvent, Event

log = logging.getLogger(__name__)


class Backoff:
    """Exponential backoff with full jitter (AWS style): delay in [base*2^n/2, base*2^n], capped.

    Jitter keeps many clients from reconnecting in lock-step after an exchange-wide outage.
    """

    def __init__(
        self, base_s: float = 0.5, cap_s: float = 30.0, *, rng: random.Random | None = None
    ) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.cap_s, self.base_s * (2**self.attempt))
        self.attempt += 1
        return ceiling / 2 + self._rng.random() * ceiling / 2

    def reset(self) -> None:
        self.attempt = 0


class TokenBucket:
    """At most `rate` requests a second on average, bursts up to `capacity`.

    ccxt's own limiter spaces every request by the exchange's weight; this one guards the
    order endpoints, whose limits (orders per 10 s, per day) are separate and stricter.
    """

    def __init__(
        self, rate: float, capacity: float, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("token bucket rate and capacity must be positive")
        self.rate = rate
        self.capacity = capacity
        self._mono = monotonic
        self._tokens = capacity
        self._at = monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._mono()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def try_take(self, tokens: float = 1.0) -> bool:
        self._refill()
        if self._tokens >= tokens:
            self._tokens -= tokens
            return True
        return False

    def wait_time(self, tokens: float = 1.0) -> float:
        self._refill()
        return max(0.0, (tokens - self._tokens) / self.rate)

    async def take(self, tokens: float = 1.0) -> None:
        """Wait until `tokens` are available, then take them (callers queue fairly on a lock)."""
        async with self._lock:
            while not self.try_take(tokens):
                await asyncio.sleep(self.wait_time(tokens))


class ConnectionMonitor:
    """One venue's connection state machine.

    connected --(error)--> reconnecting(attempt n) --(first message)--> connected(attempt n)
    connected --(no message for `stall_after_s` while subscribed)--> degraded --> reconnecting
    """

    def __init__(
        self,
        venue: str,
        clock: Clock,
        *,
        stall_after_s: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.venue = venue
        self.clock = clock
        self.stall_after_s = stall_after_s
        self.backoff = backoff or Backoff()
        self.state = ConnectionState.DISCONNECTED
        self.attempt = 0
        self.reconnects = 0
        self.last_message: float | None = None
        self.emit: Callable[[Event], None] = lambda event: None
        self._recovered: list[Callable[[], Awaitable[None]]] = []
        self._down_since: float | None = None
        self.recovery_times: list[float] = []

    # -- transitions -----------------------------------------------------------------------

    def set(self, state: ConnectionState, detail: str = "") -> None:
        self.state = state
        self.emit(ConnectionEvent(self.venue, state, self.clock.now(), detail, self.attempt))

    def connecting(self) -> None:
        self.set(ConnectionState.CONNECTING, "opening connections")

    def message(self) -> None:
        """Any message from the venue: the stream is alive."""
        self.last_message = time.monotonic()
        if self.state is not ConnectionState.CONNECTED:
            self.connected("streaming")

    def connected(self, detail: str = "") -> None:
        self._back(ConnectionState.CONNECTED, detail)

    def back_degraded(self, detail: str) -> None:
        """Back after a drop, but `degraded` for what no reconnect fixes (streams stopped for
        keys the venue refused): a recovery all the same (the hooks backfill the gap, the
        backoff starts over), saying what is still wrong."""
        self._back(ConnectionState.DEGRADED, detail)

    def recovered(self, detail: str) -> None:
        """Back from `degraded` after an outage the venue's side ended (IB Gateway connected to
        IB's servers again: 1101 / 1102): a recovery the engine reconciles (what the outage
        lost is read back), counted and timed, saying `detail`. Nothing was reconnected here:
        not said as "reconnected after N attempt(s)" nor passed through `reconnecting` (which
        the metrics count as a reconnect begun)."""
        self.attempt = max(self.attempt, 1)  # the engine reconciles a `connected` after attempts
        self._back(ConnectionState.CONNECTED, detail, said=detail)

    def _back(self, state: ConnectionState, detail: str, *, said: str | None = None) -> None:
        """Back from `reconnecting` or `degraded`. A reconnect (counted, timed, "reconnected after
        N attempt(s)") only after attempts were made: a venue `degraded` while one stream was
        down that comes back on its own reconnected nothing (it said "reconnected after 0
        attempt(s)" and counted one). The hooks run either way (what a stream missed while down
        is backfilled)."""
        was_down = self.state in (ConnectionState.RECONNECTING, ConnectionState.DEGRADED)
        reconnected = self.state is ConnectionState.RECONNECTING or (was_down and self.attempt > 0)
        if reconnected and self._down_since is not None:
            self.recovery_times.append(time.monotonic() - self._down_since)
        self._down_since = None
        if reconnected and said is None:
            back = f"reconnected after {self.attempt} attempt(s)"
            detail = back if state is ConnectionState.CONNECTED else f"{back}; {detail}"
        self.set(state, detail)
        self.backoff.reset()
        if reconnected:
            self.reconnects += 1
        if was_down:
            for hook in list(self._recovered):
                in_background(hook(), f"{self.venue}-recovered")
        self.attempt = 0

    def degraded(self, detail: str) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
        self.set(ConnectionState.DEGRADED, detail)

    def renewing(self, detail: str) -> None:
        """One of the venue's connections (its private socket) is renewed while the others flow
        on: `degraded`, counted as an attempt, so that `connected` once it is back reads as a
        recovery (the engine reconciles what that connection missed)."""
        self.attempt += 1
        self.degraded(detail)

    def reconnecting(self, detail: str, *, now: bool = False) -> float:
        """Enter `reconnecting`; returns how long to wait before the next attempt (`now`: none,
        a reconnect the trader asked for)."""
        if self._down_since is None:
            self._down_since = time.monotonic()
        self.attempt += 1
        delay = 0.0 if now else self.backoff.next_delay()
        self.set(ConnectionState.RECONNECTING, detail if now else f"{detail}; retry in {delay:.1f}s")
        return delay

    def closed(self) -> None:
        self.set(ConnectionState.DISCONNECTED, "closed")

    # -- queries ---------------------------------------------------------------------------

    def message_age(self) -> float | None:
        return None if self.last_message is None else time.monotonic() - self.last_message

    def stalled(self, *, lasting: bool = False) -> bool:
        """No message for `stall_after_s` while `connected`, or while `degraded` for a `lasting`
        fault the caller knows no reconnect fixes (keys refused): the data that flows on then
        is watched as a connected venue's."""
        age = self.message_age()
        watched = self.state is ConnectionState.CONNECTED or (lasting and self.state is ConnectionState.DEGRADED)
        return watched and age is not None and age > self.stall_after_s

    def on_recovered(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run `hook` (backfill, reconciliation) each time the venue comes back after a drop."""
        self._recovered.append(hook)


FROZEN_RECHECKS = 3  # late wakes in a row a watchdog waits through before it judges anyway


async def watchdog_pause(period: float) -> None:
    """A watchdog's pause between checks: `period`, and another while it woke more than a
    period late (at most `FROZEN_RECHECKS` more). A late wake means this process itself did not
    run (a loaded machine, a laptop waking): what the venue sent meanwhile waits unread in the
    sockets, and a check made before it is read takes our own freeze for the venue's silence
    (a stall, a reconnect, the fills on their way read back over REST instead)."""
    loop = asyncio.get_running_loop()
    for _ in range(1 + FROZEN_RECHECKS):
        start = loop.time()
        await asyncio.sleep(period)
        if loop.time() - start <= 2 * period:
            return


_BACKGROUND: set[asyncio.Task[Any]] = set()


def in_background(awaitable: Awaitable[object], name: str) -> None:
    """Run `awaitable` as a task that is kept alive until done; a failure is logged, not raised."""

    async def guarded() -> None:
        try:
            await awaitable
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("background task %s failed: %s", name, type(exc).__name__)

    task = asyncio.get_running_loop().create_task(guarded(), name=name)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


async def cancel_tasks(tasks: dict[str, asyncio.Task[Any]], timeout: float = 2.0) -> list[asyncio.Task[Any]]:
    """Cancel a venue's background tasks and wait at most `timeout` for them to end (a client
    library's loop can swallow a cancel); returns them, for a second wait after closing sockets."""
    await _cancel_and_wait(list(tasks.values()), timeout)
    return list(tasks.values())


async def stop_tasks(*tasks: asyncio.Task[Any] | None, timeout: float = 2.0) -> bool:
    """Cancel background tasks and wait for them to end, at most `timeout` (plus a last 0.1 s);
    True if they all did. A stop can never hang on one of them.

    On Python 3.11 `asyncio.wait_for` returns the answer instead of raising when a cancel and
    the answer land together, so a task's loop can run on after its cancel (the daemon client's
    refresh loop did, and detaching waited for ever). A task still running at `timeout` has had
    its time to clean up: it is cancelled once more, then left (logged), never waited for. The
    caller's own cancellation is not swallowed (`await task` under `suppress(CancelledError)`
    swallowed it). A task that failed while stopping is said at debug level."""
    pending = await _cancel_and_wait([task for task in tasks if task is not None], timeout)
    if pending:  # a swallowed cancel: ask once more, briefly
        pending = await _cancel_and_wait(list(pending), 0.1, read_errors=False)
    if pending:
        names = ", ".join(sorted(task.get_name() for task in pending))
        log.warning("%d task(s) did not stop within %.1f s and were left: %s", len(pending), timeout, names)
    return not pending


async def _cancel_and_wait(
    tasks: list[asyncio.Task[Any]], timeout: float, *, read_errors: bool = True
) -> set[asyncio.Task[Any]]:
    """Cancel `tasks` and wait at most `timeout` for them; those still running. With
    `read_errors`, an error one ends with (now or later) is read, not reported as never retrieved."""
    running = {task for task in tasks if not task.done()}
    for task in running:
        task.cancel()
    if running:
        _done, running = await asyncio.wait(running, timeout=timeout)
    if read_errors:
        for task in tasks:
            task.add_done_callback(_retrieved)  # now, or when a late one ends
    return running


def _retrieved(task: asyncio.Task[Any]) -> None:
    """A task that ended with an error while it was being closed: the error is the closing's
    (a socket torn down under it), said at debug level, never "Task exception was never retrieved"."""
    if not task.cancelled() and task.exception() is not None:
        log.debug("task %s ended with %s while closing", task.get_name(), type(task.exception()).__name__)
