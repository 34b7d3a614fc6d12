"""Symbols as traders type them, resolved against the venue's markets: `btc/usdt`, `BTCUSDT`,
`btc-usdt` and (when only one market has that base) `btc` all mean BTC/USDT. A word that fits
several markets is an error that lists them; so is a word that fits none, once the markets are
known. Pure: no Textual, so the command line, the ticket and the search share it."""

from __future__ import annotations

from collections.abc import Collection


class ParseError(ValueError):
    """The command line could not be understood; the message is shown under the input."""


def _compact(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _base(symbol: str) -> str:
    for sep in ("/", "-", ":", "_"):
        if sep in symbol:
            return symbol.split(sep, 1)[0].upper()
    return symbol.upper()


def candidates(word: str, markets: Collection[str]) -> list[str]:
    """Markets `word` may mean, best first: exact (any case), same letters, same base."""
    upper = word.upper()
    exact = [m for m in markets if m.upper() == upper]
    if exact:
        return exact[:1]
    compact = _compact(word)
    same = [m for m in markets if _compact(m) == compact]
    if same:
        return sorted(same)
    return sorted(m for m in markets if _base(m) == upper and m.upper() != _base(m))


def match_market(word: str, markets: Collection[str]) -> str | None:
    """The one market `word` names, or None (no match, or several)."""
    found = candidates(word, markets)
    return found[0] if len(found) == 1 else None


def resolve_symbol(word: str, markets: Collection[str]) -> str:
    """The market `word` names. Without markets (still loading) the word itself, upper-cased."""
    if not markets:
        return word.upper()
    found = candidates(word, markets)
    if len(found) == 1:
        return found[0]
    if found:
        listed = ", ".join(found[:6]) + (" ..." if len(found) > 6 else "")
        raise ParseError(f"{word!r} is ambiguous: it could be {listed}; type the full symbol")
    return _unknown(word, markets)


def _unknown(word: str, markets: Collection[str]) -> str:
    near = search(word, markets, limit=4)
    hint = f"; did you mean {', '.join(near)}?" if near else "; `find TEXT` searches the venue's markets"
    raise ParseError(f"unknown symbol {word.upper()!r}{hint}")


def search(text: str, markets: Collection[str], limit: int = 50) -> list[str]:
    """Markets matching `text`: exact, then base, then prefix, then anywhere (letters only)."""
    query = _compact(text)
    if not query:
        return sorted(markets)[:limit]
    ranked: list[tuple[int, str]] = []
    for m in markets:
        c = _compact(m)
        if c == query:
            rank = 0
        elif _base(m) == text.upper():
            rank = 1
        elif c.startswith(query):
            rank = 2
        elif query in c:
            rank = 3
        else:
            continue
        ranked.append((rank, m))
    return [m for _, m in sorted(ranked)[:limit]]
