"""Provider track records: win rate, average R, JSON round trip."""

from __future__ import annotations

import json
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
    assert book.stats("bad").reliability < 0.15
    assert [s.provider for s in book.all_stats()] == ["good", "bad"]


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
    "data", [{}, {"version": 99}, {"version": 1, "providers": {"x": {"count": "many"}}}]
)
def test_bad_state_is_a_data_error(data):
    with pytest.raises(DataError):
        ProviderBook.from_dict(data)
