"""The news classifier: one table of keyword rules, readable by any trader.

An item goes to the category with the most distinct keyword hits in its title and
summary; ties go to the row higher in the table. The hits are the explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache


class Category(StrEnum):
    FED_SPEECH = "FED_SPEECH"
    MACRO = "MACRO"
    REGULATION = "REGULATION"
    HACK = "HACK"
    PARTNERSHIP = "PARTNERSHIP"
    EARNINGS = "EARNINGS"
    TECHNICAL = "TECHNICAL"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class Rule:
    category: Category
    weight: float  # how much a confident item of this kind should move a score (0..1)
    keywords: tuple[str, ...]  # whole words or phrases, case-insensitive


# Order matters only for ties: a hack that is also a regulation story is a HACK.
RULES: tuple[Rule, ...] = (
    Rule(
        Category.HACK,
        1.0,
        (
            "hack",
            "hacked",
            "hacker",
            "hackers",
            "exploit",
            "exploited",
            "breach",
            "stolen",
            "drained",
            "attacker",
            "attackers",
            "vulnerability",
            "rug pull",
            "phishing",
            "compromised",
            "heist",
        ),
    ),
    Rule(
        Category.FED_SPEECH,
        1.0,
        (
            "fed",
            "federal reserve",
            "powell",
            "fomc",
            "fed chair",
            "fed governor",
            "rate decision",
            "rate cut",
            "rate cuts",
            "rate hike",
            "rate hikes",
            "jackson hole",
            "dot plot",
            "waller",
            "williams",
            "jefferson",
            "bowman",
            "monetary policy",
        ),
    ),
    Rule(
        Category.REGULATION,
        0.9,
        (
            "sec",
            "cftc",
            "regulator",
            "regulators",
            "regulation",
            "regulatory",
            "lawsuit",
            "sues",
            "ban",
            "bans",
            "banned",
            "etf approval",
            "approves",
            "approved",
            "compliance",
            "sanction",
            "sanctions",
            "mica",
            "license",
            "licence",
            "court",
            "legislation",
            "enforcement",
        ),
    ),
    Rule(
        Category.EARNINGS,
        0.9,
        (
            "earnings",
            "revenue",
            "quarterly results",
            "quarterly",
            "eps",
            "guidance",
            "profit",
            "net income",
            "beats estimates",
            "misses estimates",
            "q1",
            "q2",
            "q3",
            "q4",
            "fiscal",
            "outlook",
            "dividend",
        ),
    ),
    Rule(
        Category.MACRO,
        0.8,
        (
            "cpi",
            "inflation",
            "gdp",
            "jobs report",
            "nonfarm payrolls",
            "payrolls",
            "unemployment",
            "pmi",
            "recession",
            "treasury yields",
            "yields",
            "ppi",
            "retail sales",
            "ecb",
            "tariff",
            "tariffs",
            "consumer confidence",
            "jobless claims",
            "economy",
        ),
    ),
    Rule(
        Category.PARTNERSHIP,
        0.6,
        (
            "partnership",
            "partners with",
            "partner",
            "collaboration",
            "integrates",
            "integration",
            "teams up",
            "joins forces",
            "acquires",
            "acquisition",
            "deal with",
            "alliance",
            "adopts",
        ),
    ),
    Rule(
        Category.TECHNICAL,
        0.5,
        (
            "support",
            "resistance",
            "breakout",
            "breaks out",
            "breakdown",
            "moving average",
            "rsi",
            "golden cross",
            "death cross",
            "all-time high",
            "record high",
            "ath",
            "chart",
            "fibonacci",
            "overbought",
            "oversold",
            "rally",
            "sell-off",
            "selloff",
        ),
    ),
)
OTHER_WEIGHT = 0.3
WEIGHTS: dict[Category, float] = {r.category: r.weight for r in RULES} | {
    Category.OTHER: OTHER_WEIGHT
}


@dataclass(frozen=True, slots=True)
class Classification:
    category: Category
    keywords: tuple[str, ...]  # the words that decided it (empty for OTHER)
    weight: float


@cache
def _patterns() -> tuple[tuple[Rule, tuple[tuple[str, re.Pattern[str]], ...]], ...]:
    def rx(phrase: str) -> re.Pattern[str]:
        body = r"[\s-]+".join(re.escape(w) for w in phrase.split())
        return re.compile(rf"(?<![\w$#]){body}(?![\w])", re.I)

    return tuple((rule, tuple((kw, rx(kw)) for kw in rule.keywords)) for rule in RULES)


def classify(text: str) -> Classification:
    """Pick the category with the most distinct keyword hits; OTHER when nothing matches."""
    best: tuple[int, Rule, tuple[str, ...]] | None = None
    for rule, patterns in _patterns():
        hits = tuple(kw for kw, rx in patterns if rx.search(text))
        if hits and (best is None or len(hits) > best[0]):
            best = (len(hits), rule, hits)
    if best is None:
        return Classification(Category.OTHER, (), OTHER_WEIGHT)
    return Classification(best[1].category, best[2], best[1].weight)
