"""Author keys for strategy bundles: your own ed25519 signing key, and the authors you have
installed from before (trust on first use).

Your key is created on the first `strategies pack` in HOME/keys/author_ed25519.pem (PKCS#8,
0600, in a 0700 folder); a key file others can read is refused, as ssh refuses one. Its
fingerprint is `SHA256:` and the unpadded base64 of the SHA-256 of the 32-byte public key (the
form OpenSSH prints), so it can be read to someone over the phone.

Known authors live in HOME/keys/known_authors.json: the first install from a key records it;
later bundles signed by it say "known", and a bundle that claims a known author's name with
another key says so loudly.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import ConfigError, UserError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_FILE = "author_ed25519.pem"
KNOWN_FILE = "known_authors.json"
MAX_KNOWN_BYTES = 1024 * 1024


def keys_dir(home_root: Path) -> Path:
    return home_root / "keys"


def fingerprint(public_key: bytes) -> str:
    """`SHA256:<base64>` of a raw 32-byte ed25519 public key."""
    digest = hashlib.sha256(public_key).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def raw_public(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class AuthorKey:
    key: Ed25519PrivateKey
    path: Path
    created: bool  # made by this call

    @property
    def public(self) -> bytes:
        return raw_public(self.key)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)


def author_key(home_root: Path) -> AuthorKey:
    """Your signing key, created (0600) on first use."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        load_pem_private_key,
    )

    folder = keys_dir(home_root)
    path = folder / KEY_FILE
    if path.exists():
        _check_private(path)
        try:
            key = load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"{path} is not an unencrypted ed25519 key ({exc}); move it away to make a new one"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{path} is not an ed25519 key; move it away to make a new one")
        return AuthorKey(key, path, created=False)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another pack made it a moment ago: use that one
        return author_key(home_root)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return AuthorKey(key, path, created=True)


def _check_private(path: Path) -> None:
    st = path.stat()
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid != os.getuid() or mode & 0o077:
        raise ConfigError(
            f"{path} must be yours and private (mode {mode:o}); run `chmod 600 {path}` (or move it away "
            "and a new key is made)"
        )


# -- known authors (trust on first use) ---------------------------------------------------------


@dataclass(frozen=True)
class Trust:
    """What we know of a bundle's signing key."""

    fingerprint: str
    known: bool  # installed from before
    first_seen: str | None
    name_clash: str | None  # the claimed author name was seen before with this other key

    def describe(self, claimed: str) -> str:
        who = f"{claimed!r} " if claimed else ""
        if self.known:
            line = f"author {who}key {self.fingerprint}: known (first installed {self.first_seen})"
        else:
            line = f"author {who}key {self.fingerprint}: NEW, never installed from before; check it with the author"
        if self.name_clash:
            line += f"; WARNING: {claimed!r} signed earlier bundles with another key, {self.name_clash}"
        return line


class KnownAuthors:
    def __init__(self, home_root: Path) -> None:
        self.path = keys_dir(home_root) / KNOWN_FILE
        self.entries: dict[str, dict[str, Any]] = self._read()

    def _read(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        if self.path.stat().st_size > MAX_KNOWN_BYTES:
            raise UserError(f"{self.path} is larger than 1 MiB; it is not ours: move it away")
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read {self.path} ({exc}); fix or move it away") from None
        if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
            raise UserError(f"{self.path} is not a known-authors file; move it away")
        return doc

    def trust(self, fp: str, claimed: str) -> Trust:
        entry = self.entries.get(fp)
        clash = None
        if claimed:
            others = [k for k, e in self.entries.items() if k != fp and e.get("name") == claimed]
            clash = others[0] if others else None
        return Trust(fp, entry is not None, (entry or {}).get("first_seen"), clash)

    def remember(self, fp: str, public_key: bytes, claimed: str, bundle: str, at: datetime) -> None:
        entry = self.entries.setdefault(
            fp,
            {
                "name": claimed,
                "public_key": base64.b64encode(public_key).decode(),
                "first_seen": at.isoformat(timespec="seconds"),
                "bundles": [],
            },
        )
        if bundle not in entry["bundles"]:
            entry["bundles"].append(bundle)
        self._write()

    def _write(self) -> None:
        folder = self.path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.entries, fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, self.path)
