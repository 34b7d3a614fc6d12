"""Credentials: keyring storage, `keys` CLI, and a canary secret that must leak nowhere."""

from __future__ import annotations

import io
import logging
import os
import sys

import pytest

from tui_trader.cli.main import main
from tui_trader.config import Settings
from tui_trader.core.clock import SystemClock
from tui_trader.core.enums import ConnectionState
from tui_trader.home import Home
from tui_trader.secrets import Credentials, CredentialStore, load_credentials
from tui_trader.venues.base import VenueError

from fakes.venue_harness import venue_settings, wait_for

CANARY_KEY = "CANARYKEY-7f3a9c2e51"
CANARY_SECRET = "CANARYSECRET-d41d8cd98f00b204"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):  # type: ignore[no-untyped-def]
    """Argon2 at its real cost takes ~1 s a call; tests only need the same code path."""
    from keyrings.cryptfile.cryptfile import ArgonAESEncryption

    monkeypatch.setattr(ArgonAESEncryption, "time_cost", 1)
    monkeypatch.setattr(ArgonAESEncryption, "memory_cost", 1024)


@pytest.fixture
def file_keyring(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TUI_TRADER_KEYRING", "file")
    monkeypatch.setenv("TUI_TRADER_KEYRING_PASSWORD", "correct horse battery staple")
    return tmp_path


def _keys(args: list[str], home, stdin: str = "", capsys=None) -> int:  # type: ignore[no-untyped-def]
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return main(["--home", str(home), "keys", *args])
    finally:
        sys.stdin = old


def test_credentials_never_print_themselves() -> None:
    creds = Credentials(CANARY_KEY, CANARY_SECRET)
    assert CANARY_KEY not in repr(creds) and CANARY_SECRET not in f"{creds} {[creds]}"
    assert creds.redact(f"GET /x?key={CANARY_KEY}") == "GET /x?key=***"


def test_keys_set_list_delete_through_the_cli(file_keyring, capsys) -> None:  # type: ignore[no-untyped-def]
    assert _keys(["set", "binance"], file_keyring, f"{CANARY_KEY}\n{CANARY_SECRET}\n") == 0
    assert _keys(["list", "--json"], file_keyring) == 0
    out = capsys.readouterr()
    assert '"binance"' in out.out and '"secret"' in out.out
    assert CANARY_SECRET not in out.out + out.err and CANARY_KEY not in out.out + out.err
    creds = load_credentials("binance", Home(file_keyring))
    assert creds is not None and creds.secret == CANARY_SECRET
    # the file keyring is encrypted: no plaintext on disk
    assert CANARY_SECRET.encode() not in (file_keyring / "keyring.cfg").read_bytes()
    assert _keys(["delete", "binance"], file_keyring) == 0
    assert load_credentials("binance", Home(file_keyring)) is None
    assert _keys(["delete", "binance"], file_keyring) == 1


def test_missing_password_is_one_clear_line(monkeypatch, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TUI_TRADER_KEYRING", "file")
    monkeypatch.delenv("TUI_TRADER_KEYRING_PASSWORD", raising=False)
    assert _keys(["list"], tmp_path) == 1
    assert "TUI_TRADER_KEYRING_PASSWORD" in capsys.readouterr().err


def test_password_file_must_be_private(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.core.errors import ConfigError

    monkeypatch.setenv("TUI_TRADER_KEYRING", "file")
    monkeypatch.delenv("TUI_TRADER_KEYRING_PASSWORD", raising=False)
    pw = tmp_path / "keyring.pass"
    pw.write_text("s3cret-pass\n")
    os.chmod(pw, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        CredentialStore.open(Home(tmp_path))
    os.chmod(pw, 0o600)
    CredentialStore.open(Home(tmp_path)).set("kraken", Credentials("k" * 8, "s" * 8))
    assert CredentialStore.open(Home(tmp_path)).index() == {"kraken": ["api_key", "secret"]}


async def test_canary_secret_leaks_nowhere_after_a_failing_session(
    file_keyring, fake, capsys, caplog
) -> None:  # type: ignore[no-untyped-def]
    """Bad auth from the exchange, dropped sockets, reconnects: the canary stays in the keyring."""
    from tui_trader.engine import Engine
    from tui_trader.venues.registry import build_venues

    caplog.set_level(logging.DEBUG)
    home = Home(file_keyring).ensure()
    assert _keys(["set", "binance"], home.root, f"{CANARY_KEY}\n{CANARY_SECRET}\n") == 0
    settings = Settings(venues={"binance": venue_settings(fake, rate_limit_ms=1)})  # ccxt's fast spacing
    venues = build_venues(settings, SystemClock(), home)
    venue = venues["binance"]
    events: list[object] = []
    await venue.connect(events.append)  # public data works without valid keys
    await venue.subscribe(["BTC/USDT"])
    await wait_for(lambda: venue.state is ConnectionState.DEGRADED or len(events) > 5)
    await fake.drop_connections()
    # reconnected: never `connected` again with its private streams stopped for the keys
    await wait_for(lambda: venue.counters["reconnects"] >= 1)  # type: ignore[attr-defined]
    with pytest.raises(VenueError) as info:
        await venue.fetch_balances()
    assert "keys set binance" in str(info.value)
    await venue.close()
    # a whole engine session on the same home folder: the start fails on auth, cleanly
    engine = Engine(settings, home)
    with pytest.raises(VenueError):
        await engine.start()
    await engine.stop()
    for v in engine.venues.values():  # a failed start leaves them open
        await v.close()

    out = capsys.readouterr()
    texts = [out.out, out.err, caplog.text, repr(events), str(info.value)]
    for canary in (CANARY_KEY, CANARY_SECRET):
        leaks = [
            t[max(0, t.find(canary) - 300) : t.find(canary) + 50] for t in texts if canary in t
        ]
        assert not leaks, leaks
        for path in home.root.rglob("*"):
            if path.is_file():
                assert canary.encode() not in path.read_bytes(), path
