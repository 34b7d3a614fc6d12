"""`tui-trader keys set` for Schwab: the paste-back OAuth login that works over SSH, the token in
the keyring (never a file), and the registry building the venue from it."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("schwab", reason="schwab-py is an optional extra (tui-trader[brokers])")

from tui_trader.cli.main import main
from tui_trader.config import load_settings
from tui_trader.core.clock import SystemClock
from tui_trader.home import Home

from fakes.schwab_exchange import CALLBACK, FakeSchwab

KEY, SECRET = "CANARYKEY-schwab-71c2", "CANARYSECRET-schwab-e09d"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):  # type: ignore[no-untyped-def]
    from keyrings.cryptfile.cryptfile import ArgonAESEncryption

    monkeypatch.setattr(ArgonAESEncryption, "time_cost", 1)
    monkeypatch.setattr(ArgonAESEncryption, "memory_cost", 1024)


class Answers(io.StringIO):
    """stdin whose lines may be computed when read (the redirect needs the printed state)."""

    def __init__(self, lines: list[str | Callable[[], str]]) -> None:
        super().__init__()
        self.lines = list(lines)

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        if not self.lines:
            return ""
        line = self.lines.pop(0)
        return (line() if callable(line) else line) + "\n"

    def isatty(self) -> bool:
        return False


def _write_config(home: Home, url: str) -> None:
    home.config_file.write_text(
        f'[venues.schwab]\nkind = "schwab"\nsymbols = ["AAPL"]\nurl_override = "{url}"\ncallback_url = "{CALLBACK}"\n'
    )


async def _keys_set(home: Home, stdin: Answers, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    old = sys.stdin
    sys.stdin = stdin
    try:
        code = await asyncio.to_thread(main, ["--home", str(home.root), "keys", "set", "schwab"])
    finally:
        sys.stdin = old
    return code, capsys.readouterr().err


def _redirect_from(err_lines: list[str], code: str = "fake-code-1") -> Callable[[], str]:
    def make() -> str:
        url = next(line.strip() for line in err_lines if "oauth/authorize" in line)
        state = parse_qs(urlsplit(url).query)["state"][0]
        return f"{CALLBACK}/?code={code}&state={state}&session=abc"

    return make


async def test_paste_back_login_stores_the_token_in_the_keyring(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TUI_TRADER_KEYRING", "file")
    monkeypatch.setenv("TUI_TRADER_KEYRING_PASSWORD", "correct horse battery staple")
    fake = await FakeSchwab(app_key=KEY, app_secret=SECRET).start()
    home = Home(tmp_path).ensure()
    _write_config(home, fake.url)
    printed: list[str] = []

    class Tee(io.StringIO):
        def write(self, s: str) -> int:
            printed.extend(s.splitlines())
            return super().write(s)

    monkeypatch.setattr(sys, "stderr", Tee())
    try:
        code, _ = await _keys_set(home, Answers([KEY, SECRET, _redirect_from(printed)]), capsys)
        assert code == 0, printed
        assert any("https://api.schwabapi.com/v1/oauth/authorize?" in line for line in printed)
        assert fake.token_requests == ["authorization_code"]
        assert not any(KEY in p.read_text(errors="ignore") or "fake-access" in p.read_text(errors="ignore")
                       for p in tmp_path.rglob("*") if p.is_file() and p.name != "keyring.cfg")  # fmt: skip

        from tui_trader.secrets import load_credentials
        from tui_trader.venues.registry import build_venues

        creds = load_credentials("schwab", home)
        assert creds is not None and creds.api_key == KEY and '"refresh_token"' in creds.token
        assert "fake-refresh" not in repr(creds) and "***" in creds.redact(creds.token)
        settings = load_settings(home.config_file)
        venue = build_venues(settings, SystemClock(), home)["schwab"]
        assert venue.is_live and venue.kind == "schwab"
        await venue.connect(lambda e: None)
        try:
            assert venue.account_hash  # type: ignore[attr-defined]
        finally:
            await venue.close()
    finally:
        await fake.stop()


async def test_a_wrong_redirect_stores_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TUI_TRADER_KEYRING", "file")
    monkeypatch.setenv("TUI_TRADER_KEYRING_PASSWORD", "correct horse battery staple")
    fake = await FakeSchwab(app_key=KEY, app_secret=SECRET).start()
    home = Home(tmp_path).ensure()
    _write_config(home, fake.url)
    try:
        code, err = await _keys_set(home, Answers([KEY, SECRET, "https://example.org/?code=x"]), capsys)
        assert code == 1 and "not your callback URL" in err and "nothing was stored" in err
        assert "Traceback" not in err
        code, err = await _keys_set(home, Answers([KEY, SECRET, f"{CALLBACK}/?error=access_denied"]), capsys)
        assert code == 1 and "did not grant access" in err
        assert fake.token_requests == []
        from tui_trader.secrets import load_credentials

        assert load_credentials("schwab", home) is None
    finally:
        await fake.stop()
