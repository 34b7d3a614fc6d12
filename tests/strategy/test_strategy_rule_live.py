"""The live evaluation of rule strategies (strategy/rule_live.py) equals the full pandas one.

Live, a TOML rule strategy is judged at the newest bar from the window's arrays, without a
DataFrame. Every bar's live row (enter/exit signals and tags, all the runner reads) must be the
full evaluation's last row, cell for cell: on every bundled TOML strategy and on generated rule
files covering every operator, operand, group, tag, timeframe suffix and indicator form the
rule language has, over long seeded random histories with gaps, bar by bar, across the window
rolling over. The runner's decisions, exits and state must be the same with either evaluation.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tui_trader.core.market import Candle
from tui_trader.indicators.talib_wrappers import talib_names
from tui_trader.strategy.analysis import analyze
from tui_trader.strategy.frames import candle_frame
from tui_trader.strategy.loader import bundled_dir, strategy_files
from tui_trader.strategy.rule_live import LiveRules, live_rules, unsupported
from tui_trader.strategy.rule_spec import OPERATORS, Compare, Group
from tui_trader.strategy.rules import compile_rules
from tui_trader.strategy.runner import StrategyRunner
from tui_trader.strategy.synthetic import synthetic_ohlcv
from tui_trader.strategy.window import BarWindow

SYMBOL = "BTC/USDT"
ROW = ("enter_long", "exit_long", "enter_short", "exit_short", "enter_tag", "exit_tag")
TOML_FILES = [p for p in strategy_files(bundled_dir()) if p.suffix == ".toml"]


def _history(bars: int, tf: str, seed: int, gaps: bool = True) -> pd.DataFrame:
    """A seeded random walk; with gaps (missing candles), so some higher buckets are short."""
    df = synthetic_ohlcv(bars + 40, tf, seed=seed)
    if gaps:
        rng = np.random.default_rng(seed)
        drop = rng.choice(np.arange(10, len(df)), size=40, replace=False)
        df = df.drop(index=df.index[drop])
    else:
        df = df.iloc[:bars]
    return df.iloc[:bars].reset_index(drop=True)


def _candles(df: pd.DataFrame, tf: str) -> list[Candle]:
    return [Candle(SYMBOL, tf, r.date.to_pydatetime(), r.open, r.high, r.low, r.close, r.volume, True)
            for r in df.itertuples()]  # fmt: skip


def _full_row(strategy: Any, rows: np.ndarray) -> dict[str, Any]:
    df = analyze(strategy, candle_frame(rows), {"pair": SYMBOL, "timeframe": strategy.timeframe})
    return {c: df.iat[-1, df.columns.get_loc(c)] for c in ROW}


def _same(live: dict[str, Any], full: dict[str, Any]) -> bool:
    return all(
        (live[c] == full[c] and type(live[c]) is type(full[c])) if c.endswith("_tag") else int(live[c]) == int(full[c])
        for c in ROW
    )


def _conditions(node: Compare | Group) -> list[Compare | Group]:
    if isinstance(node, Compare):
        return [node]
    return [node, *(c for item in node.items for c in _conditions(item))]


def _bar_by_bar(
    strategy: Any, df: pd.DataFrame, window: int, every: int = 1, live_every_bar: bool = False
) -> tuple[dict[str, int], int]:
    """Roll the runner's window over `df`; at every `every`-th bar compare the live row with the
    full evaluation's, and each condition and group of the rules on its own with the frame
    path's mask at the last row. The live row is evaluated at the compared bars only (its kept
    higher bars then move on by `every` candles at once), or with `live_every_bar` at each bar
    as the runner does (one candle at a time), and then compared also on both sides of each
    change of it (a signal or tag coming or going, or one the full evaluation has early or
    late): the full evaluation, the costly reference, checks every change and every `every`-th
    bar of no change. Returns how often each signal fired and how many bars were compared
    (a test that never fires proves little); every condition true on some bars, false on others
    is counted in `fired["conditions that changed"]`."""
    live = LiveRules(strategy)
    win = BarWindow(window)
    fired = dict.fromkeys(ROW[:4], 0)
    nodes = [n for group, _ in type(strategy).rules.rules.values() for n in _conditions(group)]
    true = [0] * len(nodes)
    compiled = [live._compiled(node) for node in nodes]  # what last_row runs
    compared = 0
    before: tuple[dict[str, Any], np.ndarray | None] | None = None  # the last live row, its rows if unchecked
    for i, candle in enumerate(_candles(df, strategy.timeframe)):
        win.add(candle)
        if len(win) < max(1, strategy.startup_candle_count) or (i % every and not live_every_bar):
            continue
        rows = win.rows()
        got = live.last_row(rows, win)  # the higher bars kept from the window's last evaluation
        if before and got != before[0] and before[1] is not None:  # the bar before, unchecked
            assert _same(before[0], _full_row(strategy, before[1])), (i - 1, before[0])
        if i % every and (not before or got == before[0]):
            before = (got, rows.copy())
            continue
        before = (got, None)
        analysed = analyze(strategy, candle_frame(rows), {"pair": SYMBOL, "timeframe": strategy.timeframe})
        want = {c: analysed.iat[-1, analysed.columns.get_loc(c)] for c in ROW}
        assert _same(got, want), (i, got, want)
        assert _same(live.last_row(rows), want), i  # and built from the rows alone
        frames = live.columns(rows, win)
        for k, node in enumerate(nodes):
            verdict = live.judge(node, frames)
            assert verdict == bool(strategy._evaluate(analysed, node)[-1]), (i, node)
            assert compiled[k](frames) is verdict, (i, node)
            true[k] += verdict
        for c in fired:
            fired[c] += int(got[c])
        compared += 1
    assert compared >= 50
    fired["conditions that changed"] = sum(0 < t < compared for t in true)
    return fired, compared


# -- the bundled TOML strategies ------------------------------------------------------------


@pytest.mark.parametrize("path", TOML_FILES, ids=[p.name for p in TOML_FILES])
def test_every_bundled_rule_strategy_live_equals_the_full_evaluation_bar_by_bar(path: Any) -> None:
    cls = compile_rules(path)
    strategy = cls()
    assert unsupported(strategy) is None
    runner = StrategyRunner(strategy, [SYMBOL], on_decision=lambda d: None)
    # The warm-up and 150 bars more: the runner's own window is longer (500 bars at least),
    # the same code with more bars to compare.
    window = min(runner.window, strategy.startup_candle_count + 150)
    # past two windows, so the window's buffer moves its rows to the front at least once;
    # the live row at each bar, the full one (costly at long warm-ups) at every 2nd or 5th
    df = _history(2 * window + 60, strategy.timeframe, seed=17)
    every = 1 if window < 300 else 2 if window < 1000 else 5
    fired, compared = _bar_by_bar(strategy, df, window, every=every, live_every_bar=True)
    assert fired["enter_long"] > 0 and fired["exit_long"] > 0, fired
    assert compared >= 250


def test_the_bundled_rule_strategies_are_all_covered() -> None:
    assert {p.name for p in TOML_FILES} >= {"rsi_trend.toml", "demo_dip.toml", "demo_trend.toml"}


# -- generated rule files: every operator, operand and form ------------------------------------

INDICATORS = """
[indicators]
rsi = { fn = "RSI", timeperiod = "$period" }
ema_fast = { fn = "EMA", timeperiod = 5 }
ema_slow = { fn = "EMA", timeperiod = 21, price = "open" }
bb = { fn = "BBANDS", timeperiod = 20, nbdevup = 2.0, nbdevdn = 2.0 }
macd = { fn = "MACD", output = "macdhist" }
stoch = { fn = "STOCH" }
atr = { fn = "ATR", timeperiod = 14 }
adx = { fn = "ADX" }
mfi = { fn = "MFI" }
obv = { fn = "OBV" }
rsi_ema = { fn = "EMA", timeperiod = 9, price = "rsi" }
cdl = { fn = "CDLENGULFING" }
"""
PARAMS = """
[parameters]
period = { type = "int", low = 5, high = 30, default = 14 }
level = { type = "decimal", low = 20, high = 80, default = 50.0, decimals = 1 }
flag = { type = "bool", default = true }
"""
# each operand kind on both sides, each column kind (candle, indicator, output, selected
# output, indicator of an indicator, a TA-Lib integer output), each timeframe suffix; grouped
# by scale, so that a condition is true on some bars and false on others
SCALES = [
    ["close", "open", "ema_fast", "ema_slow", "bb.upperband", "bb.middleband", "close@15m",
     "ema_fast@1h", "ema_slow@1h", "bb.lowerband@4h", "high@1d", "low@1h", "close@4h"],
    ["rsi", "rsi@1h", "stoch.slowk", "stoch.slowd", "rsi_ema", "mfi", "adx@1h", "$level", "50", "30"],
    ["macd", "cdl", "0", "-0.05", "$flag", "-1"],
]  # fmt: skip


def _condition(rng: np.random.Generator, op: str) -> str:
    scale = SCALES[int(rng.choice(3, p=[0.45, 0.45, 0.1]))]
    left, right = rng.choice(scale, size=2, replace=False)
    if left[0] in "$-0123456789" and right[0] in "$-0123456789":
        left = scale[0]
    return f'"{left} {op} {right}"'


def _group(rng: np.random.Generator, ops: list[str], depth: int = 0) -> str:
    items = [_condition(rng, ops.pop()) if ops else _condition(rng, str(rng.choice(OPERATORS)))
             for _ in range(int(rng.integers(1, 4)))]  # fmt: skip
    if depth < 1 and rng.random() < 0.5:
        inner = "any" if rng.random() < 0.5 else "all"
        items.append(f"{{ {inner} = [{_group(rng, ops, depth + 1)}] }}")
    return ", ".join(items)


def generated_rules(seed: int) -> str:
    rng = np.random.default_rng(seed)
    ops = list(OPERATORS) * 2
    rng.shuffle(ops)
    tf = str(rng.choice(["5m", "15m"]))
    short = seed % 3 == 0
    text = f'[strategy]\nname = "gen{seed}"\ntimeframe = "{tf}"\nstartup_candle_count = 60\n'
    text += "can_short = true\n" if short else ""
    text += PARAMS + INDICATORS
    sections = ["entry", "exit"] + (["entry_short", "exit_short"] if short else [])
    for section in sections:
        text += f"\n[{section}]\n"
        if rng.random() < 0.7:
            text += f'tag = "{section}_{seed}"\n'
        if rng.random() < 0.2:
            text += f"when = {_condition(rng, ops.pop() if ops else '>')}\n"
        else:
            text += f"{'any' if rng.random() < 0.5 else 'all'} = [{_group(rng, ops)}]\n"
    return text


SEEDS = list(range(9))


def test_the_generated_rules_cover_every_operator_group_and_suffix() -> None:
    texts = "\n".join(generated_rules(s) for s in SEEDS)
    for op in OPERATORS:
        assert f" {op} " in texts, op
    for form in ("any = [", "all = [", "when = ", "@15m", "@1h", "@4h", "@1d", "$level", "$flag",
                 "entry_short", "tag = "):  # fmt: skip
        assert form in texts, form


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_rule_strategies_live_equal_the_full_evaluation_bar_by_bar(seed: int) -> None:
    cls = compile_rules(generated_rules(seed))
    strategy = cls()
    assert unsupported(strategy) is None
    df = _history(520, strategy.timeframe, seed=100 + seed)
    fired, _ = _bar_by_bar(strategy, df, window=160, every=3)
    nodes = sum(len(_conditions(g)) for g, _ in cls.rules.rules.values())
    assert fired["conditions that changed"] >= max(2, nodes // 4), (fired, nodes)


@pytest.mark.parametrize("seed", [1, 4])
def test_changed_parameters_are_read_at_each_bar(seed: int) -> None:
    strategy = compile_rules(generated_rules(seed))()
    strategy.set_parameters({"period": 7, "level": 31.5, "flag": False})
    _bar_by_bar(strategy, _history(400, strategy.timeframe, seed=seed), window=250, every=3)


def _every_talib_function() -> list[str]:
    return sorted(talib_names())


def test_every_talib_indicator_computes_the_frame_path_columns_exactly() -> None:
    """Each TA-Lib function a rule file can name, on its default inputs and parameters:
    the array path's columns are the frame path's, bit for bit, or both raise."""
    df = _history(1500, "5m", seed=3)
    rows = np.column_stack([df["date"].array.as_unit("us").asi8.astype(float),
                            df[["open", "high", "low", "close", "volume"]].to_numpy()])  # fmt: skip
    frame = candle_frame(rows)
    checked = 0
    for name in _every_talib_function():
        text = (f'[strategy]\nname = "t"\ntimeframe = "5m"\n[indicators]\nx = {{ fn = "{name}" }}\n'
                '[entry]\nwhen = "close > 0"\n')  # fmt: skip
        strategy = compile_rules(text)()
        live = LiveRules(strategy)
        bars = dict(zip(("open", "high", "low", "close", "volume"), np.array(rows[:, 1:6].T, order="C"), strict=True))
        try:
            want = {k: np.asarray(v, dtype=np.float64) for k, v in strategy._compute(frame.copy()).items()}
        except Exception:  # e.g. MAVP: its "periods" input is no candle column
            with pytest.raises(Exception):  # noqa: B017  (live: the candle then goes to the frame path)
                live._compute(bars)
            continue
        got = live._compute(bars)
        assert list(got) == list(want), name
        for col in want:
            np.testing.assert_array_equal(np.asarray(got[col], dtype=np.float64), want[col], err_msg=f"{name} {col}")
        checked += 1
    assert checked > 150


def test_the_newest_row_computes_only_the_indicators_its_rules_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """rsi_trend reads rsi_14 on its 5m bars and ema_50 on the 1h bars: an evaluation makes
    those two TA-Lib calls, not all four of the frame path; an indicator read by another as
    its input (rsi_ema on rsi) is computed with it, and the row is still the full one."""
    from tui_trader.strategy import rule_live

    calls: list[str] = []
    real = rule_live.call_prepared
    monkeypatch.setattr(rule_live, "call_prepared", lambda spec, arrays, params: calls.append(str(spec)) or real(
        spec, arrays, params))
    strategy = compile_rules(bundled_dir() / "rsi_trend.toml")()
    live = LiveRules(strategy)
    assert live.read == {None: {"rsi_14"}, "1h": {"ema_50"}}
    df = _history(1500, strategy.timeframe, seed=5, gaps=False)
    rows = np.column_stack([df["date"].array.as_unit("us").asi8.astype(float),
                            df[["open", "high", "low", "close", "volume"]].to_numpy()])  # fmt: skip
    assert _same(live.last_row(rows), _full_row(strategy, rows))
    assert len(calls) == 2, calls

    text = (f'[strategy]\nname = "t"\ntimeframe = "5m"\n{PARAMS}{INDICATORS}\n'
            '[entry]\nall = ["rsi_ema > 50", "close@1h > bb.upperband@1h", "stoch.slowk < 80"]\n')  # fmt: skip
    strategy = compile_rules(text)()
    live = LiveRules(strategy)
    assert live.read == {None: {"rsi_ema", "rsi", "stoch"}, "1h": {"bb"}}
    for at in range(300, 420, 7):
        assert _same(live.last_row(rows[:at]), _full_row(strategy, rows[:at])), at


# -- the runner: decisions, exits, state, the frame for callbacks, fallbacks -------------------


def _run(cls: type, df: pd.DataFrame, live: bool, window: int | None = None) -> tuple[list, dict, StrategyRunner]:
    decisions: list = []
    runner = StrategyRunner(cls(), [SYMBOL], on_decision=decisions.append, window=window, live_rules=live)
    for candle in _candles(df, cls.timeframe):
        before = len(decisions)
        runner.on_candle(SYMBOL, cls.timeframe, candle)
        for d in decisions[before:]:  # filled at once, at the bar's close
            runner.on_fill(SYMBOL, d.side, 1.0, d.price, d.ts)
    return decisions, runner.state, runner


@pytest.mark.parametrize("path", [p for p in TOML_FILES if p.name != "rsi_trend.toml"], ids=lambda p: p.name)
def test_the_runner_decides_the_same_with_the_live_evaluation(path: Any) -> None:
    cls = compile_rules(path)
    df = _history(600, cls.timeframe, seed=23)
    fast, fast_state, runner = _run(cls, df, live=True)
    slow, slow_state, _ = _run(cls, df, live=False)
    assert runner._live is not None  # it did evaluate live, all along
    assert fast == slow and fast_state == slow_state
    reasons = {d.reason for d in fast}
    assert "entry_signal" in reasons and len(reasons) >= 2, reasons  # entries and some exits


def test_rsi_trend_decides_the_same_with_the_live_evaluation() -> None:
    cls = compile_rules(bundled_dir() / "rsi_trend.toml")
    df = _history(1600, cls.timeframe, seed=29)  # 400 bars past its warm-up of 1,200
    fast, fast_state, runner = _run(cls, df, live=True, window=1250)
    slow, slow_state, _ = _run(cls, df, live=False, window=1250)
    assert runner._live is not None
    assert fast == slow and fast_state == slow_state
    assert any(d.is_entry for d in fast) and any(not d.is_entry for d in fast)


def test_a_callback_asking_for_the_analysed_frame_gets_the_full_one() -> None:
    cls = compile_rules(bundled_dir() / "demo_trend.toml")
    df = _history(700, cls.timeframe, seed=5, gaps=False)
    _, _, runner = _run(cls, df, live=True, window=500)
    got, when = runner.dp.get_analyzed_dataframe(SYMBOL, cls.timeframe)
    want = analyze(cls(), df.iloc[-500:].reset_index(drop=True), {"pair": SYMBOL, "timeframe": cls.timeframe})
    pd.testing.assert_frame_equal(got, want, check_column_type=False, check_exact=True)
    assert when == df["date"].iloc[-1].to_pydatetime()


CUSTOM = """
[strategy]
name = "custom"
timeframe = "5m"
[indicators]
st = { fn = "supertrend" }
[entry]
when = "close crosses_above st.supertrend"
[exit]
when = "close crosses_below st.supertrend"
"""


def test_custom_indicators_get_the_full_evaluation() -> None:
    cls = compile_rules(CUSTOM)
    assert "supertrend" in (unsupported(cls()) or "")
    assert live_rules(cls()) is None
    df = _history(300, "5m", seed=2)
    fast, _, runner = _run(cls, df, live=True)
    assert runner._live is None and fast == _run(cls, df, live=False)[0] and fast


BROKEN = """
[strategy]
name = "broken"
timeframe = "5m"
startup_candle_count = 30
[indicators]
smooth = { fn = "EMA", timeperiod = 5, price = "later" }
later = { fn = "RSI", timeperiod = 14 }
[entry]
when = "smooth > 50"
"""


def test_a_rule_the_full_evaluation_rejects_is_rejected_the_same_way_live() -> None:
    """An input named before it is computed: the live path hands the candle to the full one,
    which disables the strategy with its own error, exactly as without the live path."""
    cls = compile_rules(BROKEN)
    df = _history(200, "5m", seed=4)
    errors = []
    for live in (True, False):
        _, _, runner = _run(cls, df, live=live)
        assert not runner.enabled
        errors.append(str(runner.error))
    assert errors[0] == errors[1] and "later" in errors[0]


def test_a_class_overriding_the_rule_evaluation_gets_the_full_one() -> None:
    cls = compile_rules(bundled_dir() / "demo_dip.toml")

    class Edited(cls):  # type: ignore[misc, valid-type]
        def populate_entry_trend(self, dataframe: Any, metadata: dict) -> Any:
            return super().populate_entry_trend(dataframe, metadata)

    assert "populate_entry_trend" in (unsupported(Edited()) or "")


def test_the_warm_up_checks_the_live_row_against_the_full_one(caplog: pytest.LogCaptureFixture) -> None:
    cls = compile_rules(bundled_dir() / "demo_trend.toml")
    candles = _candles(_history(300, "1m", seed=8), "1m")
    runner = StrategyRunner(cls(), [SYMBOL], on_decision=lambda d: None,
                            history=lambda s, tf, n: candles[-n:])  # fmt: skip
    runner.warm_up()
    assert runner._live is not None
    # a live evaluation that went wrong is caught at the warm-up and not used
    runner2 = StrategyRunner(cls(), [SYMBOL], on_decision=lambda d: None,
                             history=lambda s, tf, n: candles[-n:])  # fmt: skip
    assert runner2._live is not None

    def wrong(rows: np.ndarray) -> dict[str, Any]:
        return {**_full_row(runner2.strategy, rows), "enter_long": 1, "exit_long": 1}

    runner2._live.last_row = wrong  # type: ignore[method-assign]
    runner2.warm_up()
    assert runner2._live is None and "differs from the full one" in caplog.text
    assert runner2.enabled


def test_the_window_rows_are_the_bars_without_a_copy() -> None:
    win = BarWindow(4)
    df = _history(6, "1m", seed=1, gaps=False)
    for c in _candles(df, "1m"):
        win.add(c)
    np.testing.assert_array_equal(win.rows(), win.array())
    assert win.rows().base is not None and len(win.rows()) == 4
    assert win.rows()[0, 0] == (df["date"].iloc[2] - pd.Timestamp(0, tz="UTC")) / timedelta(microseconds=1)


@pytest.mark.parametrize("name", ["demo_trend.toml", "rsi_trend.toml", "ema_cross.toml"])
def test_the_warm_up_on_arrays_agrees_without_pandas_and_falls_back_when_it_cannot(
    name: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the engine's process (`check_on_arrays`) the warm-up checks the live row against the
    rules on arrays, not `analyze`; a disagreement there runs the check with pandas, as ever."""
    from tui_trader.strategy import runner as runner_mod

    cls = compile_rules(bundled_dir() / name)
    tf = cls.timeframe
    candles = _candles(_history(1500, tf, seed=8), tf)
    analysed: list[str] = []
    real_analyze = runner_mod.analyze

    def counting(*args: Any, **kwargs: Any) -> Any:
        analysed.append(name)
        return real_analyze(*args, **kwargs)

    monkeypatch.setattr(runner_mod, "analyze", counting)
    runner = StrategyRunner(cls(), [SYMBOL], on_decision=lambda d: None, history=lambda s, t, n: candles[-n:])
    runner.check_on_arrays = True
    runner.warm_up()
    assert runner._live is not None and not analysed  # agreed on arrays: no DataFrame made

    wrong_runner = StrategyRunner(cls(), [SYMBOL], on_decision=lambda d: None, history=lambda s, t, n: candles[-n:])
    wrong_runner.check_on_arrays = True
    assert wrong_runner._live is not None

    def wrong(rows: np.ndarray, window: Any = None) -> dict[str, Any]:
        return {**_full_row(wrong_runner.strategy, rows), "enter_long": 1, "exit_long": 1}

    wrong_runner._live.last_row = wrong  # type: ignore[method-assign]
    wrong_runner.warm_up()
    assert analysed and wrong_runner._live is None and "differs from the full one" in caplog.text
