"""Parse free-form trade-signal messages as providers post them in chat.

The parser is a set of small, ordered regular-expression rules. Each rule consumes
(masks) the text it used, so one number is never read twice: leverage first, then
the symbol, targets, stop and finally the entry. What it could not be sure about is
written to `reasons` and lowers `confidence`; it never invents a level.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tui_trader.core.enums import Direction, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.core.orders import OrderRequest
from tui_trader.core.signals import Signal
from tui_trader.signals.symbols import is_ticker_word, resolve_symbol, split_glued_pair

Entry = Decimal | tuple[Decimal, Decimal] | None

EXAMPLE = "BTC/USDT LONG entry 64000-64500 SL 63000 TP1 66000 TP2 68000"


class ParseError(UserError):
    """The message holds no recognisable trade signal."""


@dataclass(frozen=True, slots=True)
class ParsedSignal:
    """One provider message, read: the levels found, how sure we are, and why not more."""

    text: str
    symbol: str
    side: Side
    entry: Entry = None  # a price, a (low, high) zone, or None for "at market"
    stop: Decimal | None = None
    targets: tuple[Decimal, ...] = ()
    leverage: Decimal | None = None
    confidence: float = 1.0
    reasons: tuple[str, ...] = ()

    @property
    def direction(self) -> Direction:
        return Direction.LONG if self.side is Side.BUY else Direction.SHORT

    @property
    def entry_price(self) -> Decimal | None:
        """The single price an order would use: the price, or the middle of the zone."""
        if isinstance(self.entry, tuple):
            return (self.entry[0] + self.entry[1]) / 2
        return self.entry

    @property
    def risk_reward(self) -> float | None:
        """Reward to the first target over the risk to the stop (the R of target 1); None if
        a level is missing or on the wrong side."""
        entry = self.entry_price
        if entry is None or self.stop is None or not self.targets or entry == self.stop:
            return None
        sign = self.side.sign
        if (entry - self.stop) * sign <= 0 or (self.targets[0] - entry) * sign <= 0:
            return None  # a level on the wrong side: no meaningful R
        return float((self.targets[0] - entry) * sign / ((entry - self.stop) * sign))

    def to_order_request(
        self,
        quantity: Decimal,
        *,
        venue: str | None = None,
        provider: str | None = None,
        symbol: str | None = None,
    ) -> OrderRequest:
        """A bracket order: limit at the entry (or zone middle), stop loss, first target."""
        if quantity <= 0:
            raise UserError(f"order quantity must be positive, got {quantity}; pass a size above 0")
        price = self.entry_price
        return OrderRequest(
            symbol=symbol or self.symbol,
            side=self.side,
            quantity=quantity,
            type=OrderType.LIMIT if price is not None else OrderType.MARKET,
            price=price,
            venue=venue,
            stop_loss=self.stop,
            take_profit=self.targets[0] if self.targets else None,
            source=f"signal:{provider or 'chat'}",
            tag="chat",
        )

    def to_signal(self, provider: str, at: datetime, *, reliability: float | None = None) -> Signal:
        """The engine-wide Signal; `reliability` (0..1, the provider's record) scales confidence."""
        confidence = self.confidence * (1.0 if reliability is None else reliability)
        return Signal(
            source=f"chat:{provider}",
            symbol=self.symbol,
            direction=self.direction,
            strength=self.confidence,
            ts=at,
            reason=_shorten(self.text, 120),
            confidence=max(0.0, min(1.0, confidence)),
            meta=self.as_dict(),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: prices as strings, the zone as [low, high]."""
        entry: Any = None
        if isinstance(self.entry, tuple):
            entry = [str(self.entry[0]), str(self.entry[1])]
        elif self.entry is not None:
            entry = str(self.entry)
        price = self.entry_price
        rr = self.risk_reward
        return {
            "symbol": self.symbol,
            "side": self.side.value,
            "direction": self.direction.value,
            "entry": entry,
            "entry_price": None if price is None else str(price),
            "stop": None if self.stop is None else str(self.stop),
            "targets": [str(t) for t in self.targets],
            "leverage": None if self.leverage is None else str(self.leverage),
            "risk_reward": None if rr is None else round(rr, 2),
            "confidence": round(self.confidence, 2),
            "reasons": list(self.reasons),
            "text": self.text,
        }


# ---------------------------------------------------------------------------
# Rules. Patterns run on a lower-cased copy unless they need case (symbols).

_NUM = r"\$?(\d+(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+)(k)?(?![\w%])"
NUM_RE = re.compile(r"(?<![\w.])" + _NUM, re.I)
_RANGE_TAIL = re.compile(r"\s*(?:-|to|~|/|and)\s*(?<![\w.])" + _NUM, re.I)
_LIST_SEP = re.compile(r"\s*(?:,|/|\||;|&|\band\b|-|\s)\s*", re.I)
_LABEL_GAP = re.compile(r"\s*[:=@)\-]?\s*(?:at\s+|around\s+|between\s+|below\s+|above\s+)?", re.I)

LEVERAGE_RES = (
    re.compile(
        r"\b(?:leverage|lev)\s*[:=]?\s*(?:cross|isolated|iso)?\s*[:=]?\s*x?(\d+(?:\.\d+)?)\s*x?\b",
        re.I,
    ),
    re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d+)?)\s?x(?!\w)", re.I),
    re.compile(r"(?<![\w.])x\s?(\d{1,3}(?:\.\d+)?)(?![\w.])", re.I),
)
_QUOTE_ALT = "USDT|USDC|BUSD|FDUSD|TUSD|USD|EUR|BTC|ETH"
PAIR_RE = re.compile(
    rf"(?<![\w$#])[$#]?([A-Za-z0-9]{{2,12}})\s?[/\-_:]\s?({_QUOTE_ALT})(?:\.P|[\s-]?PERP)?(?![A-Za-z0-9])",
    re.I,
)
GLUED_RE = re.compile(r"(?<![\w$#])[$#]?([A-Za-z0-9]{4,16})(?:\.P)?(?![\w])")
CASHTAG_RE = re.compile(r"\$([A-Za-z][A-Za-z0-9.]{0,9})(?![\w])")
HASHTAG_RE = re.compile(r"#([A-Za-z][A-Za-z0-9]{1,11})(?![\w])")
WORD_RE = re.compile(r"(?<![\w$#/.])([A-Za-z][A-Za-z0-9]{1,9})(?![\w/])")
SIDE_RE = re.compile(
    r"\b(long|longs|buy|buying|bullish|short|shorts|sell|selling|bearish)\b(?![\s-]term)", re.I
)
# "TP1 66000" and "Target 2: 150" carry an index; "TP 5" is a target of 5.
TARGET_LABEL_RE = re.compile(
    r"\b(?:take[\s-]*profits?|targets?|tgts?|tps?)(?:\d(?![\w.,])|\s\d(?=\s*[:)]))?", re.I
)
STOP_LABEL_RE = re.compile(r"\b(?:stop[\s-]*loss|stoploss|sl|stop|invalidation|inv)\b", re.I)
ENTRY_LABEL_RE = re.compile(
    r"\b(?:entry\s*(?:zone|price|range|area)?|entries|enter|(?:buy|sell)\s*(?:zone|range|area)|zone)\b",
    re.I,
)
AT_LABEL_RE = re.compile(r"(?:@|\bat\b|\baround\b|\bnear\b|\bprice\b)", re.I)
SIDE_ENTRY_RE = re.compile(r"\b(?:long|short|buy|sell)\b\s*(?:now\s*)?[:@]?", re.I)
MARKET_RE = re.compile(r"\b(?:cmp|market|now|current price)\b", re.I)

# Upper-case words that are never a symbol (signal jargon).
NOT_SYMBOLS = frozenset(
    """
    LONG SHORT BUY SELL SL TP TP1 TP2 TP3 TP4 TP5 ENTRY ENTRIES STOP LOSS TARGET TARGETS TGT
    LEVERAGE LEV CROSS ISOLATED ISO SPOT FUTURES FUTURE SIGNAL SIGNALS NOW CMP ZONE RR USD USDT
    USDC PERP NEW VIP ALERT UPDATE MARKET LIMIT TAKE PROFIT AT DCA HODL ATH DYOR NFA BE BUYING
    SELLING BULLISH BEARISH RISK HIGH LOW MID AND OR THE FOR ON IN TO OF WITH BELOW ABOVE TRADE
    SETUP SWING SCALP CALL PUT CALLS PUTS PRICE RANGE AREA NEAR AROUND FREE PREMIUM
    """.split()  # noqa: SIM905 (a word list reads better than 90 quoted strings)
)

# Confidence penalties: one table so the scoring is easy to read and to tune.
PENALTY = {
    "symbol_guessed": 0.25,
    "symbol_unknown": 0.2,
    "several_symbols": 0.1,
    "side_inferred": 0.15,
    "both_sides": 0.1,
    "no_entry": 0.05,
    "no_stop": 0.25,
    "no_targets": 0.1,
    "stop_wrong_side": 0.4,
    "stop_in_zone": 0.3,
    "target_wrong_side": 0.3,
    "targets_unordered": 0.05,
    "level_far": 0.2,
    "low_rr": 0.1,
    "wide_zone": 0.1,
    "several_stops": 0.1,
    "leftover_numbers": 0.05,
    "odd_leverage": 0.1,
}
FAR_FACTOR = Decimal(3)  # a level more than 3x (or under 1/3 of) the entry is probably a typo
WIDE_ZONE = Decimal("0.10")  # an entry zone wider than 10 % of its middle


class _Text:
    """The message being read; `take` blanks out a span so no rule reads it twice."""

    def __init__(self, text: str) -> None:
        self.s = text

    def take(self, start: int, end: int) -> None:
        self.s = self.s[:start] + " " * (end - start) + self.s[end:]


def _clean(text: str) -> str:
    """Emojis and decorations become spaces; dashes and full-width colons become ASCII."""
    out = []
    for ch in text:
        if ch in "–—−‒":
            out.append("-")
        elif ch in "：":
            out.append(":")
        elif ch.isascii():
            out.append(ch if ch.isprintable() else " ")
        else:
            cat = unicodedata.category(ch)
            out.append(ch if cat[0] in "LN" else " ")
    return "".join(out)


def _num(value: str, k: str | None) -> Decimal:
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex only lets digits through
        raise ParseError(f"cannot read the number {value!r}") from None
    if not k:
        return number
    number *= 1000
    return (
        number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()
    )


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else str(d)


def _shorten(text: str, limit: int) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def _number_at(t: _Text, pos: int) -> tuple[Decimal, int] | None:
    m = NUM_RE.match(t.s, pos)
    return (_num(m.group(1), m.group(2)), m.end()) if m else None


def _after_label(t: _Text, end: int) -> int:
    gap = _LABEL_GAP.match(t.s, end)
    return gap.end() if gap else end


def _range_at(t: _Text, pos: int) -> tuple[Entry, int] | None:
    first = _number_at(t, pos)
    if first is None:
        return None
    value, end = first
    tail = _RANGE_TAIL.match(t.s, end)
    if tail:
        other = _num(tail.group(1), tail.group(2))
        return (min(value, other), max(value, other)), tail.end()
    return value, end


def _leverage(t: _Text) -> Decimal | None:
    for rx in LEVERAGE_RES:
        m = rx.search(t.s)
        if m:
            t.take(m.start(), m.end())
            return Decimal(m.group(1))
    return None


@dataclass
class _SymbolPick:
    symbol: str | None = None
    reasons: list[str] = field(default_factory=list)
    penalty: float = 0.0


def _symbol(t: _Text, known: Collection[str] | None) -> _SymbolPick:
    """Pairs beat glued pairs beat $cashtags beat #hashtags beat known words beat guesses."""
    pick = _SymbolPick()
    found: list[tuple[str, int, int, str]] = []  # (symbol, start, end, how)
    for m in PAIR_RE.finditer(t.s):
        if any(c.isalpha() for c in m.group(1)):
            found.append((f"{m.group(1).upper()}/{m.group(2).upper()}", m.start(), m.end(), "pair"))
    if not found:
        for m in GLUED_RE.finditer(t.s):
            word = m.group(1)
            pair = split_glued_pair(word)
            stable = pair is not None and pair.split("/")[1].startswith(
                ("USD", "BUSD", "FDUSD", "TUSD")
            )
            if pair and any(c.isalpha() for c in pair.split("/")[0]) and (word.isupper() or stable):
                found.append((pair, m.start(), m.end(), "pair"))
    if not found:
        found = [
            (m.group(1).rstrip(".").upper(), m.start(), m.end(), "cashtag")
            for m in CASHTAG_RE.finditer(t.s)
        ]
    if not found:
        found = [
            (m.group(1).upper(), m.start(), m.end(), "hashtag")
            for m in HASHTAG_RE.finditer(t.s)
            if m.group(1).upper() not in NOT_SYMBOLS
            and (
                is_ticker_word(m.group(1))
                or (known is not None and resolve_symbol(m.group(1), known) is not None)
                or (known is None and m.group(1).isupper())
            )
        ]
    if not found and known:
        found = [
            (m.group(1).upper(), m.start(), m.end(), "known")
            for m in WORD_RE.finditer(t.s)
            if m.group(1).upper() not in NOT_SYMBOLS and resolve_symbol(m.group(1), known)
        ]
    if not found:
        found = [
            (m.group(1).upper(), m.start(), m.end(), "ticker")
            for m in WORD_RE.finditer(t.s)
            if m.group(1).upper() not in NOT_SYMBOLS and is_ticker_word(m.group(1))
        ]
    if not found:
        found = [
            (m.group(1), m.start(), m.end(), "guess")
            for m in WORD_RE.finditer(t.s)
            if m.group(1).isupper()
            and m.group(1) not in NOT_SYMBOLS
            and any(c.isalpha() for c in m.group(1))
        ]
    if not found:
        return pick
    distinct = list(dict.fromkeys(f[0] for f in found))
    symbol, _, _, how = found[0]
    for f in found:
        if f[0] == symbol:
            t.take(f[1], f[2])
    if len(distinct) > 1:
        pick.reasons.append(f"several symbols ({', '.join(distinct[:4])}); took {symbol}")
        pick.penalty += PENALTY["several_symbols"]
    if how == "guess":
        pick.reasons.append(f"symbol guessed from the word {symbol}")
        pick.penalty += PENALTY["symbol_guessed"]
    if known is not None:
        resolved = resolve_symbol(symbol, known)
        if resolved is None:
            pick.reasons.append(f"{symbol} is not among the known symbols")
            pick.penalty += PENALTY["symbol_unknown"]
        else:
            symbol = resolved
    pick.symbol = symbol
    return pick


def _targets(t: _Text) -> list[Decimal]:
    targets: list[Decimal] = []
    while True:
        label = TARGET_LABEL_RE.search(t.s)
        if label is None:
            return targets
        pos = _after_label(t, label.end())
        t.take(label.start(), label.end())
        got = _number_at(t, pos)
        while got is not None:
            value, end = got
            targets.append(value)
            t.take(pos, end)
            sep = _LIST_SEP.match(t.s, end)
            if sep is None:
                break
            pos = sep.end()
            got = _number_at(t, pos)


def _stops(t: _Text) -> list[Decimal]:
    stops: list[Decimal] = []
    for label in list(STOP_LABEL_RE.finditer(t.s)):
        pos = _after_label(t, label.end())
        got = _number_at(t, pos)
        if got is not None:
            stops.append(got[0])
            t.take(label.start(), got[1])
    return stops


def _entry(t: _Text) -> tuple[Entry, bool]:
    """(entry, market_words_seen). Labelled entries beat '@ price' beat 'LONG 3200'."""
    for rx in (ENTRY_LABEL_RE, AT_LABEL_RE, SIDE_ENTRY_RE):
        for label in rx.finditer(t.s):
            got = _range_at(t, _after_label(t, label.end()))
            if got is not None:
                t.take(label.start(), got[1])
                return got[0], False
    return None, MARKET_RE.search(t.s) is not None


def _side(text: str) -> tuple[Side | None, list[str]]:
    words = [m.group(1).lower() for m in SIDE_RE.finditer(text)]
    if not words:
        return None, []
    sides = [Side.BUY if w.startswith(("long", "buy", "bull")) else Side.SELL for w in words]
    if len(set(sides)) > 1:
        return sides[0], [f"both buy and sell words; took {sides[0].value} (the first)"]
    return sides[0], []


def _infer_side(entry: Decimal | None, stop: Decimal | None, targets: list[Decimal]) -> Side | None:
    if stop is not None and targets:
        return Side.BUY if targets[0] > stop else Side.SELL if targets[0] < stop else None
    if stop is not None and entry is not None and entry != stop:
        return Side.BUY if stop < entry else Side.SELL
    if entry is not None and targets and targets[0] != entry:
        return Side.BUY if targets[0] > entry else Side.SELL
    return None


def _sanity(
    side: Side, entry: Entry, stop: Decimal | None, targets: list[Decimal]
) -> tuple[list[str], float]:
    """Checks a trader would do by eye: levels on the right side, plausible size, sane R."""
    reasons: list[str] = []
    penalty = 0.0
    sign = side.sign
    mid = (entry[0] + entry[1]) / 2 if isinstance(entry, tuple) else entry
    word = "long" if side is Side.BUY else "short"
    if isinstance(entry, tuple) and mid and (entry[1] - entry[0]) / mid > WIDE_ZONE:
        reasons.append(f"entry zone {_fmt(entry[0])}-{_fmt(entry[1])} is wider than 10 %")
        penalty += PENALTY["wide_zone"]
    if stop is None:
        reasons.append("no stop given")
        penalty += PENALTY["no_stop"]
    if not targets:
        reasons.append("no target given")
        penalty += PENALTY["no_targets"]
    if mid is None:
        reasons.append("no entry price: it would be a market order")
        penalty += PENALTY["no_entry"]
        if stop is not None and any((tg - stop) * sign <= 0 for tg in targets):
            reasons.append(f"stop {_fmt(stop)} is beyond a target for a {word}")
            penalty += PENALTY["stop_wrong_side"]
        return reasons, penalty
    if stop is not None:
        if isinstance(entry, tuple) and entry[0] <= stop <= entry[1]:
            reasons.append(f"stop {_fmt(stop)} is inside the entry zone")
            penalty += PENALTY["stop_in_zone"]
        elif (mid - stop) * sign <= 0:
            where = "above" if side is Side.BUY else "below"
            reasons.append(f"stop {_fmt(stop)} is {where} the entry for a {word}")
            penalty += PENALTY["stop_wrong_side"]
    wrong = [tg for tg in targets if (tg - mid) * sign <= 0]
    if wrong:
        where = "below" if side is Side.BUY else "above"
        shown = ", ".join(_fmt(w) for w in wrong)
        reasons.append(f"target {shown} is {where} the entry for a {word}")
        penalty += PENALTY["target_wrong_side"]
    ordered = sorted(targets, reverse=side is Side.SELL)
    if not wrong and targets != ordered:
        reasons.append("targets are out of order")
        penalty += PENALTY["targets_unordered"]
    far = [
        lv
        for lv in [*targets, *([stop] if stop is not None else [])]
        if mid > 0 and (lv > mid * FAR_FACTOR or lv * FAR_FACTOR < mid)
    ]
    if far:
        reasons.append(f"level {_fmt(far[0])} is far from the entry {_fmt(mid)}; check the number")
        penalty += PENALTY["level_far"]
    if stop is not None and targets and not wrong and (mid - stop) * sign > 0:
        rr = abs(targets[0] - mid) / abs(mid - stop)
        if rr < 1:
            reasons.append(f"first target pays {float(rr):.2f} R (less than the risk)")
            penalty += PENALTY["low_rr"]
    return reasons, penalty


def parse_signal(text: str, *, known_symbols: Collection[str] | None = None) -> ParsedSignal:
    """Read one message. Raises ParseError (one line) when no symbol or no side can be found."""
    if not text or not text.strip():
        raise ParseError(f"empty message; paste a signal such as '{EXAMPLE}'")
    t = _Text(_clean(text))
    reasons: list[str] = []
    penalty = 0.0

    leverage = _leverage(t)
    if leverage is not None and not (1 <= leverage <= 125):
        reasons.append(f"leverage {_fmt(leverage)}x looks wrong")
        penalty += PENALTY["odd_leverage"]
    pick = _symbol(t, known_symbols)
    if pick.symbol is None:
        raise ParseError(
            f"no symbol found in '{_shorten(text, 60)}'; name it like BTC/USDT, $AAPL or #ETH"
        )
    reasons += pick.reasons
    penalty += pick.penalty
    side, side_notes = _side(t.s)
    reasons += side_notes
    penalty += PENALTY["both_sides"] * bool(side_notes)

    targets = _targets(t)
    stops = _stops(t)
    entry, _market = _entry(t)
    stop = stops[0] if stops else None
    if len(set(stops)) > 1:
        reasons.append(
            f"several stops ({', '.join(_fmt(s) for s in stops)}); took {_fmt(stops[0])}"
        )
        penalty += PENALTY["several_stops"]

    if side is None:
        mid = (entry[0] + entry[1]) / 2 if isinstance(entry, tuple) else entry
        side = _infer_side(mid, stop, targets)
        if side is None:
            raise ParseError(
                f"no side found in '{_shorten(text, 60)}'; say LONG/BUY or SHORT/SELL, "
                "or give a stop and a target"
            )
        reasons.append(f"side inferred from the levels ({side.value})")
        penalty += PENALTY["side_inferred"]

    checks, check_penalty = _sanity(side, entry, stop, targets)
    reasons += checks
    penalty += check_penalty
    leftovers = [m.group(0).strip() for m in NUM_RE.finditer(t.s)]
    if leftovers:
        reasons.append(f"ignored numbers: {', '.join(leftovers[:5])}")
        penalty += PENALTY["leftover_numbers"]

    return ParsedSignal(
        text=text.strip(),
        symbol=pick.symbol,
        side=side,
        entry=entry,
        stop=stop,
        targets=tuple(targets),
        leverage=leverage,
        confidence=round(max(0.0, min(1.0, 1.0 - penalty)), 4),
        reasons=tuple(reasons),
    )
