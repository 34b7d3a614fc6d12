"""API credentials as a value that never prints itself, and a scrubber for text that might."""

from __future__ import annotations

from dataclasses import dataclass, field

# Fields each venue kind asks for; okx, kucoin, bitget and coinbaseexchange also want a passphrase.
# `token` holds an OAuth token (JSON) a broker login produced; adapters refresh it in place.
FIELDS = ("api_key", "secret", "passphrase", "token")
PASSPHRASE_EXCHANGES = frozenset({"okx", "kucoin", "kucoinfutures", "coinbaseexchange", "bitget"})
MASK = "***"


@dataclass(frozen=True)
class Credentials:
    """Adapters read the fields; repr/str never show them (exceptions and logs print objects)."""

    api_key: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    passphrase: str = field(default="", repr=False)
    token: str = field(default="", repr=False)

    def __repr__(self) -> str:
        return f"Credentials({', '.join(f'{k}={MASK}' for k in self.fields_set())})"

    __str__ = __repr__

    def fields_set(self) -> list[str]:
        return [name for name in FIELDS if getattr(self, name)]

    def values(self) -> list[str]:
        return [v for v in (self.api_key, self.secret, self.passphrase, *self._token_secrets()) if v]

    def _token_secrets(self) -> list[str]:
        """The secret strings inside an OAuth token (access and refresh tokens), for `redact`."""
        if not self.token:
            return []
        import json

        try:
            raw = json.loads(self.token)
        except ValueError:
            return [self.token]
        inner = raw.get("token", raw) if isinstance(raw, dict) else {}
        if not isinstance(inner, dict):
            return []
        return [str(inner.get(k, "")) for k in ("access_token", "refresh_token", "id_token")]

    def redact(self, text: str) -> str:
        """Replace any credential value found in `text` (error bodies, URLs) with a mask."""
        for value in sorted(self.values(), key=len, reverse=True):
            if len(value) >= 4:
                text = text.replace(value, MASK)
        return text


# What `keys set` asks for, per broker kind, and what each field is called there. Fields not
# listed stay empty; "passphrase" entries may be left empty where the broker makes them optional.
BROKER_FIELDS: dict[str, dict[str, str]] = {
    "schwab": {"api_key": "app key", "secret": "app secret"},  # then the OAuth login (token)
    "ib": {},  # TWS / IB Gateway holds the login; nothing is stored here
    "oanda": {"api_key": "API token"},  # OANDA's personal access token (Manage API Access)
    # Robinhood Crypto: the API key its crypto account settings show, and the base64 Ed25519
    # private key (seed) its key-pair script printed (the public half was given to Robinhood).
    "robinhood": {"api_key": "API key", "secret": "private key (base64)"},
    "webull": {"api_key": "app key", "secret": "app secret"},  # developer.webull.com, after approval
    # moomoo: OpenD holds the login; a live account's trades are unlocked with the trade password
    # (kept as the passphrase, so it may be left empty for a paper account).
    "moomoo": {"passphrase": "trade password (empty for a paper account)"},
}
OPTIONAL_FIELDS = frozenset({"passphrase"})


def fields_for(kind: str, exchange: str | None = None) -> tuple[str, ...]:
    if kind in BROKER_FIELDS:
        return tuple(BROKER_FIELDS[kind])
    if kind == "ccxt" and exchange in PASSPHRASE_EXCHANGES:
        return ("api_key", "secret", "passphrase")
    return ("api_key", "secret")


def labels_for(kind: str) -> dict[str, str]:
    """How `keys set` names each field for this venue kind."""
    return dict(BROKER_FIELDS.get(kind, {}))
