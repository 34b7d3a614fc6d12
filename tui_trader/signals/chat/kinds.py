"""What a message asks for: open (entry), close (exit), move levels (update), withdraw a
pending order (cancel), nothing (info), or something we cannot trade (unsupported).

The rules are phrase lists over the lower-cased text with the symbol blanked out. They
err towards *not* reading an entry: a message that closes, moves, cancels, asks, hedges,
denies or looks back is never an entry, and a plan inside an entry post ("move SL to BE
after TP1") is noted rather than acted on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from tui_trader.core.enums import Side


class Kind(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"
    UPDATE = "update"
    CANCEL = "cancel"
    INFO = "info"
    UNSUPPORTED = "unsupported"

    @property
    def actionable(self) -> bool:
        return self in (Kind.ENTRY, Kind.EXIT, Kind.UPDATE, Kind.CANCEL)


# -- options and other things we cannot trade ------------------------------------------------

_OPTIONS_RES = (
    re.compile(r"(?:\$[a-z][\w.]*|\b[A-Z]{1,5})\s+(?:\$?\d+(?:\.\d+)?\s*)?(?:calls|puts)\b"),
    re.compile(
        r"\b(?:buy|buying|bought|sell|selling|sold|grab|grabbing|load|loading|adding|long|short)"
        r"\s+(?:\S+\s+){0,4}(?:calls|puts)\b",
        re.I,
    ),
    re.compile(r"\b(?:calls|puts)\s+(?:on|for|at|@|\$?\d)", re.I),
    re.compile(r"(?<![\w.])\d+(?:\.\d+)?[cp]\b"),  # 560c, 190C, 450p
    re.compile(
        r"\b(?:call|put|credit|debit|calendar|vertical)\s+spreads?\b|\biron\s+condors?\b"
        r"|\bstraddles?\b|\bstrangles?\b|\b\d*dte\b|\bstrike\b|\bexpir(?:y|ation|es|ing)\b"
        r"|\bleaps\b|\boptions?\s+(?:play|trade|flow|chain|contract)s?\b|\bcontracts?\b",
        re.I,
    ),
)


def options_reason(raw: str) -> str | None:
    """Why the message is about options, or None. `raw` keeps case (tickers are upper-case)."""
    if re.search(r"\b(?:shares|stock)\b", raw, re.I):
        return None  # "puts are too expensive, shorting the shares": about the stock
    for rx in _OPTIONS_RES:
        m = rx.search(raw)
        if m:
            return f"options ({' '.join(m.group(0).split())}) are not traded here"
    return None


# -- phrases ---------------------------------------------------------------------------------

_NUMBER_AHEAD = r"(?!\s*[:=]?\s*[\d$+\-.])"
CANCEL_RE = re.compile(
    r"\bcancel(?:l?ed|l?ing|s)?\b(?!\s+(?:if|unless|when|on\s+a|in\s+case|should))"
    r"|\b(?:scrap|scrapped|scrapping|void|voided|delete|deleted|remove|removed|removing|pull"
    r"|pulled|pulling|withdraw|withdrawn|kill|killed|scratch|scratched|scrub|scrubbed|drop|dropped"
    r"|dropping|forget|abort|aborted|abandon|abandoned)\s+(?:\S+\s+){0,4}?"
    r"(?:orders?|entry|entries|limits?|bids?|asks?|setup|idea|call|signal|trade)\b"
    r"|\b(?:ignore|disregard)\s+(?:\S+\s+){0,4}?(?:call|signal|setup|trade|entry|post|message)\b"
    r"|\b(?:setup|idea|signal|call|trade|entry|order)\s+(?:is\s+|now\s+)?"
    r"(?:invalid|invalidated|off|void|voided|dead|scrapped)\b"
    r"|\bno\s+longer\s+valid\b|\bnot\s+valid\s+anymore\b",
    re.I,
)
EXIT_RE = re.compile(
    r"\b(?:close|closes|closed|closing)\b(?!\s+(?:above|below|under|over|of\s+the|candle))"
    rf"|\b(?:exit|exits|exited|exiting)\b{_NUMBER_AHEAD}"
    r"|\b(?:take|taking|took|tp'?d)\s+(?:some\s+|partial\s+|more\s+|the\s+|my\s+|half\s+|a\s+bit\s+"
    r"|\d+(?:\.\d+)?\s*%\s*(?:of\s+)?)?(?:profits?|partials?|gains|off|half|the\s+rest)\b"
    + _NUMBER_AHEAD
    # "take profit moved to 0.140" is a level being changed (an update), not taking profit
    + r"(?!\s+(?:\d\s+)?(?:moved|raised|lowered|changed|updated|adjusted|shifted|set|revised|is|now|to|at|@)\b)"
    + r"|\b(?:take|taking|took|book|booked|booking|secure|secured|securing|bank|banked|banking"
    r"|sell|selling|close|closing|trim|trimming|scale\s+out|scaling\s+out)\s+\d+(?:\.\d+)?\s*%"
    r"|\b(?:secur(?:e|ed|es|ing)|book(?:ed|ing|s)?|bank(?:ed|ing|s)?|lock(?:ed|ing)?\s+in)\s+"
    r"(?:some\s+|the\s+|more\s+|partial\s+|half\s+|\d+(?:\.\d+)?\s*%\s*)?"
    r"(?:profits?|gains|partials?|half|the\s+rest)\b"
    r"|\bstopped(?:\s+out)?\b(?!\s+(?:at|in|by|on|near|right|just|exactly|there|here|trading))|\b(?:sl|stop|stop\s*loss)\s+(?:was\s+|got\s+)?(?:hit|taken)\b"
    r"|\bhit\s+(?:my|the|our)\s+(?:sl|stop)\b"
    r"|\b(?:fully|all|i'?m|we'?re|im|getting|got|get)\s+out\b"
    r"|\bout\s+of\b(?!\s+(?:range|nowhere|the\s+blue|control|stock|here\s+soon))"
    r"|\b(?:trim|trims|trimmed|trimming|reduce|reduced|reducing|cut|cuts|cutting|dump|dumped|dumping"
    r"|flatten|flattened|flattening)\b"
    r"|\bscal(?:e|ed|ing)\s+out\b|\b(?:go|going|went|now|stay|staying|i'?m|im|we'?re|am|are)\s+flat\b"
    r"|\bflat\s+(?:on|now)\b|\b(?:go|going|went|back)\s+to\s+cash\b|\bcash(?:ing)?\s+out\b"
    r"|\boff\s+the\s+table\b|\btak(?:e|ing)\s+(?:it|this|that|them)\s+off\b"
    r"|\b(?:half|\d+(?:\.\d+)?\s*%|a\s+third|a\s+quarter)\s+off\b"
    r"|\bout\s+(?:at|@|here|now|for|with)\b"
    r"|\bsold\b|\bsell(?:ing)?\s+(?:all|everything|it\s+all|half|some|the\s+rest|remaining|my|our"
    r"|\d+(?:\.\d+)?\s*%)"
    r"|\bcover(?:ed|ing|s)?\b",
    re.I,
)
_STOP_WORD = r"(?:sl|stop|stops|stop\s*loss|stoploss|stop-loss)"
_TARGET_WORD = r"(?:tp|tps|tp\d|target|targets|take\s*profit)"
UPDATE_RE = re.compile(
    r"\b(?:move|moving|moved|raise|raising|raised|lower|lowering|lowered|trail|trailing|trailed"
    r"|adjust|adjusting|adjusted|tighten|tightening|tightened|bump|bumping|bumped|update|updated"
    r"|change|changing|changed|shift|shifting|push|pushing|pushed|set|setting)\b\s+"
    rf"(?:\S+\s+){{0,3}}?{_STOP_WORD}|\b(?:move|moving|moved|raise|raising|raised|lower|lowering"
    r"|lowered|adjust|adjusting|adjusted|extend|extending|update|updated|change|changing|changed"
    rf"|set|setting)\b\s+(?:\S+\s+){{0,3}}?{_TARGET_WORD}"
    rf"|\bnew\s+(?:{_STOP_WORD}|{_TARGET_WORD})\b"
    rf"|\b(?:{_STOP_WORD}|{_TARGET_WORD})\s+(?:(?:on|for|of)\s+(?:the\s+|my\s+|our\s+|your\s+)?)?"
    r"(?:now|moved|updated|changed|raised|lowered|trailed|adjusted|tightened|shifted|bumped|pushed"
    r"|extended|revised|reduced|->|to)\b"
    r"|\bupdate\b",
    re.I,
)
BREAKEVEN_RE = re.compile(
    rf"\b{_STOP_WORD}\s+(?:(?:moved|move|now|to|at|on|@|->|=|:|is|back)\s+)*"
    r"(?:be|b/e|b\.e\.?|breakeven|break-even|break\s+even|entry|entries|cost|(?:our|my|the)\s+entry"
    r"|entry\s+price)\b(?:\s*\(\s*\$?\d[\d,.]*k?\s*\))?"
    r"|\brisk[\s-]?free\b"
    r"|\b(?:move|moving|moved)\s+(?:it|them|everything|all)?\s*to\s+(?:be|breakeven|break\s+even)\b"
    r"|\bbreak[\s-]?even\s+(?:stops?|sl)\b|\b(?:be|breakeven)\s+(?:stops?|sl)\b",
    re.I,
)
# A management plan inside an entry post: "move SL to BE after TP1", "will close half".
PLAN_AFTER_RE = re.compile(
    r"^\W{0,3}(?:\S+\s+){0,3}?(?:after|once|when|if|at)\s+(?:the\s+)?(?:first\s+|1st\s+|2nd\s+)?"
    r"(?:tp|target|tp\d|\d+(?:\.\d+)?\s*r\b|profit)",
    re.I,
)
PLAN_BEFORE_RE = re.compile(r"\b(?:will|gonna|going\s+to|plan\s+to|then|later|i'?ll|we'?ll)\s*(?:\S+\s*)?$", re.I)
TP_HIT_RE = re.compile(
    r"\b(?:tp|target|take\s*profit)\s*\d?\s*(?:was\s+|got\s+|has\s+been\s+)?"
    r"(?:hit|done|reached|smashed|filled|achieved|secured|tagged|touched)\b"
    r"|\bhit\s+(?:tp|target)\s*\d?\b",
    re.I,
)
SIDE_RE = re.compile(
    r"\b(long|longs|longing|buy|buying|short|shorts|shorting|sell|selling|bullish|bearish)\b"
    r"(?![\s-]term)",
    re.I,
)
_DETERMINER = re.compile(r"\b(?:the|my|our|this|that|your|his|her|their|in|on|those|these)\s*$")
_NEGATION = re.compile(r"\b(?:not|no|don'?t|do\s+not|never|avoid|won'?t|wouldn'?t|isn'?t|careful)\s+(?:\S+\s+)?$")
HEDGE_RE = re.compile(
    r"\b(?:might|may|maybe|perhaps|could|considering|consider|thinking|watching|watch|eyeing"
    r"|waiting|wait\s+for|looking\s+for|looking\s+to|look\s+for|interested|potential|possible"
    r"|possibly|soon|later|tomorrow|would|not\s+in\s+yet|on\s+watch|watchlist"
    r"|if\s+(?:we|it|price|this|that)\s+(?!(?:loses|lose|losing|breaks?|breaking|closes?|reclaims?"
    r"|flips?|drops?|dips?|hits?|goes|taps?)\b)\w+)\b",
    re.I,
)
PAST_RE = re.compile(
    r"\b(?:yesterday|last\s+(?:week|night|time|month)|earlier\s+today|recap|great\s+call"
    r"|nice\s+call|called\s+it|played\s+out|worked\s+out|results?)\b",
    re.I,
)
ALL_RE = re.compile(
    r"\b(?:all|every|everything)\b(?:\s+(?:my|our|the|open|pending|current|active|running))*"
    r"(?:\s+(?:positions?|trades?|orders?|longs?|shorts?|entries|bags?|setups?))?",
    re.I,
)


@dataclass
class Classified:
    kind: Kind
    reason: str = ""  # for info / unsupported: why nothing is done
    plans: tuple[str, ...] = ()  # management plans noted in an entry post
    hedged: str | None = None
    side_ref: Side | None = None  # the position a non-entry refers to ("my BTC long")
    command_side: Side | None = None  # the side an entry asks for


def _side_of(word: str) -> Side:
    return Side.BUY if word.startswith(("long", "buy", "bull")) else Side.SELL


def _is_plan(low: str, m: re.Match[str]) -> bool:
    return bool(PLAN_AFTER_RE.match(low[m.end() : m.end() + 40])) or bool(
        PLAN_BEFORE_RE.search(low[max(0, m.start() - 24) : m.start()])
    )


# "the take profit", "new take profit": a noun (a level), not the act of taking profit.
_NOUN_BEFORE = re.compile(
    r"\b(?:the|new|your|my|our|a|first|second|final|lower|raise|move|adjust|set|update|change)\s*$"
)


_CANDLE_BEFORE = re.compile(
    r"(?:\d[\d,.]*k?|\b(?:daily|weekly|monthly|hourly|\d+[mhdw]|h\d|candle|body|until|before|above|below"
    r"|over|under)|\bon\s+(?:a|the))\s*$"
)


def _live(rx: re.Pattern[str], low: str) -> tuple[list[str], list[str]]:
    """(phrases that act now, phrases that are plans)."""
    now: list[str] = []
    plans: list[str] = []
    for m in rx.finditer(low):
        if rx is EXIT_RE and m.group(0).startswith("take") and _NOUN_BEFORE.search(low[: m.start()]):
            continue
        if rx is EXIT_RE and m.group(0).startswith("clos") and _CANDLE_BEFORE.search(low[: m.start()]):
            continue  # "above 25.80 close", "daily close": a candle close, not closing a trade
        (plans if _is_plan(low, m) else now).append(" ".join(m.group(0).split()))
    return now, plans


def side_commands(low: str) -> tuple[list[Side], list[Side], bool]:
    """(sides asked for, sides referred to such as 'the ETH long', any side word negated)."""
    commands: list[Side] = []
    refs: list[Side] = []
    negated = False
    for m in SIDE_RE.finditer(low):
        word = m.group(1)
        before = low[max(0, m.start() - 30) : m.start()]
        if _NEGATION.search(before):
            negated = True
            continue
        if _DETERMINER.search(before):
            refs.append(_side_of(word))
            continue
        commands.append(_side_of(word))
    return commands, refs, negated


def classify(low: str, *, has_levels: bool, has_stop: bool) -> Classified:
    """`low`: the lower-cased message with the symbol blanked; `has_levels`: an entry, stop or
    target number was found; `has_stop`: a stop number was found."""
    commands, refs, negated = side_commands(low)
    side_ref = next(iter(refs or commands), None)
    cancels, _ = _live(CANCEL_RE, low)
    if cancels:
        return Classified(Kind.CANCEL, side_ref=side_ref)
    exits, exit_plans = _live(EXIT_RE, low)
    updates, update_plans = _live(UPDATE_RE, low)
    be_now, be_plans = _live(BREAKEVEN_RE, low)
    hedge = HEDGE_RE.search(low)
    entry_like = bool(commands) and has_levels and not exits
    if exits and not entry_like:
        return Classified(Kind.EXIT, side_ref=_position_side(low, side_ref), hedged=_g(hedge))
    if (updates or be_now) and not (commands and has_stop and _entry_price_stated(low)):
        return Classified(Kind.UPDATE, side_ref=side_ref, hedged=_g(hedge))
    plans = tuple(exit_plans + update_plans + be_plans + (exits if entry_like else []))
    question = "?" in low
    bullish = [c for c in commands if c]  # bullish/bearish only count with levels
    strong = [_side_of(m.group(1)) for m in SIDE_RE.finditer(low) if not m.group(1).startswith(("bull", "bear"))]
    if commands and (strong or has_levels):
        if negated and not has_levels:
            return Classified(Kind.INFO, "the side is negated (not / don't / no)")
        if question and not has_levels:
            return Classified(Kind.INFO, "a question, not a call")
        if hedge and not has_stop:
            return Classified(Kind.INFO, f"hedged ('{hedge.group(0)}'), not a call")
        if PAST_RE.search(low) and not has_levels:
            return Classified(Kind.INFO, "looks back at a trade, not a call")
        return Classified(Kind.ENTRY, plans=plans, hedged=_g(hedge), command_side=bullish[0] if bullish else None)
    if has_levels and has_stop and not negated and not question:
        return Classified(Kind.ENTRY, plans=plans, hedged=_g(hedge))  # side from the levels
    if exit_plans or update_plans or be_plans:
        return Classified(Kind.INFO, "a plan for later, not an order now")
    if negated:
        return Classified(Kind.INFO, "the side is negated (not / don't / no)")
    if refs:
        return Classified(Kind.INFO, "talks about a trade, does not call one")
    return Classified(Kind.INFO, "no trade call found")


def _g(m: re.Match[str] | None) -> str | None:
    return None if m is None else m.group(0)


_ENTRY_PRICE = re.compile(
    r"\b(?:entry|entries|enter|buy|sell|long|short|buying|selling|longing|shorting)\b"
    r"\s*(?:\S+\s+){0,2}?[:@]?\s*\$?\d",
    re.I,
)


def _entry_price_stated(low: str) -> bool:
    """An entry post states where to get in: 'long 64000', 'Entry: 3,180'."""
    return _ENTRY_PRICE.search(low) is not None


def _position_side(low: str, side_ref: Side | None) -> Side | None:
    """The side of the position an exit closes: 'my BTC long', 'short', 'covering' (a short)."""
    m = re.search(r"\b(long|longs|short|shorts)\b", low)
    if m:
        return _side_of(m.group(1))
    if re.search(r"\bcover(?:ed|ing|s)?\b", low):
        return Side.SELL
    return side_ref if side_ref is not None and not re.search(r"\b(?:sell|sold|selling)\b", low) else None


# -- exit size -------------------------------------------------------------------------------

_FRACTION_WORDS = (
    (r"\bhalf\b|\b50\s*/\s*50\b", Decimal("0.5")),
    (r"\b(?:a|one)\s+third\b|\b1/3\b", Decimal("0.3333")),
    (r"\btwo\s+thirds\b|\b2/3\b", Decimal("0.6667")),
    (r"\bthree\s+quarters\b|\b3/4\b", Decimal("0.75")),
    (r"\b(?:a|one)\s+quarter\b|\b1/4\b", Decimal("0.25")),
)
_ALL_WORDS = re.compile(r"\b(?:rest|remaining|remainder|everything|fully|full|entire|whole|completely|all)\b", re.I)
_SOME_WORDS = re.compile(r"\b(?:some|partial|partials|a\s+bit|a\s+little|a\s+chunk|a\s+piece|part|more)\b", re.I)
_PCT_SIZE = re.compile(
    r"(?<![+\-\w.])(\d+(?:\.\d+)?)\s*%(?=\s*(?:of\s+(?:the\s+|my\s+|our\s+)?(?:position|bag|size|stack"
    r"|trade|long|short|it)|off|\s+profits?|\s+here|\s+now|\s*$|\s*[,.]))",
    re.I,
)
_EXIT_VERB_PCT = re.compile(
    r"\b(?:close|closing|closed|take|taking|took|trim|trimming|trimmed|sell|selling|sold|book"
    r"|booking|booked|secure|securing|secured|cut|cutting|reduce|reducing|reduced|bank|banking"
    r"|exit|exiting|scale\s+out|scaling\s+out|scaled\s+out)\s+(?:\S+\s+){0,1}?(\d+(?:\.\d+)?)\s*%",
    re.I,
)


def exit_fraction(low: str) -> tuple[Decimal | None, str | None]:
    """(fraction of the position to close, doubt). 1 unless a part is named; None (with the
    doubt) when the message says 'some' without saying how much."""
    m = _EXIT_VERB_PCT.search(low) or _PCT_SIZE.search(low)
    if m:
        pct = Decimal(m.group(1))
        if 0 < pct <= 100:
            return (pct / 100).normalize(), None
    for rx, value in _FRACTION_WORDS:
        if re.search(rx, low):
            return value, None
    if _ALL_WORDS.search(low):
        return Decimal(1), None
    some = _SOME_WORDS.search(low)
    if some:
        return None, f"partial exit ('{some.group(0)}') without a size; confirm how much"
    return Decimal(1), None


def mentions_all(low: str) -> bool:
    return ALL_RE.search(low) is not None
