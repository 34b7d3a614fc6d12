"""The live risk engine's sizing and protections, and the confirm_trade_* hooks, in backtests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from tui_trader.backtest import StakeRequest, run_backtest
from tui_trader.cli.main import main
from tui_trader.config.risk import ProtectionSettings, RiskLimits, RiskSettings, SizingSettings
from tui_trader.strategy import IStrategy


class Signals(IStrategy):
    """Enters long wherever the candles' `sig` column is 1, exits where `out` is 1."""

    timeframe = "1h"
    minimal_roi = {"0": 10.0}  # never
    stoploss = -0.05

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["sig"] == 1, "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["out"] == 1, "exit_long"] = 1
        return dataframe


def candles(n: int, sig: Sequence[int], dips: Sequence[int] = (), out: Sequence[int] = ()):
    """Flat 100 candles (high 101, low 99); bars in `dips` trade down to 90 (a -5 % stop hits)."""
    dates = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC")
    df = pd.DataFrame({"date": dates, "open": 100.0, "high": 101.0, "low": 99.0,
                       "close": 100.0, "volume": 1e6})  # fmt: skip
    df.loc[list(dips), "low"] = 90.0
    df["sig"] = [1 if i in sig else 0 for i in range(n)]
    df["out"] = [1 if i in out else 0 for i in range(n)]
    return df


def backtest(df: pd.DataFrame, strategy: IStrategy | None = None, **kw: object):
    kw.setdefault("fee", 0.0)
    return run_backtest(strategy or Signals(), {"X": df}, timeframe="1h",
                        capital=10_000.0, **kw)  # type: ignore[arg-type]  # fmt: skip


def test_stoploss_guard_skips_entries_exactly_while_locked() -> None:
    df = candles(12, sig=range(12), dips=[1, 2])  # entries at 1 and 2 are stopped in their bar
    free = backtest(df)
    assert list(free.trades.entry_time) == [df.date[1], df.date[2], df.date[3]]
    guard = ProtectionSettings(method="StoplossGuard", trade_limit=2, lookback_period=600,
                               stop_duration=180)  # fmt: skip
    res = backtest(df, risk=RiskSettings(protections=[guard]))
    assert list(res.trades.exit_reason[:2]) == ["stop_loss", "stop_loss"]
    # second stop in bar 2 (stamped at its open, 02:00) locks every pair until 05:00:
    # the entries at 03:00 and 04:00 are skipped, the one at 05:00 is taken
    assert list(res.trades.entry_time) == [df.date[1], df.date[2], df.date[5]]
    assert res.rejected == {"protection": 2}


def test_per_strategy_protection_applies_only_to_that_strategy() -> None:
    df = candles(12, sig=range(12), dips=[1])
    cooldown = ProtectionSettings(method="CooldownPeriod", stop_duration=120)
    risk = RiskSettings(strategies={"Signals": RiskLimits(protections=[cooldown])})
    res = backtest(df, risk=risk)
    assert list(res.trades.entry_time) == [df.date[1], df.date[3]]  # 01:00 exit + 2 h
    other = RiskSettings(strategies={"Other": RiskLimits(protections=[cooldown])})
    assert list(backtest(df, risk=other).trades.entry_time)[:2] == [df.date[1], df.date[2]]


def test_fixed_fractional_sizing_stakes_risk_over_stop_distance() -> None:
    df = candles(6, sig=[0])
    sizing = SizingSettings(mode="risk_per_trade", risk_per_trade=0.01)
    res = backtest(df, risk=RiskSettings(sizing=sizing))
    # lose 1 % of 10,000 = 100 at a 5 % stop: a stake of 2,000, 20 units at 100
    assert res.trades.quantity[0] == pytest.approx(20.0)
    assert res.trades.quantity[0] * res.trades.entry_price[0] == pytest.approx(2_000.0)


def test_default_sizing_is_the_live_default_and_stake_amount_overrides_it() -> None:
    df = candles(6, sig=[0])
    default = backtest(df)  # [risk.sizing] defaults: 2 % of equity
    assert default.trades.quantity[0] * default.trades.entry_price[0] == pytest.approx(200.0)
    fixed = backtest(df, stake_amount=1_500.0)  # Freqtrade's stake_amount, when given
    assert fixed.trades.quantity[0] * fixed.trades.entry_price[0] == pytest.approx(1_500.0)


def test_per_strategy_sizing_override() -> None:
    df = candles(6, sig=[0])
    own = RiskLimits(sizing=SizingSettings(mode="fixed_notional", notional=700.0))
    res = backtest(df, risk=RiskSettings(strategies={"Signals": own}))
    assert res.trades.quantity[0] * res.trades.entry_price[0] == pytest.approx(700.0)


def test_stake_request_carries_closed_trades_for_kelly() -> None:
    seen: list[int] = []

    class Recorder:
        def stake(self, req: StakeRequest) -> float:
            seen.append(len(req.closed))
            return 1_000.0

    df = candles(12, sig=[0, 3, 6], dips=[1, 4])
    backtest(df, sizer=Recorder())
    assert seen == [0, 1, 2]


def test_kelly_sizing_uses_the_backtests_own_track_record() -> None:
    # two stopped trades (losses, no wins): Kelly has no edge, so after kelly_min_trades the
    # stake drops from the `percent` warm-up size to nothing
    df = candles(12, sig=[0, 3, 6], dips=[1, 4])
    sizing = SizingSettings(mode="kelly", kelly_min_trades=2, percent=0.05, kelly_cap=0.1)
    res = backtest(df, risk=RiskSettings(sizing=sizing))
    assert len(res.trades) == 2 and res.rejected == {"stake": 1}
    assert res.trades.quantity[0] * res.trades.entry_price[0] == pytest.approx(500.0)


def test_confirm_trade_entry_can_refuse_and_sees_the_order() -> None:
    calls: list[dict] = []

    class Picky(Signals):
        def confirm_trade_entry(self, pair, order_type, amount, rate, time_in_force,
                                current_time, entry_tag, side, **kwargs):  # fmt: skip
            calls.append({"pair": pair, "amount": amount, "rate": rate, "time": current_time,
                          "side": side})  # fmt: skip
            return current_time.hour != 1

    df = candles(8, sig=[0, 1], out=[2])
    res = backtest(df, Picky(), stake_amount=1_000.0)
    assert res.rejected == {"confirm_trade_entry": 1}
    assert list(res.trades.entry_time) == [df.date[2]]
    assert calls[0] == {"pair": "X", "amount": pytest.approx(10.0), "rate": 100.0,
                        "time": df.date[1].to_pydatetime(), "side": "long"}  # fmt: skip


def test_confirm_trade_exit_can_refuse_an_exit() -> None:
    reasons: list[str] = []

    class Holder(Signals):
        def confirm_trade_exit(self, pair, trade, order_type, amount, rate, time_in_force,
                               exit_reason, current_time, **kwargs):  # fmt: skip
            reasons.append(exit_reason)
            assert trade.pair == pair and amount == pytest.approx(trade.amount)
            return len(reasons) > 1  # refuse the first exit only

    df = candles(10, sig=[0], out=[2, 5])
    plain = backtest(df, Signals(), stake_amount=1_000.0)
    assert plain.trades.exit_time[0] == df.date[3]  # exit signal on bar 2 fills at 3's open
    res = backtest(df, Holder(), stake_amount=1_000.0)
    assert reasons == ["exit_signal", "exit_signal"]
    assert res.trades.exit_time[0] == df.date[6] and res.trades.exit_reason[0] == "exit_signal"


def test_confirm_trade_exit_can_hold_through_a_stop() -> None:
    class Stubborn(Signals):
        def confirm_trade_exit(self, pair, trade, order_type, amount, rate, time_in_force,
                               exit_reason, current_time, **kwargs):  # fmt: skip
            return current_time.hour >= 3  # asked at the candle's open: bar 3 opens at 03:00

    df = candles(8, sig=[0], dips=[1, 3])
    res = backtest(df, Stubborn(), stake_amount=1_000.0)
    assert res.trades.exit_reason[0] == "stop_loss"
    assert res.trades.exit_time[0] == df.date[3]  # stopped inside bar 3, stamped at its open


def test_cli_sizes_from_the_config_risk_table(tmp_path: Path, capsys) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        '[risk.sizing]\nmode = "fixed_notional"\nnotional = 1234.0\n'
    )
    from tui_trader.strategy.synthetic import synthetic_ohlcv

    data = tmp_path / "btc.csv"
    synthetic_ohlcv(2_000, "15m", seed=7).to_csv(data, index=False)
    code = main(["--home", str(home), "backtest", "--strategy", "rsi_mean_reversion",
                 "--data", str(data), "--timeframe", "15m", "--fee", "0", "--json"])  # fmt: skip
    assert code == 0
    trades = json.loads(capsys.readouterr().out)["trades"]
    assert trades
    for t in trades:
        assert t["quantity"] * t["entry_price"] == pytest.approx(1234.0)


def test_volatility_sizing_uses_the_atr_of_the_last_closed_bar() -> None:
    df = candles(40, sig=[20])  # every bar spans 99..101: true range 2, so ATR(14) = 2
    sizing = SizingSettings(mode="volatility", target_volatility=0.01, atr_period=14)
    res = backtest(df, risk=RiskSettings(sizing=sizing))
    # a one-ATR move (2) costs 1 % of 10,000: 50 units, a 5,000 stake at 100
    assert res.trades.quantity[0] == pytest.approx(50.0)
    early = backtest(candles(40, sig=[5]), risk=RiskSettings(sizing=sizing))
    assert len(early.trades) == 0 and early.rejected == {"stake": 1}  # no ATR yet: no size
