"""Provider track records: win rate, average R, JSON round trip."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from tui_trader.core.enums import Side
from tui_trader.core.errors import DataError
from tui_trader.signals.providers import ProviderBook, r_multiple

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("side", "entry", "stop", "exit_price", "r"),
    [
        (Side.BUY, D(100), D(95), D(110), 2.0),
        (Side.BUY, D(100), D(95), D(95), -1.0),
        (Side.SELL, D(3200), D(3350), D(2900), 2.0),
        (Side.SELL, D(3200), D(3350), D(3275), -0.5),
    ],
)
def test_r_multiple(side, entry, stop, exit_price, r):
    assert r_multiple(side, entry, stop, exit_price) == pytest.approx(r)


def test_r_multiple_needs_risk():
    with pytest.raises(ValueError):
        r_multiple(Side.BUY, D(1), D(1), D(2))


def test_stats_count_wins_losses_and_breakevens():
    book = ProviderBook()
    for i, r in enumerate([2.0, -1.0, 3.0, 0.0, -1.0]):
        book.record("alpha", r, at=T0 + timedelta(hours=i))
    s = book.stats("alpha")
    assert (s.count, s.wins, s.losses) == (5, 2, 2)
    assert s.win_rate == pytest.approx(0.5)
    assert s.average_r == pytest.approx(0.6)
    assert s.total_r == pytest.approx(3.0)
    assert (s.best_r, s.worst_r) == (3.0, -1.0)
    assert s.last_at == T0 + timedelta(hours=4)


def test_unknown_provider_is_neutral_and_reliability_moves_with_results():
    book = ProviderBook()
    empty = book.stats("nobody")
    assert empty.count == 0 and empty.win_rate is None and empty.reliability == 0.5
    for _ in range(8):
        book.record("good", 1.5)
        book.record("bad", -1.0)
    assert book.stats("good").reliability > 0.85
    assert book.stats("bad").reliability < 0.25
    assert [s.provider for s in book.all_stats()] == ["good", "bad"]


def test_providers_rank_by_what_following_them_earns_not_by_win_rate():
    """The issue's pair: 70 % winners at -0.45 R a trade lose money; 30 % at +0.25 R earn it."""
    book = ProviderBook()
    for i in range(20):  # 14 wins of +1 R, 6 losses of -(14 + 9) / 6 R: average -0.45 R
        book.record("often_right", 1.0 if i % 10 < 7 else -23 / 6)
    for i in range(20):  # 6 wins of +13.75 / 6 R, 14 losses of -0.625 R: average +0.25 R
        book.record("rarely_right", 13.75 / 6 if i % 10 < 3 else -0.625)
    often, rarely = book.stats("often_right"), book.stats("rarely_right")
    assert often.win_rate == pytest.approx(0.7) and often.average_r == pytest.approx(-0.45)
    assert rarely.win_rate == pytest.approx(0.3) and rarely.average_r == pytest.approx(0.25)
    assert rarely.reliability > 0.5 > often.reliability
    assert [s.provider for s in book.all_stats()] == ["rarely_right", "often_right"]


def test_a_short_record_is_shrunk_towards_no_edge():
    book = ProviderBook()
    book.record("lucky", 2.0)
    for _ in range(30):
        book.record("steady", 0.5)
    assert book.stats("lucky").average_r == 2.0
    assert book.stats("lucky").reliability < book.stats("steady").reliability


def test_drawdown_of_following_a_provider_and_spread():
    book = ProviderBook()
    for r in [2.0, -1.0, -1.0, 1.0, -1.5, 3.0, -0.5]:
        book.record("alpha", r)
    # cumulative R: 2, 1, 0, 1, -0.5, 2.5, 2 -> deepest fall from the peak of 2 is 2.5
    s = book.stats("alpha")
    assert s.max_drawdown_r == pytest.approx(2.5)
    assert s.stdev_r == pytest.approx(statistics.stdev([2.0, -1.0, -1.0, 1.0, -1.5, 3.0, -0.5]))
    assert book.stats("alpha").expectancy_r == pytest.approx(2.0 / 7)


def test_auto_execution_needs_a_sample_and_a_positive_expectancy():
    book = ProviderBook()
    for _ in range(19):
        book.record("alpha", 0.5)
    refusal = book.auto_execute_refusal("alpha", min_trades=20, min_average_r=0.0)
    assert refusal is not None and "19 recorded trade(s)" in refusal
    book.record("alpha", 0.5)
    assert book.auto_execute_refusal("alpha", min_trades=20, min_average_r=0.0) is None
    for _ in range(20):
        book.record("beta", -0.2)
    refusal = book.auto_execute_refusal("beta", min_trades=20, min_average_r=0.0)
    assert refusal is not None and "-0.20 R" in refusal
    assert book.auto_execute_refusal("nobody", min_trades=0, min_average_r=0.0) is None


def test_records_saved_before_drawdown_was_kept_still_load():
    old = {
        "version": 1,
        "providers": {
            "alpha": {"count": 3, "wins": 2, "losses": 1, "total_r": 2.0, "best_r": 2.0, "worst_r": -1.0,
                      "last_at": None},
        },
    }  # fmt: skip
    s = ProviderBook.from_dict(old).stats("alpha")
    assert (s.count, s.total_r, s.max_drawdown_r, s.stdev_r) == (3, 2.0, 0.0, None)


def test_record_trade_and_json_round_trip():
    book = ProviderBook()
    book.record_trade("alpha", Side.BUY, D(64250), D(63000), D(66750), at=T0)
    book.record("beta", -1.0)
    text = json.dumps(book.to_dict())
    again = ProviderBook.from_dict(json.loads(text))
    assert again.stats("alpha") == book.stats("alpha")
    assert again.stats("beta") == book.stats("beta")
    assert again.stats("alpha").average_r == pytest.approx(2.0)


@pytest.mark.parametrize(
    "data", [{}, {"version": 99}, {"version": 2, "providers": {"x": {"count": "many"}}}]
)
def test_bad_state_is_a_data_error(data):
    with pytest.raises(DataError):
        ProviderBook.from_dict(data)
