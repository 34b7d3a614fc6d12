"""Where credentials live: the OS keyring, or an encrypted file keyring under the home folder.

A desktop (macOS Keychain, Windows Credential Locker, Secret Service / KWallet) keeps them in
its keyring. We look for one of those by name among the backends keyring finds usable here;
keyring's own default choice is never used, because on a machine with keyrings.cryptfile
installed (every install of this project) its chain ranks cryptfile's CryptFileKeyring and the
EncryptedKeyring / PlaintextKeyring beside it as "keyrings": they prompt on their own (dying
with EOFError without a terminal), keep their file under ~/.local/share/python_keyring, or
store in plain text. Without a desktop keyring we use keyrings.cryptfile ourselves: Argon2 +
AES-GCM in HOME/keyring.cfg, with a master password from TUI_TRADER_KEYRING_PASSWORD, else a
0600 file named by TUI_TRADER_KEYRING_PASSWORD_FILE (or HOME/keyring.pass), else a no-echo
prompt on a terminal (asked twice for a new keyring). `TUI_TRADER_KEYRING=file` forces the
file keyring even where a desktop keyring exists.
"""

from __future__ import annotations

import getpass
import json
import os
import stat
import sys
from collections.abc import Callable
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


# keyring's backends for a desktop's own keyring (module of the backend class). Anything else
# keyring may offer (cryptfile, keyrings.alt, its chainer) is not a desktop keyring.
DESKTOP_BACKENDS = {
    "keyring.backends.SecretService": "Secret Service",
    "keyring.backends.libsecret": "Secret Service (libsecret)",
    "keyring.backends.kwallet": "KWallet",
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Locker",
}


def desktop_name(backend: Any) -> str | None:
    """The desktop keyring `backend` is, or None when it is not one."""
    module = type(backend).__module__
    return next((name for m, name in DESKTOP_BACKENDS.items() if module == m or module.startswith(m + ".")), None)


def _desktop_keyring() -> Any | None:
    """The best desktop keyring that works on this machine, else None. keyring lists only the
    backends it finds viable here (a Secret Service needs a D-Bus session with the service on
    it; KWallet its daemon), each with a priority."""
    from keyring.backend import get_all_keyring

    found: list[tuple[float, Any]] = []
    for backend in get_all_keyring():
        if desktop_name(backend) is None:
            continue
        try:
            priority = float(backend.priority)
        except Exception:  # the backend says it cannot work here after all
            continue
        if priority > 0:
            found.append((priority, backend))
    return max(found, key=lambda p: p[0])[1] if found else None


def master_password(home_root: Path, *, prompt: bool = True) -> tuple[str, str]:
    """The file keyring's password and where it came from: the environment, a 0600 password
    file, or a prompt on a terminal (twice when the keyring is new)."""
    if os.environ.get(ENV_PASSWORD):
        return os.environ[ENV_PASSWORD], ENV_PASSWORD
    path = Path(os.environ.get(ENV_PASSWORD_FILE) or home_root / PASSWORD_FILE_NAME)
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"{path} is readable by others (mode {mode:o}); run `chmod 600 {path}`"
            )
        return path.read_text(encoding="utf-8").strip(), str(path)
    if prompt and sys.stdin.isatty():
        keyring_file = home_root / FILE_NAME
        if keyring_file.exists():
            return getpass.getpass(f"password of the keyring {keyring_file}: "), "the password you typed"
        first = getpass.getpass(f"new password for the keyring {keyring_file}: ")
        if not first.strip():
            raise UserError("an empty password cannot protect the keyring; nothing was stored")
        if getpass.getpass("the same password again: ") != first:
            raise UserError("the two passwords differ; nothing was stored")
        return first, "the password you typed"
    raise UserError(
        f"the encrypted keyring needs its password: set {ENV_PASSWORD}, or put it in a 0600 file "
        f"{path}, or run on a terminal"
    )


def file_keyring(home_root: Path, password: str, source: str = "the password given") -> Any:
    """HOME/keyring.cfg, unlocked (a new one is created with this password). A wrong password
    is one line saying so, never cryptfile's "MAC check failed"."""
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    kr = CryptFileKeyring()
    kr.file_path = str(home_root / FILE_NAME)
    try:
        kr.keyring_key = password  # unlocks (or creates) the file: checks the password
    except ValueError:
        raise UserError(
            f"wrong password for the keyring {kr.file_path} (from {source}); "
            "nothing was read or changed"
        ) from None
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
            password, source = master_password(home.root, prompt=prompt)
            backend = file_keyring(home.root, password, source)
        return cls(backend)

    @property
    def description(self) -> str:
        path = getattr(self.backend, "file_path", None)
        if isinstance(path, str):
            return f"encrypted file {path}"
        return desktop_name(self.backend) or type(self.backend).__name__

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

    def set_token(self, venue: str, token: str) -> None:
        """Replace only the OAuth token of a venue (a refresh), keeping its other fields."""
        current = self.get(venue) or Credentials()
        from dataclasses import replace

        self.set(venue, replace(current, token=token))

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


def token_saver(venue: str, home: Home | None) -> Callable[[str], None]:
    """Where an adapter puts a refreshed OAuth token: the same keyring, opened without a prompt
    (a daemon has no terminal). Raises UserError when the keyring cannot be opened so; the
    adapter keeps the token in memory and says so."""

    def save(token: str) -> None:
        CredentialStore.open(home, prompt=False).set_token(venue, token)

    return save


def load_credentials(venue: str, home: Home | None, *, prompt: bool | None = None) -> Credentials | None:
    """Credentials for an adapter (None: public data only); prompts only on a terminal, and
    never with `prompt=False` (a running daemon reading them again)."""
    file_only = os.environ.get(ENV_BACKEND, "").lower() == "file" or _desktop_keyring() is None
    if file_only and (home is None or not (home.root / FILE_NAME).exists()):
        return None  # nothing was ever stored: the venue runs on public data
    try:
        return CredentialStore.open(home, prompt=sys.stdin.isatty() if prompt is None else prompt).get(venue)
    except UserError:
        raise
    except Exception as exc:
        raise UserError(
            f"keyring unavailable ({type(exc).__name__}); see docs/venues.md#credentials"
        ) from None
