"""Rule-based TOML strategies: compile, operators, groups, @timeframe without look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from tui_trader.strategy import IStrategy, detect_parameters
from tui_trader.strategy.analysis import analyze
from tui_trader.strategy.errors import StrategyError
from tui_trader.strategy.rules import compile_rules, validate_rules
from tui_trader.strategy.synthetic import synthetic_ohlcv

BASIC = """
[strategy]
name = "basic"
timeframe = "5m"
stoploss = -0.03
minimal_roi = { "0" = 0.05, "30" = 0.01 }
trailing = { positive = 0.01, offset = 0.02 }

[parameters]
buy_level = { type = "int", low = 20, high = 40, default = 30 }

[indicators]
rsi = { fn = "RSI", timeperiod = 14 }
ema_fast = { fn = "EMA", timeperiod = 5 }
ema_slow = { fn = "EMA", timeperiod = 20 }
bb = { fn = "BBANDS", timeperiod = 20 }

[entry]
tag = "dip"
all = ["rsi crosses_above $buy_level", { any = ["close < bb.middleband", "ema_fast >= ema_slow"] }]

[exit]
any = ["ema_fast crosses_below ema_slow", "rsi > 75"]
"""


def _cross_above(a, b):
    a = np.asarray(a, float)
    b = np.broadcast_to(np.asarray(b, float), a.shape)
    prev_a = np.concatenate(([np.nan], a[:-1]))
    prev_b = np.concatenate(([np.nan], b[:-1]))
    return (a > b) & (prev_a <= prev_b)


def test_compile_and_signals_match_hand_computation():
    cls = compile_rules(BASIC)
    assert issubclass(cls, IStrategy) and cls.__name__ == "basic"
    s = cls()
    assert (s.timeframe, s.stoploss, s.minimal_roi) == ("5m", -0.03, {"0": 0.05, "30": 0.01})
    assert s.trailing_stop and s.trailing_stop_positive == 0.01
    assert s.trailing_stop_positive_offset == 0.02
    assert detect_parameters(cls)["buy_level"].range == range(20, 41)
    candles = synthetic_ohlcv(2000, "5m", seed=11)
    df = analyze(s, candles, {"pair": "X"})
    close = candles["close"].to_numpy()
    rsi = talib.RSI(close, 14)
    ef, es = talib.EMA(close, 5), talib.EMA(close, 20)
    _, mid, _ = talib.BBANDS(close, 20)
    entry = _cross_above(rsi, 30) & ((close < mid) | (ef >= es))
    exit_ = _cross_above(es, ef) | (rsi > 75)
    assert entry.sum() > 0 and exit_.sum() > 0
    np.testing.assert_array_equal(df["enter_long"].to_numpy() == 1, entry)
    np.testing.assert_array_equal(df["exit_long"].to_numpy() == 1, exit_)
    assert set(df.loc[df["enter_long"] == 1, "enter_tag"]) == {"dip"}
    assert df.loc[df["enter_long"] == 0, "enter_tag"].isna().all()
    s.set_parameters({"buy_level": 40})
    df40 = analyze(s, candles, {"pair": "X"})
    np.testing.assert_array_equal(
        df40["enter_long"].to_numpy() == 1, _cross_above(rsi, 40) & ((close < mid) | (ef >= es))
    )


HIGHER = """
[strategy]
name = "higher"
timeframe = "5m"

[indicators]
ema = { fn = "EMA", timeperiod = 3 }

[entry]
when = "close@1h > ema@1h"
"""


def test_higher_timeframe_uses_only_closed_bars():
    candles = synthetic_ohlcv(1200, "5m", seed=5)
    s = compile_rules(HIGHER)()
    df = analyze(s, candles, {"pair": "X"})
    hourly = candles.set_index("date").resample("1h").agg({"close": "last"})
    hourly["ema"] = talib.EMA(hourly["close"].to_numpy(), 3)
    for i in range(40, 1200, 7):
        row_close_time = df["date"].iat[i] + pd.Timedelta(minutes=5)
        closed = hourly[hourly.index + pd.Timedelta(hours=1) <= row_close_time].iloc[-1]
        assert df["close@1h"].iat[i] == closed["close"]
        expected = closed["close"] > closed["ema"]
        assert bool(df["enter_long"].iat[i]) == bool(expected)
    # Changing candles after a row never changes that row (no look-ahead).
    cut = 700
    df_cut = analyze(s, candles.iloc[:cut].copy(), {"pair": "X"})
    np.testing.assert_array_equal(
        df_cut["enter_long"].to_numpy(), df["enter_long"].to_numpy()[:cut]
    )
    assert s.startup_candle_count >= 12 * 3


def test_validate_reports_lines():
    text = BASIC.replace('"RSI"', '"RSX"').replace("ema_fast >= ema_slow", "ema_fast >> ema_slow")
    text = text.replace("rsi > 75", "macd > 1").replace('timeframe = "5m"', 'timeframe = "5q"')
    errors = validate_rules(text)
    by_line = {e.line: e.message for e in errors}
    lines = text.splitlines()

    def line_of(needle):
        return next(i for i, line in enumerate(lines, 1) if needle in line)

    assert "unknown timeframe" in by_line[line_of("timeframe =")]
    assert "did you mean RSI" in by_line[line_of('"RSX"')]
    assert "OPERATOR" in by_line[line_of(">>")]
    assert "unknown column 'macd'" in by_line[line_of("macd > 1")]
    assert validate_rules("[strategy\n")[0].line == 1
    assert validate_rules(BASIC) == []
    assert any(
        "no [entry]" in e.message for e in validate_rules('[strategy]\nname="a"\ntimeframe="1m"')
    )
    assert "1h must be" not in str(validate_rules(HIGHER))
    bad_tf = validate_rules(HIGHER.replace("@1h", "@7m"))
    assert bad_tf and "whole multiple" in bad_tf[0].message


def test_compile_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BASIC.replace('"RSI"', '"NOPE"'), encoding="utf-8")
    with pytest.raises(StrategyError) as info:
        compile_rules(path)
    assert info.value.file == str(path)
    assert info.value.line == BASIC.splitlines().index('rsi = { fn = "RSI", timeperiod = 14 }') + 1


def test_short_rules_need_can_short():
    text = HIGHER + '\n[entry_short]\nwhen = "close < ema"\n'
    assert any("can_short" in e.message for e in validate_rules(text))
    text = text.replace('timeframe = "5m"', 'timeframe = "5m"\ncan_short = true')
    df = analyze(compile_rules(text)(), synthetic_ohlcv(300), {})
    assert df["enter_short"].sum() > 0


def test_a_rule_on_a_column_that_reads_the_future_is_refused():
    """ichimoku's chikou span is the close shifted back from later bars: a rule on it would
    trade on prices not yet known (a random walk showed a Sharpe of 8)."""
    from tui_trader.strategy.rules import validate_rules

    text = (
        '[strategy]\nname = "peek"\ntimeframe = "1h"\n[indicators]\nichi = { fn = "ichimoku" }\n'
        '[entry]\nall = ["close > ichi.chikou"]\n[exit]\nall = ["close < ichi.kijun"]\n'
    )
    errors = validate_rules(text)
    assert [e.line for e in errors] == [7] and "future" in errors[0].message
    assert validate_rules(text.replace("ichi.chikou", "ichi.kijun")) == []
