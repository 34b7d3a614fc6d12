"""News and events: RSS/Atom feeds, a keyword classifier, VADER sentiment, news -> Signals.

feedparser, vaderSentiment and aiohttp load only when a feed is parsed or polled.
"""

from tui_trader.signals.news.events import MARKET_WIDE, NewsEvent, NewsItem, analyse, parse_feed
from tui_trader.signals.news.poller import NewsPoller
from tui_trader.signals.news.rules import RULES, Category, Classification, classify

__all__ = [
    "MARKET_WIDE",
    "RULES",
    "Category",
    "Classification",
    "NewsEvent",
    "NewsItem",
    "NewsPoller",
    "analyse",
    "classify",
    "parse_feed",
]
