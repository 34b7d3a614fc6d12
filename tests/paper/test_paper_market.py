"""The paper market is one coherent market: one price path per symbol, a function of time.

Every timeframe aggregates the same minutes, any window gives the same bars, history runs up to
the clock and the live quote carries on from its last bar; stocks trade in NYSE sessions only.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tui_trader.core.clock import FrozenClock
from tui_trader.core.hours import NYSE, hours_for
from tui_trader.core.market import Candle
from tui_trader.engine.testing import paper_settings
from tui_trader.venues.paper import PaperVenue
from tui_trader.venues.paper import path as path_module
from tui_trader.venues.paper.history import bars_before
from tui_trader.venues.paper.instruments import paper_instrument, profile_for
from tui_trader.venues.paper.path import REGIMES, PricePath

NOW = datetime(2026, 3, 11, 17, 42, 13, tzinfo=UTC)  # a Wednesday, NYSE open


def venue_at(now: datetime, seed: int = 7) -> PaperVenue:
    return PaperVenue(paper_settings(seed=seed).paper, FrozenClock(now), run_feed=False)


def new_path(symbol: str, seed: int = 7) -> PricePath:
    inst = paper_instrument(symbol)
    return PricePath(seed, symbol, profile_for(symbol), hours_for(inst), inst.price_decimals)


def aggregate(minutes: list[Candle], seconds: int) -> dict[datetime, tuple[float, float, float, float, float]]:
    out: dict[datetime, list[float]] = {}
    for c in minutes:
        key = datetime.fromtimestamp(int(c.open_time.timestamp()) // seconds * seconds, UTC)
        bar = out.get(key)
        if bar is None:
            out[key] = [c.open, c.high, c.low, c.close, c.volume]
        else:
            bar[1], bar[2], bar[3], bar[4] = max(bar[1], c.high), min(bar[2], c.low), c.close, bar[4] + c.volume
    return {k: (v[0], v[1], v[2], v[3], v[4]) for k, v in out.items()}


@pytest.mark.parametrize("symbol", ["BTC/USDT", "AAPL"])
async def test_hour_bars_are_their_minutes_and_windows_agree(symbol: str) -> None:
    venue = venue_at(NOW)
    hours = await venue.fetch_candles(symbol, "1h", limit=2000)
    minutes = await venue.fetch_candles(symbol, "1m", limit=60 * 2000)
    assert len(hours) == 2000
    assert hours[-1].open_time == datetime(2026, 3, 11, 16, tzinfo=UTC)  # the last closed hour
    by_hour = aggregate(minutes, 3600)
    compared = 0
    for bar in hours[-600:]:  # 600 hours: 10 weeks of minutes, well inside the 1m window
        o, h, low, c, v = by_hour[bar.open_time]
        assert (bar.open, bar.high, bar.low, bar.close) == (o, h, low, c)
        assert bar.volume == pytest.approx(v, rel=1e-9)
        compared += 1
    assert compared == 600
    assert await venue.fetch_candles(symbol, "1h", limit=200) == hours[-200:]
    assert await venue.fetch_candles(symbol, "1m", limit=200) == minutes[-200:]
    four = await venue.fetch_candles(symbol, "4h", limit=100)
    by_four = aggregate(hours, 4 * 3600)
    for bar in four[-50:]:
        assert (bar.open, bar.high, bar.low, bar.close) == by_four[bar.open_time][:4]


async def test_the_last_bar_joins_the_live_quote() -> None:
    venue = venue_at(NOW)
    await venue.connect(lambda e: None)
    last = (await venue.fetch_candles("BTC/USDT", "1m", limit=5))[-1]
    assert last.open_time == datetime(2026, 3, 11, 17, 41, tzinfo=UTC)  # the last closed minute
    path = venue.path("BTC/USDT")
    assert path.price(datetime(2026, 3, 11, 17, 42, tzinfo=UTC).timestamp()) == last.close
    ticker = venue._tickers["BTC/USDT"]
    sigma = path.minute_sigma(NOW.timestamp())
    assert abs(math.log(ticker.mid / last.close)) < 6 * sigma + 2e-4  # 13 s of movement plus the spread
    # Hours and days join up to the minute the clock is in, too.
    hour = (await venue.fetch_candles("BTC/USDT", "1h", limit=1))[-1]
    assert hour.open_time == datetime(2026, 3, 11, 16, tzinfo=UTC)
    assert hour.close == path.price(datetime(2026, 3, 11, 17, tzinfo=UTC).timestamp())


async def test_history_is_a_function_of_time_not_of_who_asked() -> None:
    later = venue_at(NOW + timedelta(days=3), seed=7)
    earlier = venue_at(NOW, seed=7)
    a = await earlier.fetch_candles("ETH/USDT", "15m", limit=300)
    path_module._BLOCKS._data.clear()  # nothing remembered between the two
    path_module._ANCHORS._data.clear()
    b = await later.fetch_candles("ETH/USDT", "15m", limit=300 + 3 * 96)
    assert b[:300] == a
    since = await later.fetch_candles("ETH/USDT", "15m", since=a[0].open_time, limit=300)
    assert since == a
    other_seed = await venue_at(NOW, seed=8).fetch_candles("ETH/USDT", "15m", limit=300)
    assert [c.close for c in other_seed] != [c.close for c in a]


async def test_a_year_of_history_is_made_off_the_event_loop() -> None:
    """A year of daily bars the path has not computed costs 70-500 ms; the loop keeps running
    meanwhile (quotes, orders, the screen), and what comes back is the same history."""
    import asyncio

    venue = venue_at(NOW)
    path_module._BLOCKS._data.clear()
    fetch = asyncio.get_running_loop().create_task(venue.fetch_candles("AAPL", "1d", limit=365))
    await asyncio.sleep(0)  # the fetch has started: computed inline, it would be done by now
    assert not fetch.done()
    bars = await fetch
    assert len(bars) == 365 and bars == await venue_at(NOW).fetch_candles("AAPL", "1d", limit=365)


def test_a_year_of_daily_bars_leaves_the_live_weeks_where_they_were() -> None:
    """The value at risk reads a year of daily closes when a position opens in a new symbol:
    those 53 weeks of minutes are computed once and dropped (their daily bars are kept), so
    the weeks the live quotes read stay cached and the engine does not hold 20+ MB more."""
    path_module._BLOCKS._data.clear()
    live = new_path("SOL/USDT")
    live.price(NOW.timestamp())  # the live week: computed and kept
    kept = dict(path_module._BLOCKS._data)
    current = live.block(int(NOW.timestamp() // 60 // path_module.MINUTES_PER_BLOCK))

    year = bars_before(live, 86_400, NOW.timestamp(), 365)
    other = bars_before(new_path("BTC/USDT"), 86_400, NOW.timestamp(), 365)

    assert dict(path_module._BLOCKS._data) == kept  # nothing evicted, nothing added
    assert live._last is current  # the live quotes' own week is still the one at hand
    # The same bars as from weeks computed and kept, to the bit.
    for symbol, bars in (("SOL/USDT", year), ("BTC/USDT", other)):
        fresh = new_path(symbol)
        for i, ts in enumerate(bars.ts[:: 40].tolist()):
            day = bars_before(fresh, 60, ts + 86_400, 1440)
            day = day.slice(int(np.searchsorted(day.ts, ts)), len(day))
            row = i * 40
            assert bars.open[row] == day.open[0] and bars.close[row] == day.close[-1]
            assert bars.high[row] == day.high.max() and bars.low[row] == day.low.min()


def test_price_is_continuous_across_minutes_and_inside_the_bar() -> None:
    path = new_path("SOL/USDT")
    start = math.floor(NOW.timestamp() / 60) * 60
    for minute in range(5):
        t0 = start + 60 * minute
        blk, i = path.minute(int(t0 // 60))
        ticks = [path.price(t0 + k * 0.25) for k in range(240)]
        assert ticks[0] == blk.open[i] and path.price(t0 + 60) == blk.close[i]
        assert blk.low[i] <= min(ticks) and max(ticks) <= blk.high[i]
        # The minute's high and low are reached on the way (not only bounds).
        assert max([*ticks, blk.close[i]]) == pytest.approx(blk.high[i], rel=1e-9)
        assert min([*ticks, blk.close[i]]) == pytest.approx(blk.low[i], rel=1e-9)


async def test_stock_bars_only_in_nyse_sessions_with_holidays_and_early_closes() -> None:
    venue = venue_at(datetime(2025, 12, 1, 12, tzinfo=UTC))
    minutes = await venue.fetch_candles("AAPL", "1m", limit=390 * 8)
    days = {c.open_time.date() for c in minutes}
    assert datetime(2025, 11, 27).date() not in days  # Thanksgiving
    assert datetime(2025, 11, 29).date() not in days and datetime(2025, 11, 30).date() not in days
    friday = [c for c in minutes if c.open_time.date() == datetime(2025, 11, 28).date()]
    assert friday[0].open_time == datetime(2025, 11, 28, 14, 30, tzinfo=UTC)  # 09:30 New York
    assert friday[-1].open_time == datetime(2025, 11, 28, 17, 59, tzinfo=UTC)  # early close 13:00
    sessions = NYSE.sessions(datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 12, 2, tzinfo=UTC))
    for c in minutes:
        assert any(o <= c.open_time < cl for o, cl in sessions), c.open_time
    daily = await venue.fetch_candles("AAPL", "1d", limit=10)
    assert [d.open_time.day for d in daily] == [14, 17, 18, 19, 20, 21, 24, 25, 26, 28]  # one bar per session


def test_a_stock_does_not_move_while_its_exchange_is_shut_and_gaps_at_the_open() -> None:
    path = new_path("AAPL")
    friday_close = datetime(2026, 3, 6, 21, tzinfo=UTC).timestamp()
    monday_open = datetime(2026, 3, 9, 13, 30, tzinfo=UTC).timestamp()  # 09:30 EDT
    hours_shut = int((monday_open - friday_close) // 3600)
    weekend = {path.price(friday_close + k * 3600.0 + 17.3) for k in range(hours_shut)}
    assert weekend == {path.price(friday_close)}
    gaps = []
    for week in range(30):
        t = monday_open + week * 7 * 86_400
        before, at = path.price(t - 60), path.price(t)
        gaps.append(abs(math.log(at / before)))
    assert np.median(gaps) > 0.001  # Monday's open is not Friday's close


def test_volatility_per_asset_class_and_regimes() -> None:
    end = NOW.timestamp()
    realised = {}
    for symbol, per_year in (("BTC/USDT", 24 * 365), ("AAPL", 7 * 252), ("EUR/USD", 24 * 260)):
        bars = bars_before(new_path(symbol), 3600, end, 4000)
        r = np.diff(np.log(bars.close))
        realised[symbol] = float(r.std() * math.sqrt(per_year))
    assert 0.3 < realised["BTC/USDT"] < 1.0
    assert 0.12 < realised["AAPL"] < 0.5
    assert 0.03 < realised["EUR/USD"] < 0.16
    assert realised["BTC/USDT"] > realised["AAPL"] > realised["EUR/USD"]

    path = new_path("BTC/USDT")
    first_week = int(NOW.timestamp() // (7 * 86_400))
    by_regime: dict[str, list[float]] = {}
    for week in range(first_week - 150, first_week):
        blk = path.block(week)
        r = np.diff(np.log(blk.close))
        by_regime.setdefault(REGIMES[blk.regime], []).append(float(r.std()))
    assert set(by_regime) == set(REGIMES)
    assert np.mean(by_regime["high_vol"]) > 2 * np.mean(by_regime["range"])


def test_weeks_of_hour_bars_are_quick_to_make() -> None:
    """Not a timing test (bench/bench_paper_market.py measures): 2,000 hours is a handful of
    week blocks, never the path from the epoch."""
    path = new_path("BTC/USDT", seed=12345)
    made: list[int] = []
    original = path._make_block

    def counting(index: int):  # type: ignore[no-untyped-def]
        made.append(index)
        return original(index)

    path._make_block = counting  # type: ignore[method-assign]
    bars = bars_before(path, 3600, NOW.timestamp(), 2000)
    assert len(bars) == 2000 and len(made) <= 14
