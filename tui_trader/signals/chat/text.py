"""The message as the rules read it: normalised text, masking of what was used, numbers.

Every rule reads `Text.low` (lower-case) or `Text.raw` (case kept, for symbols) and blanks
out (`take`) what it used, so no number is read twice and what is left at the end is what
the parser could not place.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

# Emojis channels use as labels become words the label rules know.
EMOJI_WORDS = {
    "🎯": " tp ",
    "⛔": " sl ",
    "🛑": " sl ",
    "🚫": " sl ",
    "✅": " done ",
    "✔": " done ",
    "☑": " done ",
    "→": " to ",
    "➡": " to ",
    "⟶": " to ",
}
_DASHES = "–—−‒―"

NUMBER = r"\$?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+)(k)?(?![\w%]|[.,]\d)"
NUM_RE = re.compile(r"(?<![\w.])" + NUMBER, re.I)
PERCENT_RE = re.compile(r"(?<![\w.])([+-])?\s?(\d+(?:\.\d+)?)\s?%", re.I)


def normalise(text: str) -> str:
    """Label emojis become words, other emojis and symbols spaces; dashes, colons, quotes and
    spaces become ASCII; shorthands become words (see `_spell`). The length may change;
    everything after works on the result."""
    out: list[str] = []
    for ch in text:
        if ch in EMOJI_WORDS:
            out.append(EMOJI_WORDS[ch])
        elif ch in _DASHES:
            out.append("-")
        elif ch in "：":
            out.append(":")
        elif ch in "’‘`":
            out.append("'")
        elif ch in "\n\r":
            out.append("\n")
        elif ch.isascii():
            out.append(ch if ch.isprintable() else " ")
        else:
            cat = unicodedata.category(ch)
            if cat[0] in "LN":
                low = ch.lower()
                out.append(ch if len(low) == 1 else " ")
            else:
                out.append(" ")
    return _spell("".join(out))


# Shorthands channels write, as the words the rules know: "SL -> 3,280", "S/L", "T/P",
# "buy > 232.50" (above), "< 0.60" (below).
_SHORTHANDS = (
    (re.compile(r"\s*(?:-+>|=+>)\s*"), " to "),
    (re.compile(r"\b[sS]\s?/\s?[lL]\b"), "SL"),
    (re.compile(r"\b[tT]\s?/\s?[pP](?=\d?\b)"), "TP"),
    (re.compile(r"(?<![-=<>\w])>\s*=?\s*(?=\$?\.?\d)"), " above "),
    (re.compile(r"(?<![-=<>\w])<\s*=?\s*(?=\$?\.?\d)"), " below "),
    # bot formats: "Entry Targets: 63000", "Stop Targets: 61800", "Take-Profit Targets:"
    (re.compile(r"\b(entry|stop|stop[\s-]?loss)\s+targets?\b", re.I), r"\1"),
    (re.compile(r"\b(take[\s-]?profit)\s+targets?\b", re.I), "targets"),
    # numbered lists: "1) 63500", "2. 64000" at the start of a line
    (re.compile(r"(?m)^(\s*)\d{1,2}[).]\s+(?=\$?\.?\d)"), r"\1"),
)
# Label words misspelt by one letter ("ENTERY", "tagret", "stoplos") are read as the label.
_LABELS = ("entry", "entries", "target", "targets", "stoploss")
_NOT_TYPOS = frozenset({"sentry", "gentry", "entre", "entree", "enters", "entered", "tarot"})
_WORD = re.compile(r"[A-Za-z]{5,9}")


def _spell(text: str) -> str:
    for rx, word in _SHORTHANDS:
        text = rx.sub(word, text)
    return _WORD.sub(_label_typo, text)


def _label_typo(m: re.Match[str]) -> str:
    word = m.group(0)
    low = word.lower()
    if low[0] not in "est" or low in _LABELS or low in _NOT_TYPOS:
        return word  # (a slip of the first letter is too rare to pay for)
    for label in _LABELS:
        if _one_edit(low, label):
            return label.upper() if word.isupper() else label
    return word


def _one_edit(a: str, b: str) -> bool:
    """a and b differ by one insertion, deletion, substitution or swap of neighbours."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1 :]


# An emoji label right before the same written label ("🎯 TP: 66k", "⛔️ SL: 63k") is one label.
_DOUBLED = re.compile(
    r"\b(?:tp\s+(?=(?:tp\d?|tps|targets?|take\s*profits?)\b)"
    r"|sl\s+(?=(?:sl|stop|stops|stop\s*loss|stoploss|invalidation)\b))",
    re.I,
)


class Text:
    """The normalised message; `take` blanks a span in both copies so no rule reads it twice."""

    def __init__(self, text: str) -> None:
        self.raw = _DOUBLED.sub(lambda m: " " * len(m.group(0)), normalise(text))
        self.low = self.raw.lower()

    def take(self, start: int, end: int) -> None:
        blank = " " * (end - start)
        self.raw = self.raw[:start] + blank + self.raw[end:]
        self.low = self.low[:start] + blank + self.low[end:]

    def replace(self, start: int, end: int, word: str) -> None:
        """Put `word` (padded to the same length) in place of a span: a label rewritten."""
        new = word.ljust(end - start)[: end - start]
        self.raw = self.raw[:start] + new + self.raw[end:]
        self.low = self.low[:start] + new.lower() + self.low[end:]

    def take_all(self, rx: re.Pattern[str]) -> list[re.Match[str]]:
        """Blank every match of `rx` in the lower-case copy and return the matches."""
        found = list(rx.finditer(self.low))
        for m in found:
            self.take(m.start(), m.end())
        return found

    def leftover_numbers(self) -> list[str]:
        return [m.group(0).strip() for m in NUM_RE.finditer(self.low)]


_PUNCT = re.compile(r"(?<!\d)[.,](?!\d)|[!;|()\[\]\"*_~<>]|(?<![\w%])-(?![\d.])|\.{2,}")
_FULL_STOP = re.compile(r"(?<=[a-z'])[.!]+(?=\s|$)|(?<=\d)\.(?=\s+[a-z])|!+")


def words_only(low: str) -> str:
    """For the phrase rules: punctuation between words becomes space ('Exit... BTC long'),
    while decimals, thousands, signs, '%', ':', '/' and '?' stay, and the end of a sentence
    ('. ', '!') becomes a line break. Same length."""
    low = _FULL_STOP.sub(lambda m: "\n" * len(m.group(0)), low)
    return _PUNCT.sub(lambda m: " " * len(m.group(0)), low)


def to_decimal(value: str, k: str | None = None) -> Decimal:
    """'3,450' -> 3450, '63.5' with k -> 63500."""
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex only lets digits through
        raise ValueError(f"cannot read the number {value!r}") from None
    if not k:
        return number
    number *= 1000
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


def fmt(d: Decimal) -> str:
    """A price as a trader writes it: no exponent, no trailing '.0'."""
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


def shorten(text: str, limit: int) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
