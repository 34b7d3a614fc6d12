"""Money moved in or out without a trade (a deposit or a withdrawal, found when a venue's
balances are read again: engine/cash_reread.py) is neither a loss that trips a breaker nor a
profit that hides a drawdown: the day's start and the peak move with it."""

from __future__ import annotations

from datetime import UTC, datetime

from tui_trader.risk.breakers import DAILY_LOSS, MAX_DRAWDOWN, BreakerLimits, Breakers

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def test_a_withdrawal_trips_no_breaker() -> None:
    b = Breakers(BreakerLimits(daily_loss_limit=100, max_drawdown=0.1))
    assert b.observe_equity(10_000, T0) == []
    b.transfer(-5_000)  # half the account withdrawn
    assert b.observe_equity(5_000, T0) == []
    assert b.day_pnl == 0 and b.drawdown == 0
    assert [t.breaker for t in b.observe_equity(4_890, T0)] == [DAILY_LOSS]  # a real loss still counts


def test_a_deposit_does_not_hide_a_drawdown() -> None:
    b = Breakers(BreakerLimits(max_drawdown=0.1))
    b.observe_equity(10_000, T0)
    assert b.observe_equity(9_200, T0) == []  # down 8 % from the peak
    b.transfer(5_000)  # without it, equity would be above the old peak: a new peak, no drawdown
    assert b.observe_equity(14_200, T0) == [] and round(b.drawdown, 4) == round(800 / 15_000, 4)
    assert [t.breaker for t in b.observe_equity(13_400, T0)] == [MAX_DRAWDOWN]  # 1,600 of 15,000
