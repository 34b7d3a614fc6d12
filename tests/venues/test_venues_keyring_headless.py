"""Credentials on a headless machine: keyring's default chain is never used.

With keyrings.cryptfile installed, keyring's own default is a chain of cryptfile's
CryptFileKeyring, EncryptedKeyring and PlaintextKeyring: `keys set` without a terminal died
with EOFError in cryptfile's own prompt; with one it stored under ~/.local/share/python_keyring
and the daemon could not open it. These run `tui-trader keys` as a subprocess in a clean
environment (no D-Bus session, XDG folders in tmp) as a user on a server would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui_trader.core.errors import UserError
from tui_trader.secrets import store

# `tui-trader keys ...` with Argon2 at its cheapest: the same code path, seconds instead of minutes
RUN = (
    "from keyrings.cryptfile.cryptfile import ArgonAESEncryption as A\n"
    "A.time_cost, A.memory_cost = 1, 1024\n"
    "from tui_trader.cli.main import main\n"
    "raise SystemExit(main())\n"
)


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    user = tmp_path / "user"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(user),
        "XDG_CONFIG_HOME": str(user / ".config"),
        "XDG_DATA_HOME": str(user / ".local" / "share"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "TUI_TRADER_HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
    }
    env.update(extra)
    return env


def keys(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN, "keys", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(tmp_path, **env),
        timeout=120,
    )


def test_keys_set_on_a_headless_machine_stores_in_the_home_keyring(tmp_path: Path) -> None:
    done = keys(tmp_path, "set", "binance", stdin="KEY\nSECRET\n", TUI_TRADER_KEYRING_PASSWORD="pw-1")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "home" / "keyring.cfg").is_file()
    assert "keyring.cfg" in done.stderr
    assert not (tmp_path / "user" / ".local" / "share" / "python_keyring").exists()
    listed = keys(tmp_path, "list", TUI_TRADER_KEYRING_PASSWORD="pw-1")
    assert listed.returncode == 0 and "binance" in listed.stdout and "api_key, secret" in listed.stdout
    assert "SECRET" not in listed.stdout + listed.stderr
    assert b"SECRET" not in (tmp_path / "home" / "keyring.cfg").read_bytes()

    wrong = keys(tmp_path, "list", TUI_TRADER_KEYRING_PASSWORD="not-it")
    assert wrong.returncode == 1 and wrong.stdout == ""
    assert wrong.stderr.strip().splitlines() == [
        f"error: wrong password for the keyring {tmp_path / 'home' / 'keyring.cfg'} "
        "(from TUI_TRADER_KEYRING_PASSWORD); nothing was read or changed"
    ]

    no_password = keys(tmp_path, "set", "kraken", stdin="K\nS\n")  # stdin is not a terminal
    assert no_password.returncode == 1 and "needs its password" in no_password.stderr
    assert "EOFError" not in no_password.stderr and len(no_password.stderr.strip().splitlines()) == 1


def test_the_default_chain_is_never_taken_for_a_desktop_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """cryptfile's backends and keyring's chainer are not desktop keyrings; a Secret Service is."""
    import keyring.backend
    from keyring.backends.chainer import ChainerBackend
    from keyrings.cryptfile.cryptfile import CryptFileKeyring
    from keyrings.cryptfile.file import EncryptedKeyring, PlaintextKeyring

    not_desktops = [ChainerBackend(), CryptFileKeyring(), EncryptedKeyring(), PlaintextKeyring()]
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: not_desktops)
    assert store._desktop_keyring() is None

    class SecretService:  # stands for keyring.backends.SecretService.Keyring on a desktop
        priority = 5.0

    SecretService.__module__ = "keyring.backends.SecretService"
    desktop = SecretService()
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: [*not_desktops, desktop])
    assert store._desktop_keyring() is desktop and store.desktop_name(desktop) == "Secret Service"


def test_a_new_master_password_is_asked_twice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    answers: list[str] = []

    def typed(prompt: str = "") -> str:
        return answers.pop(0)

    monkeypatch.delenv(store.ENV_PASSWORD, raising=False)
    monkeypatch.delenv(store.ENV_PASSWORD_FILE, raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(store.getpass, "getpass", typed)
    answers[:] = ["first", "second"]
    with pytest.raises(UserError, match="the two passwords differ"):
        store.master_password(tmp_path)
    answers[:] = ["same", "same"]
    assert store.master_password(tmp_path) == ("same", "the password you typed")
    (tmp_path / store.FILE_NAME).write_text("exists")
    answers[:] = ["once"]
    assert store.master_password(tmp_path)[0] == "once" and not answers  # an existing keyring: once
