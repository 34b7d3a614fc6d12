"""Candles of venues that stream none, read from their history (`venues.candle_poll`): OANDA
against its loopback fake (the candles endpoint as OANDA's v20 reference documents it) and
Interactive Brokers against the fake IB Gateway (reqHistoricalData). After an outage the bars
missed are read back from where they stopped, in order, once, before the series goes on; what
the history cannot give back is a hole, said. Both clocks are frozen: the venue's and the fake's."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import ConnectionState
from tui_trader.core.events import CandleEvent, ConnectionEvent, Event, NoticeEvent
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues import candle_poll
from tui_trader.venues.oanda.venue import OandaVenue
from tui_trader.venues.resilience import Backoff

from fakes.oanda_exchange import TOKEN, FakeOanda
from fakes.venue_harness import wait_for

START = datetime(2026, 1, 5, 14, 30, 30, tzinfo=UTC)
M = timedelta(minutes=1)


def bars(events: list[Event], symbol: str) -> list[datetime]:
    return [e.candle.open_time for e in events if isinstance(e, CandleEvent) and e.candle.symbol == symbol]


def reconnected(events: list[Event]) -> bool:
    return any(isinstance(e, ConnectionEvent) and e.state is ConnectionState.CONNECTED and e.attempt > 0
               for e in events)  # fmt: skip


@pytest.fixture
async def oanda() -> AsyncIterator[FakeOanda]:
    fake = await FakeOanda(now=START, heartbeat_s=0.1).start()
    yield fake
    await fake.stop()


async def oanda_venue(fake: FakeOanda, clock: FrozenClock, events: list[Event]) -> OandaVenue:
    vs = VenueSettings(kind="oanda", symbols=["EUR/USD"], url_override=fake.url, candles=["1m"],
                       backoff_base_s=0.05, backoff_cap_s=0.2)  # fmt: skip
    venue = OandaVenue("oanda", vs, clock, credentials=Credentials(TOKEN), rest_timeout_s=2.0, stall_after_s=5.0,
                       backoff=Backoff(0.01, 0.02, rng=random.Random(1)))  # fmt: skip
    await venue.connect(events.append)
    await venue.subscribe(["EUR/USD"])
    await wait_for(lambda: {name for name, _ in fake._streams} == {"transactions", "pricing"})
    return venue


async def outage(fake: FakeOanda, clock: FrozenClock, events: list[Event], minutes: int) -> None:
    """Both streams cut, `minutes` pass on both clocks, the venue back."""
    clock.advance(minutes * 60)
    fake.now = clock.now()
    fake.drop_streams()
    await wait_for(lambda: reconnected(events))


async def test_oanda_bars_missed_in_an_outage_are_read_back_in_order_once(oanda: FakeOanda) -> None:
    """OANDA streams no candles: `candles = ["1m"]` reads them from its candles endpoint at each
    bar's close. Cut for ten minutes, the venue back: the bars since the last one given are read
    back, in order, each once; a minute without prices has no candle at OANDA, and is no hole.
    Before, OANDA gave no candles at all (a strategy on it never evaluated), nor any after an
    outage."""
    clock = FrozenClock(START)
    events: list[Event] = []
    venue = await oanda_venue(oanda, clock, events)
    try:
        await venue.candles.read()  # the bar's close (the poll)
        assert bars(events, "EUR/USD") == [datetime(2026, 1, 5, 14, 29, tzinfo=UTC)]
        oanda.no_prices.add(datetime(2026, 1, 5, 14, 33, tzinfo=UTC))
        await outage(oanda, clock, events, 10)  # 14:40:30
        want = [datetime(2026, 1, 5, 14, 29, tzinfo=UTC) + i * M for i in range(11) if i != 4]
        await wait_for(lambda: bars(events, "EUR/USD") == want)
        await venue.candles.read()  # the next poll: nothing new, nothing twice
        assert bars(events, "EUR/USD") == want
        assert all(e.candle.closed for e in events if isinstance(e, CandleEvent))
        assert not venue.holes
    finally:
        await venue.close()


async def test_oanda_bars_its_history_cannot_give_back_after_an_outage_are_a_hole_said(oanda: FakeOanda) -> None:
    """OANDA's candles endpoint down (503 through the adapter's tries) when the venue is back:
    the outage's bars are kept as a hole (a strategy reads no signal from a window with it) and
    said in a notice; the series goes on after it at the next close, the hole not read twice."""
    clock = FrozenClock(START)
    events: list[Event] = []
    venue = await oanda_venue(oanda, clock, events)
    try:
        await venue.candles.read()
        oanda.candles_down = True
        await outage(oanda, clock, events, 10)
        await wait_for(lambda: bool(venue.holes))
        (hole,) = venue.holes
        assert (hole.symbol, hole.what) == ("EUR/USD", "1m candles")
        assert (hole.start_ms, hole.end_ms) == (_ms(14, 30), _ms(14, 40))
        said = [e.message for e in events if isinstance(e, NoticeEvent)]
        assert any("EUR/USD 1m candles from 14:30:00-14:40:00 UTC" in m and "stopped answering" in m for m in said)
        oanda.candles_down = False
        clock.advance(120)
        oanda.now = clock.now()
        await venue.candles.read()  # 14:42:30: the series goes on after the hole
        assert bars(events, "EUR/USD")[1:] == [datetime(2026, 1, 5, 14, 40, tzinfo=UTC) + i * M for i in range(2)]
        assert len(venue.holes) == 1
    finally:
        await venue.close()


async def test_oanda_an_outage_longer_than_the_pages_read_keeps_the_newest_and_says_the_older(
    oanda: FakeOanda, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages scaled down (2 of 10 bars): a gap of 30 bars keeps the newest 20, read from where
    they begin page after page (OANDA answers from `from`), the older 10 said missing."""
    monkeypatch.setattr(candle_poll, "PAGES", 2)
    clock = FrozenClock(START)
    events: list[Event] = []
    venue = await oanda_venue(oanda, clock, events)
    try:
        venue.candles._limit = lambda timeframe: 10  # type: ignore[attr-defined]
        await venue.candles.read()
        await outage(oanda, clock, events, 30)  # 15:00:30: bars 14:30 .. 14:59 missed
        await wait_for(lambda: bool(venue.holes))
        (hole,) = venue.holes
        assert (hole.start_ms, hole.end_ms) == (_ms(14, 30), _ms(14, 40))
        assert "older than the 2 pages of 10 read back (a page limit)" in hole.text()
        await wait_for(lambda: len(bars(events, "EUR/USD")) == 21)
        assert bars(events, "EUR/USD")[1:] == [datetime(2026, 1, 5, 14, 40, tzinfo=UTC) + i * M for i in range(20)]
        assert [q["count"] for q in oanda.candle_reads][-2:] == ["10", "10"]
    finally:
        await venue.close()


def _ms(hour: int, minute: int) -> int:
    return int(datetime(2026, 1, 5, hour, minute, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
async def ibg() -> AsyncIterator[Any]:
    pytest.importorskip("ib_async", reason="ib_async is an optional extra (tui-trader[brokers])")
    from fakes.ib_gateway import FakeIBGateway

    fake = await FakeIBGateway(symbols=("AAPL",)).start(tick_interval_s=0.05)
    yield fake
    await fake.stop()


async def ib_venue(fake: Any, clock: FrozenClock, events: list[Event]) -> Any:
    from tui_trader.venues.ib.venue import IBVenue

    fake.bar_clock = lambda: clock.now().timestamp()
    vs = fake.venue_settings(candles=["1m"], stall_after_s=5.0)
    venue = IBVenue("ib", vs, clock, backoff=Backoff(0.01, 0.02, rng=random.Random(1)), request_timeout_s=2.0)
    await venue.connect(events.append)
    return venue


async def test_ib_bars_missed_in_an_outage_are_read_back_in_order_once(ibg: Any) -> None:
    """IB gives candles from reqHistoricalData at each bar's close; the socket to the Gateway
    lost for ten minutes, the venue back: the bars since the last one given are read back, in
    order, each once; a minute with no bar at IB (no trade) is no hole. Before, the IB adapter
    gave no candles (a strategy on it never evaluated), nor any after an outage."""
    clock = FrozenClock(START)
    events: list[Event] = []
    venue = await ib_venue(ibg, clock, events)
    try:
        await venue.candles.read()
        assert bars(events, "AAPL") == [datetime(2026, 1, 5, 14, 29, tzinfo=UTC)]
        ibg.no_bars.add(int(datetime(2026, 1, 5, 14, 33, tzinfo=UTC).timestamp()))
        clock.advance(600)
        await ibg.drop_connections()
        want = [datetime(2026, 1, 5, 14, 29, tzinfo=UTC) + i * M for i in range(11) if i != 4]
        await wait_for(lambda: bars(events, "AAPL") == want)
        await venue.candles.read()
        assert bars(events, "AAPL") == want
        assert not venue.holes
    finally:
        await venue.close()


async def test_ib_bars_its_history_refuses_after_an_outage_are_a_hole_said(ibg: Any) -> None:
    """IB refuses the historical request when the venue is back (162, its data farm failing):
    the outage's bars are a hole, said; the series goes on after it once IB answers again."""
    clock = FrozenClock(START)
    events: list[Event] = []
    venue = await ib_venue(ibg, clock, events)
    try:
        await venue.candles.read()
        ibg.history_error = (162, "Historical Market Data Service error message:HMDS server disconnect occurred")
        clock.advance(600)
        await ibg.drop_connections()
        await wait_for(lambda: bool(venue.holes))
        (hole,) = venue.holes
        assert (hole.symbol, hole.what, hole.start_ms, hole.end_ms) == ("AAPL", "1m candles", _ms(14, 30), _ms(14, 40))
        said = [e.message for e in events if isinstance(e, NoticeEvent)]
        assert any("AAPL 1m candles from 14:30:00-14:40:00 UTC" in m and "IB 162" in m for m in said), said
        ibg.history_error = None
        clock.advance(120)
        await venue.candles.read()
        assert bars(events, "AAPL")[1:] == [datetime(2026, 1, 5, 14, 40, tzinfo=UTC) + i * M for i in range(2)]
    finally:
        await venue.close()


async def test_ib_an_outage_longer_than_a_day_is_read_back_a_day_a_request(ibg: Any) -> None:
    """IB's step sizes give 1-minute bars a duration of a day at the most: 30 hours lost are
    read back in requests of a day each (86400 S ending a day after the last bar given, then
    the rest up to now), every bar once, in order, no hole."""
    clock = FrozenClock(START)
    events: list[Event] = []
    venue = await ib_venue(ibg, clock, events)
    try:
        await venue.candles.read()
        asked = len(ibg.history_requests)
        clock.advance(30 * 3600)
        await ibg.drop_connections()
        await wait_for(lambda: len(bars(events, "AAPL")) == 1 + 30 * 60)
        got = bars(events, "AAPL")
        assert got == [datetime(2026, 1, 5, 14, 29, tzinfo=UTC) + i * M for i in range(1 + 30 * 60)]
        pages = ibg.history_requests[asked:]
        assert pages[0] == ("20260106 14:30:00 UTC", "1 min", "86400 S"), pages
        assert pages[1] == ("", "1 min", "21630 S"), pages  # to now (20:30:30): endDateTime empty
        assert not venue.holes
    finally:
        await venue.close()


async def test_ib_a_closed_market_is_no_hole(ibg: Any) -> None:
    """Overnight IB has no bar: a duration without one is answered with error 162 "HMDS query
    returned no data"; that is an empty window, not a failed read: no hole, nothing said, and
    the bars after it come when the market trades again."""
    clock = FrozenClock(START)
    events: list[Event] = []
    venue = await ib_venue(ibg, clock, events)
    try:
        await venue.candles.read()
        start = int(datetime(2026, 1, 5, 14, 30, tzinfo=UTC).timestamp())
        ibg.no_bars.update(range(start, start + 600, 60))  # ten minutes without a trade
        clock.advance(600)
        await venue.candles.read()  # 14:40:30
        assert bars(events, "AAPL") == [datetime(2026, 1, 5, 14, 29, tzinfo=UTC)]
        clock.advance(120)
        await venue.candles.read()  # trading again: 14:40 and 14:41
        assert bars(events, "AAPL")[1:] == [datetime(2026, 1, 5, 14, 40, tzinfo=UTC) + i * M for i in range(2)]
        assert not venue.holes and not [e for e in events if isinstance(e, NoticeEvent)]
    finally:
        await venue.close()


async def test_ib_is_not_asked_for_bars_while_its_market_is_closed(ibg: Any) -> None:
    """While none of the venue's markets trades (its contract details' trading hours: closed
    today), no historical request is made at the bars' close (each would be IB's 162, logged,
    for every symbol every minute of a night or a weekend); once trading again the bars since
    the last one given are read, in order."""
    clock = FrozenClock(START)
    events: list[Event] = []
    venue = await ib_venue(ibg, clock, events)
    try:
        await venue.candles.read()
        ibg.market_is_open = False
        await venue._refresh_hours()
        asked = len(ibg.history_requests)
        clock.advance(600)
        await venue.candles.read()
        assert len(ibg.history_requests) == asked
        ibg.market_is_open = True
        await venue._refresh_hours()
        await venue.candles.read()
        assert bars(events, "AAPL") == [datetime(2026, 1, 5, 14, 29, tzinfo=UTC) + i * M for i in range(11)]
    finally:
        await venue.close()
