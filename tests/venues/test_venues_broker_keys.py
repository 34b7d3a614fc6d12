"""`tui-trader keys set` for the polled brokers: Robinhood Crypto asks for the API key and the
base64 private key and refuses a key that is not one (nothing stored); Webull asks for the app
key and app secret. The registry then builds a venue that signs with what the keyring holds,
and the fake accepts its signatures."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import pytest

from tui_trader.cli.main import main
from tui_trader.config import load_settings
from tui_trader.core.clock import SystemClock
from tui_trader.home import Home

from fakes.robinhood_exchange import FakeRobinhood
from fakes.webull_exchange import FakeWebull


@pytest.fixture(autouse=True)
def cheap_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    from keyrings.cryptfile.cryptfile import ArgonAESEncryption

    monkeypatch.setattr(ArgonAESEncryption, "time_cost", 1)
    monkeypatch.setattr(ArgonAESEncryption, "memory_cost", 1024)
    monkeypatch.setenv("TUI_TRADER_KEYRING", "file")
    monkeypatch.setenv("TUI_TRADER_KEYRING_PASSWORD", "correct horse battery staple")


async def _keys_set(home: Home, lines: list[str], capsys: pytest.CaptureFixture[str],
                    venue: str = "crypto") -> tuple[int, str]:  # fmt: skip
    old = sys.stdin
    sys.stdin = io.StringIO("".join(f"{line}\n" for line in lines))
    try:
        code = await asyncio.to_thread(main, ["--home", str(home.root), "keys", "set", venue])
    finally:
        sys.stdin = old
    return code, capsys.readouterr().err


async def test_keys_set_asks_for_the_key_and_private_key_and_the_venue_signs_with_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = await FakeRobinhood().start()
    home = Home(tmp_path).ensure()
    home.config_file.write_text(
        f'[venues.crypto]\nkind = "robinhood"\nsymbols = ["BTC/USD"]\nurl_override = "{fake.url}"\n'
    )
    try:
        code, err = await _keys_set(home, [fake.api_key, "not-base64!!"], capsys)
        assert code == 1 and "private key is not base64" in err and "nothing was stored" in err
        assert "Traceback" not in err
        from tui_trader.secrets import load_credentials

        assert load_credentials("crypto", home) is None
        code, err = await _keys_set(home, [fake.api_key, fake.private_b64], capsys)
        assert code == 0 and "API key, private key (base64)" in err, err
        assert not any(fake.private_b64 in p.read_text(errors="ignore")
                       for p in tmp_path.rglob("*") if p.is_file() and p.name != "keyring.cfg")  # fmt: skip
        from tui_trader.venues.registry import build_venues

        venue = build_venues(load_settings(home.config_file), SystemClock(), home)["crypto"]
        assert venue.is_live and venue.kind == "robinhood"
        await venue.connect(lambda e: None)
        try:
            assert venue.account_number == "RHC-4242"  # type: ignore[attr-defined]
            assert "BTC/USD" in await venue.load_markets()
            balances = await venue.fetch_balances()
            assert balances["USD"].free == fake.buying_power
        finally:
            await venue.close()
        assert fake.unauthorized == 0
    finally:
        await fake.stop()


async def test_keys_set_webull_asks_for_the_app_key_and_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = await FakeWebull().start()
    home = Home(tmp_path).ensure()
    home.config_file.write_text(f'[venues.wb]\nkind = "webull"\nsymbols = ["AAPL"]\nurl_override = "{fake.url}"\n')
    try:
        code, err = await _keys_set(home, [fake.app_key, ""], capsys, "wb")
        assert code == 1 and "no app secret given" in err and "nothing was stored" in err
        code, err = await _keys_set(home, [fake.app_key, fake.app_secret], capsys, "wb")
        assert code == 0 and "app key, app secret" in err, err
        from tui_trader.venues.registry import build_venues

        venue = build_venues(load_settings(home.config_file), SystemClock(), home)["wb"]
        assert not venue.is_live and venue.kind == "webull"  # paper = true: Webull's test environment
        await venue.connect(lambda e: None)
        try:
            assert venue.account_id == fake.account_id  # type: ignore[attr-defined]
            assert "AAPL" in await venue.load_markets()
        finally:
            await venue.close()
        assert fake.unauthorized == []
    finally:
        await fake.stop()


async def test_keys_set_moomoo_asks_for_the_trade_password_empty_for_paper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = Home(tmp_path).ensure()
    home.config_file.write_text('[venues.mm]\nkind = "moomoo"\nsymbols = ["AAPL"]\npaper = false\n')
    code, err = await _keys_set(home, ["135790"], capsys, "mm")
    assert code == 0 and "trade password" in err, err
    from tui_trader.secrets import load_credentials

    creds = load_credentials("mm", home)
    assert creds is not None and creds.passphrase == "135790" and "135790" not in repr(creds)


async def test_keys_set_for_a_paper_moomoo_account_says_it_takes_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A paper moomoo account is not unlocked: a trade password stored for it while a daemon
    runs is used once the venue trades the real account. It said `venue reconnect` would make
    the daemon use it, which does nothing for a paper account."""
    from tui_trader.home import HomeLock

    home = Home(tmp_path).ensure()
    home.config_file.write_text('[venues.mm]\nkind = "moomoo"\nsymbols = ["AAPL"]\npaper = true\n')
    lock = HomeLock(home.lock_path, "daemon").acquire()
    try:
        code, err = await _keys_set(home, ["135790"], capsys, "mm")
    finally:
        lock.release()
    assert code == 0, err
    assert err.splitlines()[-1] == (
        "mm trades moomoo's paper (SIMULATE) account, which takes no trade password: "
        "it is used once [venues.mm] paper = false"
    ), err
    assert "venue reconnect" not in err
