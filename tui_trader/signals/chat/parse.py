"""Read one chat message: noise out, symbol, kind, then the levels that kind needs.

Order matters and is fixed: what is not a level (message ids, times, R:R, sizing hints)
is blanked first, then the symbol, then leverage, breakeven phrases, targets, stops and
last the entry. Numbers left at the end of an entry or update are a blocking doubt: the
parser never guesses what a number meant.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from decimal import Decimal

from tui_trader.core.enums import OrderType, Side
from tui_trader.core.forex import is_metal
from tui_trader.core.forex import pip_size as fx_pip_size
from tui_trader.signals.chat.confidence import Doubts, check_entry
from tui_trader.signals.chat.cues import BREAKEVEN_RE, RESULT_RE, TP_HIT_RE
from tui_trader.signals.chat.entries import MARKET_ENTRY_RE, market_near_side, read_entry, read_order_entry
from tui_trader.signals.chat.kinds import (
    Classified,
    Kind,
    classify,
    exit_fraction,
    mentions_all,
    options_reason,
    side_commands,
    side_words,
)
from tui_trader.signals.chat.levels import (
    Levels,
    apply_percentages,
    read_leverage,
    read_pips,
    read_r_targets,
    read_soft_targets,
    read_stop_references,
    read_stops,
    read_targets,
)
from tui_trader.signals.chat.message import EXAMPLE, ParsedSignal, ParseError
from tui_trader.signals.chat.segments import split_quote
from tui_trader.signals.chat.symbol import SymbolPick, pick_symbol
from tui_trader.signals.chat.text import Text, fmt, shorten, words_only

# Numbers that are not price levels.
_NOISE = (
    # what a level is worth, written beside it: "SL: 1.0805 (30 pips)", "TP1 (+3%): 66,200"
    re.compile(r"\(\s*[+-]?\d+(?:\.\d+)?\s*(?:pips?|%|points?|pts|r)\b[^()\n]{0,24}\)", re.I),
    re.compile(r"#\d+\b|\b(?:signal|trade|setup|id)\s*(?:no\.?|#|:)?\s*\d+\b(?!\s*[.,]\d)", re.I),
    re.compile(r"(?<![\w.:])\d{1,2}:\d{2}(?::\d{2})?\s*(?:am|pm|utc|est|et|gmt|cet)?(?!\d)", re.I),
    re.compile(
        r"\b(?:rr|r:r|r/r|risk[\s/-]*(?:to[\s-]*)?reward)\s*[:=]?\s*(?:of\s+|is\s+|~\s*)?"
        r"\d+(?:\.\d+)?(?:\s*[:/]\s*\d+(?:\.\d+)?)?",
        re.I,
    ),
    re.compile(r"(?<![\w.:])1:\d(?:\.\d+)?(?![\d.])"),  # a 1:3 risk-reward, written tight
    re.compile(r"(?<![\w.])[+-]?\d+(?:\.\d+)?\s?r\b(?![:/]r)", re.I),  # results in R: +2.3R, -1R
    # results in pips: "TP1 ✅ +36 pips" (levels in pips, "SL 20 pips", were read before)
    re.compile(r"(?<![\w.])\+\s?\d+(?:\.\d+)?\s?pips?\b", re.I),
    # the value a level had before: "stop now 141 (was 139)"
    re.compile(r"\(?\b(?:was|previously|prev|old|from)\s*:?\s*\$?\d[\d,.]*k?\)", re.I),
    re.compile(r"\b(?:was|previously)\s+\$?\d[\d,.]*k?\b", re.I),
    re.compile(
        r"\b(?:jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?\b",
        re.I,
    ),
)
_SIZING = (
    re.compile(r"\brisk(?:ing)?\s*(?:of\s+|only\s+|max\s+|just\s+)?\d+(?:\.\d+)?\s*%", re.I),
    re.compile(
        r"(?<![\w.])\d+(?:\.\d+)?\s*%\s*(?:risk|of\s+(?:my\s+|the\s+|your\s+)?(?:account|portfolio"
        r"|balance|capital|equity|bankroll)|size|position\s+size|allocation)",
        re.I,
    ),
    re.compile(r"\b(?:size|allocation)\s*[:=]?\s*\d+(?:\.\d+)?\s*%", re.I),
    re.compile(
        r"\b(?:lots?|lot\s+size|size|qty|quantity|volume|vol)\s*[:=]?\s*\d+(?:\.\d+)?\b"
        r"|(?<![\w.])\d+(?:\.\d+)?\s*lots?\b(?!\s*[:=]?\s*\d)",
        re.I,
    ),
)
_SPOT_BUY = re.compile(r"\bbuy\s*:", re.I)
_SPOT_SELL = re.compile(r"\bsell\s*:", re.I)
# Spot calls: "buy 0.0123-0.0130, sell 0.0145/0.0160": after a buy at a price, "sell <price>"
# is where to take profit.
_BUY_AT = re.compile(r"\bbuy(?:ing)?\b[^\n]{0,24}?\d", re.I)
_SELL_AT = re.compile(r"\bsell(?=\s*(?:at|@|:)?\s*\$?\.?\d)", re.I)


def parse_message(text: str, *, known_symbols: Collection[str] | None = None) -> ParsedSignal:
    """Read a message of any kind. Raises ParseError only for an empty message.

    A quoted earlier message (Discord's `> ` lines) is context: the kind and levels come from
    the reply alone; the quote names the symbol (and the position's side) when the reply
    does not ("> ETH short 3,300 ...\nclosing this here")."""
    if not text or not text.strip():
        raise ParseError(f"empty message; paste a signal such as '{EXAMPLE}'")
    parts = split_quote(text)
    t = Text(parts.body)
    doubts = Doubts()
    lv = Levels()
    read_r_targets(t, lv)
    read_pips(t, lv)
    result = bool(_R_RESULT.search(t.low))
    for rx in _NOISE:
        t.take_all(rx)
    for m in list(_OLD_LEVEL.finditer(t.low)):
        t.take(m.start(1), m.end(1))
    for rx in _SIZING:
        for m in t.take_all(rx):
            doubts.note(f"sizing hint '{' '.join(m.group(0).split())}' not used: [risk.sizing] sizes orders")
    options = options_reason(t.raw)
    counted_options = options_reason(t.raw, counted=True)
    pick = pick_symbol(t, known_symbols)
    if options is None and pick.symbol is not None:
        options = counted_options  # "AAPL weekly 190 puts"; "41 calls, 68% win rate" counts trade calls
    quoted = Text(parts.quote) if parts.quote else None
    if pick.symbol is None and quoted is not None:
        pick = pick_symbol(quoted, known_symbols)
        pick.first_end = None  # its position is in the quote, not in this text
    first_mention = pick.first_end
    base = _Base(text.strip(), pick)
    if options is not None:
        return base.inactive(Kind.UNSUPPORTED, options)
    if _SPOT_BUY.search(t.low) and _SPOT_SELL.search(t.low):
        for m in list(_SPOT_SELL.finditer(t.low)):  # spot format: "Buy: 0.34  Sell: 0.36 - 0.40"
            t.replace(m.start(), m.end(), "tp:")
    buy = _BUY_AT.search(t.low)
    if buy is not None and not re.search(r"\bshort", t.low):
        for m in list(_SELL_AT.finditer(t.low, buy.end())):
            t.replace(m.start(), m.end(), "tp")
    tp_hits = t.take_all(TP_HIT_RE)
    read_soft_targets(t, lv)
    snapshot = words_only(t.low)
    lv.leverage = read_leverage(t)
    be_found = bool(t.take_all(BREAKEVEN_RE))
    read_order_entry(t, lv)
    read_stop_references(t, lv)
    read_targets(t, lv)
    read_stops(t, lv)
    has_stop = bool(lv.stops or lv.stop_pcts or lv.stop_pips)
    has_levels = has_stop or bool(lv.targets or lv.target_pcts or lv.target_rs or lv.target_pips)
    has_levels = has_levels or bool(t.leftover_numbers())
    result = result or bool(RESULT_RE.search(t.low))
    new_level = bool(lv.stops) or be_found
    cls = classify(
        snapshot, has_levels=has_levels, has_stop=has_stop, result=result, new_level=new_level, target_hit=bool(tp_hits)
    )
    if cls.kind is Kind.INFO:
        reason = cls.reason
        if tp_hits and reason == "no trade call found":
            reason = "reports a target hit; the take-profit order already acts on it"
        return base.inactive(Kind.INFO, reason)
    if pick.symbol is not None and pick.unknown:
        return base.inactive(
            Kind.UNSUPPORTED,
            f"{pick.raw} is not traded on the configured venues; add it to a venue to trade it",
        )
    if cls.kind is Kind.ENTRY:
        return _entry(base, t, lv, cls, snapshot, doubts, first_mention)
    if cls.side_ref is None and quoted is not None:  # the position the quoted call opened
        quoted_sides = side_words(words_only(quoted.low))
        cls.side_ref = next(iter(quoted_sides.commands or quoted_sides.refs), None)
    return _manage(base, t, lv, cls, snapshot, doubts, be_found)


# The old level of a move: "target on SOL from 170 to 175".
_OLD_LEVEL = re.compile(
    r"\b(?:sl|tp|stop|stops|target|targets)\b[^\n]{0,20}?\b(from\s+\$?\d[\d,.]*k?)(?=\s+to\s+\$?\.?\d)", re.I
)
# A result in R ("+2.1R", "-1R") before the noise rules blank it: a report, not a level.
_R_RESULT = re.compile(r"(?<![\w.])[+-]?\d+(?:\.\d+)?\s?r\b(?![:/]r)", re.I)


class _Base:
    """What every kind shares: the text and the symbol with its doubts."""

    def __init__(self, text: str, pick: SymbolPick) -> None:
        self.text = text
        self.pick = pick

    def inactive(self, kind: Kind, reason: str) -> ParsedSignal:
        return ParsedSignal(self.text, kind, symbol=self.pick.symbol, confidence=0.0, reasons=(reason,))

    def symbol_doubts(self, doubts: Doubts) -> None:
        pick = self.pick
        if pick.others:
            doubts.add(
                "several_symbols",
                f"several symbols ({', '.join([pick.raw or '', *pick.others][:4])}); took {pick.symbol}",
            )
        if pick.how == "guess":
            doubts.add("symbol_guessed", f"symbol guessed from the word {pick.symbol}")


def _entry(
    base: _Base,
    t: Text,
    lv: Levels,
    cls: Classified,
    snapshot: str,
    doubts: Doubts,
    symbol_end: int | None,
) -> ParsedSignal:
    if base.pick.symbol is None:
        return base.inactive(
            Kind.INFO, "looks like a trade call but names no symbol; name it like BTC/USDT, $AAPL or #ETH"
        )
    base.symbol_doubts(doubts)
    commands, _, _ = side_commands(snapshot)
    strong = list(commands)
    side: Side | None = cls.command_side or (strong[0] if strong else None)
    if len(set(strong)) > 1:
        doubts.add("both_sides", f"both buy and sell words; took {strong[0].value} (the first)")
    read_entry(t, lv, side or _infer_side(lv), symbol_end)
    if side is None:
        side = _infer_side(lv)
        if side is None:
            return base.inactive(Kind.INFO, "no side: say LONG/BUY or SHORT/SELL, or give a stop and a target")
        doubts.add("side_inferred", f"side inferred from the levels ({side.value})")
    for note in apply_percentages(lv, side, pip_size(base.pick.symbol)):
        doubts.add("percent_sign", note)
    if lv.stop_pips or lv.target_pips:
        doubts.add("relative_without_entry", f"levels in pips, and {base.pick.symbol} has no pip size we trust")
    if lv.stop_pcts or lv.target_pcts or lv.target_rs:
        doubts.add(
            "relative_without_entry",
            "levels given in % or R of an entry price (or stop) the message does not give",
        )
    entry_type = lv.entry_type or OrderType.LIMIT
    if not lv.entry or market_near_side(snapshot) or MARKET_ENTRY_RE.search(snapshot):
        entry_type = OrderType.MARKET
    stop = lv.stops[0] if lv.stops else None
    if len(set(lv.stops)) > 1:
        shown = ", ".join(fmt(s) for s in lv.stops)
        doubts.add("several_stops", f"several stops ({shown}); took {fmt(lv.stops[0])}")
    if lv.leverage is not None and not (1 <= lv.leverage <= 125):
        doubts.add("odd_leverage", f"leverage {fmt(lv.leverage)}x looks wrong")
    check_entry(doubts, side, lv.entry, stop, lv.targets)
    for label in lv.unreadable:
        doubts.add("unreadable_level", f"could not read a level after '{label}'")
    if cls.hedged:
        doubts.add("hedged", f"hedged wording ('{cls.hedged}'): not a firm call")
    if cls.repost:
        doubts.add("repost", f"repeats an earlier call ('{cls.repost}'): you may already hold it")
    for plan in cls.plans:
        doubts.add("plan", f"management plan '{plan}' is not automated; manage it yourself")
    leftovers = t.leftover_numbers()
    if leftovers:
        doubts.add("leftover_numbers", f"numbers not placed: {', '.join(leftovers[:5])}")
    return ParsedSignal(
        base.text,
        Kind.ENTRY,
        symbol=base.pick.symbol,
        side=side,
        entry=lv.entry,
        entry_type=entry_type,
        stop=stop,
        targets=tuple(lv.targets),
        leverage=lv.leverage,
        confidence=doubts.confidence,
        reasons=tuple(doubts.reasons),
    )


def pip_size(symbol: str | None) -> Decimal | None:
    """A forex pair's pip (core.forex: 0.01 when quoted in yen, else 0.0001). None for anything
    else, metals included: a chat's "20 pips" on gold has no single meaning."""
    return None if is_metal(symbol) else fx_pip_size(symbol)


def _infer_side(lv: Levels) -> Side | None:
    stop = lv.stops[0] if lv.stops else None
    entry = sum(lv.entry, Decimal(0)) / len(lv.entry) if lv.entry else None
    targets = lv.targets
    if stop is not None and targets:
        return Side.BUY if targets[0] > stop else Side.SELL if targets[0] < stop else None
    if stop is not None and entry is not None and entry != stop:
        return Side.BUY if stop < entry else Side.SELL
    if entry is not None and targets and targets[0] != entry:
        return Side.BUY if targets[0] > entry else Side.SELL
    return None


def _manage(
    base: _Base,
    t: Text,
    lv: Levels,
    cls: Classified,
    snapshot: str,
    doubts: Doubts,
    breakeven: bool,
) -> ParsedSignal:
    """Exit, update or cancel: which position (symbol, or all of the provider's), and what."""
    kind = cls.kind
    all_symbols = base.pick.symbol is None and mentions_all(snapshot)
    if base.pick.symbol is None and not all_symbols:
        doubts.add(
            "no_symbol", f"no symbol: which {'order' if kind is Kind.CANCEL else 'position'}? confirm it yourself"
        )
    base.symbol_doubts(doubts)
    if cls.hedged:
        doubts.add("hedged", f"hedged wording ('{cls.hedged}'): not a firm instruction")
    fraction: Decimal | None = None
    stop = lv.stops[0] if lv.stops else None
    targets = tuple(lv.targets)
    leftovers = t.leftover_numbers()
    if kind is Kind.EXIT:
        fraction, doubt = exit_fraction(snapshot)
        if doubt:
            doubts.add("no_fraction", doubt)
        if leftovers:
            doubts.note(f"numbers not used (we close at market): {', '.join(leftovers[:5])}")
    elif kind is Kind.UPDATE:
        if stop is None and not breakeven and not targets:
            doubts.add("no_new_level", "no new stop or target given")
        if lv.stop_pcts or lv.target_pcts:
            doubts.add("relative_without_entry", "a level in % is not applied to an open position")
        for label in lv.unreadable:
            doubts.add("unreadable_level", f"could not read a level after '{label}'")
        if leftovers:
            doubts.add("leftover_numbers", f"numbers not placed: {', '.join(leftovers[:5])}")
    elif leftovers:
        doubts.note(f"numbers not used: {', '.join(leftovers[:5])}")
    if kind is Kind.CANCEL:
        stop, targets, breakeven = None, (), False
    return ParsedSignal(
        base.text,
        kind,
        symbol=base.pick.symbol,
        side=cls.side_ref,
        stop=stop,
        breakeven=breakeven and stop is None,
        targets=targets,
        fraction=fraction,
        all_symbols=all_symbols,
        confidence=doubts.confidence,
        reasons=tuple(doubts.reasons),
    )


def parse_signal(text: str, *, known_symbols: Collection[str] | None = None) -> ParsedSignal:
    """Read a message that must open a trade; ParseError (one line) for any other kind."""
    parsed = parse_message(text, known_symbols=known_symbols)
    if parsed.kind is not Kind.ENTRY:
        why = f": {parsed.reasons[0]}" if parsed.reasons else ""
        raise ParseError(f"not a trade entry ({parsed.kind.value}{why}) in '{shorten(text, 60)}'")
    return parsed
