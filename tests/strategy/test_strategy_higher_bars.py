"""A window's higher-timeframe bars kept between candles (strategy/higher_bars.py) are the
bars resample_arrays builds from the whole window, bit for bit, whatever the window went
through: candles back to back, gaps, the window full and rolling (its buffer moving its rows
to the front), several candles between two evaluations, a candle arriving twice, a corrected
one, an old one arriving late, and a reload of the strategy mid-window. And the runner decides
the same with them as with the full evaluation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from tui_trader.core.market import Candle
from tui_trader.strategy.higher_bars import OHLCV, HigherBars
from tui_trader.strategy.loader import bundled_dir
from tui_trader.strategy.rule_live import LiveRules
from tui_trader.strategy.rules import compile_rules, resample_arrays
from tui_trader.strategy.runner import StrategyRunner
from tui_trader.strategy.window import BarWindow

SYMBOL = "ETH/USDT"
START = datetime(2026, 1, 4, 22, 35, tzinfo=UTC)  # a Sunday evening: 1d and 1w buckets turn


def _candle(minute: int, rng: np.random.Generator) -> Candle:
    o = float(rng.normal(100, 5))
    c = o + float(rng.normal(0, 1))
    volume = float(rng.random() * 10.0 ** int(rng.integers(-2, 6)))  # sums that round differently by order
    return Candle(SYMBOL, "5m", START + timedelta(minutes=minute), o, max(o, c) + float(rng.random()),
                  min(o, c) - float(rng.random()), c, volume, True)  # fmt: skip


def _expected(rows: np.ndarray, tf: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    times = rows[:, 0].astype(np.int64) * 1000
    cols = dict(zip(OHLCV, np.array(rows[:, 1:6].T, order="C", copy=True), strict=True))
    return resample_arrays(times, cols, tf)


def _assert_same(bars: HigherBars, rows: np.ndarray, where: Any) -> None:
    opens, cols = _expected(rows, bars.timeframe)
    np.testing.assert_array_equal(bars.opens(), opens, err_msg=str(where))
    got = bars.columns()
    for name in OHLCV:  # exact: the same float64 bits, not close
        assert got[name].tobytes() == cols[name].tobytes(), (where, name)
        assert got[name].flags.c_contiguous
    assert int(np.sum(bars._counts[bars._start : bars._end])) == len(rows) == bars.rows


def _follow(win: BarWindow, kept: dict[str, HigherBars], seen: dict[str, int]) -> None:
    """What LiveRules does at an evaluation: advance by the candles added, or rebuild."""
    for bars in kept.values():
        new = win.added - seen["added"]
        if win.edits == seen["edits"] and 0 < new <= len(win):
            bars.advance(win.rows(), new)
        elif not (win.edits == seen["edits"] and new == 0):
            bars.rebuild(win.rows())
    seen["added"], seen["edits"] = win.added, win.edits


@pytest.mark.parametrize("seed", range(6))
def test_kept_bars_equal_the_window_resampled_after_every_kind_of_change(seed: int) -> None:
    rng = np.random.default_rng(seed)
    win = BarWindow(int(rng.integers(30, 400)))
    kept = {tf: HigherBars(tf) for tf in ("15m", "1h", "4h", "1d", "1w")}
    seen = {"added": 0, "edits": 0}
    minute, done = 0, {"advance": 0, "rebuild": 0}
    for step in range(1500):
        roll = rng.random()
        edits_before = win.edits
        if roll < 0.03 and len(win):  # the newest candle again (twice, or corrected)
            win.add(_candle(minute - 5, rng))
        elif roll < 0.05 and len(win) > 3:  # an old candle late (a backfill after a reconnect)
            back = int(rng.integers(1, len(win)))
            win.add(_candle(minute - 5 * back - (5 if rng.random() < 0.5 else 0), rng))
        else:
            minute += 5 * (int(rng.integers(2, 40)) if rng.random() < 0.05 else 1)  # a gap, now and then
            win.add(_candle(minute, rng))
        if rng.random() < 0.7:  # an evaluation (not after every candle: several may come between)
            done["rebuild" if win.edits != edits_before or not seen["added"] else "advance"] += 1
            _follow(win, kept, seen)
            for tf, bars in kept.items():
                _assert_same(bars, win.rows(), (seed, step, tf))
    assert win.added > 2 * win.size  # the window rolled over, its buffer moved
    assert done["advance"] > 500


def test_a_new_bar_adds_one_bucket_and_a_candle_leaving_updates_the_oldest() -> None:
    rng = np.random.default_rng(3)
    win = BarWindow(30)
    for i in range(30):
        win.add(_candle(5 * i, rng))
    bars = HigherBars("1h")
    bars.rebuild(win.rows())
    before = len(bars)
    win.add(_candle(5 * 30, rng))  # the window drops its oldest candle: the first hour shrinks
    bars.advance(win.rows(), 1)
    _assert_same(bars, win.rows(), "advance")
    assert len(bars) in (before, before + 1)
    with pytest.raises(ValueError):
        bars.advance(win.rows(), 31)  # more new rows than the window holds: not a step


def test_a_candle_joining_a_bar_with_a_nan_high_or_low_keeps_it_as_resampling_does() -> None:
    rng = np.random.default_rng(4)
    win = BarWindow(60)
    bars = HigherBars("1h")
    nan = float("nan")
    for i in range(80):
        c = _candle(5 * i, rng)
        if i % 12 in (3, 7):  # a NaN high, then a NaN low, inside an hour: the bar's is NaN from then on
            c = Candle(c.symbol, c.timeframe, c.open_time, c.open, nan if i % 12 == 3 else c.high,
                       nan if i % 12 == 7 else c.low, c.close, c.volume, True)  # fmt: skip
        win.add(c)
        if i == 0:
            bars.rebuild(win.rows())
        else:
            bars.advance(win.rows(), 1)
        _assert_same(bars, win.rows(), i)
    assert np.isnan(bars.columns()["high"]).any() and np.isnan(bars.columns()["low"]).any()


def test_live_rules_rebuild_when_the_window_was_edited_and_keep_otherwise() -> None:
    strategy = compile_rules(bundled_dir() / "rsi_trend.toml")()
    live = LiveRules(strategy)
    rng = np.random.default_rng(5)
    win = BarWindow(900)
    for i in range(1000):
        win.add(_candle(5 * i, rng))
    live.last_row(win.rows(), win)
    kept = live._kept[id(win)].bars[0]
    win.add(_candle(5 * 1000, rng))
    live.last_row(win.rows(), win)
    assert live._kept[id(win)].bars[0] is kept
    _assert_same(kept, win.rows(), "kept")
    win.add(_candle(5 * 1000, rng))  # the same candle again, other prices: a correction
    win.add(_candle(5 * 500, rng))  # and one from the past
    assert live.last_row(win.rows(), win) == live.last_row(win.rows())
    _assert_same(kept, win.rows(), "rebuilt")


def _trending(minute: int, i: int, rng: np.random.Generator) -> Candle:
    """A climb with swings of a few hours: the 1h trend filter passes, the RSI dips and rallies."""
    c = 100 * np.exp(0.0003 * i + 0.02 * np.sin(i / 9)) * (1 + 0.001 * rng.normal())
    o = c * (1 + 0.001 * rng.normal())
    return Candle(SYMBOL, "5m", START + timedelta(minutes=minute), float(o), float(max(o, c) * 1.001),
                  float(min(o, c) * 0.999), float(c), float(rng.random() * 100), True)  # fmt: skip


def _runs(path: Any, reload_at: int | None, live: bool, n: int = 1700) -> tuple[list, dict]:
    cls = compile_rules(path)
    rng = np.random.default_rng(11)
    decisions: list = []
    strategy = cls()
    strategy.set_parameters({"buy_rsi": 40, "sell_rsi": 60})
    runner = StrategyRunner(strategy, [SYMBOL], on_decision=decisions.append, window=600, live_rules=live)
    minute = 0
    for i in range(n):
        minute += 5 * (7 if i % 211 == 0 else 1)  # gaps
        candle = _trending(minute, i, rng)
        if i == reload_at:
            runner.swap_strategy(cls())  # an edit of the file, mid-window
        before = len(decisions)
        runner.on_candle(SYMBOL, cls.timeframe, candle)
        if i % 97 == 0:  # the same candle twice, and a late one: neither is evaluated
            runner.on_candle(SYMBOL, cls.timeframe, candle)
            runner.on_candle(SYMBOL, cls.timeframe, _candle(minute - 5 * 40, rng))
        for d in decisions[before:]:
            runner.on_fill(SYMBOL, d.side, 1.0, d.price, d.ts)
    assert (runner._live is not None) == live
    return decisions, runner.state


@pytest.mark.parametrize("reload_at", [None, 900])
def test_the_runner_decides_the_same_with_the_kept_bars_through_twice_late_gaps_and_a_reload(
    reload_at: int | None,
) -> None:
    path = bundled_dir() / "rsi_trend.toml"
    fast = _runs(path, reload_at, live=True)
    slow = _runs(path, reload_at, live=False)
    assert fast == slow
    assert len(fast[0]) >= 10 and any(d.is_entry for d in fast[0]) and any(not d.is_entry for d in fast[0])


# -- the higher timeframe's indicators, kept between closed bars (LiveRules._closed_indicators) --

KEPT_RULES = """
[strategy]
name = "kept"
timeframe = "5m"
[parameters]
period = { type = "int", low = 5, high = 30, default = 9 }
[indicators]
ema = { fn = "EMA", timeperiod = "$period" }
atr = { fn = "ATR", timeperiod = 5 }
rsi = { fn = "RSI", timeperiod = 14 }
[entry]
all = ["close@1h > ema@1h", "atr@1h > 0", "rsi < 70"]
[exit]
any = ["close@1h < ema@1h", "ema@4h crosses_above close@4h"]
"""


def _read_cells(live: LiveRules, frames: Any, tf: str) -> dict[str, list[bytes]]:
    """Each indicator a rule reads on `tf`, at the bars the rules read there (the newest two
    candles' closed bars), as bytes: equal means the same float64 bits."""
    columns, positions = frames[tf]
    names = [n for n in columns if n not in OHLCV]
    return {n: [np.float64(columns[n][at]).tobytes() if at >= 0 else b"none" for at in positions] for n in names}


def test_kept_higher_indicators_equal_a_full_recomputation_across_new_higher_bars() -> None:
    """At every candle, the 1h and 4h indicators the rules read (kept while only the forming
    bar moves) are those computed from all of the window's bars, bit for bit: across each new
    closed bar, the window's oldest bar trimmed and leaving, a gap, a corrected and a late
    candle, and a parameter changed. Kept most candles, computed again at each new closed bar."""
    strategy = compile_rules(KEPT_RULES)()
    live = LiveRules(strategy)
    rng = np.random.default_rng(8)
    win = BarWindow(300)
    kept_runs = new_bars = recomputed_at_new_bar = 0
    minute = 0
    for i in range(900):
        minute += 5 * (13 if i == 500 else 1)  # a gap of an hour
        win.add(_candle(minute, rng))
        if i == 640:
            win.add(_candle(minute, rng))  # the newest candle again, corrected
            win.add(_candle(minute - 5 * 30, rng))  # and a late one, into an older bar
        if i == 700:
            strategy.set_parameters({"period": 21})
        if len(win) < 60:
            continue
        rows = win.rows()
        state = live._kept.get(id(win))
        before = {tf: (state.indicators.get(tf) if state else None) for tf in ("1h", "4h")}
        frames = live.columns(rows, win)
        full = live.columns(rows)  # no window: every indicator from all of the bars, nothing kept
        for tf in ("1h", "4h"):
            assert _read_cells(live, frames, tf) == _read_cells(live, full, tf), (i, tf)
            assert frames[tf][1] == full[tf][1], (i, tf)
            after = live._kept[id(win)].indicators[tf]
            if tf == "1h":
                closes_a_bar = (START + timedelta(minutes=minute)).minute == 55  # the hour's last candle
                new_bars += closes_a_bar
                kept_runs += after is before[tf]
                recomputed_at_new_bar += closes_a_bar and after is not before[tf]
            if i == 700:
                assert after is not before[tf] or not live._param_names[tf]  # the new period: computed again
    assert new_bars > 40 and recomputed_at_new_bar == new_bars
    assert kept_runs > 500  # most candles only move the forming bar


def test_every_talib_function_is_causal_as_the_kept_indicators_need() -> None:
    """A value at a bar is the same float64 bits computed on the bars up to it as on all of
    them, for every TA-Lib function a rule may name (what lets LiveRules compute the higher
    timeframe's indicators on its closed bars only)."""
    from tui_trader.indicators.talib_wrappers import talib_names
    from tui_trader.strategy.synthetic import synthetic_ohlcv

    df = synthetic_ohlcv(200, "1h", seed=3)
    bars = {c: np.ascontiguousarray(df[c].to_numpy(dtype=float)) for c in OHLCV}
    checked = 0
    for name in sorted(talib_names()):
        text = (f'[strategy]\nname = "t"\ntimeframe = "5m"\n[indicators]\nx = {{ fn = "{name}" }}\n'
                '[entry]\nwhen = "close > 0"\n')  # fmt: skip
        live = LiveRules(compile_rules(text)())
        try:
            full = live._compute(bars)
        except Exception:  # e.g. MAVP: its "periods" input is no candle column (never live)
            continue
        for upto in (1, 2, 7, 40, 120, 199):
            part = live._compute({c: np.ascontiguousarray(v[:upto]) for c, v in bars.items()})
            for col, values in full.items():
                want = np.asarray(values, dtype=np.float64)[:upto].tobytes()
                assert np.asarray(part[col], dtype=np.float64).tobytes() == want, (name, col, upto)
        checked += 1
    assert checked > 150
