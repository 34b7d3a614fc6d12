"""Which market a message is about: pairs, glued pairs, $cashtags, #hashtags, commodity and
coin names, the configured venues' symbols, well-known tickers, and (last, doubted) any
upper-case word."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from tui_trader.signals.chat.names import CAPITALS_ONLY, CFD_NAMES, INDICES, TICKERS
from tui_trader.signals.chat.text import Text
from tui_trader.signals.symbols import (
    COMMODITIES,
    NAMES,
    PROPER_NOUN_ONLY,
    base_of,
    is_ticker_word,
    resolve_symbol,
    split_glued_pair,
)

_QUOTE_ALT = "USDT|USDC|BUSD|FDUSD|TUSD|USD|EUR|BTC|ETH|JPY|GBP|CHF|AUD|CAD|NZD"
PAIR_RE = re.compile(
    rf"(?<![\w$#])[$#]?([A-Za-z0-9]{{2,12}})(?:\s?/\s?|[-_])({_QUOTE_ALT})"
    r"(?:\.P|[\s-]?PERP)?(?![A-Za-z0-9])",
    re.I,
)
GLUED_RE = re.compile(r"(?<![\w$#])[$#]?([A-Za-z0-9]{4,16})(?:\.P)?(?![\w])")
CASHTAG_RE = re.compile(r"\$([A-Za-z][A-Za-z0-9.]{0,9})(?![\w])")
HASHTAG_RE = re.compile(r"#([A-Za-z][A-Za-z0-9]{1,11})(?![\w])")
WORD_RE = re.compile(r"(?<![\w$#/.])([A-Za-z][A-Za-z0-9]{1,9})(?![\w/])")
_STABLE = ("USD", "BUSD", "FDUSD", "TUSD")
# "NEAR 64000" in a message written in capitals is the word, not the NEAR coin.
_PREPOSITION_NEAR = re.compile(r"NEAR\s+\$?\d", re.I)
# "COIN: #FET" is a label, not Coinbase.
_LABEL_WORD = re.compile(r"COIN\s*:", re.I)

# Upper-case words that are never a symbol: signal jargon, trading and chat abbreviations.
NOT_SYMBOLS = frozenset(
    """
    LONG SHORT BUY SELL SL TP TP1 TP2 TP3 TP4 TP5 TP6 ENTRY ENTRIES STOP LOSS TARGET TARGETS
    TGT LEVERAGE LEV CROSS ISOLATED ISO SPOT FUTURES FUTURE SIGNAL SIGNALS NOW CMP ZONE RR USD
    USDT USDC PERP NEW VIP ALERT UPDATE MARKET LIMIT TAKE PROFIT AT DCA HODL ATH ATL DYOR NFA
    BE BUYING SELLING BULLISH BEARISH RISK HIGH LOW MID AND OR THE FOR ON IN TO OF WITH BELOW
    ABOVE TRADE SETUP SWING SCALP CALL PUT CALLS PUTS PRICE RANGE AREA AROUND FREE
    PREMIUM PAIR SIDE DIRECTION CLOSE CLOSED EXIT CANCEL HIT DONE ALL HERE YOLO GM GN LFG
    FOMO IMO TA EMA SMA RSI MACD VWAP HTF LTF FVG OB PA CPI FOMC FED PPI NFP GDP EST UTC ET
    PNL ROI USA US EU UK OK NO YES ID BTFD DTE ODTE EXP STRIKE RESULTS WIN WINS LOSSES OUT
    IS IT MY ME WE BUT NOT IF BY AN AS BIG ALT ALTS ALTCOINS COINS CRYPTO STOCKS MEMES BAGS
    HEADS UP DOWN ATTENTION WARNING NOTE REMINDER IMPORTANT ANNOUNCEMENT LOL
    """.split()  # noqa: SIM905 (a word list reads better than 150 quoted strings)
)


def _is_ticker(word: str) -> bool:
    if is_ticker_word(word):
        return True
    upper = word.upper()
    if upper in INDICES or upper in CAPITALS_ONLY:
        return word.isupper()
    return upper in TICKERS


@dataclass
class SymbolPick:
    symbol: str | None = None
    how: str = ""  # pair | cashtag | hashtag | name | known | ticker | guess
    raw: str | None = None  # as written, before the known-symbol list mapped it
    others: list[str] = field(default_factory=list)
    unknown: bool = False  # not among the configured venues' symbols
    first_end: int | None = None  # where the text after its first mention starts


def _names_re() -> re.Pattern[str]:
    names = sorted({**NAMES, **COMMODITIES, **CFD_NAMES}, key=len, reverse=True)
    return re.compile(r"(?<![\w$#])(" + "|".join(re.escape(n) for n in names) + r")(?![\w])", re.I)


NAMES_RE = _names_re()


Mention = tuple[str, int, int, str]  # (symbol, start, end, how)


def _tiers(t: Text, known: Collection[str] | None) -> list[list[Mention]]:
    """Every mention, strongest kind first: pairs, glued pairs, $cashtags, #hashtags, then
    names, the venues' symbols and well-known tickers (together, in text order)."""
    s = t.raw
    pairs = [
        (f"{m.group(1).upper()}/{m.group(2).upper()}", m.start(), m.end(), "pair")
        for m in PAIR_RE.finditer(s)
        if any(c.isalpha() for c in m.group(1)) and m.group(1).upper() not in NOT_SYMBOLS
    ]
    glued: list[Mention] = []
    for m in GLUED_RE.finditer(s):
        word = m.group(1)
        pair = split_glued_pair(word)
        if pair is None or not any(c.isalpha() for c in pair.split("/")[0]):
            continue
        base, quote = pair.split("/")
        if (
            word.isupper()
            or quote.startswith(_STABLE)
            or (len(word) == 6 and base in ("EUR", "GBP", "AUD", "NZD", "USD", "XAU", "XAG", "CAD", "CHF"))
        ):
            glued.append((pair, m.start(), m.end(), "pair"))
    cashtags = [
        (m.group(1).rstrip(".").upper(), m.start(), m.end(), "cashtag")
        for m in CASHTAG_RE.finditer(s)
        if not m.group(1)[0].isdigit()
    ]
    hashtags = [
        (m.group(1).upper(), m.start(), m.end(), "hashtag")
        for m in HASHTAG_RE.finditer(s)
        if m.group(1).upper() not in NOT_SYMBOLS
        and (
            is_ticker_word(m.group(1))
            or (known is not None and resolve_symbol(m.group(1), known) is not None)
            or m.group(1).isupper()
            or known is None
        )
    ]
    words: list[Mention] = []
    for m in NAMES_RE.finditer(s):
        name = m.group(1).lower()
        if name in PROPER_NOUN_ONLY and not m.group(1)[0].isupper():
            continue
        words.append((COMMODITIES.get(name) or CFD_NAMES.get(name) or NAMES[name], m.start(), m.end(), "name"))
    plain = [
        m for m in WORD_RE.finditer(s) if m.group(1).upper() not in NOT_SYMBOLS and not _LABEL_WORD.match(s, m.start())
    ]
    if known:
        words += [
            (m.group(1).upper(), m.start(), m.end(), "known")
            for m in plain
            if resolve_symbol(m.group(1), known) and not _is_ticker(m.group(1))
        ]
    words += [(m.group(1).upper(), m.start(), m.end(), "ticker") for m in plain if _is_ticker(m.group(1))]
    tiers = [pairs, glued, cashtags, hashtags, sorted(words, key=lambda f: f[1])]
    if sum(len(tier) for tier in tiers) > 1:  # with another market named, NEAR 64000 is the word
        tiers = [[f for f in tier if not (f[0] == "NEAR" and _PREPOSITION_NEAR.match(s, f[1]))] for tier in tiers]
    return tiers


_SIDE_WORD = re.compile(r"^(?:long|short|buy|sell|longs|shorts|longing|shorting|buying|selling)$", re.I)


def _guesses(t: Text) -> list[Mention]:
    """Upper-case words that may be a ticker. In a message written in capitals, case says
    nothing: only a word that starts a line or stands next to a side word is a guess."""
    found = [
        m
        for m in WORD_RE.finditer(t.raw)
        if m.group(1).upper() not in NOT_SYMBOLS
        and m.group(1).isupper()
        and any(c.isalpha() for c in m.group(1))
        and len(m.group(1)) <= 6
    ]
    letters = [c for c in t.raw if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > 0.7 * len(letters):
        words = list(re.finditer(r"\S+", t.raw))
        starts = {m.start() for m in re.finditer(r"(?:^|\n)\s*(\S)", t.raw)}
        near = set()
        for i, w in enumerate(words):
            if _SIDE_WORD.match(w.group(0)):
                near |= {words[j].start() for j in (i - 1, i + 1) if 0 <= j < len(words)}
        found = [m for m in found if m.start() in near or t.raw[: m.start()].strip() == "" or m.start() in starts]
    return [(m.group(1), m.start(), m.end(), "guess") for m in found]


def _base(symbol: str) -> str:
    """'#ETHUSDT' and 'ETH/USDT' are one market: the base of a glued pair too."""
    return base_of(split_glued_pair(symbol) or symbol)


def pick_symbol(t: Text, known: Collection[str] | None) -> SymbolPick:
    """The first strongest mention; every mention of it is taken out of the text."""
    tiers = _tiers(t, known)
    found = next((tier for tier in tiers if tier), None) or _guesses(t)
    pick = SymbolPick()
    if not found:
        return pick
    symbol, _, first_end, how = found[0]
    pick.first_end = first_end
    for sym, start, end, _ in found:
        if sym == symbol:
            t.take(start, end)
    # another market named anywhere (a weaker kind of mention counts too: "SMCI and XAUUSD")
    mentioned = [f[0] for tier in tiers for f in tier]
    pick.others = [m for m in dict.fromkeys(mentioned) if _base(m) != _base(symbol)]
    pick.how = how
    pick.raw = symbol
    if known is not None:
        resolved = resolve_symbol(symbol, known)
        if resolved is None:
            pick.unknown = True
        else:
            symbol = resolved
    pick.symbol = symbol
    return pick
