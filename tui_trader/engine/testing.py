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


def paper_engine(
    settings: Settings,
    *,
    home: Home | None = None,
    clock: FrozenClock | None = None,
    start: datetime | None = None,
) -> Engine:
    """An Engine on every paper venue `settings` configures (`paper` and each
    `[venues.NAME] kind = "paper"` instance), all hand-stepped by `step`."""
    from tui_trader.venues.registry import build_venues

    clock = clock or FrozenClock(start)
    venues = build_venues(settings, clock, home)
    for venue in venues.values():
        if isinstance(venue, PaperVenue):
            venue.run_feed = False
    return Engine(settings, home, clock=clock, venues=venues, in_memory=home is None)


def paper_venue(engine: Engine) -> PaperVenue:
    venue = engine.venues["paper"]
    assert isinstance(venue, PaperVenue)
    return venue


async def step(engine: Engine, n: int = 1, seconds: float = 0.25) -> None:
    """Move prices n steps (advancing the frozen clock) on every paper venue that is running,
    and let the OMS catch up."""
    from tui_trader.core.enums import ConnectionState

    venues = [v for v in engine.venues.values() if isinstance(v, PaperVenue)]
    clock = engine.clock
    for _ in range(n):
        if isinstance(clock, FrozenClock):
            clock.advance(seconds)
        for venue in venues:
            if venue.state is ConnectionState.CONNECTED or not engine.started:  # a stopped venue is silent
                venue.step()
    if engine.oms is not None:
        await engine.oms.flush()
