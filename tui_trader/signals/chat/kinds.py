"""What a message asks for: open (entry), close (exit), move levels (update), withdraw a
pending order (cancel), nothing (info), or something we cannot trade (unsupported).

The cue lexicons are in cues.py; this module combines them by a fixed precedence: cancel,
exit, update, a status report, and only then an entry. It errs towards *not* reading an
entry: a message that closes, moves, cancels, reports, asks, hedges, plans, denies or looks
back is never an entry, and a plan inside an entry post ("move SL to BE after TP1") is
noted rather than acted on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from tui_trader.core.enums import Side
from tui_trader.signals.chat.cues import (
    AGENT_BEFORE_RE,
    AGENT_EXIT_RE,
    ALL_RE,
    ASKS_ABOUT_CALL_RE,
    BREAKEVEN_RE,
    CANCEL_PRONOUN_RE,
    CANCEL_RE,
    CONDITION_RE,
    DETERMINER_RE,
    EXIT_RE,
    FUTURE_RE,
    HEDGE_RE,
    MARKET_SUBJECT_RE,
    MODAL_RE,
    NEGATION_RE,
    NOT_POSITION_RE,
    OPTIONS_COUNT_RE,
    OPTIONS_RES,
    PAST_RE,
    PAST_VERB_RE,
    PENDING_RE,
    PLAN_AFTER_RE,
    PLAN_BEFORE_RE,
    POSITION_AFTER_RE,
    REPOST_RE,
    SENTENCE_START_RE,
    SIDE_RE,
    SOFT_EXIT_RE,
    STATUS_RE,
    UPDATE_RE,
)
from tui_trader.signals.chat.segments import is_question, opens_question, sentence_at


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


def options_reason(raw: str, *, counted: bool = False) -> str | None:
    """Why the message is about options, or None. `raw` keeps case (tickers are upper-case).
    With `counted`, only the strike-like count ("150 call"), which means options only when the
    message names an underlying (the caller knows)."""
    if re.search(r"\b(?:shares|stock)\b", raw, re.I):
        return None  # "puts are too expensive, shorting the shares": about the stock
    for rx in (OPTIONS_COUNT_RE,) if counted else OPTIONS_RES:
        m = rx.search(raw)
        if m:
            return f"options ({' '.join(m.group(0).split())}) are not traded here"
    return None


@dataclass
class Classified:
    kind: Kind
    reason: str = ""  # for info / unsupported: why nothing is done
    plans: tuple[str, ...] = ()  # management plans noted in an entry post
    hedged: str | None = None
    side_ref: Side | None = None  # the position a non-entry refers to ("my BTC long")
    command_side: Side | None = None  # the side an entry asks for
    repost: str | None = None  # an entry that repeats an earlier call


@dataclass
class SideWords:
    """Every side word, by mood: asked for now, about a position, negated, asked, reported,
    planned or hedged."""

    commands: list[Side] = field(default_factory=list)
    plural: list[Side] = field(default_factory=list)  # "longs": a command only with levels
    past: list[Side] = field(default_factory=list)  # "shorted", "gold sells": a call only with a stop
    refs: list[Side] = field(default_factory=list)
    negated: bool = False
    asked: bool = False
    reported: bool = False  # in a sentence that reports a fill or a running trade
    future: str | None = None  # "going to long": a plan unless it comes with a stop
    modal: str | None = None  # "might long", "should short": a hedge


def _side_of(word: str) -> Side:
    return Side.BUY if word.startswith(("long", "buy", "bull", "bto")) else Side.SELL


def side_words(low: str) -> SideWords:
    """Each side word read in its context: 'not shorting' (negated), 'the ETH long' (a
    position), 'Anyone long?' (asked), 'ETH long filled' (reported), 'going to long' (a
    plan), 'might long' (hedged), else a command."""
    out = SideWords()
    reported: dict[tuple[int, int], bool] = {}  # sentence -> holds a status report
    for m in SIDE_RE.finditer(low):
        word = m.group(1)
        sentence = sentence_at(low, m.start())
        before = low[max(0, m.start() - 30) : m.start()]
        if NEGATION_RE.search(before):
            out.negated = True
        elif DETERMINER_RE.search(before):
            out.refs.append(_side_of(word))
        elif is_question(low, m.start()):
            out.asked = True
        elif reported.setdefault(sentence, _status(low[slice(*sentence)]) is not None):
            out.reported = True
            out.refs.append(_side_of(word))
        elif word in ("buys", "sells"):
            out.past.append(_side_of(word))  # "gold sells 2,412-2,418, invalidation 2,426": with a stop
        elif word in ("longs", "shorts"):
            out.plural.append(_side_of(word))  # "longs getting wrecked": people, not an order
        elif word in ("longed", "shorted") and not MODAL_RE.search(before):
            out.past.append(_side_of(word))  # "shorted the top lol": a report, unless with a stop
        else:
            future = FUTURE_RE.search(before)
            modal = MODAL_RE.search(before)
            if future and out.future is None:
                out.future = " ".join(future.group(0).split())
            if modal and out.modal is None:
                out.modal = " ".join(modal.group(0).split())
            out.commands.append(_side_of(word))
    return out


def side_commands(low: str) -> tuple[list[Side], list[Side], bool]:
    """(sides asked for, sides referred to such as 'the ETH long', any side word negated)."""
    words = side_words(low)
    return words.commands, words.refs, words.negated


def _is_plan(low: str, m: re.Match[str]) -> bool:
    if PAST_VERB_RE.match(m.group(0)):
        return False  # "closed 50% at TP1" reports what was done
    start, end = sentence_at(low, m.start())
    # "Half off at TP1 on DOGE ✅": the mark of a done action makes "at TP1" a report of it
    done = _DONE.search(low, m.end(), end) is not None
    return (
        (bool(PLAN_AFTER_RE.match(low[m.end() : m.end() + 40])) and not done)
        or bool(PLAN_BEFORE_RE.search(low[max(0, m.start() - 24) : m.start()]))
        or bool(CONDITION_RE.search(low, start, m.start()))
    )


_DONE = re.compile(r"\bdone\b")  # also what text.normalise makes of ✅


# "the take profit", "new take profit": a noun (a level), not the act of taking profit.
_NOUN_BEFORE = re.compile(
    r"\b(?:the|new|your|my|our|a|first|second|final|lower|raise|move|adjust|set|update|change)\s*$"
)
# "above 25.80 close", "daily close", "earnings after close", "into the close": the close of a
# candle or of the market (a noun), not closing a trade. On the same line only: a number ending
# the line above is not a candle's.
_CANDLE_BEFORE = re.compile(
    r"(?:\d[\d,.]*k?|\b(?:daily|weekly|monthly|hourly|\d+[mhdw]|h\d|candle|body|until|till|before|after|above"
    r"|below|over|under|into|by|near|session|the)|\b(?:on|at)\s+(?:a|the))[ \t]*\Z"
)
# "closed the week", "closes the day green", "closing this candle": what closes is a period of
# the market, not a trade.
_PERIOD_AFTER = re.compile(
    r"\s*(?:the|this|last|its|a|today'?s|yesterday'?s)?\s*(?:day|week|month|year|quarter|session|candle|bar"
    r"|daily|weekly|monthly|hourly|\d+[mhdw])\b"
)
_CONDITIONAL_BEFORE = re.compile(r"\b(?:if|once|when|until|unless|while|after|before|till)\s+(?:\S+\s+)?$")


# "Market close all BTC", "market sell the rest": the order type before the bare verb at a
# sentence start (not "markets close early", "market closes early", "market closed").
_MARKET_ORDER = re.compile(r"(?:^|[\n:;,.!\-\]\)|>*#»])\s*market\s+\Z")
_MARKET_ORDER_VERBS = ("close", "exit", "sell", "out")
# A header tag the message opens with ("[VIP]", "ALERT:", "🔥 PREMIUM |", "@everyone"): not
# what it asks.
# "[VIP] Market close XAUUSD short" and "VIP Cut XAUUSD short" close the short (both were read
# as a new short entry: the tag stood where a sentence starts).
_HEADER = re.compile(
    r"\A[\s:|>#*\-]*(?:(?:vip|premium|free|alert|breaking|urgent|@everyone|@here|@channel)\b[\s:|>#*\-]*)+"
)


_AT_PRICE = re.compile(r"\s*(?:at|@|around|near|into)\s*\$?\.?\d")
_PRICE_NEXT = re.compile(r"\s*\$?\.?\d")  # after a phrase that ends in "at" ("out at 140")
# "Longs getting stopped out everywhere", "Everyone is closing their BTC longs", "Funds sold
# their BTC": the crowd's trades, told as news (each was read as an exit at full confidence).
# "BTC longs closed" is a provider's own report: longs and shorts are the crowd only while
# something is done to them. "@everyone" is a chat mention (all of the channel), not a subject.
_CROWD_BEFORE = re.compile(
    r"(?:\b(?:longs|shorts)\s+(?:are\s+|were\s+|keep\s+)?(?:getting|being)"
    r"|(?<!@)\b(?:bulls|bears|people|traders|everyone|everybody|retail|funds|whales|institutions|others|they)"
    r"(?:\s+(?:are|is|were|was|keep|kept|have|had|all|just|already|getting|being))*(?:\s+\w+ing(?:\s+to)?)?)\s+\Z"
)
# "Not closing my ETH long yet", "Don't exit your SOL shorts", "Should have closed my BTC long":
# no exit is asked for now
_NOT_NOW_BEFORE = re.compile(
    r"\b(?:not|don'?t|do\s+not|won'?t|will\s+not|never|no\s+need\s+to"
    r"|(?:should|could|would|might)(?:\s+have|'ve)|wish\s+i(?:\s+had|'d))\s+(?:be\s+|going\s+to\s+|gonna\s+)?\Z"
)
# "SPY closed green": the market's close, not a trade's
_COLOUR_AFTER = re.compile(r"\s*(?:green|red|higher|lower|positive|negative|strong|weak)\b")
# "Exit strategy for BTC: 75k", "My exit on ETH was perfect": the noun
_EXIT_NOUN = re.compile(r"\s*(?:strategy|plan|point|target|level|price|was|is|liquidity)\b")
_POSSESSIVE_BEFORE = re.compile(r"\b(?:my|our|his|her|their|your)\s+\Z")
# "Short SOL, target out at 140": where the call gets out is its target, not an exit now
_TARGET_BEFORE = re.compile(r"\b(?:target|tp\d?|take\s*profit)\s*:?\s*\Z")


def _live(rx: re.Pattern[str], low: str, entry_post: bool = False) -> tuple[list[str], list[str]]:
    """(phrases that act now, phrases that are plans). In an entry post, an exit at a price
    ("Short NFLX at 710, covering at 690, stop 722") is the plan for the target; so is one
    after a target word ("Short SOL, target out at 140")."""
    now: list[str] = []
    plans: list[str] = []
    for m in rx.finditer(low):
        if opens_question(low, m.start()):
            continue  # "Should I close my BTC?", "Anyone else get stopped on SOL?": asked, not done
        if _CROWD_BEFORE.search(low, 0, m.start()) or _NOT_NOW_BEFORE.search(low, 0, m.start()):
            continue  # others' trades, or nothing asked for now (an exit, a stop moved, a cancel)
        if rx is EXIT_RE and (
            (m.group(0).startswith("clos") and _COLOUR_AFTER.match(low, m.end()))
            or (m.group(0).startswith("exit") and (_EXIT_NOUN.match(low, m.end())
                                                   or _POSSESSIVE_BEFORE.search(low, 0, m.start())))
        ):
            continue
        said = m.group(0).split()
        at_price = _AT_PRICE.match(low, m.end()) or (said[-1] in ("at", "@") and _PRICE_NEXT.match(low, m.end()))
        if at_price and (entry_post or _TARGET_BEFORE.search(low, 0, m.start())):
            plans.append(" ".join(said))
            continue
        if rx is EXIT_RE and m.group(0).startswith("take") and _NOUN_BEFORE.search(low[: m.start()]):
            continue
        if rx is EXIT_RE and m.group(0).startswith("clos") and _CANDLE_BEFORE.search(low[: m.start()]):
            continue  # "above 25.80 close", "daily close": a candle close, not closing a trade
        if rx is EXIT_RE and m.group(0).startswith("clos") and _PERIOD_AFTER.match(low, m.end()):
            continue  # "gold closed the week at the highs": the market closing a period
        if (
            rx is EXIT_RE
            and MARKET_SUBJECT_RE.search(low[max(0, m.start() - 30) : m.start()])
            and not (_MARKET_ORDER.search(low, 0, m.start()) and m.group(0).split()[0] in _MARKET_ORDER_VERBS)
        ):
            continue  # "markets closed Monday"; not "Market close all BTC" (the order type)
        (plans if _is_plan(low, m) else now).append(" ".join(m.group(0).split()))
    return now, plans


def _agent_exits(low: str) -> list[str]:
    """'Cut SOL here', 'dumping my bag': the provider does it. 'Fed cuts rates', 'gold might
    dump': the market does, and nothing is closed."""
    found = []
    for m in AGENT_EXIT_RE.finditer(low):
        if opens_question(low, m.start()):
            continue
        before = low[max(0, m.start() - 30) : m.start()]
        imperative = m.group(1) is not None and (SENTENCE_START_RE.search(before) or not before.strip())
        agent = imperative or AGENT_BEFORE_RE.search(before) or POSITION_AFTER_RE.match(low, m.end())
        if agent and not MODAL_RE.search(before) and not NOT_POSITION_RE.match(low, m.end()) and not _is_plan(low, m):
            found.append(m.group(0))
    return found


def _status(low: str) -> str | None:
    """A report on an earlier order or trade ('filled', 'still holding'), not 'once filled'."""
    for m in STATUS_RE.finditer(low):
        if not _CONDITIONAL_BEFORE.search(low[max(0, m.start() - 20) : m.start()]):
            return " ".join(m.group(0).split())
    return None


def _cancels(low: str) -> list[str]:
    found, _ = _live(CANCEL_RE, low)
    if not found and PENDING_RE.search(low):
        found = [m.group(0) for m in CANCEL_PRONOUN_RE.finditer(low)]  # "never filled, deleting it"
    return found


def classify(
    low: str,
    *,
    has_levels: bool,
    has_stop: bool,
    result: bool = False,
    new_level: bool = False,
    target_hit: bool = False,
) -> Classified:
    """The kind, by fixed precedence: cancel, exit, update, a status report, then an entry
    only from a side word asked for now (or firm levels with a stop).

    `low`: the lower-cased message with the symbol blanked; `has_levels`: an entry, stop or
    target number was found; `has_stop`: a stop number was found; `result`: a result figure
    ("+12%", "+3R"); `new_level`: a stop number or breakeven was read (for "lock in profits");
    `target_hit`: "TP1 hit" was read (a call with its target hit is a report on that call)."""
    low = _HEADER.sub(lambda m: " " * len(m.group(0)), low, count=1)
    words = side_words(low)
    commands = words.commands + (words.plural if has_levels else []) + (words.past if has_stop else [])
    refs, negated = words.refs, words.negated
    side_ref = next(iter(refs or commands or words.plural), None)
    if _cancels(low):
        return Classified(Kind.CANCEL, side_ref=side_ref)
    entry_post = bool(commands) and has_stop and _entry_price_stated(low)
    exits, exit_plans = _live(EXIT_RE, low, entry_post)
    exits += _agent_exits(low)
    updates, update_plans = _live(UPDATE_RE, low)
    be_now, be_plans = _live(BREAKEVEN_RE, low)
    hedge = HEDGE_RE.search(low)
    hedged = _g(hedge) or words.modal or (words.future if not has_stop else None)
    if exits:
        return Classified(Kind.EXIT, side_ref=_position_side(low, refs, side_ref), hedged=hedged)
    soft = SOFT_EXIT_RE.search(low)
    # In a complete call (side, entry price, stop), a stop move is its management plan.
    if (updates or be_now or (soft and new_level)) and not entry_post:
        return Classified(Kind.UPDATE, side_ref=side_ref, hedged=hedged)
    if soft:
        return Classified(Kind.EXIT, side_ref=_position_side(low, refs, side_ref), hedged=hedged)
    # A report ("filled", "still holding", "TP1 hit") is about a call already made, even when
    # it repeats that call's levels: reading it as a new call would open the trade twice.
    status = _status(low) or ("target hit" if target_hit else None)
    if status:
        return Classified(Kind.INFO, f"reports on an earlier order or trade ('{status}'), not a new call")
    if ASKS_ABOUT_CALL_RE.search(low):
        return Classified(Kind.INFO, "asks about a call, does not make one")
    plans = tuple(exit_plans + update_plans + be_plans + (updates + be_now if entry_post else []))
    question = "?" in low
    if commands and (words.modal or words.future) and not has_stop:
        return Classified(Kind.INFO, f"a plan ('{words.modal or words.future}'), not a call")
    if commands and result and not has_stop:
        return Classified(Kind.INFO, "reports a result, not a call")
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
        repost = REPOST_RE.search(low)
        return Classified(Kind.ENTRY, plans=plans, hedged=hedged, command_side=commands[0], repost=_g(repost))
    if words.asked:
        return Classified(Kind.INFO, "a question, not a call")
    if words.reported:
        return Classified(Kind.INFO, "reports on an earlier order or trade, not a new call")
    if has_levels and has_stop and not negated and not question:
        return Classified(Kind.ENTRY, plans=plans, hedged=hedged, repost=_g(REPOST_RE.search(low)))
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


def _position_side(low: str, refs: list[Side], side_ref: Side | None) -> Side | None:
    """The side of the position an exit closes: 'my BTC long', 'the gold sell', 'short',
    'covering' (a short)."""
    if refs:
        return refs[0]
    m = re.search(r"\b(long|longs|short|shorts)\b", low)
    if m:
        return _side_of(m.group(1))
    if re.search(r"\bcover(?:ed|ing|s)?\b", low):
        return Side.SELL
    return side_ref if side_ref is not None and not re.search(r"\b(?:sell|sold|selling)\b", low) else None


# -- exit size -------------------------------------------------------------------------------

_FRACTION_WORDS = (
    (r"\bhalf\b|\b50\s*/\s*50\b|(?<![\d/])1/2\b", Decimal("0.5")),
    (r"\b(?:a|one|another)\s+third\b|\b1/3\b", Decimal("0.3333")),
    (r"\btwo\s+thirds\b|\b2/3\b", Decimal("0.6667")),
    (r"\bthree\s+quarters\b|\b3/4\b", Decimal("0.75")),
    (r"\b(?:a|one|another)\s+quarter\b|\b1/4\b", Decimal("0.25")),
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


# "Closed SPY up 2%", "BTC long closed, up 12%", "Closed ETH for 5% profit": the trade's result,
# not the part closed (each closed that part: 2 %, 12 %, 5 % of the position, the rest left open)
_RESULT_BEFORE = re.compile(r"\b(?:up|down|for|at|with|gained|made|netted|returned|result(?:ed)?|a)\s*\Z")


def _size_pct(low: str) -> Decimal | None:
    for rx in (_EXIT_VERB_PCT, _PCT_SIZE):
        for m in rx.finditer(low):
            if not _RESULT_BEFORE.search(low, 0, m.start(1)):
                return Decimal(m.group(1))
    return None


def exit_fraction(low: str) -> tuple[Decimal | None, str | None]:
    """(fraction of the position to close, doubt). 1 unless a part is named; None (with the
    doubt) when the message says 'some' without saying how much."""
    pct = _size_pct(low)
    if pct is not None and 0 < pct <= 100:
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
