"""The entry of a call: a labelled price or zone, a list of entries, a trigger ("above 3450",
"if it loses 62k", "if 3,300 reclaimed"), "@ price", "long 3200", the order type written
with the side ("buy stop 452"), and market words ("now", "CMP"). Reads after the stops and
targets (see parse.py), so what is left near the side word is the entry."""

from __future__ import annotations

import re

from tui_trader.core.enums import OrderType, Side
from tui_trader.signals.chat.levels import LABEL_GAP, Entry, Levels, after_label, number_at, range_at
from tui_trader.signals.chat.text import Text

# "buy stop 452" / "sell limit 3450": the entry order's own type.
ORDER_ENTRY_RE = re.compile(
    r"\b(?:(buy|sell)[\s-](stop|limit)|(?:entry\s+)?(trigger)(?:\s+(?:at|@|price))?"
    r"|(stop)\s+entry(?:\s+(?:at|@))?)\b(?:\s*(?:on|for|at|@|:)\b)*\s*[:@]?\s*(?:(?:on|for|at)\b\s*)?[:@]?\s*",
    re.I,
)
ENTRY_LABEL_RE = re.compile(
    r"\b(?:entry\s*(?:zone|price|range|area|point)?|entries|enter(?:\s+at)?|open(?:ing)?\s*(?:price)?"
    r"|(?:buy|sell|long|short)\s*(?:zone|range|area)|zone|buy\s*:|sell\s*:"
    r"|accumulat(?:e|ing|ion)(?:\s+(?:zone|area|range))?|load(?:ing)?\s+(?:zone|area)|dca(?:\s+(?:zone|area|levels?))?"
    r"|starter(?:\s+(?:position|entry|buy))?)",
    re.I,
)
# A stop entry for a long ("above 3450", "on a break of"), for a short ("if it loses 62k").
# "if it breaks 540", "on a break of 150": a stop entry whichever the side.
BREAK_TRIGGER_RE = re.compile(
    r"\b(?:(?:if|when|once|on)\s+(?:it\s+|price\s+|we\s+)?)?(?:a\s+)?(?:break(?:s|ing)?|breakout|breakdown)"
    r"(?:\s+(?:of|at|@))?(?!\s*(?:above|over|below|under|down)\b)\s*",
    re.I,
)
UP_TRIGGER_RE = re.compile(
    r"\b(?:(?:if|when|once|on)\s+(?:it\s+|price\s+|we\s+)?)?(?:(?:a\s+)?(?:break(?:s|ing)?|"
    r"breakout|closes|close|reclaim(?:s|ing)?|flip(?:s|ping)?)(?:\s+(?:above|over|of))?|above|over)"
    r"\s*(?:of\s+)?",
    re.I,
)
DOWN_TRIGGER_RE = re.compile(
    r"\b(?:(?:if|when|once|on)\s+(?:it\s+|price\s+|we\s+)?)?(?:(?:a\s+)?(?:loses|losing|lose|loss"
    r"|breakdown|break(?:s|ing)?(?:\s*(?:down|below|under))?|closes|close)(?:\s+(?:below|under|of))?"
    r"|below|under)\s*(?:of\s+)?",
    re.I,
)
AT_RE = re.compile(
    r"(?:@|\bat\b|\baround\b|\bnear\b|\bfrom\b|\bbetween\b|~|\bprice\b|\bfill\b|\binto\b"
    r"|\b(?:pull\s*back|pullback|dips?|retrace(?:ment)?|retest|drop|bounce|flush|wick)"
    r"\s+(?:to|into|at|of|from|near|around)\b"
    r"|\bon\s+(?:the\s+|a\s+|this\s+)?(?:dip|dips|pullback|pull\s*back|retest|retrace)\b"
    r"(?:\s+(?:to|into|at|of|from|near|around)\b)?)\s*",
    re.I,
)
SIDE_ENTRY_RE = re.compile(
    r"\b(?:long|short|buy|sell|buying|selling|longing|shorting|longs|shorts|buys|sells)\b\s*"
    r"(?:(?:the\s+)?(?:dip|dips|retest|pullback|bounce|spot|limit|it|this|here|now|entry|scalp|swing|perp"
    r"|position|trade)\s*)*[:@]?\s*",
    re.I,
)
# "short on SOL here 155", "long now @ 64k": the market price quoted as a reference.
HERE_PRICE_RE = re.compile(r"\b(?:here|now|cmp)\s*(?:at|@|around|~|:)?\s*(?=\$?\.?\d)", re.I)
# "buying the 500 retest": the price before the word that says what it is.
LEVEL_NOUN_RE = re.compile(
    r"\b(?:the|a)\s+(?=\$?\.?\d[\d,.]*k?\s+(?:retest|level|support|bounce|reclaim|flip|area|zone|test)\b)",
    re.I,
)
_LEVEL_NOUN_TAIL = re.compile(r"\s+(?:retest|level|support|bounce|reclaim|flip|area|zone|test)\b", re.I)
# "if 3,300 reclaimed", "once 62k is lost": a stop entry at that price.
COND_LEVEL_RE = re.compile(
    r"\b(?:if|once|when|on)\s+(?=\$?\.?\d[\d,.]*k?\s+(?:is\s+|gets\s+)?(?:reclaimed|reclaims|flipped|flips"
    r"|broken|breaks|cleared|clears|lost|breaks\s+down|taken\s+out)\b)",
    re.I,
)
_COND_TAIL = re.compile(
    r"\s+(?:is\s+|gets\s+)?(?:reclaimed|reclaims|flipped|flips|broken|breaks(?:\s+down)?|cleared|clears|lost"
    r"|taken\s+out)\b",
    re.I,
)
# "Entry: 0.4820 (market)", "Entry: CMP (~148)": the entry line itself says market.
MARKET_ENTRY_RE = re.compile(r"\b(?:entry|entries|enter)\b[^\n]{0,24}?\b(?:market|cmp)\b", re.I)
MARKET_RE = re.compile(
    r"\b(?:cmp|at market|market order|market price|market|now|here|current price|asap|instant)\b",
    re.I,
)
_MARKET_NEAR = 24  # a market word this close after the side word makes the entry a market order


def read_order_entry(t: Text, lv: Levels) -> None:
    """'buy stop 452', 'sell limit 3450': read before stops, so 'stop 452' is not a stop loss."""
    m = ORDER_ENTRY_RE.search(t.low)
    if m is not None:
        got = range_at(t, m.end())
        if got is not None:
            kind = OrderType.LIMIT if (m.group(2) or "").lower() == "limit" else OrderType.STOP
            lv.entry, lv.entry_type = got[0], kind
            t.take(m.start(), got[1])


def read_entry(t: Text, lv: Levels, side: Side | None, symbol_end: int | None) -> None:
    """Labelled entries beat triggers beat '@ price' beat 'LONG 3200' beat 'BTC 3200'."""
    if lv.entry:
        return
    labelled = [(m, ENTRY_LABEL_RE) for m in ENTRY_LABEL_RE.finditer(t.low)]
    others = sorted(
        (
            (m, rx)
            for rx in (
                BREAK_TRIGGER_RE,
                UP_TRIGGER_RE,
                DOWN_TRIGGER_RE,
                COND_LEVEL_RE,
                LEVEL_NOUN_RE,
                HERE_PRICE_RE,
                AT_RE,
                SIDE_ENTRY_RE,
            )
            for m in rx.finditer(t.low)
        ),
        key=lambda pair: pair[0].start(),
    )
    for label, rx in [*labelled, *others]:
        if not t.low[label.start() : label.end()].strip():
            continue
        start = label.end()
        if rx is ENTRY_LABEL_RE:  # "Entry above 3450": the gap may hold a trigger word
            gap = LABEL_GAP.match(t.low, start)
            words = t.low[start : gap.end()] if gap else ""
            start = gap.end() if gap else start
            kind = _trigger_type(words, side)
        elif rx is BREAK_TRIGGER_RE or rx is COND_LEVEL_RE:
            kind = OrderType.STOP
        elif rx is UP_TRIGGER_RE:
            kind = OrderType.STOP if side is Side.BUY else OrderType.LIMIT
        elif rx is DOWN_TRIGGER_RE:
            kind = OrderType.STOP if side is Side.SELL else OrderType.LIMIT
        else:
            kind = OrderType.LIMIT
        gap = _COMMA_GAP.match(t.low, start)  # "on this dip, 23.80"
        start = gap.end() if gap else start
        got = range_at(t, start)
        if got is None:
            continue
        entry, end = _more_entries(t, *got)
        tail = {LEVEL_NOUN_RE: _LEVEL_NOUN_TAIL, COND_LEVEL_RE: _COND_TAIL}.get(rx)
        if tail is not None:
            m = tail.match(t.low, end)
            end = m.end() if m else end
        lv.entry, lv.entry_type = entry, kind
        t.take(label.start(), end)
        return
    if symbol_end is not None:  # "LINK 13.25 - 13.60 buy zone"
        got = range_at(t, after_label(t, symbol_end))
        if got is not None:
            entry, end = _more_entries(t, *got)
            lv.entry, lv.entry_type = entry, OrderType.LIMIT
            t.take(symbol_end, end)


_COMMA_GAP = re.compile(r"\s*,?\s*")
_ENTRY_LIST_SEP = re.compile(r"\s*(?:/|\||,|;|&|\band\b|-)\s*", re.I)


def _more_entries(t: Text, entry: Entry, end: int) -> tuple[Entry, int]:
    """'Entries: 5.10 | 4.90', 'DCA 13.80 / 13.20 / 12.60': several entry prices are a zone
    from the lowest to the highest."""
    prices = list(entry)
    while True:
        sep = _ENTRY_LIST_SEP.match(t.low, end)
        got = number_at(t, sep.end()) if sep else None
        if sep is None or got is None:
            break
        prices.append(got[0])
        end = got[1]
    return (min(prices), max(prices)) if len(prices) > 1 else entry, end


def _trigger_type(words: str, side: Side | None) -> OrderType:
    up = re.search(r"\b(above|over)\b", words) is not None
    down = re.search(r"\b(below|under)\b", words) is not None
    if (up and side is Side.BUY) or (down and side is Side.SELL):
        return OrderType.STOP
    return OrderType.LIMIT


def market_near_side(low: str) -> bool:
    """'LONG BTC here', 'SELL NOW @ 2338', 'short now': a market word right after a side word."""
    for m in re.finditer(r"\b(?:long|short|buy|sell|longing|shorting|buying|selling)\b", low):
        if MARKET_RE.search(low[m.end() : m.end() + _MARKET_NEAR]):
            return True
    return bool(re.search(r"\b(?:cmp|at market|market order|market price|current price)\b", low))
