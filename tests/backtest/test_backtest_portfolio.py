"""Several symbols sharing one wallet: slots, stake sizing, hooks and protections."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pytest

from tui_trader.backtest import ClosedTrade, ExitRules, StakeRequest, StakeSizer, backtest_signals
from tui_trader.strategy import IStrategy


def frame(n: int = 6, enter: Sequence[int] = (1,), exit_: Sequence[int] = (), price: float = 100.0):
    dates = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC")
    df = pd.DataFrame({"date": dates, "open": price, "high": price + 1, "low": price - 1,
                       "close": price, "volume": 1e6})  # fmt: skip
    df["enter_long"] = list(enter) + [0] * (n - len(enter))
    df["exit_long"] = list(exit_) + [0] * (n - len(exit_))
    return df


def run(frames: dict, **kw: object):
    kw.setdefault("fee", 0.0)
    return backtest_signals(frames, ExitRules.build(), timeframe="1h", capital=1_000.0, **kw)  # type: ignore[arg-type]


def test_unlimited_stake_splits_capital_between_slots() -> None:
    res = run({"A": frame(), "B": frame(), "C": frame()}, max_open_trades=2)
    assert len(res.trades) == 2
    assert list(res.trades.quantity * res.trades.entry_price) == pytest.approx([500.0, 500.0])
    assert res.rejected == {"max_open_trades": 1}


def test_fixed_stake_skips_trades_it_cannot_pay_for() -> None:
    frames = {"A": frame(), "B": frame()}
    res = run(frames, max_open_trades=3, sizer=StakeSizer(600.0))
    assert len(res.trades) == 1 and res.rejected == {"insufficient_capital": 1}
    assert res.trades.quantity[0] * res.trades.entry_price[0] == pytest.approx(600.0)


def test_cash_returns_after_exit_and_funds_the_next_trade() -> None:
    a = frame(enter=[1], exit_=[0, 1])  # in at bar 1, out at the open of bar 3
    b = frame(enter=[0, 0, 1])  # wants in at the open of bar 3
    res = run({"A": a, "B": b}, max_open_trades=2, sizer=StakeSizer(800.0))
    assert list(res.trades.symbol) == ["A", "B"]
    assert res.trades.entry_time[1] == a.date[3]


def test_one_trade_per_symbol_at_a_time() -> None:
    res = run({"A": frame(n=9, enter=[1, 1, 1, 1, 0, 0, 1], exit_=[0, 0, 0, 0, 0, 1])})
    # signals on bars 1-3 arrive while the first trade (bars 1..6) is open: ignored
    assert list(res.trades.entry_time) == [frame(9).date[1], frame(9).date[7]]
    assert res.trades.exit_time[0] == frame(9).date[6]
    # no trade opens on the last candle, as in Freqtrade
    assert len(run({"A": frame(n=3, enter=[0, 1])}).trades) == 0


def test_custom_stake_amount_hook_is_honoured() -> None:
    class Half(IStrategy):
        def custom_stake_amount(self, pair, current_time, current_rate, proposed_stake,
                                min_stake, max_stake, leverage, entry_tag, side,
                                **kwargs):  # fmt: skip
            assert current_time.tzinfo is not None and side == "long"
            return proposed_stake / 2

    strat = Half()
    res = run({"A": frame()}, sizer=StakeSizer("unlimited", strat), strategy=strat)
    assert res.trades.quantity[0] * res.trades.entry_price[0] == pytest.approx(500.0)


def test_custom_sizer_and_protection_plug_in() -> None:
    class TenPercent:
        def stake(self, req: StakeRequest) -> float:
            return 0.1 * (req.available + req.tied)

    class NoSecondTrade:
        def allows_entry(
            self, symbol: str, time_ns: int, side: int, closed: Sequence[ClosedTrade]
        ) -> bool:
            return not closed

    a = frame(n=8, enter=[1, 0, 0, 1], exit_=[0, 1])
    res = run({"A": a}, sizer=TenPercent(), protections=[NoSecondTrade()])
    assert len(res.trades) == 1 and res.rejected == {"protection": 1}
    assert res.trades.quantity[0] * res.trades.entry_price[0] == pytest.approx(100.0)


def test_equity_and_benchmark_cover_every_symbol() -> None:
    a = frame(enter=[1], exit_=[0, 0, 1])
    b = frame(enter=[0])
    b.loc[3:, ["open", "high", "low", "close"]] = 110.0
    res = run({"A": a, "B": b})
    assert len(res.equity) == 6 and res.benchmark.iloc[-1] == pytest.approx(1_050.0)
