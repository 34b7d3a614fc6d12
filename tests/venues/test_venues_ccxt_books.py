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

SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "ADA/USDT", "DOGE/USDT", "LTC/USDT", "DOT/USDT")


@pytest.fixture
async def many() -> AsyncIterator[FakeBinanceExchange]:
    ex = await FakeBinanceExchange(SYMBOLS).start(tick_interval_s=0.02)
    yield ex
    await ex.stop()


async def test_books_receiving_updates_before_their_slow_snapshot_are_alive_not_resubscribed(
    many: FakeBinanceExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seven books subscribed whose REST snapshots are slow (held by the fake) while their diff
    streams flow: each book is live from its updates, the venue connected, nothing resubscribed; the
    snapshots then come and the books are shown. Before, a book counted as silent until its
    snapshot: past the first message's grace every waiting book was silent and the venue
    reconnected, every book subscribed and its snapshot asked for again, which a slow machine
    with many symbols could make a snowball. A stream's first message is awaited 1 s here."""
    monkeypatch.setattr(streams_module, "FIRST_MESSAGE_S", 1.0)
    venue = make_venue(many, stall_after_s=0.5)
    events: list[Event] = []
    await venue.connect(events.append)  # BTC/USDT's book with its snapshot
    try:
        many.snapshots.clear()
        await venue.subscribe(list(SYMBOLS))
        books = [f"book:{s}" for s in SYMBOLS]
        await wait_for(lambda: all(venue.streams.state(b) == "live" for b in books))
        await asyncio.sleep(2.0)  # twice a waiting book's grace (1 s from its subscribe)
        assert venue.counters["reconnects"] == 0, venue.streams.summary()
        assert all(venue.streams.state(b) == "live" for b in books)
        assert venue.state is ConnectionState.CONNECTED
        shown = {e.book.symbol for e in events if isinstance(e, BookEvent)}
        assert shown <= {"BTC/USDT"}, shown  # no book shown before its snapshot
        many.snapshots.set()
        await wait_for(lambda: {e.book.symbol for e in events if isinstance(e, BookEvent)} == set(SYMBOLS))
        assert venue.counters["reconnects"] == 0
    finally:
        many.snapshots.set()
        await venue.close()
