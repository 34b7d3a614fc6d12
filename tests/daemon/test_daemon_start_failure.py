"""A daemon that cannot start says why in one line, exits non-zero within seconds and releases
its lock (it used to print an error and hang holding the lock). Subprocesses, as a user runs it."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tui_trader.home import Home, HomeLock

from daemon_homes import cheap_argon2_env, home_with_keys, write_binance_config
from fakes.binance_rest import FakeBinance

START_BUDGET_S = 45.0  # generous: a loaded 2-core machine; the point is "exits", not "hangs"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once closed


def binance_config(home: Path, base: str) -> None:
    """A binance venue pointed at `base`, kept local as docs/venues.md shows."""
    write_binance_config(
        home,
        f"""
[venues.binance.options]
timeout = 2000

[venues.binance.options.urls.api]
public = "{base}/api/v3"
private = "{base}/api/v3"

[venues.binance.options.options]
fetchMarkets = {{ types = ["spot"] }}
fetchCurrencies = false
""",
    )


def run_failing(spawn_daemon, home: Path, **env: str) -> tuple[int, str, float]:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    d = spawn_daemon(home, ready=False, **env)
    code = d.proc.wait(START_BUDGET_S)
    return code, d.stderr, time.monotonic() - started


def assert_one_line_and_unlocked(stderr: str, home: Path) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    assert HomeLock.holder(Home(home).lock_path) is None  # the lock is free: another daemon may start
    assert not (Home(home).run_dir / "daemon.json").exists()


def test_markets_that_do_not_load_stop_the_start(spawn_daemon, tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    binance_config(home, f"http://127.0.0.1:{closed_port()}")
    code, err, took = run_failing(spawn_daemon, home, TUI_TRADER_KEYRING="file")
    assert code == 1 and took < START_BUDGET_S
    assert "could not start" in err and "binance: load markets" in err
    assert_one_line_and_unlocked(err, home)


@pytest.fixture(scope="module")
def keyring_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose encrypted keyring (at CHEAP_ARGON2's cost) holds binance keys under "right-pass"."""
    home = tmp_path_factory.mktemp("keyring") / "home"
    return home_with_keys(home, "right-pass", "binance", "key-1234", "secret-5678")


def test_a_wrong_keyring_password_stops_the_start(spawn_daemon, keyring_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with FakeBinance(["BTC/USDT"]) as fake:  # markets load; the keys never come out of the keyring
        binance_config(keyring_home, fake.url)
        code, err, took = run_failing(
            spawn_daemon, keyring_home, TUI_TRADER_KEYRING="file", TUI_TRADER_KEYRING_PASSWORD="wrong-pass",
            **cheap_argon2_env(tmp_path / "site"),
        )
    assert code == 1 and took < START_BUDGET_S
    assert "wrong password for the keyring" in err and "MAC check" not in err
    assert_one_line_and_unlocked(err, keyring_home)


def test_a_keyring_prompt_without_a_terminal_stops_the_start(spawn_daemon, keyring_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with FakeBinance(["BTC/USDT"]) as fake:
        binance_config(keyring_home, fake.url)
        code, err, took = run_failing(
            spawn_daemon, keyring_home, TUI_TRADER_KEYRING="file", **cheap_argon2_env(tmp_path / "site")
        )  # no password
    assert code == 1 and took < START_BUDGET_S
    assert "needs its password" in err and "EOFError" not in err
    assert_one_line_and_unlocked(err, keyring_home)
