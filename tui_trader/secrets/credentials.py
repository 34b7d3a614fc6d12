"""API credentials as a value that never prints itself, and a scrubber for text that might."""

from __future__ import annotations

from dataclasses import dataclass, field

# Fields each venue kind asks for; okx, kucoin, bitget and coinbaseexchange also want a passphrase.
FIELDS = ("api_key", "secret", "passphrase")
PASSPHRASE_EXCHANGES = frozenset({"okx", "kucoin", "kucoinfutures", "coinbaseexchange", "bitget"})
MASK = "***"


@dataclass(frozen=True)
class Credentials:
    """Adapters read the fields; repr/str never show them (exceptions and logs print objects)."""

    api_key: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    passphrase: str = field(default="", repr=False)

    def __repr__(self) -> str:
        return f"Credentials({', '.join(f'{k}={MASK}' for k in self.fields_set())})"

    __str__ = __repr__

    def fields_set(self) -> list[str]:
        return [name for name in FIELDS if getattr(self, name)]

    def values(self) -> list[str]:
        return [v for v in (self.api_key, self.secret, self.passphrase) if v]

    def redact(self, text: str) -> str:
        """Replace any credential value found in `text` (error bodies, URLs) with a mask."""
        for value in sorted(self.values(), key=len, reverse=True):
            if len(value) >= 4:
                text = text.replace(value, MASK)
        return text


def fields_for(kind: str, exchange: str | None = None) -> tuple[str, ...]:
    if kind == "ccxt" and exchange in PASSPHRASE_EXCHANGES:
        return FIELDS
    return ("api_key", "secret")
