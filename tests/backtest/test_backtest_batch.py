"""The batched exit search and the vectorized equity agree exactly with the search of one trade
at a time, the bar-by-bar rules (`decide_exit`) and a plain loop over trades."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_backtest_parity import CONFIGS, random_candles, strategy_with

from tui_trader.backtest import run_backtest
from tui_trader.backtest.batch import REASONS, find_exit, find_exits, signal_bars
from tui_trader.backtest.equity import equity_curves
from tui_trader.backtest.fills import FillModel
from tui_trader.backtest.portfolio import first_signal_bar, simulate
from tui_trader.backtest.reference import find_exit_reference
from tui_trader.backtest.rules import ExitRules
from tui_trader.backtest.signals import symbol_signals
from tui_trader.backtest.sizing import StakeSizer
from tui_trader.strategy import IStrategy


def batch_exits(sym, rules: ExitRules, prices: np.ndarray):
    e, s = sym.entry_bars, sym.entry_sides
    if rules.exit_profit_only:
        signal = np.array(
            [first_signal_bar(sym, int(i), int(d), float(p), rules) or -1
             for i, d, p in zip(e, s, prices, strict=True)], dtype=np.int64,
        )  # fmt: skip
    else:
        signal = np.where(
            s > 0, signal_bars(sym.exit_long, e, sym.shift), signal_bars(sym.exit_short, e, sym.shift)
        )
    blocked = (sym.roi_blocked(1), sym.roi_blocked(-1)) if rules.ignore_roi_if_entry_signal else None
    return find_exits(sym.market, e, s, prices, rules, signal, blocked)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("latency", [0, 2])
def test_batch_matches_one_trade_at_a_time_and_the_bar_by_bar_rules(config: dict, latency: int) -> None:
    rules = ExitRules.build(can_short=True, **config)
    strat = strategy_with(config)
    checked = 0
    for seed in range(4):
        # 1,500 bars: trades outlive several doubling windows
        sym = symbol_signals(
            "X", random_candles(seed, 1500), rules, bar_seconds=300, latency_bars=latency
        )
        prices = sym.market.open[sym.entry_bars] * np.where(sym.entry_sides > 0, 1.0005, 0.9995)
        got = batch_exits(sym, rules, prices)
        for i, (e, side) in enumerate(zip(sym.entry_bars, sym.entry_sides, strict=True)):
            e, side, entry = int(e), int(side), float(prices[i])
            fast = find_exit(
                sym.market, e, side, entry, rules,
                signal_bar=first_signal_bar(sym, e, side, entry, rules),
                roi_blocked=sym.roi_blocked(side) if rules.ignore_roi_if_entry_signal else None,
            )  # fmt: skip
            row = (int(got.bar[i]), float(got.price[i]), REASONS[got.reason[i]],
                   bool(got.at_open[i]))  # fmt: skip
            assert row == (fast.bar, fast.price, fast.reason, fast.at_open)  # bit-identical
            if i < 12:  # the live rule, bar by bar (slow): a sample
                slow = find_exit_reference(strat, sym, e, side, entry, 1.0, None).fill
                assert (row[0], row[2], row[3]) == (slow.bar, slow.reason, slow.at_open)
                assert row[1] == pytest.approx(slow.price, rel=1e-12)
            checked += 1
    assert checked > 100


def test_vectorized_equity_matches_a_loop_over_trades() -> None:
    rules = ExitRules.build(stoploss=-0.02, minimal_roi={"0": 0.03}, can_short=True)
    syms = [
        symbol_signals(name, random_candles(seed, 600).iloc[skip:].reset_index(drop=True),
                       rules, bar_seconds=300)
        for name, seed, skip in (("X", 5, 0), ("Y", 6, 37))
    ]  # fmt: skip
    sim = simulate(syms, rules, FillModel(), StakeSizer(1_000.0), capital=10_000.0,
                   max_open_trades=2)  # fmt: skip
    t = sim.trades
    assert len(t) > 10 and set(t.symbol.tolist()) == {0, 1}
    index, equity, _ = equity_curves(syms, t, 10_000.0, benchmark=False)
    # the plain definition: capital + realized P&L + open trades marked at each close
    want = np.full(len(index), 10_000.0)
    for i in range(len(t)):
        sym = syms[t.symbol[i]]
        closes = pd.Series(sym.market.close, index=sym.market.time).reindex(index).ffill()
        ge = int(np.searchsorted(index, sym.market.time[t.entry_bar[i]]))
        gx = int(np.searchsorted(index, sym.market.time[t.exit_bar[i]]))
        want[gx:] += t.pnl[i]
        marks = closes.to_numpy()[ge:gx]
        want[ge:gx] += t.side[i] * t.quantity[i] * (marks - t.entry_price[i]) - t.entry_fee[i]
    np.testing.assert_allclose(equity, want, rtol=1e-12)


class Cross(IStrategy):
    timeframe = "5m"
    stoploss = -0.03
    minimal_roi = {"0": 0.04, "60": 0.01}
    can_short = True

    def populate_indicators(self, df: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        df["fast"] = df["close"].rolling(5).mean()
        df["slow"] = df["close"].rolling(20).mean()
        return df

    def populate_entry_trend(self, df: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        up = df["fast"] > df["slow"]
        df.loc[up & ~up.shift(1, fill_value=False), ["enter_long", "enter_tag"]] = (1, "up")
        df.loc[~up & up.shift(1, fill_value=False), "enter_short"] = 1
        return df

    def populate_exit_trend(self, df: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        return df


def test_lean_run_has_the_same_metrics_and_equity() -> None:
    df = random_candles(9, 3000)[["date", "open", "high", "low", "close", "volume"]]
    full = run_backtest(Cross(), df, timeframe="5m", symbol="X")
    lean = run_backtest(Cross(), df, timeframe="5m", symbol="X", lean=True, benchmark=False)
    assert full.metrics["trades"] > 20 and len(lean.trades) == 0
    assert list(lean.trades.columns) == list(full.trades.columns)
    pd.testing.assert_series_equal(full.equity, lean.equity)
    for key, value in full.metrics.items():
        if key in ("alpha", "beta"):
            assert value is not None and lean.metrics[key] is None
        else:
            assert lean.metrics[key] == value, key
    assert set(full.trades["enter_tag"].dropna()) == {"up"}
    assert full.trades["mfe"].ge(0).all() and full.trades["mae"].le(0).all()
