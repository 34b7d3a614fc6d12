"""The vectorized exit search agrees with the bar-by-bar rules (`strategy.exits.decide_exit`,
which the live runner and the hook path use): same bar, reason, price and fill at the open."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tui_trader.backtest.batch import find_exit
from tui_trader.backtest.portfolio import first_signal_bar
from tui_trader.backtest.reference import find_exit_reference
from tui_trader.backtest.rules import ExitRules
from tui_trader.backtest.signals import symbol_signals
from tui_trader.strategy import IStrategy
from tui_trader.strategy.exits import roi_threshold

CONFIGS = [
    {"stoploss": -0.02, "minimal_roi": {"0": 0.03, "20": 0.01, "60": 0.0}},
    {"stoploss": -0.03, "trailing_stop": True},
    {"stoploss": -0.05, "trailing_stop": True, "trailing_stop_positive": 0.01,
     "trailing_stop_positive_offset": 0.02},
    {"stoploss": -0.05, "trailing_stop": True, "trailing_stop_positive": 0.01,
     "trailing_stop_positive_offset": 0.02, "trailing_only_offset_is_reached": True},
    {"stoploss": -0.04, "trailing_stop": True, "trailing_only_offset_is_reached": True,
     "trailing_stop_positive_offset": 0.01, "minimal_roi": {"0": 0.08, "30": -1}},
    {"stoploss": -0.03, "minimal_roi": {"0": 0.02}, "exit_profit_only": True},
    {"stoploss": -0.03, "minimal_roi": {"0": 0.01}, "ignore_roi_if_entry_signal": True},
]  # fmt: skip


def random_candles(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0, 0.002, n))  # gaps
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.003, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.003, n)))
    return pd.DataFrame({
        "date": pd.date_range("2024-01-01", periods=n, freq="5min", tz="UTC"),
        "open": open_, "high": high, "low": low, "close": close, "volume": 10.0,
        "enter_long": (rng.random(n) < 0.05).astype(int),
        "enter_short": (rng.random(n) < 0.05).astype(int),
        "exit_long": (rng.random(n) < 0.02).astype(int),
        "exit_short": (rng.random(n) < 0.02).astype(int),
    })  # fmt: skip


def strategy_with(config: dict) -> IStrategy:
    strat = IStrategy()
    for key, value in config.items():
        setattr(strat, key, value)
    strat.can_short = True
    return strat


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize(("latency", "fee"), [(0, 0.0), (0, 0.001), (2, 0.001)])
@pytest.mark.parametrize("decimals", [None, 2])
def test_vectorized_search_matches_the_bar_by_bar_rules(
    config: dict, latency: int, fee: float, decimals: int | None
) -> None:
    rules = ExitRules.build(can_short=True, **config)
    strat = strategy_with(config)
    checked = 0
    for seed in range(6):
        df = random_candles(seed)
        if decimals is not None:  # candles on a 0.01 tick: stops and exits rounded to it
            cols = ["open", "high", "low", "close"]
            df[cols] = df[cols].round(decimals)
        sym = symbol_signals("X", df, rules, bar_seconds=300, latency_bars=latency)
        for e, side in zip(sym.entry_bars[:15], sym.entry_sides[:15], strict=True):
            e, side = int(e), int(side)
            entry = float(sym.market.open[e]) * (1.0005 if side > 0 else 0.9995)
            fast = find_exit(
                sym.market, e, side, entry, rules,
                signal_bar=first_signal_bar(sym, e, side, entry, rules, fee),
                roi_blocked=sym.roi_blocked(side) if rules.ignore_roi_if_entry_signal else None,
                fee=fee,
            )  # fmt: skip
            slow = find_exit_reference(strat, sym, e, side, entry, 1.0, None, fee=fee).fill
            assert (fast.bar, fast.reason, fast.at_open) == (slow.bar, slow.reason, slow.at_open)
            assert fast.price == pytest.approx(slow.price, rel=1e-12)
            checked += 1
    assert checked > 50


def test_roi_steps_match_roi_threshold() -> None:
    table = {"0": 0.05, "10": 0.03, "40": 0.01, "120": -1}
    rules = ExitRules.build(minimal_roi=table)
    minutes = np.arange(0, 200, 0.5)
    want = [roi_threshold(table, m) for m in minutes]
    np.testing.assert_allclose(rules.roi_at(minutes), np.array(want, dtype=float))
    late = ExitRules.build(minimal_roi={"5": 0.01})
    assert np.isnan(late.roi_at(np.array([4.0]))[0]) and roi_threshold({"5": 0.01}, 4.0) is None
