"""A venue already `degraded` because it refused our keys (its private streams stopped for
good) whose market data then freezes, against the fake Binance and the fake OKX (real ccxt
clients); what its status line and its streams' reconnect counts say meanwhile.

The venue-wide stall check ran only while `connected`, which such a venue never is again: its
quotes frozen behind "keys refused" must still be noticed, reconnected on the backoff and
backfilled, and the venue must say what is wrong once they flow again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from tui_trader.core.enums import ConnectionState
from tui_trader.core.events import ConnectionEvent, Event, TickerEvent, TradeEvent
from tui_trader.engine import Engine
from tui_trader.engine.snapshot import VenueStatus
from tui_trader.secrets import Credentials
from tui_trader.venues import streams as streams_module
from tui_trader.venues.base import StreamStatus
from tui_trader.venues.ccxt.venue import CcxtVenue

from fakes.binance_exchange import FakeBinanceExchange
from fakes.bybit_exchange import FakeBybitExchange
from fakes.fake_market import FakeMarket
from fakes.okx_exchange import FakeOkxExchange
from fakes.venue_harness import API_KEY, SECRET, ccxt_settings, ccxt_venue, streaming, trading, wait_for

KEYS = "keys set binance`"
OKX_KEY, PASSPHRASE = "okx-key", "okx-pass-phrase"
OKX_KEYS = "keys set okx`"


def refused_venue(fake: FakeBinanceExchange, streams: str, key: str = "revoked-key") -> CcxtVenue:
    """A Binance venue with `key` (by default one the fake refuses), streaming tickers only
    ("tickers": ccxt told the exchange has no book or trades stream), tickers and trades
    ("trades"), or tickers, books, trades and 1m candles ("all")."""
    options = {**fake.ccxt_options(), "rateLimit": 1}
    if streams in ("tickers", "trades"):
        options["has"] = {"watchOrderBook": False, **({"watchTrades": False} if streams == "tickers" else {})}
    settings = ccxt_settings("binance", options, ["BTC/USDT"], candles=["1m"] if streams == "all" else [])
    return ccxt_venue(settings, Credentials(key, SECRET))


def tickers(events: list[Event]) -> int:
    return sum(isinstance(e, TickerEvent) for e in events)


async def frozen_then_back(
    venue: CcxtVenue, fake: FakeMarket, events: list[Event], drop: bool, logins: Callable[[], int], keys: str = KEYS
) -> None:
    """The fake's market data freezes (the sockets open and silent; with `drop`, dropped first
    and the new ones silent) through several reconnect attempts, then flows again. The venue
    notices (a stall, as when connected), reconnects, again each stall_after_s while nothing
    comes (not on its 0.05-0.2 s backoff: a loop), never counted back meanwhile (a book's
    snapshot is not its stream back), the quotes resume, it is back once, `degraded` naming
    the `keys` alone, no longer reconnecting, and never logs in with the refused keys again
    (`logins()`: the private logins the fake was asked for)."""
    stall_s = venue.monitor.stall_after_s
    logged_in, reconnects, said = logins(), venue.counters["reconnects"], len(events)
    loop = asyncio.get_running_loop()
    fake.stall()
    frozen_at = loop.time()
    if drop:
        await fake.drop_connections()
    await wait_for(lambda: venue.counters["reconnects"] > reconnects, 4 * stall_s + 4)
    await wait_for(lambda: venue.counters["reconnects"] >= reconnects + 2, 6 * stall_s + 6)
    tried, frozen_s = venue.counters["reconnects"] - reconnects, loop.time() - frozen_at
    assert tried <= frozen_s / stall_s + 1, (tried, frozen_s)
    details = [(e.state, e.detail) for e in events[said:] if isinstance(e, ConnectionEvent)]
    first = next(d for s, d in details if s is ConnectionState.RECONNECTING)
    assert ("Connection closed" if drop else "stalled") in first, details  # the stall check: as connected
    # retried: nothing since the reconnect, never back in between (no stall of a venue back)
    retries = [d for s, d in details if s is ConnectionState.RECONNECTING][1:]
    said_then = "\n".join(f"{s.value}: {d}" for s, d in details)
    assert retries and all("no message since reconnecting" in d for d in retries), said_then
    assert not any(s is ConnectionState.CONNECTED or "reconnected after" in d for s, d in details), said_then
    frozen_quotes = tickers(events)
    fake.stall(False)
    await wait_for(lambda: tickers(events) > frozen_quotes + 5)
    await wait_for(lambda: venue.state is ConnectionState.DEGRADED)
    settled = venue.counters["reconnects"]
    await asyncio.sleep(2 * stall_s)  # a loop reconnects within a watchdog period (stall_s / 4)
    assert venue.counters["reconnects"] == settled
    assert venue.state is ConnectionState.DEGRADED and keys in venue.streams.summary()
    back = [e for e in events[said:] if isinstance(e, ConnectionEvent) and "reconnected after" in e.detail]
    assert len(back) == 1 and back[0] is [e for e in events if isinstance(e, ConnectionEvent)][-1], back
    assert back[0].state is ConnectionState.DEGRADED and keys in back[0].detail, back[0].detail
    assert "down" not in back[0].detail and "silent" not in back[0].detail, back[0].detail
    assert {venue.streams.state(k) for k in ("orders", "fills")} == {"stopped"}
    assert logins() == logged_in, (logins(), logged_in)


def trades_backfilled(fake: FakeMarket, events: list[Event], symbol: str, since_ms: int) -> Callable[[], bool]:
    """Every print the fake made for `symbol` after `since_ms` has been printed here."""
    missed = {t["time"] for t in fake.public_trades[symbol] if t["time"] > since_ms}

    def printed() -> set[int]:
        return {int(e.trade.ts.timestamp() * 1000) for e in events if isinstance(e, TradeEvent)}

    return lambda: missed <= printed()


@pytest.mark.parametrize("streams", ["tickers", "all"])
async def test_market_data_frozen_while_degraded_for_refused_keys_is_reconnected_and_backfilled(
    fake: FakeBinanceExchange, streams: str
) -> None:
    """Binance refuses our keys: the private streams stop, the venue is `degraded` saying
    `keys set binance`, market data flows. Then market data freezes, first as a stall, then as
    a drop whose new sockets stay silent (`frozen_then_back`). With books and trades, the
    prints missed while frozen are backfilled once the venue is back."""
    venue = refused_venue(fake, streams)
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: {venue.streams.state(k) for k in ("orders", "fills")} == {"stopped"})
        await wait_for(lambda: tickers(events) > 10)
        assert venue.state is ConnectionState.DEGRADED
        assert (venue.streams.state("book:BTC/USDT") == "") is (streams == "tickers")
        frozen_from = fake.now_ms
        await frozen_then_back(venue, fake, events, drop=False, logins=lambda: len(fake.ws_api_requests))
        await frozen_then_back(venue, fake, events, drop=True, logins=lambda: len(fake.ws_api_requests))
        if streams == "all":
            await wait_for(trades_backfilled(fake, events, "BTC/USDT", frozen_from))


async def test_keys_refused_at_a_reconnect_whose_market_data_never_comes_back_reconnect_again(
    fake: FakeBinanceExchange,
) -> None:
    """The keys worked; Binance revokes them and drops every socket, and its market data stays
    silent: the reconnect's private login is refused (the venue `degraded` for the keys while
    still reconnecting, its market data not back). It reconnects again on its backoff until
    the data flows, then is back, `degraded` naming the keys. (Before, nothing reconnected:
    the stall check waited for `connected`, the retry for `reconnecting`, and the restarted
    streams were `down`, which no silence check looked at: quotes frozen for ever. With books
    the fake's book, its snapshot over REST, came back and saved it.)"""
    venue = refused_venue(fake, "tickers", API_KEY)
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and tickers(events) > 10)
        logins = len(fake.ws_api_requests)
        fake.api_key = "revoked-key"
        fake.stall()
        await fake.drop_connections()
        await wait_for(lambda: {venue.streams.state(k) for k in ("orders", "fills")} == {"stopped"})
        reconnects = venue.counters["reconnects"]
        await wait_for(lambda: venue.counters["reconnects"] >= reconnects + 2, 6 * venue.monitor.stall_after_s + 6)
        frozen_quotes = tickers(events)
        fake.stall(False)
        await wait_for(lambda: tickers(events) > frozen_quotes + 5)
        await wait_for(lambda: venue.state is ConnectionState.DEGRADED and KEYS in venue.streams.summary())
        assert len(fake.ws_api_requests) - logins <= 2, fake.ws_api_requests


async def test_keys_refused_at_a_reconnect_then_market_data_back_is_a_recovery_backfilled(
    fake: FakeBinanceExchange,
) -> None:
    """The keys worked; Binance revokes them and drops every socket, and refuses the
    reconnect's private login before its market data is back (held back until then). When it
    flows, the venue is back after that reconnect, `degraded` naming the keys, and the prints
    missed since the drop are backfilled (before, the refusal made it `degraded` while still
    reconnecting, and market data flowing again was no recovery: the gap stayed a gap)."""
    venue = refused_venue(fake, "trades", API_KEY)
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and tickers(events) > 10)
        dropped_at = fake.now_ms
        fake.api_key = "revoked-key"
        fake.stall()
        await fake.drop_connections()
        await wait_for(lambda: {venue.streams.state(k) for k in ("orders", "fills")} == {"stopped"})
        fake.stall(False)
        await wait_for(trades_backfilled(fake, events, "BTC/USDT", dropped_at))
        last = [e for e in events if isinstance(e, ConnectionEvent)][-1]
        assert last.state is ConnectionState.DEGRADED and "reconnected after" in last.detail, last.detail
        assert KEYS in last.detail


def shown(engine: Engine, name: str) -> VenueStatus:
    """The venue as `status --json` and the TUI show it (the engine's snapshot)."""
    return next(v for v in engine.snapshot().venues if v.name == name)


def row(status: VenueStatus, stream: str) -> str:
    return next((s.state for s in status.streams if s.name == stream), "")


@pytest.fixture
async def okx() -> AsyncIterator[FakeOkxExchange]:
    ex = await FakeOkxExchange(api_key=OKX_KEY, secret=SECRET, passphrase=PASSPHRASE).start(tick_interval_s=0.02)
    yield ex
    await ex.stop()


def okx_venue(fake: FakeOkxExchange) -> CcxtVenue:
    """An OKX venue (tickers, books and trades of BTC/USDT) with the keys the fake takes."""
    settings = ccxt_settings("okx", fake.ccxt_options(), ["BTC/USDT"], rate_limit_ms=1)
    return ccxt_venue(settings, Credentials(OKX_KEY, SECRET, PASSPHRASE))


async def test_a_stream_still_down_on_a_venue_degraded_for_its_keys_is_named_on_its_status_line(
    okx: FakeOkxExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OKX refuses our revoked keys at a reconnect (60005: the venue `degraded` saying so),
    then its ticker channel for BTC-USDT goes silent while the book and trades flow: reconnected
    once, the ticker stays `down` (no reconnect loop: a thin market). The venue's status line
    (`status --json`, the TUI: the engine's snapshot) says the ticker is down beside the keys
    (it said only "reconnected after 1 attempt(s); orders stopped (authentication failed ...)",
    the ticker's own row alone saying `down`); once the ticker flows again it no longer names
    it. A restarted stream's first message is awaited 2 s here, not 5."""
    monkeypatch.setattr(streams_module, "FIRST_MESSAGE_S", 2.0)
    venue = okx_venue(okx)
    async with trading(venue) as engine:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        okx.api_key = "revoked-key"
        await okx.drop_connections()
        await wait_for(lambda: venue.streams.state("orders") == "stopped")
        # every market data stream back after the drop
        await wait_for(lambda: {s.state for s in shown(engine, "okx").streams if not s.private} == {"live"})
        # then back, degraded for the keys (the monitor moves on the next message: a loaded
        # machine read the rows live a moment before)
        await wait_for(lambda: shown(engine, "okx").state is not ConnectionState.RECONNECTING)
        status = shown(engine, "okx")
        assert status.state is ConnectionState.DEGRADED and OKX_KEYS in status.detail, status.detail
        assert "down" not in status.detail, status.detail
        reconnects = venue.counters["reconnects"]
        okx.mute_stream("tickers:BTC-USDT")
        await wait_for(lambda: venue.counters["reconnects"] > reconnects)
        await wait_for(lambda: "reconnected after" in shown(engine, "okx").detail)
        await asyncio.sleep(3 * venue.monitor.stall_after_s)  # a reconnect loop would show here
        status = shown(engine, "okx")
        assert venue.counters["reconnects"] == reconnects + 1, venue.counters
        assert status.state is ConnectionState.DEGRADED and row(status, "ticker:BTC/USDT") == "down"
        assert OKX_KEYS in status.detail and status.detail.endswith("; ticker:BTC/USDT down"), status.detail
        assert row(status, "book:BTC/USDT") == "live" and "book:" not in status.detail, status.detail
        okx.mute_stream("tickers:BTC-USDT", False)
        await wait_for(lambda: row(shown(engine, "okx"), "ticker:BTC/USDT") == "live")
        status = shown(engine, "okx")
        assert status.state is ConnectionState.DEGRADED and OKX_KEYS in status.detail, status.detail
        assert "ticker:" not in status.detail and "down" not in status.detail, status.detail


def reconnects_begun(events: list[Event]) -> int:
    """Entries into `reconnecting` (what the metrics' `tui_trader_reconnects_total` counts)."""
    states = [e.state for e in events if isinstance(e, ConnectionEvent)]
    return sum(
        s is ConnectionState.RECONNECTING and (i == 0 or states[i - 1] is not ConnectionState.RECONNECTING)
        for i, s in enumerate(states)
    )


def depth_snapshots(fake: FakeBinanceExchange) -> int:
    return sum(path == "/depth" for _, path in fake.requests)


@pytest.mark.parametrize("keys", ["good", "refused"])
async def test_one_outage_is_one_reconnect_whatever_book_snapshots_came_over_rest(
    fake: FakeBinanceExchange, keys: str
) -> None:
    """Binance's market data freezes for several reconnect attempts; at each, ccxt's binance
    loads the book's REST snapshot and hands it on as the book stream's answer, its socket
    still silent. A reconnect is a stream's live data flowing again after it was down: one
    outage is one. The venue says "reconnected after N attempt(s)" once (N: every attempt),
    enters `reconnecting` once (the metrics' count), counts one recovery, and each market data
    stream's row (`status --json`) counts one reconnect. Before, each snapshot made the book,
    and so the venue, back: "reconnected after 1 attempt(s)" at each attempt, as many
    recoveries and metric reconnects, a backfill each time, the backoff started over. With the
    keys refused (the venue `degraded`) the same."""
    venue = refused_venue(fake, "all", API_KEY if keys == "good" else "revoked-key")
    settled = ConnectionState.CONNECTED if keys == "good" else ConnectionState.DEGRADED

    def public_rows() -> dict[str, StreamStatus]:
        return {s.name: s for s in venue.streams.rows() if not s.private}

    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: {s.state for s in public_rows().values()} == {"live"} and venue.state is settled)
        said, attempts, recovered = len(events), venue.counters["reconnects"], venue.monitor.reconnects
        snapshots = depth_snapshots(fake)
        fake.stall()
        await wait_for(lambda: venue.counters["reconnects"] >= attempts + 3, 6 * venue.monitor.stall_after_s + 6)
        assert depth_snapshots(fake) >= snapshots + 2  # the book resynced from REST in between
        fake.stall(False)
        await wait_for(lambda: {s.state for s in public_rows().values()} == {"live"} and venue.state is settled)
        tried = venue.counters["reconnects"] - attempts
        outage = [e for e in events[said:] if isinstance(e, ConnectionEvent)]
        back = [e.detail for e in outage if "reconnected after" in e.detail]
        assert len(back) == 1 and f"reconnected after {tried} attempt(s)" in back[0], (tried, back)
        assert reconnects_begun(outage) == 1, [(e.state, e.detail) for e in outage]
        assert venue.monitor.reconnects == recovered + 1
        assert {name: s.reconnects for name, s in public_rows().items()} == dict.fromkeys(public_rows(), 1)
        assert all(s.restarts == tried for s in public_rows().values()), public_rows()


async def test_okx_market_data_frozen_while_degraded_for_refused_keys_is_reconnected_and_backfilled(
    okx: FakeOkxExchange,
) -> None:
    """OKX refuses our keys at the private login (60005 "Invalid OK-ACCESS-KEY"): the private
    streams stop, the venue is `degraded` saying `keys set okx`, market data flows. Then it
    freezes, as a stall, then as a drop whose new sockets stay silent (`frozen_then_back`): as
    OKX documents its sockets, each subscribe is still answered (`"event": "subscribe"`) and a
    `books` subscription still gets its first push, the full snapshot (`"action": "snapshot"`),
    the pushes after it frozen; a `ping` still gets its `pong`. The prints missed meanwhile are
    backfilled once the venue is back."""
    settings = ccxt_settings("okx", okx.ccxt_options(), ["BTC/USDT"], candles=["1m"], rate_limit_ms=1)
    venue = ccxt_venue(settings, Credentials("revoked-key", SECRET, PASSPHRASE))
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: {venue.streams.state(k) for k in ("orders", "fills")} == {"stopped"})
        await wait_for(lambda: {s.state for s in venue.streams.rows() if not s.private} == {"live"})
        assert venue.state is ConnectionState.DEGRADED and okx.auth_failures == ["60005"]
        frozen_from = okx.now_ms
        await frozen_then_back(venue, okx, events, drop=False, logins=lambda: okx.logins, keys=OKX_KEYS)
        await frozen_then_back(venue, okx, events, drop=True, logins=lambda: okx.logins, keys=OKX_KEYS)
        await wait_for(trades_backfilled(okx, events, "BTC/USDT", frozen_from))


@pytest.fixture
async def bybit() -> AsyncIterator[FakeBybitExchange]:
    ex = FakeBybitExchange(api_key=API_KEY, secret=SECRET)
    await ex.start(tick_interval_s=0.05)  # a print every 50 ms: see the test
    yield ex
    await ex.stop()


async def test_bybit_market_data_frozen_while_degraded_for_revoked_keys_is_reconnected_and_backfilled(
    bybit: FakeBybitExchange,
) -> None:
    """Bybit's keys are revoked (its markets are read with them: a venue with bad keys does not
    start) and every socket drops: the private socket's auth is refused (`"success": false`),
    the private streams stop, the venue is `degraded` saying `keys set bybit`, market data
    flows. Then it freezes, as a stall, then as a drop whose new sockets stay silent
    (`frozen_then_back`): as Bybit documents its public socket, a subscribe is still answered
    (`"op": "subscribe"`) and an `orderbook.50` topic still gets its first push at once, a
    `snapshot`, the `delta`s after it frozen; `{"op": "ping"}` gets its pong. The prints
    missed meanwhile are backfilled once the venue is back: the fake prints every 50 ms here,
    so that a freeze's gap fits in the 60 prints Bybit's spot recent-trade answers at most
    (its docs' limit, and there is no older public history to ask: a longer gap stays a
    hole in the tape)."""
    settings = ccxt_settings("bybit", bybit.ccxt_options(), ["BTC/USDT"], candles=["1m"], rate_limit_ms=1)
    venue = ccxt_venue(settings, Credentials(API_KEY, SECRET))
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        bybit.api_key = "revoked-key"
        await bybit.drop_connections()
        await wait_for(lambda: {venue.streams.state(k) for k in ("orders", "fills")} == {"stopped"})
        await wait_for(lambda: {s.state for s in venue.streams.rows() if not s.private} == {"live"})
        await wait_for(lambda: venue.state is ConnectionState.DEGRADED)
        frozen_from = bybit.now_ms
        await frozen_then_back(venue, bybit, events, drop=False, logins=lambda: bybit.logins, keys="keys set bybit`")
        await frozen_then_back(venue, bybit, events, drop=True, logins=lambda: bybit.logins, keys="keys set bybit`")
        await wait_for(trades_backfilled(bybit, events, "BTC/USDT", frozen_from))
