"""Candles read back after an outage (`venues.candle_pages`), against the loopback Binance:
/api/v3/klines answers from `startTime` on, 1000 at most (Binance's documented limit), and the
fault table's rows, each a way the venue answers wrong (`FakeBinanceExchange.klines_fault`).

The clock is frozen: the newest closed bar is the one before NOW's; the gap is from LAST (the
last closed bar seen before the outage). Each test fails on the code that read one page."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.events import CandleEvent, Event, NoticeEvent
from tui_trader.secrets import Credentials
from tui_trader.venues.ccxt import exchanges
from tui_trader.venues.ccxt.venue import CcxtVenue
from tui_trader.venues.resilience import Backoff

from fakes.binance_exchange import FakeBinanceExchange
from fakes.faults import HttpFault
from fakes.venue_harness import API_KEY, SECRET, venue_settings

MIN = 60_000
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC: the open bar's open
NOW = T0 + 30_000
PRESENT = T0 - MIN  # the newest closed bar
LAST = PRESENT - 2_500 * MIN  # 2,500 closed bars missed: three pages of Binance's 1000


def _bars(first: int, last: int, step: int = MIN) -> list[list[float]]:
    return [[t, 100.0, 101.0, 99.0, 100.5, 1.0] for t in range(first, last + 1, step)]


@pytest.fixture
async def venue(fake: FakeBinanceExchange) -> AsyncIterator[CcxtVenue]:
    fake.rest.set_klines("BTC/USDT", "1m", _bars(LAST - 10 * MIN, T0))
    fake.rest.set_klines("BTC/USDT", "5m", _bars(LAST - 10 * 5 * MIN, T0, 5 * MIN))
    v = await _frozen(venue_settings(fake, rate_limit_ms=1, timeout_ms=300), NOW)
    try:
        yield v
    finally:
        await v._ex.close()


async def _frozen(settings: VenueSettings, now_ms: int, secret: str = SECRET) -> CcxtVenue:
    """A ccxt venue on a fake, its clock frozen at `now_ms`, its markets loaded, nothing streamed."""
    v = CcxtVenue(
        settings.exchange or "ccxt",
        settings,
        FrozenClock(datetime.fromtimestamp(now_ms / 1000, UTC)),
        credentials=Credentials(API_KEY, secret),
        backoff=Backoff(0.05, 0.2, rng=random.Random(1)),
    )
    v._ex = v._make_exchange()
    await v._ex.load_markets()
    return v


async def _back(venue: CcxtVenue, last: int = LAST, tf: str = "1m", live: list[list[Any]] | None = None) -> list[Event]:
    """The venue back after an outage that began after the bar `last` (its stream back with
    the bars `live` before the backfill ran): what it emits."""
    events: list[Event] = []
    venue._emit = events.append
    venue._last_candle = {("BTC/USDT", tf): last}
    venue._gap_from = (dict(venue._last_candle), {})
    venue._held_candles = {("BTC/USDT", tf): list(live or [])}
    await venue._backfill()
    return events


def _closed(events: list[Event]) -> list[int]:
    candles = [e.candle for e in events if isinstance(e, CandleEvent)]
    return [int(c.open_time.timestamp() * 1000) for c in candles if c.closed]


def _notices(events: list[Event]) -> list[str]:
    return [e.message for e in events if isinstance(e, NoticeEvent)]


def _one_hole(venue: CcxtVenue, events: list[Event], start: int, end: int, words: str) -> None:
    """The venue said one hole, from `start` to `end`, in a notice with `words`."""
    (hole,) = venue.holes
    assert (hole.start_ms, hole.end_ms) == (start, end)
    (text,) = _notices(events)
    assert words in text and text.endswith("that span stays a hole")


def _hms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S")


async def test_a_gap_of_more_candles_than_a_page_is_read_back_page_after_page(
    fake: FakeBinanceExchange, venue: CcxtVenue
) -> None:
    """2,500 bars missed: three pages of 1000 from the gap's start, each bar once, in order, no
    hole (it read one page of 500: 2,000 bars were a silent hole in the strategy's window)."""
    events = await _back(venue)
    assert _closed(events) == list(range(LAST + MIN, PRESENT + 1, MIN))
    assert list(venue.holes) == [] and _notices(events) == []


async def test_a_gap_longer_than_the_pages_read_keeps_the_newest_and_says_the_older_missing(
    fake: FakeBinanceExchange, venue: CcxtVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pages at most here: the newest 2,000 bars are read (those a strategy reads), the 500
    before them said missing, with their span."""
    monkeypatch.setattr(exchanges, "CANDLE_PAGES", 2)
    events = await _back(venue)
    first = PRESENT - 1_999 * MIN
    assert _closed(events) == list(range(first, PRESENT + 1, MIN))
    (hole,) = venue.holes
    assert (hole.what, hole.start_ms, hole.end_ms) == ("1m candles", LAST + MIN, first)
    (text,) = _notices(events)
    assert text.startswith(f"BTC/USDT 1m candles from {_hms(LAST + MIN)}-{_hms(first)} UTC (30000s)")
    assert "older than the 2 pages of 1000 read back (a page limit)" in text and "hole" in text


async def test_a_venue_that_answers_a_page_short_is_read_on_from_its_newest(
    fake: FakeBinanceExchange, venue: CcxtVenue
) -> None:
    """Asked 1000, it answers 300 (as OKX's history answers 100 whatever is asked): not the
    end of its history, the next page is asked from the newest it gave."""
    fake.klines_fault = lambda q, rows: rows[:300]
    events = await _back(venue)
    assert _closed(events) == list(range(LAST + MIN, PRESENT + 1, MIN)) and list(venue.holes) == []


async def test_a_venue_that_answers_out_of_order_and_twice_gives_each_bar_once_in_order(
    fake: FakeBinanceExchange, venue: CcxtVenue
) -> None:
    fake.klines_fault = lambda q, rows: list(reversed(rows)) + rows[:10]
    events = await _back(venue)
    assert _closed(events) == list(range(LAST + MIN, PRESENT + 1, MIN)) and list(venue.holes) == []


async def test_a_venue_that_answers_the_same_page_again_says_the_rest_missing(
    fake: FakeBinanceExchange, venue: CcxtVenue
) -> None:
    """Its second page is its first again (`startTime` ignored from then on): the first page's
    bars are kept, the rest of the gap said missing, not asked for ten times nor left silent."""
    first_page: list[list[Any]] = []

    def same_again(q: dict[str, str], rows: list[list[Any]]) -> list[list[Any]]:
        if not first_page:
            first_page.extend(rows)
        return first_page

    fake.klines_fault = same_again
    events = await _back(venue)
    reached = LAST + 1000 * MIN
    assert _closed(events) == list(range(LAST + MIN, reached + 1, MIN))
    _one_hole(venue, events, reached + MIN, T0, "the venue answered no candles after the last it gave")


async def test_a_venue_that_answers_its_newest_page_whatever_since_says_the_span_before(
    fake: FakeBinanceExchange, venue: CcxtVenue
) -> None:
    """As Kraken's OHLC does (its newest 720, whatever `since`): the page is kept, the span
    before it said."""
    fake.klines_fault = lambda q, rows: fake.rest._klines_response({k: v for k, v in q.items() if k != "startTime"})[1]
    events = await _back(venue)
    oldest = T0 - 999 * MIN  # the newest 1000, the open bar among them
    assert _closed(events) == list(range(oldest, PRESENT + 1, MIN))
    _one_hole(venue, events, LAST + MIN, oldest, "answered its 1000 newest")


async def test_a_venue_that_answers_candles_of_another_timeframe_gives_none_of_them(
    fake: FakeBinanceExchange, venue: CcxtVenue
) -> None:
    """Asked for 5m bars, it answers 1m bars: not one is taken for a 5m bar, the gap said."""
    fake.klines_fault = lambda q, rows: fake.rest._klines_response({**q, "interval": "1m"})[1]
    last = T0 - 600 * 5 * MIN
    events = await _back(venue, last, "5m")
    assert _closed(events) == []
    _one_hole(venue, events, last + 5 * MIN, T0, "5m candles")
    assert "candles of another timeframe" in _notices(events)[0]


async def test_a_venue_that_goes_silent_mid_paging_says_the_rest_missing(
    fake: FakeBinanceExchange, venue: CcxtVenue
) -> None:
    """The first page answered, then every try of the second times out (answered after the
    client gave up): the first page's bars kept, the rest said with the venue's reason (the
    error ended the whole backfill: the trades were not read back either, nothing said)."""

    def silent_after_one(q: dict[str, str], rows: list[list[Any]]) -> list[list[Any]]:
        if not fake._http_faults:
            fake._http_faults.extend(HttpFault(0, "GET", "/klines", delay=0.5) for _ in range(5))
        return rows

    fake.klines_fault = silent_after_one
    streamed = PRESENT - 4 * MIN  # the stream, back meanwhile, has the bars from there on
    events = await _back(venue, live=[[t, 1.0, 1.0, 1.0, 1.0, 1.0] for t in range(streamed, T0 + 1, MIN)])
    reached = LAST + 1000 * MIN
    assert _closed(events) == [*range(LAST + MIN, reached + 1, MIN), *range(streamed, PRESENT + 1, MIN)]
    _one_hole(venue, events, reached + MIN, streamed, "the venue stopped answering")


async def test_a_venue_that_rate_limits_mid_paging_is_read_on_after_its_wait(
    fake: FakeBinanceExchange, venue: CcxtVenue
) -> None:
    """A 429 on the second page: waited out, the pages read on, every bar once, no hole."""

    def limited_once(q: dict[str, str], rows: list[list[Any]]) -> list[list[Any]]:
        if not limited:
            limited.append(1)
            fake.fail_next(1, 429, path="/klines")
        return rows

    limited: list[int] = []
    fake.klines_fault = limited_once
    events = await _back(venue)
    assert _closed(events) == list(range(LAST + MIN, PRESENT + 1, MIN)) and list(venue.holes) == []
    assert venue.counters["rate_limited"] >= 1


async def test_live_candles_that_come_while_the_gap_is_read_back_come_after_it(
    fake: FakeBinanceExchange, venue: CcxtVenue
) -> None:
    """The stream is back before the backfill is done: its bars are held and emitted after the
    gap's, so a strategy never evaluates a new bar with the gap still open before it (it got the
    live bar first, then the old ones slid in under it)."""
    live = [[PRESENT, 1.0, 1.0, 1.0, 1.0, 1.0], [T0, 1.0, 1.0, 1.0, 1.0, 1.0]]

    def stream_meanwhile(q: dict[str, str], rows: list[list[Any]]) -> list[list[Any]]:
        venue._on_candles("BTC/USDT", "1m", live)
        return rows

    fake.klines_fault = stream_meanwhile
    events = await _back(venue)
    closed = _closed(events)
    assert closed[:2_500] == list(range(LAST + MIN, PRESENT + 1, MIN)) and set(closed[2_500:]) == {PRESENT}
    assert venue._held_candles == {}
    venue._on_candles("BTC/USDT", "1m", [[T0 + MIN, 1.0, 1.0, 1.0, 1.0, 1.0]])  # not held once the gap is read
    assert isinstance(events[-1], CandleEvent) and int(events[-1].candle.open_time.timestamp() * 1000) == T0 + MIN


async def test_bybit_candles_are_read_back_page_after_page_each_page_up_to_its_own_end() -> None:
    """Bybit's v5 kline, asked from `start` without an `end`, answers the newest bars after the
    start (1000 at most, newest first): each page names its end, so a gap of 2,500 bars is read
    whole, not taken for its newest 1000 and a hole before them."""
    from fakes.bybit_exchange import FakeBybitExchange
    from fakes.venue_harness import ccxt_settings

    fake = FakeBybitExchange(api_key=API_KEY, secret=SECRET)
    await fake.start(tick_interval_s=0.02)
    now = fake.now_ms
    v = await _frozen(ccxt_settings("bybit", fake.ccxt_options(), ["BTC/USDT"], rate_limit_ms=1), now)
    try:
        present = now - now % MIN - MIN
        last = present - 2_500 * MIN
        events = await _back(v, last)
        assert _closed(events) == list(range(last + MIN, present + 1, MIN))
        assert list(v.holes) == []
    finally:
        await v._ex.close()
        await fake.stop()


async def test_kraken_answers_its_newest_720_bars_and_the_outage_before_them_is_said() -> None:
    """Kraken's OHLC answers its newest 720 bars whatever `since` says (docs: "Maximum 720
    candles per call"; 12 hours of 1m bars, nothing older over REST): an outage of 800 bars
    gets the 720, each once, and the span before them said, naming it."""
    from fakes.kraken_exchange import SECRET_B64, FakeKrakenExchange
    from fakes.venue_harness import ccxt_settings

    fake = await FakeKrakenExchange(["BTC/USDT"], api_key=API_KEY, seed=11).start(tick_interval_s=0.02)
    now = fake.now_ms
    present = now - now % MIN - MIN
    times = range(present - 900 * MIN + 5, present + MIN, MIN)  # a print a minute, 900 minutes back
    fake.public_trades["BTC/USDT"][:0] = [
        {"id": 10_000 + i, "price": "50000.0", "qty": "0.5", "time": t, "side": "buy"} for i, t in enumerate(times)
    ]
    options = {**fake.ccxt_options(), "rateLimit": 20}
    v = await _frozen(ccxt_settings("kraken", options, ["BTC/USDT"], sandbox=False), now, SECRET_B64)
    try:
        last = present - 800 * MIN
        events = await _back(v, last)
        closed = _closed(events)
        assert len(closed) >= 715 and closed == sorted(set(closed)) and closed[-1] == present
        (hole,) = v.holes
        assert (hole.what, hole.start_ms, hole.end_ms) == ("1m candles", last + MIN, closed[0])
        assert "answered its 720 newest" in _notices(events)[0]
    finally:
        await v._ex.close()
        await fake.stop()
