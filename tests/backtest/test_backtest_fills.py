"""Hand-built candle sequences whose trades and P&L are known exactly."""

from __future__ import annotations

import pandas as pd
import pytest

from tui_trader.backtest import ExitRules, backtest_signals
from tui_trader.core.errors import DataError


def candles(rows: list[tuple[float, float, float, float]], **signals: list[int]) -> pd.DataFrame:
    """1-minute candles from (open, high, low, close) rows plus signal columns."""
    dates = pd.date_range("2024-01-01", periods=len(rows), freq="1min", tz="UTC")
    df = pd.DataFrame(rows, columns=["open", "high", "low", "close"])
    df.insert(0, "date", dates)
    df["volume"] = 1_000.0
    for name, values in signals.items():
        df[name] = values + [0] * (len(rows) - len(values))
    return df


FLAT = (100.0, 100.5, 99.5, 100.0)


def run(df: pd.DataFrame, rules: ExitRules, **kw: object) -> pd.DataFrame:
    kw.setdefault("fee", 0.0)
    return backtest_signals({"X": df}, rules, timeframe="1m", capital=1_000.0, **kw).trades  # type: ignore[arg-type]


def test_entry_fills_at_next_open_and_exit_signal_at_next_open() -> None:
    df = candles(
        [FLAT, (101, 102, 100, 101), (102, 103, 101, 103), (104, 104, 103, 103), FLAT],
        enter_long=[1],
        exit_long=[0, 0, 1],
    )
    t = run(df, ExitRules.build()).iloc[0]
    assert t.entry_time == df.date[1] and t.entry_price == 101.0
    assert t.exit_reason == "exit_signal" and t.exit_price == 104.0 and t.exit_time == df.date[3]
    assert t.quantity == pytest.approx(1_000 / 101)
    assert t.pnl == pytest.approx(1_000 / 101 * 3)
    assert t.pnl_pct == pytest.approx(3 / 101)
    assert t.mfe == pytest.approx(104 / 101 - 1) and t.mae == pytest.approx(100 / 101 - 1)


def test_gap_through_stop_fills_at_the_worse_open() -> None:
    df = candles([FLAT, FLAT, (100, 100.2, 99, 99.5), (90, 91, 89, 90), FLAT], enter_long=[1])
    t = run(df, ExitRules.build(stoploss=-0.05)).iloc[0]
    assert t.exit_reason == "stop_loss"
    assert t.exit_price == 90.0  # the stop was 95, the bar opened at 90
    assert t.pnl == pytest.approx(-100.0)


def test_stop_inside_bar_fills_at_stop() -> None:
    df = candles([FLAT, FLAT, (100, 100.2, 94, 99), FLAT], enter_long=[1])
    t = run(df, ExitRules.build(stoploss=-0.05)).iloc[0]
    # Freqtrade stamps every exit at the open of its candle
    assert (t.exit_reason, t.exit_price, t.exit_time) == ("stop_loss", 95.0, df.date[2])


def test_stop_and_target_in_one_bar_stop_fills_first() -> None:
    df = candles([FLAT, FLAT, (100, 110, 90, 100), FLAT], enter_long=[1])
    t = run(df, ExitRules.build(stoploss=-0.05, minimal_roi={"0": 0.05})).iloc[0]
    assert t.exit_reason == "stop_loss" and t.exit_price == 95.0


def test_roi_target_fills_at_limit_with_maker_fee() -> None:
    df = candles([FLAT, FLAT, (100, 106, 99, 105), FLAT], enter_long=[1])
    t = run(df, ExitRules.build(minimal_roi={"0": 0.05}), fee=0.002, maker_fee=0.001).iloc[0]
    qty = 1_000 / 100  # "unlimited": the whole wallet; fees come out of the profit
    # ROI is after fees, measured with the taker fee on both sides: 5 % net at 105.42...
    target = 105.0 * 1.002 / 0.998
    assert t.exit_reason == "roi" and t.exit_price == pytest.approx(round(target, 1))
    assert t.fees == pytest.approx(qty * 100 * 0.002 + qty * t.exit_price * 0.001)
    assert t.pnl == pytest.approx(qty * t.exit_price * (1 - 0.001) - qty * 100 * (1 + 0.002))
    assert t.pnl_pct == pytest.approx(t.pnl / (qty * 100 * 1.002))


def test_roi_table_steps_down_with_minutes_open() -> None:
    # 4 % at first, 1 % once the bar closing 3 minutes after entry is reached
    roi = {"0": 0.04, "3": 0.01}
    rows = [
        FLAT,
        FLAT,
        (100, 102, 99.5, 101),
        (101, 102, 100.5, 101),
        (101, 101.6, 100.8, 101),
        FLAT,
    ]
    t = run(candles(rows, enter_long=[1]), ExitRules.build(minimal_roi=roi)).iloc[0]
    # entry at bar 1's open; bars 1-3 open 0-2 minutes in: need 104; bar 4 opens 3 minutes in
    assert t.exit_reason == "roi" and t.exit_price == pytest.approx(101.0)
    assert t.exit_time == candles(rows).date[4]


def test_roi_gap_fills_inside_the_candle() -> None:
    # Freqtrade clamps the target into the candle: a candle wholly above it fills at its low
    df = candles([FLAT, FLAT, (108, 109, 107, 108), FLAT], enter_long=[1])
    t = run(df, ExitRules.build(minimal_roi={"0": 0.05})).iloc[0]
    assert t.exit_reason == "roi" and t.exit_price == 107.0 and t.exit_time == df.date[2]
    # ... and at its open when a new ROI step begins at that open
    df = candles([FLAT, FLAT, (100, 100.5, 99.5, 100), (108, 109, 107, 108), FLAT], enter_long=[1])
    t = run(df, ExitRules.build(minimal_roi={"0": 0.5, "2": 0.05})).iloc[0]
    assert t.exit_reason == "roi" and t.exit_price == 108.0 and t.exit_time == df.date[3]


def test_fees_and_slippage_work_against_the_trader() -> None:
    df = candles(
        [FLAT, FLAT, FLAT, (110, 111, 109, 110), FLAT], enter_long=[1], exit_long=[0, 0, 1]
    )
    t = run(df, ExitRules.build(), fee=0.001, slippage_bps=10).iloc[0]
    entry, exit_ = 100 * 1.001, 110 * 0.999
    qty = 1_000 / entry
    assert t.entry_price == pytest.approx(entry) and t.exit_price == pytest.approx(exit_)
    assert t.fees == pytest.approx(qty * entry * 0.001 + qty * exit_ * 0.001)
    assert t.pnl == pytest.approx(qty * (exit_ - entry) - t.fees)


def test_volume_aware_slippage_grows_with_participation() -> None:
    df = candles([FLAT, FLAT, FLAT], enter_long=[1])
    df["volume"] = 100.0
    base = run(df, ExitRules.build()).iloc[0]
    hit = run(df, ExitRules.build(), volume_impact=0.01).iloc[0]
    # 10 units of 100 traded: 0.01 * 0.1 = 0.1 % worse
    assert hit.entry_price == pytest.approx(base.entry_price * 1.001)


def test_trailing_stop_follows_the_high_and_exits_on_pullback() -> None:
    rows = [FLAT, FLAT, (100, 110, 100, 109), (109, 120, 108, 119), (119, 119, 105, 106), FLAT]
    rules = ExitRules.build(stoploss=-0.10, trailing_stop=True)
    t = run(candles(rows, enter_long=[1]), rules).iloc[0]
    # after bar 3 the best price is 120, the stop 108; bar 4 trades down through it
    assert t.exit_reason == "trailing_stop_loss" and t.exit_price == pytest.approx(108.0)


def test_trailing_stop_positive_with_offset() -> None:
    rows = [FLAT, FLAT, (100, 102, 99.5, 101), (101, 106, 104, 105.5), (105, 105, 103, 104), FLAT]
    rules = ExitRules.build(
        stoploss=-0.10,
        trailing_stop=True,
        trailing_stop_positive=0.01,
        trailing_stop_positive_offset=0.05,
        trailing_only_offset_is_reached=True,
    )
    t = run(candles(rows, enter_long=[1]), rules).iloc[0]
    # offset reached at bar 3's high 106 (6 %): stop 106 * 0.99 = 104.94, up to the candles'
    # 0.1 tick: 105.0; bar 3's low (104) reaches it (Freqtrade takes the high first)
    assert t.exit_reason == "trailing_stop_loss" and t.exit_price == pytest.approx(105.0)
    assert t.exit_time == candles(rows).date[3]


def test_trailing_stop_raised_by_own_bar_is_hit_by_its_low() -> None:
    rows = [FLAT, FLAT, (100, 120, 100, 105), FLAT]
    rules = ExitRules.build(stoploss=-0.05, trailing_stop=True)
    t = run(candles(rows, enter_long=[1]), rules).iloc[0]
    # the high of 120 lifts the stop to 114, the low of 100 goes through it: filled at 114
    assert t.exit_reason == "trailing_stop_loss" and t.exit_price == 114.0


def test_short_trade_stop_target_and_pnl() -> None:
    rows = [FLAT, FLAT, (100, 101, 94, 95), FLAT]
    rules = ExitRules.build(stoploss=-0.05, minimal_roi={"0": 0.05}, can_short=True)
    t = run(candles(rows, enter_short=[1]), rules).iloc[0]
    assert t.side == "short" and t.exit_reason == "roi" and t.exit_price == pytest.approx(95.0)
    assert t.pnl == pytest.approx(10 * 5.0)
    rows = [FLAT, FLAT, (100, 106, 94, 100), FLAT]
    t = run(candles(rows, enter_short=[1]), rules).iloc[0]
    assert t.exit_reason == "stop_loss" and t.exit_price == pytest.approx(105.0)
    assert t.pnl == pytest.approx(-50.0)


def test_short_signals_ignored_unless_can_short() -> None:
    df = candles([FLAT, FLAT, FLAT], enter_short=[1])
    assert run(df, ExitRules.build()).empty


def test_latency_bars_delay_entry_and_exit() -> None:
    rows = [
        FLAT,
        (101, 101, 101, 101),
        (102, 102, 102, 102),
        (103, 103, 103, 103),
        (104, 104, 104, 104),
        (105, 105, 105, 105),
    ]
    df = candles(rows, enter_long=[1], exit_long=[0, 0, 1])
    t = run(df, ExitRules.build(), latency_bars=1).iloc[0]
    assert t.entry_price == 102.0 and t.exit_price == 104.0


def test_force_exit_at_the_end_of_data() -> None:
    df = candles([FLAT, FLAT, (100.2, 101, 99, 100.7)], enter_long=[1])
    t = run(df, ExitRules.build()).iloc[0]
    # at the last candle's open, as Freqtrade
    assert t.exit_reason == "force_exit" and t.exit_price == 100.2 and t.exit_time == df.date[2]


def test_entry_and_exit_on_the_same_candle_keeps_the_trade() -> None:
    df = candles([FLAT, FLAT, FLAT, FLAT], enter_long=[1, 1], exit_long=[0, 1, 0, 0])
    t = run(df, ExitRules.build()).iloc[0]
    assert t.exit_reason == "force_exit"


def test_equity_marks_open_trades_and_books_pnl() -> None:
    rows = [FLAT, FLAT, (100, 110, 100, 110), (110, 111, 109, 110), FLAT]
    df = candles(rows, enter_long=[1], exit_long=[0, 0, 1])
    res = backtest_signals({"X": df}, ExitRules.build(), timeframe="1m", capital=1_000.0, fee=0.0)
    assert list(res.equity.round(6)) == [1_000.0, 1_000.0, 1_100.0, 1_100.0, 1_100.0]
    assert res.benchmark.iloc[-1] == pytest.approx(1_000.0)
    assert res.metrics["trades"] == 1 and res.metrics["total_return"] == pytest.approx(0.1)


def test_unsorted_candles_are_refused_with_one_line() -> None:
    df = candles([FLAT, FLAT, FLAT])
    df = df.iloc[[0, 2, 1]].reset_index(drop=True)
    from tui_trader.backtest.engine import checked_candles

    with pytest.raises(DataError, match="not sorted"):
        checked_candles(df, "1m", "X")
    with pytest.raises(DataError, match="apart"):
        checked_candles(candles([FLAT, FLAT, FLAT]), "5m", "X")
    with pytest.raises(DataError, match="close"):
        checked_candles(candles([FLAT]).drop(columns="close"), "1m", "X")


def test_missing_candles_are_filled_flat_as_freqtrade_loads_them() -> None:
    from tui_trader.backtest.gaps import fill_gaps

    df = candles([FLAT, (101, 102, 100, 101.5), FLAT, FLAT]).drop(index=[1, 2]).reset_index(drop=True)
    out = fill_gaps(df, 60)
    assert list(out.date) == list(candles([FLAT] * 4).date)
    assert out.loc[1, ["open", "high", "low", "close", "volume"]].tolist() == [100.0, 100.0, 100.0, 100.0, 0.0]
    assert out.loc[3, "volume"] == 1_000.0 and fill_gaps(out, 60) is out
