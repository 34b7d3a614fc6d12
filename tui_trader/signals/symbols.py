"""Symbol spelling shared by the chat parser and the news reader: pairs, bases, known lists."""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache

MARKET_WIDE = "*"  # the symbol of a signal about the whole market (Fed, macro news)

# Quote currencies recognised at the end of a glued pair such as BTCUSDT (longest first).
QUOTES: tuple[str, ...] = (
    "USDT", "USDC", "BUSD", "FDUSD", "TUSD", "USD", "EUR", "BTC", "ETH",
    "JPY", "GBP", "CHF", "AUD", "CAD", "NZD",
)  # fmt: skip
# Currencies (and metals, quoted like currencies) that make a forex pair: EURUSD, XAUUSD.
FX: frozenset[str] = frozenset(
    {"USD", "EUR", "GBP", "JPY", "CHF", "AUD", "CAD", "NZD", "XAU", "XAG", "XPT", "XPD"}
)
# Commodity names -> the CFD symbol (OANDA's instrument names, with a slash).
COMMODITIES: dict[str, str] = {
    "gold": "XAU/USD",
    "xau": "XAU/USD",
    "silver": "XAG/USD",
    "xag": "XAG/USD",
    "platinum": "XPT/USD",
    "palladium": "XPD/USD",
    "oil": "WTICO/USD",
    "crude": "WTICO/USD",
    "wti": "WTICO/USD",
    "brent": "BCO/USD",
    "natgas": "NATGAS/USD",
    "natural gas": "NATGAS/USD",
}


def _base(symbol: str) -> str:
    """The base of a venue symbol spelled with '/', '_' or '-' ('XAU_USD' -> 'XAU')."""
    return base_of(symbol.replace("_", "/").replace("-", "/"))


def base_of(symbol: str) -> str:
    """'BTC/USDT' -> 'BTC', 'BTC/USDT:USDT' -> 'BTC', 'AAPL' -> 'AAPL'."""
    return symbol.upper().split(":", 1)[0].split("/", 1)[0]


def split_glued_pair(word: str) -> str | None:
    """'BTCUSDT' -> 'BTC/USDT' when the word ends in a known quote and leaves a base of 2+ chars;
    'EURUSD' -> 'EUR/USD'."""
    upper = word.upper()
    if len(upper) == 6 and upper[:3] in FX and upper[3:] in FX:
        return f"{upper[:3]}/{upper[3:]}"
    for quote in QUOTES:
        if upper.endswith(quote) and len(upper) - len(quote) >= 2:
            return f"{upper[: -len(quote)]}/{quote}"
    return None


def _glue(symbol: str) -> str:
    return symbol.replace("/", "").replace("-", "").replace("_", "")


def resolve_symbol(candidate: str, known: Collection[str]) -> str | None:
    """Map a spelling to one of the known symbols: exact, same pair spelled differently, or a
    unique base ('ETH' -> 'ETH/USDT' when that is the only ETH market). None when no match."""
    cand = candidate.upper()
    upper = {k.upper(): k for k in known}
    if cand in upper:
        return upper[cand]
    glued = _glue(cand)
    for key, original in upper.items():
        if _glue(key.split(":", 1)[0]) == glued:
            return original
    if "/" not in cand:
        same_base = [original for key, original in upper.items() if _base(key) == cand]
        if len(same_base) == 1:
            return same_base[0]
    return None


# Names as they appear in headlines -> ticker. Crypto bases and US stocks; extend freely.
NAMES: dict[str, str] = {
    "bitcoin": "BTC",
    "ethereum": "ETH",
    "ether": "ETH",
    "solana": "SOL",
    "ripple": "XRP",
    "cardano": "ADA",
    "dogecoin": "DOGE",
    "polkadot": "DOT",
    "avalanche": "AVAX",
    "chainlink": "LINK",
    "litecoin": "LTC",
    "tron": "TRX",
    "binance coin": "BNB",
    "polygon": "POL",
    "toncoin": "TON",
    "shiba inu": "SHIB",
    "arbitrum": "ARB",
    "apple": "AAPL",
    "microsoft": "MSFT",
    "nvidia": "NVDA",
    "tesla": "TSLA",
    "amazon": "AMZN",
    "alphabet": "GOOGL",
    "google": "GOOGL",
    "meta platforms": "META",
    "meta": "META",
    "facebook": "META",
    "netflix": "NFLX",
    "coinbase": "COIN",
    "microstrategy": "MSTR",
    "intel": "INTC",
    "advanced micro devices": "AMD",
    "palantir": "PLTR",
    "jpmorgan": "JPM",
    "berkshire hathaway": "BRK.B",
    "walmart": "WMT",
    "visa": "V",
    "mastercard": "MA",
}
# Names that are also everyday words: they count only when written with a capital letter.
PROPER_NOUN_ONLY: frozenset[str] = frozenset(
    {"apple", "amazon", "meta", "visa", "intel", "tron", "polygon", "ripple"}
)
# Tickers recognised as a bare word. Those that are also English words must be upper case.
TICKERS: frozenset[str] = frozenset(NAMES.values()) | frozenset(
    {
        "BTC",
        "ETH",
        "SOL",
        "XRP",
        "ADA",
        "DOGE",
        "DOT",
        "AVAX",
        "LINK",
        "LTC",
        "TRX",
        "BNB",
        "POL",
        "MATIC",
        "TON",
        "SHIB",
        "ARB",
        "OP",
        "ATOM",
        "NEAR",
        "APT",
        "SUI",
        "PEPE",
        "INJ",
        "UNI",
        "AAVE",
        "SPY",
        "QQQ",
        "AMD",
        "AAPL",
        "MSFT",
        "NVDA",
        "TSLA",
        "AMZN",
        "GOOGL",
        "META",
        "NFLX",
        "COIN",
        *"""BCH ETC XLM HBAR FIL ICP TIA SEI JUP WIF BONK FET RNDR RENDER STX IMX GRT LDO MKR
        CRV ALGO VET FTM KAS ORDI ENA WLD PYTH TAO APE SAND GALA
        AVGO ORCL CRM ADBE INTC SMCI PYPL SHOP UBER ABNB HOOD MARA RIOT GME AMC IWM DIA PLTR
        JPM BAC XOM MSTR""".split(),  # noqa: SIM905 (a word list reads better quoted once)
    }
) - {"V", "MA"}
WORD_TICKERS: frozenset[str] = frozenset(
    {"LINK", "DOT", "NEAR", "OP", "ONE", "GAS", "UNI", "SUI", "TON", "POL", "COIN", "META", "ARB"}
    | {"APE", "SAND", "GALA", "SHOP", "UBER", "HOOD", "DIA", "FET", "JUP", "WIF", "BONK", "TAO"}
)


def is_ticker_word(word: str) -> bool:
    """True for a bare word that names a well-known ticker ('eth', 'BTC', 'LINK' but not 'link')."""
    upper = word.upper()
    if upper not in TICKERS:
        return False
    return word.isupper() or upper not in WORD_TICKERS


_CASHTAG = re.compile(r"\$([A-Za-z][A-Za-z0-9]{0,5}(?:\.[A-Za-z])?)(?![\w])")
_UPPER_WORD = re.compile(r"(?<![\w$#/])([A-Z][A-Z0-9]{1,5})(?![\w/])")


@cache
def _names_re() -> re.Pattern[str]:
    names = sorted(NAMES, key=len, reverse=True)  # "meta platforms" before "meta"
    return re.compile(r"(?<![\w$#])(" + "|".join(re.escape(n) for n in names) + r")(?![\w])", re.I)


def find_symbols(text: str) -> tuple[str, ...]:
    """Tickers named in a headline: $cashtags, upper-case known tickers, and company or coin
    names from NAMES. In order of first mention, without repeats."""
    hits: list[tuple[int, str]] = []
    for m in _CASHTAG.finditer(text):
        hits.append((m.start(), m.group(1).upper()))
    for m in _names_re().finditer(text):
        name = m.group(1).lower()
        if name in PROPER_NOUN_ONLY and not m.group(1)[0].isupper():
            continue
        hits.append((m.start(), NAMES[name]))
    for m in _UPPER_WORD.finditer(text):
        if m.group(1) in TICKERS:
            hits.append((m.start(), m.group(1)))
    return tuple(dict.fromkeys(sym for _, sym in sorted(hits)))
