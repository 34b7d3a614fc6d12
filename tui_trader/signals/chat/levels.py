"""Price levels in a message: leverage, targets, stops, and levels given as a percentage, in
pips or in R of the entry (the entry itself is read in entries.py). Each reader blanks what
it used (see text.Text)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from tui_trader.core.enums import OrderType, Side
from tui_trader.signals.chat.text import NUM_RE, NUMBER, PERCENT_RE, Text, to_decimal

Entry = tuple[Decimal, ...]  # () market, (price,) or (low, high)

_RANGE_TAIL = re.compile(r"\s*(?:-|to|~|/|and)\s*(?<![\w.])" + NUMBER, re.I)
_LIST_SEP = re.compile(r"\s*(?:,\s*(?:then|and)\b|,|/|\||;|&|\band\b|\bthen\b|-|>|\s)\s*", re.I)
# Between a label and its number: "SL: 63000", "stop at 3,640", "TP on LINK to 15.2".
_GAP_WORDS = (
    # "trailed under the 4h low, 3,210": where the level sits, then the level (first: it is longer)
    r"(?:under|below|above|beneath|over)\s+(?:the\s+|yesterday'?s\s+|today'?s\s+|this\s+)?(?:\d+[mhdw]\s+|daily\s+"
    r"|weekly\s+|hourly\s+)?(?:low|high|candle|wick|swing\s+low|swing\s+high|range|support|resistance)\s*,?|"
    r"now|out|at|to|@|around|near|between|below|above|under|over|on|for|of|is|=|:|-|~|->|>|"
    r"moved to|set to|back to|level|price|zone|area|range|loss|in|within|up|down|"
    r"raised|lowered|moved|trailed|changed|updated|adjusted|bumped|pushed|tightened|shifted|revised|"
    r"extended|reduced|"
    r"(?:a\s+)?(?:daily|weekly|4h|1h|h4|h1|hourly|15m|candle|body)?\s*(?:close|closes|closing)|"
    r"longs?|shorts?|positions?|trades?"
)
# A symbol in the gap may touch the number ("SL@2352", "TP:66k"); a word may not ("at3").
LABEL_GAP = re.compile(rf"(?:\s*(?:[@:=~>|-]+|(?:{_GAP_WORDS})(?![\w])))*\s*", re.I)

LEVERAGE_RES = (
    re.compile(
        r"\b(?:leverage|lev)\s*[:=]?\s*(?:cross|isolated|iso)?\s*[:=]?\s*x?(\d+(?:\.\d+)?)\s*x?\b",
        re.I,
    ),
    re.compile(
        r"(?:\b(?:cross|isolated|iso)\s*)?(?<![\w.])(\d{1,3}(?:\.\d+)?)\s?x(?!\w)(?:\s*(?:lev|leverage)\b)?", re.I
    ),
    re.compile(r"(?<![\w.])x\s?(\d{1,3}(?:\.\d+)?)(?![\w.])", re.I),
)
# "TP1 66000" and "Target 2: 150" carry an index; "TP 5" is a target of 5.
TARGET_LABEL_RE = re.compile(
    r"\b(?:take[\s-]*profits?|targets?|tgts?|trgts?|tps?|pts?|price\s+targets?|objectives?)"
    r"(?:\d(?![\w.]|,\d)|\s\d(?=\s*[:)]|\s+-\s|\s+to\s))?",
    re.I,
)
# "and 48 target": the number before the label (and no number after it).
_BEFORE_NUMBER = r"(?:\b(?:a|an|and|with|hard|tight|mental)|^|[|•;,/\n])\s*"  # "with a 68k stop", "| 6.05 SL"
TARGET_AFTER_RE = re.compile(
    r"(?:\b(?:a|an|and|with)|^|[|•;,/\n])\s*(?<![\w.])"
    + NUMBER
    + r"[ \t]+(?:as\s+(?:the\s+|a\s+|my\s+)?)?(?:price\s+)?(?:target|tp|pt)\b"
    r"(?!\s*[:=@]?\s*[-+]?\$?\d)",
    re.I,
)
# Targets in multiples of the risk: "TP 2R", "targets: 1.5R, 3R".
R_TARGETS_RE = re.compile(
    r"\b(?:tp\d?|tps|targets?|take[\s-]*profits?)\s*[:=]?\s*"
    r"((?:\d+(?:\.\d+)?\s?r\b(?![:/]r)(?:\s*(?:,|/|&|\band\b|\s)\s*)?)+)",
    re.I,
)
# Levels in pips from the entry (forex): "SL 20 pips", "TP: 40 pips".
PIPS_RE = re.compile(
    r"\b(?:(sl|stop[\s-]*loss|stoploss|stop)|(?:tp\d?|targets?|take[\s-]*profits?))\s*[:=]?\s*"
    r"(\d+(?:\.\d+)?)\s*pips?\b",
    re.I,
)
# Targets said in words: "looking for 3,400", "aiming for 70k" (only with a number after).
SOFT_TARGET_RE = re.compile(
    r"\b(?:looking\s+for|aiming\s+(?:for|at)|targeting|upside\s+to|downside\s+to|eyeing"
    r"|(?:second|third|fourth|final|last|2nd|3rd|4th)(?:\s+(?:target|tp|one))?"
    r"|reward(?:\s+(?:to|at|up\s+to|down\s+to))?)\s*[:=]?\s+(?=\$?\d)",
    re.I,
)
STOP_LABEL_RE = re.compile(
    r"\b(?:stop[\s-]*loss|stoploss|sl|stops?|stp|invalidation|invalid|inv|(?:i'?ll\s+be\s+|i'?m\s+)?wrong|risk(?=\s*[:=]?\s*(?:(?:to|at|down\s+to)\s+)?\$?\.?\d))\b(?!\s*(?:hunt|order))",
    re.I,
)
# "with a 68k stop": the number before the label (and no number after it).
STOP_AFTER_RE = re.compile(
    _BEFORE_NUMBER
    + r"(?<![\w.])"
    + NUMBER
    + r"[ \t]+(?:as\s+(?:the\s+|an?\s+|my\s+)?)?(?:hard\s+)?(?:stop[\s-]*loss|stop|sl|invalidation)\b"
    r"(?!\s*[:=@]?\s*[-+]?\$?\d)",
    re.I,
)


@dataclass
class Levels:
    """What was read; prices are Decimals, percentages are relative to the entry."""

    entry: Entry = ()
    entry_type: OrderType | None = None
    market_word: bool = False
    stops: list[Decimal] = field(default_factory=list)
    stop_pcts: list[tuple[str, Decimal]] = field(default_factory=list)  # ("-", 5) for "-5%"
    targets: list[Decimal] = field(default_factory=list)
    target_at: list[int] = field(default_factory=list)  # text position of each target
    target_pcts: list[tuple[str, Decimal]] = field(default_factory=list)
    target_rs: list[Decimal] = field(default_factory=list)  # multiples of the entry-stop risk
    stop_pips: list[Decimal] = field(default_factory=list)
    target_pips: list[Decimal] = field(default_factory=list)
    leverage: Decimal | None = None
    unreadable: list[str] = field(default_factory=list)  # labels with no level after them

    def add_target(self, pos: int, value: Decimal) -> None:
        """Targets stay in the order they are written, whichever rule read them."""
        i = sum(1 for p in self.target_at if p < pos)
        self.targets.insert(i, value)
        self.target_at.insert(i, pos)


def number_at(t: Text, pos: int) -> tuple[Decimal, int] | None:
    m = NUM_RE.match(t.low, pos)
    return (to_decimal(m.group(1), m.group(2)), m.end()) if m else None


def after_label(t: Text, end: int) -> int:
    gap = LABEL_GAP.match(t.low, end)
    return gap.end() if gap else end


def range_at(t: Text, pos: int) -> tuple[Entry, int] | None:
    first = number_at(t, pos)
    if first is None:
        return None
    value, end = first
    tail = _RANGE_TAIL.match(t.low, end)
    if tail:
        other = to_decimal(tail.group(1), tail.group(2))
        return (min(value, other), max(value, other)), tail.end()
    return (value,), end


def read_leverage(t: Text) -> Decimal | None:
    for rx in LEVERAGE_RES:
        m = rx.search(t.low)
        if m:
            t.take(m.start(), m.end())
            return Decimal(m.group(1))
    return None


# Words after a label that say there is no new level, rather than one we could not read.
_NOT_A_LEVEL = frozenset(
    {"hit", "done", "reached", "smashed", "filled", "unchanged", "same", "stays", "stay", "remain", "remains"}
    | {"untouched", "kept", "open"}  # "TP3: open": no fixed target, the rest runs
    | {"take", "close", "move", "sell", "book", "secure", "trim", "exit", "then", "and"}  # "TP1 take 50%"
)
# A label right after a label ("Targets moved on NVDA: TP1 126") is a list, not a missing level.
_NEXT_LABEL = re.compile(r"(?:tp\d?|tps|targets?|sl|stop|stops|entry|entries|pt\d?)\b")


def _unreadable_word(t: Text, pos: int, label_start: int) -> str | None:
    """The word after a label that has no number ('tba', '???'): a level we could not read.
    None when there is nothing to read: a label denied ("no target yet", "without a stop"),
    a word that says there is no new level, or another label."""
    denied = re.search(r"\b(?:no|without)\s*$", t.low[max(0, label_start - 8) : label_start])
    if denied or _NEXT_LABEL.match(t.low, pos):
        return None
    m = re.match(r"[\w?][^\s,;|]{0,11}", t.low[pos:])
    return m.group(0) if m and m.group(0) not in _NOT_A_LEVEL else None


def read_r_targets(t: Text, lv: Levels) -> None:
    """Before the noise rules, which would take '2R' for a result."""
    for m in list(R_TARGETS_RE.finditer(t.low)):
        lv.target_rs += [Decimal(x) for x in re.findall(r"(\d+(?:\.\d+)?)\s?r\b", m.group(1))]
        t.take(m.start(), m.end())


def read_pips(t: Text, lv: Levels) -> None:
    for m in list(PIPS_RE.finditer(t.low)):
        (lv.stop_pips if m.group(1) else lv.target_pips).append(Decimal(m.group(2)))
        t.take(m.start(), m.end())


def read_soft_targets(t: Text, lv: Levels) -> None:
    for m in list(SOFT_TARGET_RE.finditer(t.low)):
        got = number_at(t, m.end())
        if got is not None:
            lv.add_target(m.start(), got[0])
            t.take(m.start(), got[1])


def read_targets(t: Text, lv: Levels) -> None:
    for m in list(TARGET_AFTER_RE.finditer(t.low)):
        lv.add_target(m.start(), to_decimal(m.group(1), m.group(2)))
        t.take(m.start(), m.end())
    while True:
        label = TARGET_LABEL_RE.search(t.low)
        if label is None:
            return
        pos = after_label(t, label.end())
        name = label.group(0).strip()
        t.take(label.start(), label.end())
        got = number_at(t, pos)
        pct = _percent_after(t, label.end(), pos) if got is None else None
        if got is None and pct is None:
            word = _unreadable_word(t, pos, label.start())
            if word is not None:
                lv.unreadable.append(f"{name} {word}")
            continue
        while got is not None or pct is not None:
            if got is not None:
                value, end = got
                lv.add_target(pos, value)
            else:
                assert pct is not None
                lv.target_pcts.append(_signed(pct))
                end = pct.end()
            t.take(min(pos, label.end()), end)
            sep = _LIST_SEP.match(t.low, end)
            if sep is None:
                break
            pos = sep.end()
            got = number_at(t, pos)
            pct = PERCENT_RE.match(t.low, pos) if got is None else None


def _signed(m: re.Match[str]) -> tuple[str, Decimal]:
    return m.group(1) or "", Decimal(m.group(2))


_COLON = re.compile(r"\s*[:=]?\s*")


def _percent_after(t: Text, label_end: int, pos: int) -> re.Match[str] | None:
    """'sl -5%': the sign is read before the label gap could eat the '-'."""
    near = _COLON.match(t.low, label_end)
    return PERCENT_RE.match(t.low, near.end() if near else label_end) or PERCENT_RE.match(t.low, pos)


# "stop up to TP1 level on SOL (158)": a level named by reference, its price in brackets.
STOP_TO_REF_RE = re.compile(
    r"\b(?:stop[\s-]*loss|stoploss|sl|stops?)\b[^\n(]{0,16}?\b(?:to|at)\s+(?:the\s+)?(?:tp\s?\d|target\s?\d|first\s+target)"
    r"(?:\s+(?:level|price))?[^\n(]{0,24}?\(\s*" + NUMBER + r"\s*\)",
    re.I,
)


def read_stop_references(t: Text, lv: Levels) -> None:
    """Before the targets, which would read 'TP1' as a target label."""
    for m in list(STOP_TO_REF_RE.finditer(t.low)):
        lv.stops.append(to_decimal(m.group(1), m.group(2)))
        t.take(m.start(), m.end())


def read_stops(t: Text, lv: Levels) -> None:
    for m in list(STOP_AFTER_RE.finditer(t.low)):
        lv.stops.append(to_decimal(m.group(1), m.group(2)))
        t.take(m.start(), m.end())
    for label in list(STOP_LABEL_RE.finditer(t.low)):
        if t.low[label.start() : label.end()].strip() == "":
            continue  # already taken by an earlier rule
        pos = after_label(t, label.end())
        got = number_at(t, pos)
        if got is not None:
            lv.stops.append(got[0])
            t.take(label.start(), got[1])
            continue
        pct = _percent_after(t, label.end(), pos)
        if pct is not None:
            lv.stop_pcts.append(_signed(pct))
            t.take(label.start(), pct.end())
            continue
        word = _unreadable_word(t, pos, label.start())
        if word is not None:
            lv.unreadable.append(f"{label.group(0).strip()} {word}")
        t.take(label.start(), label.end())


def apply_percentages(lv: Levels, side: Side, pip: Decimal | None = None) -> list[str]:
    """Relative levels become prices now that the entry is known: for a long, 'sl -5%' is 5 %
    below the entry and 'tp +10%' 10 % above it; 'SL 20 pips' is 20 x `pip` below it (when
    the symbol has a known pip); 'TP 2R' twice the risk. Returns notes for signs that disagree."""
    notes: list[str] = []
    if not (lv.stop_pcts or lv.target_pcts or lv.target_rs or lv.stop_pips or lv.target_pips) or not lv.entry:
        return notes
    mid = sum(lv.entry, Decimal(0)) / len(lv.entry)
    sign = side.sign
    if pip is not None:
        lv.stops += [(mid - n * pip * sign).normalize() for n in lv.stop_pips]
        for n in lv.target_pips:
            lv.targets.append((mid + n * pip * sign).normalize())
        lv.stop_pips.clear()
        lv.target_pips.clear()
    away = {Side.BUY: "+", Side.SELL: "-"}[side]  # the sign a target has for this side
    for written, pct in lv.stop_pcts:
        if written == away:
            notes.append(f"stop {written}{pct}% has the sign of a target; read as {-sign * pct:+}%")
        lv.stops.append(_rel(mid, -pct * sign))
    for written, pct in lv.target_pcts:
        if written and written != away:
            notes.append(f"target {written}{pct}% has the sign of a stop; read as {sign * pct:+}%")
        lv.targets.append(_rel(mid, pct * sign))
    lv.stop_pcts.clear()
    lv.target_pcts.clear()
    if lv.target_rs and lv.stops:
        risk = abs(mid - lv.stops[0])
        lv.targets += [(mid + k * risk * sign).normalize() for k in lv.target_rs]
        lv.target_rs.clear()
    return notes


def _rel(mid: Decimal, pct: Decimal) -> Decimal:
    value = mid * (1 + pct / 100)
    exponent = mid.as_tuple().exponent
    places = max(-exponent, 0) if isinstance(exponent, int) else 0
    return value.quantize(Decimal(1).scaleb(-(places + 2))).normalize()
