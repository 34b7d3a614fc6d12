"""Feed entries -> news items -> analysed events -> Signals."""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tui_trader.core.enums import Direction
from tui_trader.core.errors import DataError
from tui_trader.core.signals import Signal
from tui_trader.signals.news.rules import Category, classify
from tui_trader.signals.news.sentiment import NEUTRAL_BAND, sentiment
from tui_trader.signals.symbols import MARKET_WIDE, find_symbols, resolve_symbol

_MARKET_CATEGORIES = frozenset({Category.FED_SPEECH, Category.MACRO})
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class NewsItem:
    """One feed entry, as published."""

    id: str  # the feed's id, else the link, else a hash of the title
    title: str
    summary: str
    link: str
    published: datetime  # the entry's date, else when we fetched it
    feed: str


@dataclass(frozen=True, slots=True)
class NewsEvent:
    """A news item read: what kind of news, how it sounds, which symbols it names."""

    item: NewsItem
    category: Category
    keywords: tuple[str, ...]
    weight: float
    sentiment: float  # VADER compound, -1..1
    symbols: tuple[str, ...]

    @property
    def direction(self) -> Direction:
        if self.sentiment > NEUTRAL_BAND:
            return Direction.LONG
        if self.sentiment < -NEUTRAL_BAND:
            return Direction.SHORT
        return Direction.FLAT

    @property
    def confidence(self) -> float:
        """|sentiment| scaled by how much this category tends to matter."""
        return round(min(1.0, abs(self.sentiment)) * self.weight, 4)

    @property
    def explanation(self) -> str:
        why = ", ".join(self.keywords) if self.keywords else "no rule matched"
        return f"{self.category.value} ({why}); sentiment {self.sentiment:+.2f}"

    def to_signals(self, known_symbols: Collection[str] | None = None) -> list[Signal]:
        """One Signal per symbol named. Fed and macro news naming none becomes one market-wide
        signal (symbol '*'); other news naming no symbol gives no signal."""
        symbols: list[str] = []
        for sym in self.symbols:
            resolved = resolve_symbol(sym, known_symbols) if known_symbols is not None else sym
            if resolved is not None and resolved not in symbols:
                symbols.append(resolved)
        if not symbols and self.category in _MARKET_CATEGORIES:
            symbols = [MARKET_WIDE]
        meta: dict[str, Any] = {
            "category": self.category.value,
            "keywords": list(self.keywords),
            "sentiment": self.sentiment,
            "link": self.item.link,
            "id": self.item.id,
            "feed": self.item.feed,
        }
        reason = f"{self.item.title} [{self.category.value}]"
        return [
            Signal(
                source="news",
                symbol=sym,
                direction=self.direction,
                strength=round(min(1.0, abs(self.sentiment)), 4),
                ts=self.item.published,
                reason=reason,
                confidence=self.confidence,
                meta=meta,
            )
            for sym in symbols
        ]


def analyse(item: NewsItem) -> NewsEvent:
    """Classify, score sentiment and find symbols; title and summary both count."""
    text = f"{item.title}. {item.summary}" if item.summary else item.title
    c = classify(text)
    return NewsEvent(
        item=item,
        category=c.category,
        keywords=c.keywords,
        weight=c.weight,
        sentiment=sentiment(text),
        symbols=find_symbols(text),
    )


def _entry_time(entry: Any, fallback: datetime) -> datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        st = entry.get(key)
        if st:
            return datetime.fromtimestamp(calendar.timegm(st), tz=UTC)
    return fallback


def _plain(html: str) -> str:
    return " ".join(_TAGS.sub(" ", html).split())


def parse_feed(data: bytes | str, feed: str, *, fetched_at: datetime) -> list[NewsItem]:
    """RSS or Atom bytes -> items. A document with no entries that feedparser could not read
    is a DataError; an empty but valid feed is an empty list."""
    import feedparser

    parsed = feedparser.parse(data)
    if parsed.bozo and not parsed.entries:
        raise DataError(
            f"{feed}: not a readable RSS/Atom feed ({parsed.get('bozo_exception', 'no entries')})"
        )
    items = []
    for entry in parsed.entries:
        title = _plain(entry.get("title", ""))
        link = entry.get("link", "")
        if not title and not link:
            continue
        ident = entry.get("id") or link or hashlib.sha1(title.encode()).hexdigest()
        items.append(
            NewsItem(
                id=ident,
                title=title,
                summary=_plain(entry.get("summary", "")),
                link=link,
                published=_entry_time(entry, fetched_at),
                feed=feed,
            )
        )
    return items
