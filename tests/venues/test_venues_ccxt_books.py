"""ccxt order books before their REST snapshot, against the loopback Binance: ccxt holds a
book's diff updates until it has loaded the snapshot over REST (Binance at once after the
subscribe, KuCoin after 5 updates), and hands on nothing meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tui_trader.core.enums import ConnectionState
from tui_trader.core.events import BookEvent, Event
from tui_trader.venues import streams as streams_module

from fakes.binance_exchange import FakeBinanceExchange
from fakes.venue_harness import make_venue, wait_for

SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "ADA/USDT", "DOGE/USDT")


@pytest.fixture
async def many() -> AsyncIterator[FakeBinanceExchange]:
    ex = await FakeBinanceExchange(SYMBOLS).start(tick_interval_s=0.2)  # 120 messages a second
    yield ex
    await ex.stop()


async def test_books_receiving_updates_before_their_slow_snapshot_are_alive_not_resubscribed(
    many: FakeBinanceExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six books whose REST snapshots are slow (held by the fake, answered within ccxt's
    timeout) while their diff streams flow: each book is live from its updates, the venue
    connected, nothing resubscribed; the snapshots then come and the books are shown. Before,
    a book counted as silent until its snapshot: past the first message's grace every waiting
    book was silent and the venue reconnected, every book subscribed and its snapshot asked
    for again, which a slow machine with many symbols could make a snowball. A stream's first
    message is awaited twice `stall_after_s` (2 s) here, not 5."""
    monkeypatch.setattr(streams_module, "FIRST_MESSAGE_S", 1.0)
    many.snapshots.clear()
    venue = make_venue(many, stall_after_s=1.0, timeout_ms=20_000)  # slow, not failed: ccxt waits for them
    events: list[Event] = []
    await venue.connect(events.append)
    try:
        await venue.subscribe(list(SYMBOLS))
        books = [f"book:{s}" for s in SYMBOLS]
        await wait_for(lambda: all(venue.streams.state(b) == "live" for b in books))
        await asyncio.sleep(3.0)  # past a waiting book's grace (2 s from its subscribe)
        assert venue.counters["reconnects"] == 0, venue.streams.summary()
        assert all(venue.streams.state(b) == "live" for b in books)
        assert venue.state is ConnectionState.CONNECTED
        assert not any(isinstance(e, BookEvent) for e in events)  # no book shown before its snapshot
        many.snapshots.set()
        await wait_for(lambda: {e.book.symbol for e in events if isinstance(e, BookEvent)} == set(SYMBOLS))
        assert venue.counters["reconnects"] == 0
    finally:
        many.snapshots.set()
        await venue.close()
