"""When the value at risk reads a symbol's daily history: the strategies' symbols before their
first position, and each again only once a new daily bar can have closed.

A read is a request to the venue (a rate-limited REST call), or on the paper venue a year of its
minute path computed in a thread that shares the GIL with the event loop: reading at every
refresh, or first at the first fill, took the loop's time just when orders were going out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui_trader.config import Settings
from tui_trader.config.risk import RiskSettings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.market import Candle
from tui_trader.engine.testing import manual_engine
from tui_trader.execution.portfolio import Portfolio
from tui_trader.home import Home
from tui_trader.risk.manager import RiskManager
from tui_trader.risk.metrics import returns
from tui_trader.venues.paper import PaperVenue

from risk_helpers import start_engine

DAY = timedelta(days=1)
LOOKBACK = 29  # daily returns: the 30 bars DailyVenue gives at most


class DailyVenue:
    """Daily bars opening at 00:00 UTC, closed ones only (as ccxt's adapter and the paper
    venue give them), at most 30; from `since` on when asked so (that bar included, as ccxt
    and the paper venue answer). `fail` makes the next reads raise, `shut` ends the bars at
    that day (a weekend or holiday: no new bar), `revised` moves every close (the venue's
    history changed), `exclusive` leaves the `since` bar out (a venue that reads it so)."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.reads: list[str] = []
        self.since: list[datetime | None] = []
        self.read_at: list[datetime] = []
        self.fail = False
        self.shut: datetime | None = None
        self.revised = 0.0
        self.exclusive = False

    async def __call__(self, symbol: str, since: datetime | None = None) -> list[Candle]:
        self.reads.append(symbol)
        self.since.append(since)
        self.read_at.append(self.clock.now())
        if self.fail:
            raise ConnectionError("venue down")
        today = self.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
        last = min(today, self.shut) if self.shut else today
        days = [last - DAY * (i + 1) for i in reversed(range(400))]
        if since is not None:
            days = [d for d in days if d > since or (d == since and not self.exclusive)]
            return [self.bar(symbol, d) for d in days[:30]]
        return [self.bar(symbol, d) for d in days[-30:]]

    def bar(self, symbol: str, day: datetime) -> Candle:
        x = 100.0 + day.toordinal() * 7919 % 101 / 10 + self.revised
        return Candle(symbol, "1d", day, x, x + 1.0, x - 1.0, x + 0.5, 1.0)


async def refresh_over(risk: RiskManager, venue: DailyVenue, hours: float, step_min: float = 5.0) -> None:
    end = venue.clock.now() + timedelta(hours=hours)
    while venue.clock.now() < end:
        venue.clock.advance(step_min * 60)
        await risk.refresh(venue, force=True)


async def test_a_daily_history_is_read_once_a_day_not_at_every_refresh() -> None:
    clock = FrozenClock(datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    risk = RiskManager(RiskSettings(benchmark="SPY", var_lookback_days=LOOKBACK), Portfolio(), clock)
    risk.expected = lambda: ["ETH/USDT", "SPY"]  # the benchmark too: read once, not twice
    venue = DailyVenue(clock)

    await risk.refresh(venue, force=True)
    assert sorted(venue.reads) == ["ETH/USDT", "SPY"]
    assert len(risk.returns["ETH/USDT"]) == 29

    await refresh_over(risk, venue, hours=9)  # 14:30 -> 23:30: the same day, nothing new
    assert len(venue.reads) == 2

    await refresh_over(risk, venue, hours=1)  # past midnight: yesterday's bar has closed
    assert sorted(venue.reads) == ["ETH/USDT", "ETH/USDT", "SPY", "SPY"]

    await refresh_over(risk, venue, hours=24 * 3)  # three more days: three more reads each
    assert venue.reads.count("ETH/USDT") == 5


async def test_after_the_first_read_only_the_new_bars_are_asked_for_and_the_figure_is_a_full_reads() -> None:
    clock = FrozenClock(datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    risk = RiskManager(RiskSettings(benchmark=None, var_lookback_days=LOOKBACK), Portfolio(), clock)
    risk.expected = lambda: ["ETH/USDT"]
    venue = DailyVenue(clock)
    await risk.refresh(venue, force=True)
    await refresh_over(risk, venue, hours=24 * 3)
    assert venue.since[0] is None  # the first read: the whole lookback
    # then from the last bar read (Jan 4th's, then each new one): one day's bar again, one new
    assert venue.since[1:] == [datetime(2026, 1, d, tzinfo=UTC) for d in (4, 5, 6)]

    fresh = RiskManager(RiskSettings(benchmark=None, var_lookback_days=LOOKBACK), Portfolio(), clock)
    fresh.expected = lambda: ["ETH/USDT"]
    await fresh.refresh(DailyVenue(clock), force=True)
    assert risk.returns["ETH/USDT"] == fresh.returns["ETH/USDT"]  # the figures a whole read gives

    # a longer lookback than the bars held: the new bars alone would not fill it, read it whole
    risk.reconfigure(RiskSettings(benchmark=None, var_lookback_days=40))
    clock.advance(86_400)
    await risk.refresh(venue, force=True)
    assert venue.since[-1] is None


async def test_new_bars_that_do_not_carry_on_from_what_was_read_read_the_whole_history_again() -> None:
    for change in ("revised", "exclusive"):
        clock = FrozenClock(datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
        risk = RiskManager(RiskSettings(benchmark=None, var_lookback_days=LOOKBACK), Portfolio(), clock)
        risk.expected = lambda: ["ETH/USDT"]
        venue = DailyVenue(clock)
        await risk.refresh(venue, force=True)
        if change == "revised":
            venue.revised = 2.5  # every close moved: the bar read before is not the same
        else:
            venue.exclusive = True  # the answer leaves out the bar it was asked from
        await refresh_over(risk, venue, hours=10)  # past midnight: one due read
        assert venue.since == [None, datetime(2026, 1, 4, tzinfo=UTC), None], change

        fresh = RiskManager(RiskSettings(benchmark=None, var_lookback_days=LOOKBACK), Portfolio(), clock)
        fresh.expected = lambda: ["ETH/USDT"]
        full = DailyVenue(clock)
        full.revised = venue.revised
        await fresh.refresh(full, force=True)
        assert risk.returns["ETH/USDT"] == fresh.returns["ETH/USDT"], change


async def test_a_missing_bar_or_a_failed_read_is_asked_for_again_hourly_not_at_every_refresh() -> None:
    clock = FrozenClock(datetime(2026, 1, 9, 22, 0, tzinfo=UTC))  # a Friday evening
    risk = RiskManager(RiskSettings(benchmark=None, var_lookback_days=LOOKBACK), Portfolio(), clock)
    risk.expected = lambda: ["SPY"]
    venue = DailyVenue(clock)
    venue.shut = datetime(2026, 1, 10, tzinfo=UTC)  # Friday's bar is the last until Monday's
    await risk.refresh(venue, force=True)
    await refresh_over(risk, venue, hours=24 * 2)  # to Sunday 22:00
    by_day = [sum(1 for t in venue.read_at if t.day == day) for day in (9, 10, 11)]
    assert by_day[:2] == [1, 1]  # Friday's bar closed at Saturday 00:00: read once
    assert 21 <= by_day[2] <= 23  # Sunday's bar never comes: asked hourly, not every 5 minutes

    venue.fail = True
    before = len(venue.reads)
    await refresh_over(risk, venue, hours=3)
    assert len(venue.reads) - before == 3
    assert risk.returns["SPY"] == []  # the figure is blank, not stale, while it cannot be read


async def test_a_strategys_symbol_has_its_history_before_its_first_position() -> None:
    base = Settings().model_dump()
    base["strategies"] = {"ema_cross": {"symbols": ["ETH/USDT"]}}
    base["risk"]["price_band_pct"] = None
    engine = await start_engine(Settings(**base))
    try:
        await engine.risk.refresh(engine._daily_closes, force=True)
        assert not engine.portfolio.open_positions()
        assert len(engine.risk.returns["ETH/USDT"]) > 200  # a year of daily returns, read already

        # Two days on, the paper venue's bars from the last one read carry on from it: the
        # figure is the one a whole new read gives.
        assert isinstance(engine.clock, FrozenClock)
        engine.clock.advance(2 * 86_400)
        asked: list[datetime | None] = []

        async def closes(symbol: str, since: datetime | None = None) -> list[Candle]:
            asked.append(since)
            return await engine._daily_closes(symbol, since)

        await engine.risk.refresh(closes, force=True)
        assert asked and None not in asked  # only the new bars were read, and they fitted
        full = await engine._daily_closes("ETH/USDT")
        assert engine.risk.returns["ETH/USDT"] == returns([c.close for c in full])
    finally:
        await engine.stop()


async def test_a_restart_asks_the_venue_only_for_the_daily_bars_since_the_run_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = Settings().model_dump()
    base["strategies"] = {"ema_cross": {"symbols": ["ETH/USDT"]}}
    settings = Settings(**base)
    home = Home.resolve(tmp_path).ensure()
    engine = manual_engine(settings, home=home, start=datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    await engine.start()
    await engine.risk.refresh(engine._daily_closes, force=True)
    assert len(engine.risk.returns["ETH/USDT"]) > 200
    await engine.stop()

    asked: list[tuple[str, datetime | None]] = []
    fetch = PaperVenue.fetch_candles

    async def recorded(self: PaperVenue, symbol: str, timeframe: str, since: datetime | None = None,
                       limit: int = 500) -> list[Candle]:  # fmt: skip
        if timeframe == "1d":
            asked.append((symbol, since))
        return await fetch(self, symbol, timeframe, since, limit)

    monkeypatch.setattr(PaperVenue, "fetch_candles", recorded)
    later = manual_engine(settings, home=home, start=datetime(2026, 1, 8, 9, 0, tzinfo=UTC))  # three days on
    await later.start()
    try:
        await later.risk.refresh(later._daily_closes, force=True)
        assert ("ETH/USDT", datetime(2026, 1, 4, tzinfo=UTC)) in asked  # the last bar the run before read
        assert asked and all(since is not None for _, since in asked), asked  # never a whole year again
        full = await fetch(later.venues["paper"], "ETH/USDT", "1d", None, settings.risk.var_lookback_days + 1)
        assert later.risk.returns["ETH/USDT"] == returns([c.close for c in full])
    finally:
        await later.stop()
