"""When the value at risk reads a symbol's daily history: the strategies' symbols before their
first position, and each again only once a new daily bar can have closed.

A read is a request to the venue (a rate-limited REST call), or on the paper venue a year of its
minute path computed in a thread that shares the GIL with the event loop: reading at every
refresh, or first at the first fill, took the loop's time just when orders were going out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tui_trader.config import Settings
from tui_trader.config.risk import RiskSettings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.market import Candle
from tui_trader.execution.portfolio import Portfolio
from tui_trader.risk.manager import RiskManager

from risk_helpers import start_engine

DAY = timedelta(days=1)


class DailyVenue:
    """Daily bars opening at 00:00 UTC, closed ones only (as ccxt's adapter and the paper
    venue give them); `fail` makes the next reads raise, `shut` ends the bars at that day
    (a weekend or holiday: no new bar)."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.reads: list[str] = []
        self.read_at: list[datetime] = []
        self.fail = False
        self.shut: datetime | None = None

    async def __call__(self, symbol: str) -> list[Candle]:
        self.reads.append(symbol)
        self.read_at.append(self.clock.now())
        if self.fail:
            raise ConnectionError("venue down")
        today = self.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
        last = min(today, self.shut) if self.shut else today
        return [
            Candle(symbol, "1d", last - DAY * (i + 1), 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 1.0)
            for i in reversed(range(30))
        ]


async def refresh_over(risk: RiskManager, venue: DailyVenue, hours: float, step_min: float = 5.0) -> None:
    end = venue.clock.now() + timedelta(hours=hours)
    while venue.clock.now() < end:
        venue.clock.advance(step_min * 60)
        await risk.refresh(venue, force=True)


async def test_a_daily_history_is_read_once_a_day_not_at_every_refresh() -> None:
    clock = FrozenClock(datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    risk = RiskManager(RiskSettings(benchmark="SPY"), Portfolio(), clock)
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


async def test_a_missing_bar_or_a_failed_read_is_asked_for_again_hourly_not_at_every_refresh() -> None:
    clock = FrozenClock(datetime(2026, 1, 9, 22, 0, tzinfo=UTC))  # a Friday evening
    risk = RiskManager(RiskSettings(benchmark=None), Portfolio(), clock)
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
    finally:
        await engine.stop()
