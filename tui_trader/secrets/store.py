"""Where credentials live: the OS keyring, or an encrypted file keyring under the home folder.

A desktop (macOS Keychain, Windows Credential Locker, Secret Service/KWallet) keeps them in its
keyring. A headless server has none (keyring's chainer finds no backend), so we fall back to
keyrings.cryptfile: Argon2 + AES-GCM in HOME/keyring.cfg. Its master password comes from
TUI_TRADER_KEYRING_PASSWORD, else a 0600 file named by TUI_TRADER_KEYRING_PASSWORD_FILE (or
HOME/keyring.pass), else a no-echo prompt on a terminal.
`TUI_TRADER_KEYRING=file` forces the file keyring even where a desktop keyring exists.
"""

from __future__ import annotations

import getpass
import json
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import ConfigError, UserError
from tui_trader.secrets.credentials import FIELDS, Credentials

if TYPE_CHECKING:
    from tui_trader.home import Home

SERVICE = "tui-trader"
INDEX_USER = "_index"  # a JSON list of {venue: [fields set]}: names only, never values
ENV_BACKEND = "TUI_TRADER_KEYRING"
ENV_PASSWORD = "TUI_TRADER_KEYRING_PASSWORD"
ENV_PASSWORD_FILE = "TUI_TRADER_KEYRING_PASSWORD_FILE"
FILE_NAME = "keyring.cfg"
PASSWORD_FILE_NAME = "keyring.pass"


def _desktop_keyring() -> Any | None:
    """The platform keyring if one really works here, else None."""
    import keyring
    from keyring.backends import chainer, fail

    kr = keyring.get_keyring()
    if isinstance(kr, fail.Keyring):
        return None
    if isinstance(kr, chainer.ChainerBackend) and not kr.backends:
        return None
    if type(kr).__module__.startswith("keyrings.alt") or "null" in type(kr).__module__:
        return None
    return kr


def master_password(home_root: Path, *, prompt: bool = True) -> str:
    """The file keyring's password: environment, then a 0600 password file, then a prompt."""
    if os.environ.get(ENV_PASSWORD):
        return os.environ[ENV_PASSWORD]
    path = Path(os.environ.get(ENV_PASSWORD_FILE) or home_root / PASSWORD_FILE_NAME)
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"{path} is readable by others (mode {mode:o}); run `chmod 600 {path}`"
            )
        return path.read_text(encoding="utf-8").strip()
    if prompt and sys.stdin.isatty():
        return getpass.getpass("keyring password: ")
    raise UserError(
        f"the encrypted keyring needs its password: set {ENV_PASSWORD}, or put it in a 0600 file "
        f"{path}, or run on a terminal"
    )


def file_keyring(home_root: Path, password: str) -> Any:
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    kr = CryptFileKeyring()
    kr.file_path = str(home_root / FILE_NAME)
    kr.keyring_key = password
    return kr


class CredentialStore:
    """Per-venue api_key / secret / passphrase in one keyring, plus an index of names."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    @classmethod
    def open(cls, home: Home | None, *, prompt: bool = True) -> CredentialStore:
        forced_file = os.environ.get(ENV_BACKEND, "").lower() == "file"
        backend = None if forced_file else _desktop_keyring()
        if backend is None:
            if home is None:
                raise UserError(
                    "no system keyring and no home for the encrypted file keyring; pass --home"
                )
            home.root.mkdir(parents=True, exist_ok=True)
            backend = file_keyring(home.root, master_password(home.root, prompt=prompt))
        return cls(backend)

    @property
    def description(self) -> str:
        path = getattr(self.backend, "file_path", None)
        return f"encrypted file {path}" if isinstance(path, str) else type(self.backend).__name__

    def _get(self, user: str) -> str | None:
        try:
            return self.backend.get_password(SERVICE, user)
        except Exception as exc:  # wrong master password, corrupt file: never echo the contents
            raise UserError(
                f"cannot read the keyring ({type(exc).__name__}); check its password"
            ) from None

    def index(self) -> dict[str, list[str]]:
        raw = self._get(INDEX_USER)
        return json.loads(raw) if raw else {}

    def set(self, venue: str, creds: Credentials) -> None:
        for name in FIELDS:
            value = getattr(creds, name)
            if value:
                self.backend.set_password(SERVICE, f"{venue}:{name}", value)
            else:
                self._delete(f"{venue}:{name}")
        index = self.index()
        index[venue] = creds.fields_set()
        self.backend.set_password(SERVICE, INDEX_USER, json.dumps(index, sort_keys=True))

    def get(self, venue: str) -> Credentials | None:
        if venue not in self.index():
            return None
        values = {name: self._get(f"{venue}:{name}") or "" for name in FIELDS}
        return Credentials(**values)

    def delete(self, venue: str) -> bool:
        index = self.index()
        if venue not in index:
            return False
        for name in FIELDS:
            self._delete(f"{venue}:{name}")
        del index[venue]
        self.backend.set_password(SERVICE, INDEX_USER, json.dumps(index, sort_keys=True))
        return True

    def _delete(self, user: str) -> None:
        try:
            self.backend.delete_password(SERVICE, user)
        except Exception:  # PasswordDeleteError: nothing stored under that name
            pass


def load_credentials(venue: str, home: Home | None) -> Credentials | None:
    """Credentials for an adapter (None: public data only); prompts only on a terminal."""
    file_only = os.environ.get(ENV_BACKEND, "").lower() == "file" or _desktop_keyring() is None
    if file_only and (home is None or not (home.root / FILE_NAME).exists()):
        return None  # nothing was ever stored: the venue runs on public data
    try:
        return CredentialStore.open(home, prompt=sys.stdin.isatty()).get(venue)
    except UserError:
        raise
    except Exception as exc:
        raise UserError(
            f"keyring unavailable ({type(exc).__name__}); see docs/venues.md#credentials"
        ) from None
