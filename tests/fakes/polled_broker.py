"""What the fake Robinhood and fake Webull share: a loopback server whose every request is
signed, and the faults a broker reached only over REST can show a polling client."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tui_trader.core.hours import Phase, SessionState

from fakes.serve import serve_loopback


class FixedHours:
    """The NYSE's session as a test sets it (the real calendar would make a test depend on the
    day it runs)."""

    name = "NYSE"

    def __init__(self, phase: Phase = Phase.OPEN) -> None:
        self.phase = phase

    def state(self, now: datetime) -> SessionState:
        return SessionState("NYSE", self.phase)

    def minute_table(self, first_minute: int, n: int) -> Any:  # pragma: no cover - venues do not ask
        raise NotImplementedError


@dataclass(frozen=True)
class FaultRule:
    """The next request matching `method` / the end of its path gets `status` (nothing made)."""

    status: int
    method: str | None
    path: str | None
    retry_after: float | None

    def matches(self, request: web.Request) -> bool:
        return self.method in (None, request.method) and (self.path is None or request.path.endswith(self.path))


class PolledBrokerFake:
    """Faults: `lose_next_answer()` (the next order is made, its answer cut), `fail_next(status,
    ...)` (a 429 / 5xx before anything is made), `skew_clock(s)` (the broker's clock runs ahead:
    our timestamps look old), `hang(True)` (requests held unanswered), `stall_fills()` (orders
    stop filling until turned off)."""

    def __init__(self) -> None:
        self.port = 0
        self._skew_s = 0.0
        self._lose_next = 0
        self._faults: list[FaultRule] = []
        self._hang = False
        self._stall_fills = False
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, app: web.Application) -> None:
        self._runner, self.port = await serve_loopback(app)

    async def stop(self) -> None:
        self._hang = False
        if self._runner is not None:
            await self._runner.cleanup()

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._skew_s)

    def skew_clock(self, seconds: float) -> None:
        self._skew_s = seconds

    def lose_next_answer(self) -> None:
        self._lose_next += 1

    def fail_next(self, status: int, *, method: str | None = None, path: str | None = None,
                  retry_after: float | None = None) -> None:  # fmt: skip
        self._faults.append(FaultRule(status, method, path, retry_after))

    def clear_faults(self) -> None:
        self._faults.clear()

    def hang(self, on: bool = True) -> None:
        self._hang = on

    def stall_fills(self, on: bool = True) -> None:
        self._stall_fills = on
        if not on:
            self._rematch()

    def _rematch(self) -> None:
        """After fills were stalled: let resting orders meet the current prices."""

    # -- for the wire layers -------------------------------------------------------------------------

    async def _held(self) -> None:
        while self._hang:
            await asyncio.sleep(0.05)

    def _fault(self, request: web.Request) -> FaultRule | None:
        rule = next((r for r in self._faults if r.matches(request)), None)
        if rule is not None:
            self._faults.remove(rule)
        return rule

    async def _cut_if_lost(self, request: web.Request) -> None:
        """The order was made; if its answer is to be lost, cut the connection instead."""
        if self._lose_next:
            self._lose_next -= 1
            assert request.transport is not None
            request.transport.close()
            await asyncio.sleep(0.05)


def keyring_reads(monkeypatch: Any, stored: dict[str, Any]) -> None:
    """`venue reconnect` reads a venue's keys from `stored` (the test changes it) as from the
    keyring: `tui_trader.secrets.load_credentials`, the function it calls, answers from it."""
    monkeypatch.setattr("tui_trader.secrets.load_credentials", lambda name, home, prompt=True: stored.get(name))


async def venue_reconnect(engine: Any, name: str) -> dict[str, Any]:
    """`tui-trader venue reconnect NAME` on `engine`: its answer, or its UserError."""
    from tui_trader.engine.commands import dispatch

    answer: dict[str, Any] = await dispatch(engine, "venue.reconnect", {"name": name}, "test")
    return answer
