"""Forex conventions (pips, lots, pip value) and the sessions, on a frozen clock, across
daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tui_trader.core import forex, fx_sessions

D = Decimal


def test_pips_and_lots() -> None:
    assert forex.pip_size("EUR/USD") == D("0.0001")
    assert forex.pip_size("USD/JPY") == D("0.01")
    assert forex.pip_size("XAU/USD") == D("0.01")
    assert forex.pip_size("BTC/USDT") is None
    assert forex.units_for_lots("EUR/USD", D("0.1")) == D(10_000)
    assert forex.units_for_lots("EUR/USD", D(2), "mini") == D(20_000)
    assert forex.units_for_lots("XAU/USD", D(1)) == D(100)
    assert forex.pips_to_price("EUR/USD", D(20)) == D("0.0020")
    with pytest.raises(ValueError, match="unknown lot kind"):
        forex.units_for_lots("EUR/USD", D(1), "jumbo")
    with pytest.raises(ValueError, match="has no pip"):
        forex.pips_to_price("BTC/USDT", D(20))


def test_pip_value_in_the_account_currency() -> None:
    # A standard lot of EUR/USD: $10 a pip; of USD/JPY at 150: 1,000 yen = $6.67 a pip.
    assert forex.pip_value("EUR/USD", D(100_000), D(1)) == D(10)
    assert round(forex.pip_value("USD/JPY", D(100_000), D(1) / D(150)), 2) == D("6.67")


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime(2026, 1, 7, 14, 0, tzinfo=UTC), ("london", "new_york")),  # winter: 13:00-17:00 UTC overlap
        (datetime(2026, 1, 7, 1, 0, tzinfo=UTC), ("sydney", "tokyo")),
        (datetime(2026, 1, 7, 21, 30, tzinfo=UTC), ("sydney", "new_york")),  # Sydney's summer morning
        (datetime(2026, 1, 7, 6, 0, tzinfo=UTC), ("tokyo",)),
        (datetime(2026, 7, 8, 12, 30, tzinfo=UTC), ("london", "new_york")),  # summer: New York opens at 12:00 UTC
        (datetime(2026, 1, 10, 12, 0, tzinfo=UTC), ()),  # Saturday: the market is shut
    ],
)
def test_sessions_follow_each_citys_clock(when: datetime, expected: tuple[str, ...]) -> None:
    assert fx_sessions.active(when) == expected


def test_rollover_and_spreads() -> None:
    wed = datetime(2026, 1, 7, 21, 0, tzinfo=UTC)  # 16:00 New York
    at = fx_sessions.rollover_at(wed)
    assert at == datetime(2026, 1, 7, 22, 0, tzinfo=UTC)
    assert fx_sessions.rollover_days(at) == 3  # Wednesday pays the weekend
    assert fx_sessions.rollover_days(datetime(2026, 1, 8, 22, 0, tzinfo=UTC)) == 1
    overlap = datetime(2026, 1, 7, 14, 0, tzinfo=UTC)
    quiet = datetime(2026, 1, 7, 6, 0, tzinfo=UTC)  # Tokyo alone
    near_roll = datetime(2026, 1, 7, 22, 2, tzinfo=UTC)
    assert fx_sessions.spread_multiplier("EUR/USD", overlap) == 1.0
    assert fx_sessions.spread_multiplier("EUR/USD", quiet) == 1.6
    assert fx_sessions.spread_multiplier("USD/JPY", quiet) == 1.0  # the yen is at home in Tokyo
    assert fx_sessions.spread_multiplier("EUR/USD", near_roll) == 5.0
    assert fx_sessions.describe(overlap) == "London + New York overlap"


def test_sessions_as_strategy_columns() -> None:
    import pandas as pd

    from tui_trader.strategy import add_fx_sessions

    dates = pd.date_range("2026-01-07 00:00", "2026-01-07 23:59", freq="1min", tz="UTC")
    df = add_fx_sessions(pd.DataFrame({"date": dates, "close": 1.0}))
    at = df.set_index("date")
    assert bool(at.loc["2026-01-07 14:00", "session_overlap"]) and bool(at.loc["2026-01-07 14:00", "session_london"])
    assert at.loc["2026-01-07 06:00", "sessions_open"] == 1 and bool(at.loc["2026-01-07 06:00", "session_tokyo"])
    for minute in (0, 333, 800, 1439):  # every row agrees with the session clock
        row = df.iloc[minute]
        assert tuple(n for n in fx_sessions.SESSIONS if row[f"session_{n}"]) == fx_sessions.active(
            row["date"].to_pydatetime()
        )
