"""The vectorized kernel agrees with the live runner's bar-by-bar `evaluate_exit`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tui_trader.backtest.kernel import find_exit, trailing_stops
from tui_trader.backtest.portfolio import first_signal_bar
from tui_trader.backtest.reference import find_exit_reference
from tui_trader.backtest.rules import ExitRules
from tui_trader.backtest.signals import symbol_signals
from tui_trader.strategy import IStrategy
from tui_trader.strategy.exits import roi_threshold, trailing_stop_price

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
@pytest.mark.parametrize("latency", [0, 2])
def test_kernel_matches_evaluate_exit(config: dict, latency: int) -> None:
    rules = ExitRules.build(can_short=True, **config)
    strat = strategy_with(config)
    checked = 0
    for seed in range(6):
        sym = symbol_signals(
            "X", random_candles(seed), rules, bar_seconds=300, latency_bars=latency
        )
        for e, side in zip(sym.entry_bars[:15], sym.entry_sides[:15], strict=True):
            entry = float(sym.market.open[e]) * (1.0005 if side > 0 else 0.9995)
            fast = find_exit(
                sym.market,
                int(e),
                int(side),
                entry,
                rules,
                signal_bar=first_signal_bar(sym, int(e), int(side), entry, rules),
                roi_blocked=sym.enter_flag(int(side)) if rules.ignore_roi_if_entry_signal else None,
            )
            slow, _ = find_exit_reference(strat, sym, int(e), int(side), entry, 1.0, None)
            assert (fast.bar, fast.reason, fast.at_open) == (slow.bar, slow.reason, slow.at_open)
            assert fast.price == pytest.approx(slow.price, rel=1e-12)
            checked += 1
    assert checked > 50


def test_vectorized_trailing_matches_scalar_rule() -> None:
    rng = np.random.default_rng(3)
    best_long = 100 * (1 + np.abs(rng.normal(0, 0.05, 200)))
    best_short = 100 * (1 - np.abs(rng.normal(0, 0.05, 200)))
    for config in CONFIGS[1:5]:
        rules = ExitRules.build(**config)
        args = (config["stoploss"], config.get("trailing_stop_positive"),
                config.get("trailing_stop_positive_offset", 0.0),
                config.get("trailing_only_offset_is_reached", False))  # fmt: skip
        got = trailing_stops(100.0, True, best_long, rules)
        want = [trailing_stop_price(100.0, "long", b, *args) for b in best_long]
        np.testing.assert_allclose(got, want, rtol=1e-12)
        got = trailing_stops(100.0, False, best_short, rules)
        want = [trailing_stop_price(100.0, "short", b, *args) for b in best_short]
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_roi_steps_match_roi_threshold() -> None:
    table = {"0": 0.05, "10": 0.03, "40": 0.01, "120": -1}
    rules = ExitRules.build(minimal_roi=table)
    minutes = np.arange(0, 200, 0.5)
    want = [roi_threshold(table, m) for m in minutes]
    np.testing.assert_allclose(rules.roi_at(minutes), np.array(want, dtype=float))
    late = ExitRules.build(minimal_roi={"5": 0.01})
    assert np.isnan(late.roi_at(np.array([4.0]))[0]) and roi_threshold({"5": 0.01}, 4.0) is None
