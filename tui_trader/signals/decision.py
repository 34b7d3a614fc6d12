"""The decision engine: every source's signals for a symbol -> one explained, ranked score.

For each symbol, keep the newest signal per (source, timeframe) and drop those older
than `max_half_lives`. Each signal i adds

    value_i = weight(family) * 0.5 ** (age / half_life(family)) * sign(direction) * conviction

where conviction is the signal's confidence (else its strength), family is the part of
`source` before ':' ("chat:alpha" -> "chat"). Then

    score      = sum(value_i) / sum(weight_i)                              in -1..1
    agreement  = |sum(value_i)| / sum(|value_i|)                           1 = all agree
    coverage   = sum over families present of max(weight * decay) / sum(all weights)
    confidence = agreement * sqrt(coverage)

Multi-timeframe confluence multiplies |score| by 1 + bonus * (agreeing timeframes - 1 -
opposing ones), capped; a HIGH_VOL regime damps score and confidence. Pure: the caller
passes the time.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from tui_trader.core.clock import Clock, SystemClock
from tui_trader.core.enums import Direction
from tui_trader.core.signals import Signal
from tui_trader.signals.settings import DecisionSettings
from tui_trader.signals.symbols import MARKET_WIDE

_SIGN = {Direction.LONG: 1, Direction.SHORT: -1, Direction.FLAT: 0}


def family(source: str) -> str:
    """'strategy:ema_cross' -> 'strategy'; 'news' -> 'news'."""
    return source.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class Contribution:
    """One signal's part in a recommendation, with the numbers that weighed it."""

    signal: Signal
    weight: float
    decay: float
    age_s: float
    value: float  # signed share of the score's numerator

    def describe(self) -> str:
        s = self.signal
        tf = f" {s.timeframe}" if s.timeframe else ""
        reason = f": {s.reason}" if s.reason else ""
        age = format_age(self.age_s)
        return f"{s.source}{tf} {s.direction.value} {self.value:+.2f}{reason} ({age} ago)"


@dataclass(frozen=True, slots=True)
class Recommendation:
    symbol: str
    score: float  # -1 (strong short) .. +1 (strong long)
    direction: Direction
    confidence: float  # 0..1
    top_reasons: tuple[str, ...]  # at most 3, strongest first
    contributions: tuple[Contribution, ...]
    notes: tuple[str, ...]  # confluence and volatility adjustments
    as_of: datetime

    @property
    def signals(self) -> tuple[Signal, ...]:
        return tuple(c.signal for c in self.contributions)


def format_age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def latest_per_source(signals: Iterable[Signal]) -> list[Signal]:
    """A source that repeats itself counts once: keep its newest signal per timeframe."""
    newest: dict[tuple[str, str | None], Signal] = {}
    for sig in signals:
        key = (sig.source, sig.timeframe)
        if key not in newest or sig.ts >= newest[key].ts:
            newest[key] = sig
    return list(newest.values())


def score_symbol(
    symbol: str, signals: Iterable[Signal], settings: DecisionSettings, now: datetime
) -> Recommendation | None:
    """Combine one symbol's signals; None when none is fresh enough or weighted above zero."""
    contributions: list[Contribution] = []
    for sig in latest_per_source(signals):
        fam = family(sig.source)
        weight = settings.weight(fam)
        half_life = settings.half_life(fam)
        age = max(0.0, (now - sig.ts).total_seconds())
        if weight <= 0 or age > settings.max_half_lives * half_life:
            continue
        decay = 0.5 ** (age / half_life)
        conviction = sig.confidence if sig.confidence is not None else sig.strength
        conviction = max(0.0, min(1.0, conviction))
        value = weight * decay * _SIGN[sig.direction] * conviction
        contributions.append(Contribution(sig, weight, decay, age, value))
    if not contributions:
        return None

    total = sum(c.value for c in contributions)
    score = total / sum(c.weight for c in contributions)
    magnitude = sum(abs(c.value) for c in contributions)
    agreement = abs(total) / magnitude if magnitude else 0.0
    best_per_family: dict[str, float] = {}
    for c in contributions:
        fam = family(c.signal.source)
        best_per_family[fam] = max(best_per_family.get(fam, 0.0), c.weight * c.decay)
    all_weight = sum(settings.weights.values()) or 1.0
    coverage = min(1.0, sum(best_per_family.values()) / all_weight)
    confidence = agreement * math.sqrt(coverage)

    notes: list[str] = []
    score = _confluence(score, contributions, settings, notes)
    if any(
        c.signal.meta.get("regime") == "HIGH_VOL"
        for c in contributions
        if family(c.signal.source) == "regime"
    ):
        score *= settings.high_vol_damping
        confidence *= settings.high_vol_damping
        notes.append(f"high-volatility regime: score and confidence x{settings.high_vol_damping:g}")

    score = max(-1.0, min(1.0, score))
    if score >= settings.flat_threshold:
        direction = Direction.LONG
    elif score <= -settings.flat_threshold:
        direction = Direction.SHORT
    else:
        direction = Direction.FLAT
    sign = _SIGN[direction]
    ordered = sorted(
        contributions,
        key=lambda c: (-(c.value * sign) if sign else -abs(c.value), c.signal.source),
    )
    top = tuple(c.describe() for c in ordered if c.value != 0)[:3]
    return Recommendation(
        symbol=symbol,
        score=round(score, 4),
        direction=direction,
        confidence=round(max(0.0, min(1.0, confidence)), 4),
        top_reasons=top,
        contributions=tuple(ordered),
        notes=tuple(notes),
        as_of=now,
    )


def _confluence(
    score: float, contributions: list[Contribution], settings: DecisionSettings, notes: list[str]
) -> float:
    """Boost a score that several timeframes agree on; opposing timeframes cancel agreeing ones."""
    if score == 0:
        return score
    per_tf: dict[str, float] = {}
    for c in contributions:
        if c.signal.timeframe and c.value:
            per_tf[c.signal.timeframe] = per_tf.get(c.signal.timeframe, 0.0) + c.value
    agree = sorted(tf for tf, v in per_tf.items() if v * score > 0)
    oppose = [tf for tf, v in per_tf.items() if v * score < 0]
    extra = len(agree) - 1 - len(oppose)
    if extra <= 0:
        return score
    bonus = min(settings.max_confluence_bonus, settings.confluence_bonus * extra)
    side = "long" if score > 0 else "short"
    notes.append(f"confluence: {side} on {', '.join(agree)} (+{bonus:.0%})")
    return score * (1 + bonus)


def rank(
    signals: Iterable[Signal],
    settings: DecisionSettings,
    now: datetime,
    *,
    symbols: Collection[str] | None = None,
) -> list[Recommendation]:
    """One Recommendation per symbol, strongest |score| first. Market-wide ('*') signals join
    every symbol that has signals of its own (or every symbol in `symbols`)."""
    by_symbol: dict[str, list[Signal]] = {}
    market: list[Signal] = []
    for sig in signals:
        (market if sig.symbol == MARKET_WIDE else by_symbol.setdefault(sig.symbol, [])).append(sig)
    names = set(by_symbol) | set(symbols or ())
    if symbols is not None:
        names &= set(symbols)
    out = []
    for name in names:
        extra = market if settings.market_wide else []
        rec = score_symbol(name, [*by_symbol.get(name, []), *extra], settings, now)
        if rec is not None:
            out.append(rec)
    out.sort(key=lambda r: (-abs(r.score), -r.confidence, r.symbol))
    return out


class DecisionEngine:
    """Holds the newest signal per (symbol, source, timeframe) and ranks on demand."""

    def __init__(
        self, settings: DecisionSettings | None = None, clock: Clock | None = None
    ) -> None:
        self.settings = settings or DecisionSettings()
        self.clock = clock or SystemClock()
        self._latest: dict[tuple[str, str, str | None], Signal] = {}

    def add(self, signal: Signal) -> None:
        key = (signal.symbol, signal.source, signal.timeframe)
        held = self._latest.get(key)
        if held is None or signal.ts >= held.ts:
            self._latest[key] = signal

    def extend(self, signals: Iterable[Signal]) -> None:
        for sig in signals:
            self.add(sig)

    def prune(self) -> int:
        """Forget signals too old to count; returns how many went."""
        now = self.clock.now()
        s = self.settings
        stale = [
            k
            for k, sig in self._latest.items()
            if (now - sig.ts).total_seconds() > s.max_half_lives * s.half_life(family(sig.source))
        ]
        for k in stale:
            del self._latest[k]
        return len(stale)

    def signals(self) -> list[Signal]:
        return list(self._latest.values())

    def recommend(self, symbols: Collection[str] | None = None) -> list[Recommendation]:
        self.prune()
        return rank(self._latest.values(), self.settings, self.clock.now(), symbols=symbols)
