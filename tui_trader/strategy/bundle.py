"""Strategy bundles: one signed file holding a strategy, its parameters, the data it needs and a
backtest summary (`tui-trader strategies pack / install`).

The file is canonical JSON (keys sorted, no insignificant whitespace, UTF-8, one final
newline) of

    {"bundle": "tui-trader-bundle/1",
     "payload": {...},                       # what the author vouches for
     "sha256": "<hex SHA-256 of canonical(payload)>",
     "signature": {"algorithm": "ed25519", "public_key": "<base64, 32 bytes>",
                   "value": "<base64 of the ed25519 signature>"}}

What is signed: the bytes `SIGNING_CONTEXT + canonical(payload)`. The context string keeps a
bundle signature from ever being valid for anything else signed with the same key.

Reading refuses, with one line: a file over MAX_BUNDLE_BYTES; anything not JSON; a file that
is not byte-for-byte the canonical form of what it parses to (so a changed byte anywhere,
whitespace and base64 padding included, is caught); unknown or missing fields; no signature; a
hash or a signature that does not match; a file name that is not a plain `name.py` /
`name.toml` (no folders, no dots in front, nothing but letters, digits, `_` and `-`). Nothing
here executes the strategy: a Python source is only compiled.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UserError
from tui_trader.strategy.authors import fingerprint

if TYPE_CHECKING:
    from tui_trader.strategy.authors import AuthorKey

FORMAT = "tui-trader-bundle/1"
SIGNING_CONTEXT = b"tui-trader strategy bundle v1\n"
SUFFIX = ".ttbundle"
MAX_BUNDLE_BYTES = 1024 * 1024
MAX_SOURCE_BYTES = 512 * 1024
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.(py|toml)$")
STRATEGY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ENVELOPE_KEYS = {"bundle", "payload", "sha256", "signature"}
PAYLOAD_KEYS = {
    "name", "kind", "file", "source", "parameters", "requires", "backtest", "author", "created", "tool",
}  # fmt: skip
KINDS = {"python": ".py", "rules": ".toml"}


class BundleRefused(UserError):
    """The bundle is not installed: the one line says why."""


def canonical(obj: Any) -> bytes:
    """The one byte string a JSON value has here: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str, size: int) -> bytes:
    """Strict base64 of exactly `size` bytes, in its one canonical spelling."""
    if not isinstance(text, str):
        raise BundleRefused(f"altered or damaged bundle: the {what} is not base64 text")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BundleRefused(f"altered or damaged bundle: the {what} is not valid base64") from None
    if len(raw) != size or _b64(raw) != text:
        raise BundleRefused(f"altered or damaged bundle: the {what} is not {size} bytes of canonical base64")
    return raw


@dataclass(frozen=True)
class Bundle:
    """A bundle whose signature and hash checked out."""

    payload: dict[str, Any]
    sha256: str
    public_key: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    @property
    def name(self) -> str:
        return str(self.payload["name"])

    @property
    def file(self) -> str:
        return str(self.payload["file"])

    @property
    def source(self) -> str:
        return str(self.payload["source"])

    @property
    def author(self) -> str:
        return str(self.payload.get("author") or "")


def check_payload(payload: Any) -> dict[str, Any]:
    """The payload's shape (BundleRefused naming the first problem)."""
    if not isinstance(payload, dict):
        raise BundleRefused("not a strategy bundle: its payload is not an object")
    keys = set(payload)
    if keys != PAYLOAD_KEYS:
        odd = sorted(keys ^ PAYLOAD_KEYS)
        raise BundleRefused(f"not a bundle this tui-trader reads: payload fields differ ({', '.join(odd)})")
    name, kind, file, source = payload["name"], payload["kind"], payload["file"], payload["source"]
    if not isinstance(name, str) or not STRATEGY_NAME.match(name):
        raise BundleRefused("refused: the strategy name must be letters, digits, '_', '.' or '-' (at most 64)")
    if kind not in KINDS:
        raise BundleRefused(f"refused: unknown strategy kind {str(kind)[:20]!r} (python or rules)")
    if not isinstance(file, str) or not FILE_NAME.match(file) or not file.endswith(KINDS[kind]):
        raise BundleRefused(
            f"refused: file name {str(file)[:80]!r} is not a plain name{KINDS[kind]} "
            "(no folders, letters, digits, '_' and '-')"
        )
    if not isinstance(source, str) or len(source.encode()) > MAX_SOURCE_BYTES:
        raise BundleRefused(f"refused: the strategy source must be text of at most {MAX_SOURCE_BYTES // 1024} KiB")
    for key in ("parameters", "requires", "backtest"):
        if not isinstance(payload[key], dict):
            raise BundleRefused(f"not a strategy bundle: {key} is not an object")
    for key in ("author", "created", "tool"):
        if not isinstance(payload[key], str) or len(payload[key]) > 200:
            raise BundleRefused(f"not a strategy bundle: {key} is not a short text")
    return payload


def pack(payload: dict[str, Any], key: AuthorKey) -> bytes:
    """The bundle file's bytes: the payload, its hash and the author's signature."""
    check_payload(payload)
    body = canonical(payload)
    envelope = {
        "bundle": FORMAT,
        "payload": payload,
        "sha256": hashlib.sha256(body).hexdigest(),
        "signature": {
            "algorithm": "ed25519",
            "public_key": _b64(key.public),
            "value": _b64(key.key.sign(SIGNING_CONTEXT + body)),
        },
    }
    data = canonical(envelope) + b"\n"
    if len(data) > MAX_BUNDLE_BYTES:
        raise UserError(f"the bundle would be {len(data):,} bytes; the limit is {MAX_BUNDLE_BYTES:,}")
    return data


def read_bundle(data: bytes) -> Bundle:
    """Verify a bundle file's bytes: canonical form, hash, signature, then the payload's shape."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleRefused(f"refused: the file is {len(data):,} bytes; a bundle is at most {MAX_BUNDLE_BYTES:,}")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BundleRefused("not a strategy bundle: the file is not JSON (damaged, or another kind of file)") from None
    if not isinstance(doc, dict) or doc.get("bundle") != FORMAT:
        found = doc.get("bundle") if isinstance(doc, dict) else None
        raise BundleRefused(f"not a strategy bundle this tui-trader reads (format {str(found)[:40]!r}, want {FORMAT})")
    if "signature" not in doc or not doc.get("signature"):
        raise BundleRefused("unsigned bundle refused: only bundles signed by their author are installed")
    if set(doc) != ENVELOPE_KEYS:
        odd = ", ".join(sorted(set(doc) ^ ENVELOPE_KEYS))
        raise BundleRefused(f"altered or damaged bundle: unexpected fields {odd}")
    try:
        canon = canonical(doc) + b"\n"
    except ValueError:
        raise BundleRefused("altered or damaged bundle: it holds numbers JSON cannot carry") from None
    if canon != data:
        raise BundleRefused("altered or damaged bundle: the file is not byte for byte as it was signed")
    sig = doc["signature"]
    if not isinstance(sig, dict) or set(sig) != {"algorithm", "public_key", "value"} or sig["algorithm"] != "ed25519":
        raise BundleRefused("refused: the signature is not an ed25519 signature this tui-trader checks")
    public = _unb64(sig["public_key"], "public key", 32)
    value = _unb64(sig["value"], "signature", 64)
    body = canonical(doc["payload"])
    digest = hashlib.sha256(body).hexdigest()
    if doc["sha256"] != digest:
        raise BundleRefused("altered bundle refused: its content does not match its hash")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(value, SIGNING_CONTEXT + body)
    except InvalidSignature:
        raise BundleRefused(
            "altered bundle refused: the signature does not match the content (changed after signing, "
            "or not signed by the key it names)"
        ) from None
    payload = check_payload(doc["payload"])
    return Bundle(payload, digest, public)


def compile_check(bundle: Bundle) -> None:
    """The strategy source parses (Python is compiled, never run; TOML rules are validated)."""
    if bundle.payload["kind"] == "python":
        try:
            compile(bundle.source, bundle.file, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            raise BundleRefused(f"refused: {bundle.file}{f':{line}' if line else ''} does not compile: {exc}") from None
        return
    from tui_trader.strategy.rules import validate_rules

    errors = validate_rules(bundle.source)
    if errors:
        first = errors[0]
        raise BundleRefused(f"refused: {bundle.file}:{first.line or '?'}: {first.message}")
