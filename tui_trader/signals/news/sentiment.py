"""Headline sentiment from the VADER lexicon: offline, fast, explainable (a word list)."""

from __future__ import annotations

from functools import cache
from typing import Any

NEUTRAL_BAND = 0.05  # VADER's own convention: |compound| below this is neutral


@cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()  # loads the lexicon once


def sentiment(text: str) -> float:
    """VADER compound score in -1..1 (negative = bearish wording)."""
    return float(_analyzer().polarity_scores(text)["compound"])
