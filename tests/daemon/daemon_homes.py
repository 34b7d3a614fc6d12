"""Homes for tests that start real daemons: venue keys in the encrypted keyring, a binance venue in the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_trader.home import Home
from tui_trader.secrets import Credentials, CredentialStore


def home_with_keys(home: Path, password: str, venue: str, api_key: str, secret: str) -> Path:
    """`home` (made) with `venue`'s keys in its encrypted keyring (real Argon2 cost) under `password`."""
    home.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TUI_TRADER_KEYRING", "file")
        mp.setenv("TUI_TRADER_KEYRING_PASSWORD", password)
        CredentialStore.open(Home(home)).set(venue, Credentials(api_key, secret))
    return home


def write_binance_config(home: Path, rest: str) -> None:
    """HOME/config.toml with a ccxt binance venue trading BTC/USDT; `rest` ends its table."""
    home.mkdir(parents=True, exist_ok=True)
    head = '[venues.binance]\nkind = "ccxt"\nexchange = "binance"\nsandbox = true\nsymbols = ["BTC/USDT"]\n'
    (home / "config.toml").write_text(head + rest, encoding="utf-8")
