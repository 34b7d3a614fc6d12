"""The engine keeps live leagues up to date (docs/social.md, "A live contest").

Every few seconds it looks at HOME/league/live; each registered contest is updated once when the
engine starts (a restart mid-season picks up where the board was: the same bars give the same
trades) and then at each close of the finest bar among its strategies, until its season has
ended and the final board is written. An update trades every sub-account from the season's
start to its last closed bar (tui_trader/league/live.py), in one worker process (forkserver,
or spawn) so a backtest never holds up the engine's loop; the board file it writes is what the
League pane (F9) and `league show` read.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UserError
from tui_trader.venues.resilience import stop_tasks

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from tui_trader.engine.ports import EnginePort

log = logging.getLogger(__name__)
RETRY_S = 60.0  # after a failed update


def update_in_worker(home_root: str, season: str, paper: dict[str, Any], risk: dict[str, Any], now: str) -> dict:
    """In the worker process: one update; returns what the engine needs to schedule the next."""
    from tui_trader.config.paper import PaperSettings
    from tui_trader.config.risk import RiskSettings
    from tui_trader.league.live import next_update, update_contest

    at = datetime.fromisoformat(now)
    doc = update_contest(Path(home_root), season, PaperSettings(**paper), RiskSettings(**risk), at)
    following = next_update(doc, at)
    return {"next": None if following is None else following.isoformat(), "status": doc["live"]["status"]}


class LiveLeagues:
    """Owned by the engine (`engine.leagues`) when it has a home."""

    def __init__(self, engine: EnginePort, every_s: float = 5.0) -> None:
        assert engine.home is not None
        self.engine = engine
        self.root = engine.home.root
        self.every_s = every_s
        self.due: dict[str, datetime] = {}
        self.final: set[str] = set()
        self.errors: dict[str, str] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one tick at a time (the loop's, or one asked for)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="live-leagues")

    async def stop(self) -> None:
        await stop_tasks(self._task)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug here must not stop the engine
                log.exception("live leagues: update failed")
            await asyncio.sleep(self.every_s)

    async def tick(self) -> list[str]:
        """Update every contest that is due; the seasons updated."""
        async with self._lock:
            return await self._tick()

    async def _tick(self) -> list[str]:
        from tui_trader.league.live import ContestStore

        try:
            contests = ContestStore(self.root).contests()
        except UserError as exc:
            self._error("", str(exc))
            return []
        now = self.engine.clock.now()
        updated = []
        for name in contests:
            due = self.due.get(name)
            if name in self.final or (due is not None and now < due):
                continue
            try:
                answer = await self._update(name, now)
            except UserError as exc:
                self.due[name] = datetime.fromtimestamp(now.timestamp() + RETRY_S, now.tzinfo)
                self._error(name, str(exc))
                continue
            self.errors.pop(name, None)
            updated.append(name)
            if answer["next"] is None:
                self.final.add(name)
                self.engine.notify("info", f"league {name}: the season has ended; its board is final", "league")
            else:
                self.due[name] = datetime.fromisoformat(answer["next"])
        for gone in set(self.due) - set(contests):
            self.due.pop(gone, None)
        return updated

    async def _update(self, season: str, now: datetime) -> dict[str, Any]:
        settings = self.engine.settings
        args = (str(self.root), season, settings.paper.model_dump(), settings.risk.model_dump(), now.isoformat())
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(), update_in_worker, *args)
        except UserError:
            raise
        except Exception as exc:  # the worker died, or the strategy raised something else
            if self._pool is not None and type(exc).__name__ == "BrokenProcessPool":
                self._pool = None
            raise UserError(f"{type(exc).__name__}: {exc}") from None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            from tui_trader.processes import process_pool

            self._pool = process_pool(1)  # its worker leaves with the engine, even after kill -9
        return self._pool

    def _error(self, season: str, message: str) -> None:
        if self.errors.get(season) != message:
            self.errors[season] = message
            log.warning("live league %s: %s", season or "(all)", message)
            self.engine.notify("warning", f"league {season}: {message}" if season else message, "league")

    def status(self) -> dict[str, Any]:
        return {
            "due": {n: d.isoformat() for n, d in sorted(self.due.items())},
            "final": sorted(self.final),
            "errors": dict(self.errors),
        }
