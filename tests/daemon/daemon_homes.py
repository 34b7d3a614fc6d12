"""Homes for tests that start real daemons: venue keys in the encrypted keyring, a binance venue in the config."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui_trader.home import Home
from tui_trader.secrets import Credentials, CredentialStore

# The file keyring's Argon2 at a test's cost (the same code path; its real cost, ~1 s an open on
# a quiet machine and several on a busy one, made each daemon start with keys ~3 s longer):
# set in this process with `cheap_argon2`, and in a daemon by this sitecustomize on its
# PYTHONPATH (`cheap_argon2_env`). A keyring written at one cost opens only at the same cost.
CHEAP_ARGON2 = """
from keyrings.cryptfile.cryptfile import ArgonAESEncryption

ArgonAESEncryption.time_cost = 1
ArgonAESEncryption.memory_cost = 1024
"""


def cheap_argon2(mp: pytest.MonkeyPatch) -> None:
    """CHEAP_ARGON2 in this process (keys set here, for a daemon with `cheap_argon2_env`)."""
    from keyrings.cryptfile.cryptfile import ArgonAESEncryption

    mp.setattr(ArgonAESEncryption, "time_cost", 1)
    mp.setattr(ArgonAESEncryption, "memory_cost", 1024)


def cheap_argon2_env(folder: Path, hook: str = "") -> dict[str, str]:
    """A daemon's PYTHONPATH with a sitecustomize.py in `folder` (made) that loads CHEAP_ARGON2,
    then `hook` (test code the daemon runs at its start)."""
    folder.mkdir(parents=True)
    (folder / "sitecustomize.py").write_text(CHEAP_ARGON2 + hook)
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)}


def home_with_keys(home: Path, password: str, venue: str, api_key: str, secret: str) -> Path:
    """`home` (made) with `venue`'s keys in its encrypted keyring (CHEAP_ARGON2's cost: the
    daemon that opens it needs `cheap_argon2_env`) under `password`."""
    home.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        cheap_argon2(mp)
        mp.setenv("TUI_TRADER_KEYRING", "file")
        mp.setenv("TUI_TRADER_KEYRING_PASSWORD", password)
        CredentialStore.open(Home(home)).set(venue, Credentials(api_key, secret))
    return home


def write_binance_config(home: Path, rest: str) -> None:
    """HOME/config.toml with a ccxt binance venue trading BTC/USDT; `rest` ends its table."""
    home.mkdir(parents=True, exist_ok=True)
    head = '[venues.binance]\nkind = "ccxt"\nexchange = "binance"\nsandbox = true\nsymbols = ["BTC/USDT"]\n'
    (home / "config.toml").write_text(head + rest, encoding="utf-8")
