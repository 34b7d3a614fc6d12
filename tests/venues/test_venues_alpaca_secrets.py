"""Alpaca keys from the keyring through the registry; a canary key that must leak nowhere."""

from __future__ import annotations

import io
import logging
import sys
from decimal import Decimal

import pytest

from tui_trader.cli.main import main
from tui_trader.config import Settings
from tui_trader.core.clock import SystemClock
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.home import Home
from tui_trader.venues.base import VenueError

from fakes.alpaca_exchange import FakeAlpaca
from fakes.venue_harness import wait_for

CANARY_KEY = "CANARYKEY-alpaca-5e1d9b"
CANARY_SECRET = "CANARYSECRET-alpaca-0c4f7a2d"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):  # type: ignore[no-untyped-def]
    """Argon2 at its real cost takes ~1 s a call; tests only need the same code path."""
    from keyrings.cryptfile.cryptfile import ArgonAESEncryption

    monkeypatch.setattr(ArgonAESEncryption, "time_cost", 1)
    monkeypatch.setattr(ArgonAESEncryption, "memory_cost", 1024)


@pytest.fixture
def home(monkeypatch, tmp_path) -> Home:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TUI_TRADER_KEYRING", "file")
    monkeypatch.setenv("TUI_TRADER_KEYRING_PASSWORD", "correct horse battery staple")
    home = Home(tmp_path).ensure()
    old = sys.stdin
    sys.stdin = io.StringIO(f"{CANARY_KEY}\n{CANARY_SECRET}\n")
    try:
        assert main(["--home", str(home.root), "keys", "set", "alpaca"]) == 0
    finally:
        sys.stdin = old
    return home


async def test_registry_builds_alpaca_with_keyring_credentials(home) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.venues.alpaca.venue import AlpacaVenue
    from tui_trader.venues.registry import build_venues

    fake = await FakeAlpaca(api_key=CANARY_KEY, secret=CANARY_SECRET).start()
    try:
        venues = build_venues(Settings(venues={"alpaca": fake.venue_settings()}), SystemClock(), home)
        venue = venues["alpaca"]
        assert isinstance(venue, AlpacaVenue) and not venue.is_live
        await venue.connect(lambda e: None)
        assert venue.state is ConnectionState.CONNECTED and "AAPL" in await venue.load_markets()
        await venue.close()
    finally:
        await fake.stop()


async def test_canary_secret_leaks_nowhere_after_a_rough_session(home, capsys, caplog) -> None:  # type: ignore[no-untyped-def]
    """Orders, drops, malformed frames, 429s and finally bad keys: the canary stays in the keyring."""
    caplog.set_level(logging.DEBUG)
    fake = await FakeAlpaca(api_key=CANARY_KEY, secret=CANARY_SECRET).start()
    settings = Settings(venues={"alpaca": fake.venue_settings()})
    try:
        engine = Engine(settings, home)
        await engine.start()
        venue = engine.venues["alpaca"]
        try:
            await wait_for(lambda: engine.ticker("AAPL", "alpaca") is not None)  # paper quotes AAPL too
            order = await engine.place(OrderRequest("AAPL", Side.BUY, Decimal("1.5"), venue="alpaca"))
            await wait_for(lambda: engine.oms.orders[order.client_order_id].status is OrderStatus.FILLED)  # type: ignore[union-attr]
            fake.fail_next(1, status=429)
            fake.reject_next()
            refused = await engine.place(OrderRequest("AAPL", Side.BUY, Decimal("1"), OrderType.LIMIT,
                                                      Decimal("180"), venue="alpaca"))
            assert refused.status is OrderStatus.REJECTED
            fake.send_malformed(2)
            await fake.drop_connections()
            await wait_for(lambda: venue.monitor.reconnects >= 1 and venue.state is ConnectionState.CONNECTED)  # type: ignore[attr-defined]
        finally:
            await engine.stop()
        fake.secret = "rotated-on-the-website"  # the stored keys no longer work
        engine = Engine(settings, home)
        with pytest.raises(VenueError) as info:
            await engine.start()
        assert "keys set alpaca" in str(info.value)
        await engine.stop()
        for v in engine.venues.values():
            await v.close()
    finally:
        await fake.stop()

    out = capsys.readouterr()
    texts = [out.out, out.err, caplog.text, str(info.value)]
    # truncated log lines (websockets shows a frame's head and tail) leak parts: look for those too
    for canary in (CANARY_KEY, CANARY_SECRET, CANARY_KEY[-12:], CANARY_SECRET[-12:]):
        leaks = [t[max(0, t.find(canary) - 300) : t.find(canary) + 50] for t in texts if canary in t]
        assert not leaks, leaks
        for path in home.root.rglob("*"):
            if path.is_file():
                assert canary.encode() not in path.read_bytes(), path
