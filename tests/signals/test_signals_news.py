"""News: rules, symbols, sentiment, feed parsing, signals, and polling a loopback server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import Direction
from tui_trader.core.errors import DataError
from tui_trader.signals.news import (
    MARKET_WIDE,
    RULES,
    Category,
    NewsPoller,
    analyse,
    classify,
    parse_feed,
)
from tui_trader.signals.news.events import NewsItem
from tui_trader.signals.symbols import find_symbols

FEEDS = Path(__file__).parent / "feeds"
RSS = (FEEDS / "markets.rss").read_bytes()
ATOM = (FEEDS / "crypto.atom").read_bytes()
NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headline", "category", "keyword"),
    [
        ("Exchange hacked, hackers drain $50m", Category.HACK, "hacked"),
        ("Powell signals patience at FOMC press conference", Category.FED_SPEECH, "powell"),
        ("US CPI inflation cools more than expected", Category.MACRO, "inflation"),
        ("SEC approves spot ETF after long lawsuit", Category.REGULATION, "sec"),
        ("Microsoft quarterly earnings beat estimates", Category.EARNINGS, "earnings"),
        ("Chainlink partners with Swift in new integration", Category.PARTNERSHIP, "integration"),
        ("Bitcoin breakout above resistance as RSI climbs", Category.TECHNICAL, "resistance"),
        ("Local bakery wins award", Category.OTHER, None),
        (
            "Protocol exploited; regulators react",
            Category.HACK,
            "exploited",
        ),  # 1-1 tie: table order
    ],
)
def test_classifier_rules(headline, category, keyword):
    c = classify(headline)
    assert c.category is category
    if keyword is None:
        assert c.keywords == ()
    else:
        assert keyword in c.keywords


def test_rules_cover_every_category_but_other_and_match_whole_words():
    assert {r.category for r in RULES} == set(Category) - {Category.OTHER}
    assert classify("A hackathon for developers").category is Category.OTHER
    assert classify("The fedora shop reopens").category is Category.OTHER


@pytest.mark.parametrize(
    ("text", "symbols"),
    [
        ("$AAPL and $msft rally", ("AAPL", "MSFT")),
        ("Bitcoin slides while ETH holds", ("BTC", "ETH")),
        ("Apple and Microsoft lead; Solana jumps", ("AAPL", "MSFT", "SOL")),
        ("an apple a day; eth is lower case here", ()),
        ("Meta Platforms and Nvidia report", ("META", "NVDA")),
    ],
)
def test_find_symbols(text, symbols):
    assert find_symbols(text) == symbols


def test_parse_rss_and_atom_fixtures():
    rss = parse_feed(RSS, "markets.rss", fetched_at=NOW)
    atom = parse_feed(ATOM, "crypto.atom", fetched_at=NOW)
    assert [i.id for i in rss] == ["wire-1", "wire-2", "wire-3", "wire-4"]
    assert rss[0].published == datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    assert (
        rss[0].summary == "The exploit drained hot wallets; withdrawals are halted."
    )  # HTML stripped
    assert atom[0].link == "http://example.test/crypto/1"
    assert atom[1].published == datetime(2026, 1, 5, 13, 30, tzinfo=UTC)


def test_bad_feed_is_data_error():
    with pytest.raises(DataError):
        parse_feed(b"\x00\x01 definitely not xml <<<", "junk", fetched_at=NOW)


def test_events_become_signals_with_explanations():
    items = {i.id: i for i in parse_feed(RSS + b"", "markets.rss", fetched_at=NOW)}
    hack = analyse(items["wire-1"])
    assert hack.category is Category.HACK and hack.direction is Direction.SHORT
    (sig,) = hack.to_signals()
    assert sig.source == "news" and sig.symbol == "ETH" and sig.direction is Direction.SHORT
    assert sig.reason.endswith("[HACK]") and "stolen" in sig.meta["keywords"]
    assert sig.ts == datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    assert sig.confidence == pytest.approx(abs(hack.sentiment) * 1.0, abs=1e-4)

    earnings = analyse(items["wire-2"])
    assert earnings.direction is Direction.LONG
    assert earnings.to_signals(known_symbols=["AAPL", "BTC/USDT"])[0].symbol == "AAPL"
    # category weight: the same sentiment counts less for a technical note than for a hack
    assert earnings.confidence < abs(earnings.sentiment)

    fed = analyse(items["wire-3"])
    assert [s.symbol for s in fed.to_signals()] == [MARKET_WIDE]
    assert analyse(items["wire-4"]).to_signals() == []  # OTHER news naming nothing: no signal


def test_known_symbols_map_bases_to_venue_symbols():
    item = NewsItem("x", "Bitcoin rallies to a record high", "", "", NOW, "t")
    assert [s.symbol for s in analyse(item).to_signals(known_symbols=["BTC/USDT", "ETH/USDT"])] == [
        "BTC/USDT"
    ]


def test_neutral_headline_is_flat():
    item = NewsItem("n", "Bitcoin price update for Monday", "", "", NOW, "t")
    assert analyse(item).direction is Direction.FLAT


# ---- polling a loopback server -------------------------------------------------------


@pytest.fixture
async def feed_server():
    hits: dict[str, int] = {}

    async def rss(request: web.Request) -> web.StreamResponse:
        hits["rss"] = hits.get("rss", 0) + 1
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(body=RSS, content_type="application/rss+xml", headers={"ETag": '"v1"'})

    async def atom(request: web.Request) -> web.StreamResponse:
        hits["atom"] = hits.get("atom", 0) + 1
        return web.Response(body=ATOM, content_type="application/atom+xml")

    async def broken(request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text="oops")

    app = web.Application()
    app.router.add_get("/rss", rss)
    app.router.add_get("/atom", atom)
    app.router.add_get("/broken", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", hits
    await runner.cleanup()


async def test_poll_dedups_uses_etag_and_survives_a_broken_feed(feed_server):
    base, hits = feed_server
    got = []
    poller = NewsPoller(
        [f"{base}/rss", f"{base}/atom", f"{base}/broken"],
        clock=FrozenClock(NOW),
        on_event=got.append,
    )
    first = await poller.poll_once()
    links = [ev.item.link for ev in first]
    assert len(links) == len(set(links)) == 6  # 4 + 3 minus the syndicated copy of wire-1
    assert [ev.item.published for ev in first] == sorted(ev.item.published for ev in first)
    assert got == first
    assert "HTTP 500" in poller.errors[f"{base}/broken"]
    assert f"{base}/rss" not in poller.errors

    second = await poller.poll_once()
    assert second == []  # nothing new: rss answered 304, atom items already seen
    assert hits == {"rss": 2, "atom": 2}


async def test_background_poller_delivers_to_async_handler_and_stops(feed_server):
    base, _ = feed_server
    arrived = asyncio.Event()
    seen = []

    async def handler(ev):
        seen.append(ev)
        arrived.set()

    poller = NewsPoller([f"{base}/atom"], clock=FrozenClock(NOW), interval_s=0.01, on_event=handler)
    task = poller.start()
    await asyncio.wait_for(arrived.wait(), timeout=5)
    while poller.polls < 2:
        await asyncio.sleep(0.01)
    await poller.stop()
    assert task.done()
    assert len(seen) == 3  # later polls found nothing new


async def test_local_file_feed_and_missing_file(tmp_path):
    missing = tmp_path / "nope.xml"
    poller = NewsPoller([str(FEEDS / "crypto.atom"), str(missing)], clock=FrozenClock(NOW))
    events = await poller.poll_once()
    assert {ev.category for ev in events} == {
        Category.PARTNERSHIP,
        Category.REGULATION,
        Category.HACK,
    }
    assert str(missing) in poller.errors
