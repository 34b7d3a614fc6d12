"""The bundled `ema_cross` is a TOML rule file (plugins/ema_cross.toml) since it replaced the
Python strategy of the same meaning (kept as tests/strategy/fixtures/ema_cross_python.py):
the same settings, the same optimizer spaces, the same signals and tags on every bar, and the
same trades, on default and other parameter values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tui_trader.backtest import run_backtest
from tui_trader.strategy.analysis import analyze
from tui_trader.strategy.loader import load_file, load_strategy, locate_strategy
from tui_trader.strategy.parameters import detect_parameters
from tui_trader.strategy.rules import RuleStrategy

PYTHON = Path(__file__).parent / "fixtures" / "ema_cross_python.py"
SIGNALS = ["enter_long", "exit_long", "enter_short", "exit_short"]


def walk(n: int, seed: int, minutes: int = 5) -> pd.DataFrame:
    """A seeded random walk with some candles that did not trade (volume 0)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    opens = np.concatenate([[close[0]], close[:-1]])
    spread = np.abs(rng.normal(0, 0.002, n)) * close
    volume = rng.uniform(1, 50, n)
    volume[rng.random(n) < 0.05] = 0.0
    return pd.DataFrame({
        "date": pd.date_range("2025-01-01", periods=n, freq=f"{minutes}min", tz="UTC"),
        "open": opens, "high": np.maximum(opens, close) + spread,
        "low": np.minimum(opens, close) - spread, "close": close, "volume": volume,
    })  # fmt: skip


def both(params: dict[str, int] | None = None) -> tuple[object, object]:
    rules = load_strategy("ema_cross", params=params)
    python = load_file(PYTHON)[0]()
    if params:
        python.set_parameters(params)
    return rules, python


def test_the_bundled_ema_cross_is_the_rule_file_with_the_python_versions_settings() -> None:
    cls, path = locate_strategy("ema_cross")
    assert path is not None and path.name == "ema_cross.toml" and issubclass(cls, RuleStrategy)
    rules, python = both()
    for attr in ("name", "timeframe", "startup_candle_count", "minimal_roi", "stoploss",
                 "can_short", "use_exit_signal", "exit_profit_only", "ignore_roi_if_entry_signal",
                 "trailing_stop"):  # fmt: skip
        assert getattr(rules, attr) == getattr(python, attr), attr
    described = [{n: p.describe() for n, p in detect_parameters(s).items()} for s in (rules, python)]
    assert described[0] == described[1]
    assert described[0]["buy_fast"]["space"] == "buy"


OTHERS = [None, {"buy_fast": 5, "buy_slow": 80}, {"buy_fast": 20, "buy_slow": 20}, {"buy_fast": 12, "buy_slow": 26}]


@pytest.mark.parametrize("params", OTHERS)
def test_every_bar_signals_and_tags_as_the_python_version(params: dict[str, int] | None) -> None:
    candles = walk(30_000, seed=7)
    rules, python = both(params)
    got = analyze(rules, candles.copy(), {"pair": "X/USDT"})
    want = analyze(python, candles.copy(), {"pair": "X/USDT"})
    for col in SIGNALS:
        assert np.array_equal(got[col].to_numpy(dtype=float), want[col].to_numpy(dtype=float)), col
    for col in ("enter_tag", "exit_tag"):
        assert got[col].isna().equals(want[col].isna()), col
        assert (got[col].dropna() == want[col].dropna()).all(), col
    if params and params["buy_fast"] == params["buy_slow"]:  # one EMA: it never crosses itself
        assert got["enter_long"].sum() == 0 and got["exit_long"].sum() == 0
        return
    assert got["enter_long"].sum() > 50 and (got["enter_tag"] == "ema_cross_up").sum() > 50
    assert (got["exit_tag"] == "ema_cross_down").sum() > 50


@pytest.mark.parametrize("params", [None, {"buy_fast": 7, "buy_slow": 40}])
def test_the_same_trades_and_metrics_as_the_python_version(params: dict[str, int] | None) -> None:
    candles = walk(60_000, seed=11, minutes=1)
    rules, python = both(params)
    got = run_backtest(rules, {"BTC/USDT": candles}, timeframe="1m")
    want = run_backtest(python, {"BTC/USDT": candles}, timeframe="1m")
    assert len(got.trades) > 100
    pd.testing.assert_frame_equal(got.trades, want.trades)
    assert got.to_dict() == want.to_dict()
