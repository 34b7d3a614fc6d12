"""Deterministic engines for tests, benchmarks and snapshot screens.

The paper venue's feed does not run in the background: `step(n)` moves prices by hand, and
the clock is frozen unless advanced, so the same calls give the same numbers every time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tui_trader.config import Settings
from tui_trader.core.clock import FrozenClock
from tui_trader.engine import Engine
from tui_trader.home import Home
from tui_trader.venues.paper import PaperVenue


def paper_settings(**paper: Any) -> Settings:
    """Default settings with `[paper]` overrides, ignoring the environment and any file."""
    base = Settings.model_construct()
    return Settings(**{**base.model_dump(), "paper": {**base.paper.model_dump(), **paper}})


def manual_engine(
    settings: Settings | None = None,
    *,
    home: Home | None = None,
    clock: FrozenClock | None = None,
    start: datetime | None = None,
) -> Engine:
    """An Engine on a hand-stepped paper venue (journal under `home` if given)."""
    settings = settings or paper_settings()
    clock = clock or FrozenClock(start)
    journal = None if home is None else home.root / "paper_venue.jsonl"
    venue = PaperVenue(settings.paper, clock, journal_path=journal, run_feed=False)
    return Engine(settings, home, clock=clock, venues={"paper": venue}, in_memory=home is None)


def paper_venue(engine: Engine) -> PaperVenue:
    venue = engine.venues["paper"]
    assert isinstance(venue, PaperVenue)
    return venue


async def step(engine: Engine, n: int = 1, seconds: float = 0.25) -> None:
    """Move prices n steps (advancing the frozen clock) and let the OMS catch up."""
    venue = paper_venue(engine)
    clock = engine.clock
    for _ in range(n):
        if isinstance(clock, FrozenClock):
            clock.advance(seconds)
        venue.step()
    if engine.oms is not None:
        await engine.oms.flush()
