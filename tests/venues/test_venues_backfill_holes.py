"""The rule that says what a backfill could not reach (`venues.ccxt.backfill`): only a full page
that starts after the gap's start, anchored at the present, leaves a hole; candles the same."""

from __future__ import annotations

from tui_trader.venues.ccxt.backfill import Hole, hole_before


def test_a_full_page_of_the_newest_rows_starting_after_the_gap_is_a_hole() -> None:
    assert hole_before(list(range(1_000, 1_060)), 500, 60, anchored_at_now=True) == (500, 1_000)


def test_a_page_that_reaches_back_or_is_not_full_or_starts_at_since_is_none() -> None:
    assert hole_before(list(range(400, 460)), 500, 60, anchored_at_now=True) is None  # reached back
    assert hole_before(list(range(1_000, 1_059)), 500, 60, anchored_at_now=True) is None  # all it had
    assert hole_before(list(range(1_000, 1_060)), 500, 60, anchored_at_now=False) is None  # from `since`
    assert hole_before([], 500, 60, anchored_at_now=True) is None


def test_the_notice_names_the_symbol_the_span_in_utc_and_the_venue() -> None:
    text = Hole("bybit", "BTC/USDT", "1m candles", 1_700_000_000_000, 1_700_000_090_000, 500).text()
    assert text.startswith("BTC/USDT 1m candles from 22:13:20-22:14:50 UTC (90s)")
    assert "bybit's history answered its 500 newest" in text and "hole" in text
