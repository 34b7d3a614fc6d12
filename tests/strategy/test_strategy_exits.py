"""Exit rules against the examples in Freqtrade's documentation and its backtester's rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui_trader.strategy import IStrategy
from tui_trader.strategy.exits import (
    CUSTOM_EXIT,
    EXIT_SIGNAL,
    ROI,
    STOP_LOSS,
    TRAILING_STOP_LOSS,
    decide_exit,
    roi_price,
    roi_threshold,
    stoploss_price,
    trailing_stop_price,
)
from tui_trader.strategy.trade import StrategyTrade

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def test_roi_table_freqtrade_example():
    # Docs: {"40": 0.0, "30": 0.01, "20": 0.02, "0": 0.04}
    roi = {"40": 0.0, "30": 0.01, "20": 0.02, "0": 0.04}
    assert roi_threshold(roi, 0) == 0.04
    assert roi_threshold(roi, 19.9) == 0.04
    assert roi_threshold(roi, 20) == 0.02
    assert roi_threshold(roi, 35) == 0.01
    assert roi_threshold(roi, 400) == 0.0
    assert roi_threshold({"10": 0.01}, 5) is None
    assert roi_threshold({}, 5) is None


def test_stoploss_price():
    assert stoploss_price(100, "long", -0.10) == pytest.approx(90)
    assert stoploss_price(100, "short", -0.10) == pytest.approx(110)


def test_trailing_stop_plain():
    # Docs: stoploss -10 %, trailing_stop: buy at 100, price 102 -> stop 91.8, falls back -> stays.
    assert trailing_stop_price(100, "long", 100, -0.10) == pytest.approx(90)
    assert trailing_stop_price(100, "long", 102, -0.10) == pytest.approx(91.8)
    assert trailing_stop_price(100, "short", 95, -0.10) == pytest.approx(104.5)


def test_trailing_stop_positive_with_offset():
    # Docs: stoploss -10 %, positive 0.02, offset 0.03: 102 -> 91.8 (still -10 % trailing),
    # 103.5 (above the offset) -> 2 % below 103.5 = 101.43.
    args = dict(stoploss=-0.10, trailing_stop_positive=0.02, trailing_stop_positive_offset=0.03)
    assert trailing_stop_price(100, "long", 102, **args) == pytest.approx(91.8)
    assert trailing_stop_price(100, "long", 103.5, **args) == pytest.approx(101.43)


def test_trailing_only_offset_is_reached():
    # Docs: the stop stays at 90 until 103 (offset), then 100.94 at 103 and 101.43 at 103.5.
    args = dict(
        stoploss=-0.10,
        trailing_stop_positive=0.02,
        trailing_stop_positive_offset=0.03,
        trailing_only_offset_is_reached=True,
    )
    assert trailing_stop_price(100, "long", 102.9, **args) == pytest.approx(90)
    assert trailing_stop_price(100, "long", 103, **args) == pytest.approx(100.94)
    assert trailing_stop_price(100, "long", 103.5, **args) == pytest.approx(101.43)
    short = trailing_stop_price(100, "short", 96.5, **args)
    assert short == pytest.approx(96.5 * 1.02)


class Exits(IStrategy):
    minimal_roi = {"0": 0.05, "30": 0.01}
    stoploss = -0.02
    timeframe = "5m"


def _trade(fee: float = 0.0) -> StrategyTrade:
    t = StrategyTrade("X", False, 100.0, 1.0, T0, max_rate=100.0, min_rate=100.0,
                      fee_open=fee, fee_close=fee)  # fmt: skip
    t.adjust_stop_loss(100.0, -0.02, initial=True)
    return t


def bar(s: IStrategy, t: StrategyTrade, o: float, h: float, lo: float, c: float, minutes: int,
        **kw: object):  # fmt: skip
    """One candle opening `minutes` after the entry (the entry candle is minute 0)."""
    return decide_exit(s, t, bar_open=o, bar_high=h, bar_low=lo, bar_close=c,
                       bar_time=T0 + timedelta(minutes=minutes), timeframe_minutes=5, **kw)  # fmt: skip


def test_stop_before_roi_and_fill_prices() -> None:
    s = Exits()
    # a candle that touches the stop and the ROI: the stop ranks first
    hit = bar(s, _trade(), 100, 106, 97.5, 101, 5)
    assert (hit.reason, hit.price) == (STOP_LOSS, pytest.approx(98.0))
    # gapped down, but the candle still traded at the stop: Freqtrade fills at the stop
    assert bar(s, _trade(), 97, 98.5, 95, 96, 5).price == pytest.approx(98.0)
    # the whole candle below the stop: the open
    assert bar(s, _trade(), 96, 96.5, 95, 96, 5).price == 96
    # ROI: minutes counted from the entry candle's open; 30 minutes in, 1 %
    hit = bar(s, _trade(), 100.5, 101.2, 100.2, 101, 30)
    assert (hit.reason, hit.price) == (ROI, pytest.approx(101.0))
    assert bar(s, _trade(), 100.5, 101.2, 100.2, 101, 25) is None  # still the 5 % step
    # a new step begins at an open already past it: the open
    hit = bar(s, _trade(), 101.5, 101.8, 101.3, 101.6, 30)
    assert (hit.reason, hit.price, hit.at_open) == (ROI, 101.5, True)


def test_roi_is_after_both_fees() -> None:
    s = Exits()
    target = roi_price(100.0, "long", 0.01, fee=0.001)
    assert target == pytest.approx(101.0 * 1.001 / 0.999)
    assert bar(s, _trade(0.001), 100.5, 101.1, 100.2, 101, 30) is None  # 1 % before fees only
    hit = bar(s, _trade(0.001), 100.5, 101.3, 100.2, 101, 30)
    assert (hit.reason, hit.price) == (ROI, pytest.approx(target))
    t = _trade(0.001)
    assert t.calc_profit_ratio(target) == pytest.approx(0.01, abs=1e-8)


def test_exit_signal_then_custom_exit_reasons() -> None:
    s = Exits()
    hit = bar(s, _trade(), 100, 100.5, 99.5, 100.2, 5, exit_signal=True, exit_tag="x")
    assert (hit.reason, hit.tag, hit.kind, hit.price) == ("x", "x", EXIT_SIGNAL, 100)
    hit = bar(s, _trade(), 100, 100.5, 99.5, 100.2, 5, exit_signal=True)
    assert (hit.reason, hit.kind) == (EXIT_SIGNAL, EXIT_SIGNAL)
    s.exit_profit_only = True  # judged at the open, after fees
    assert bar(s, _trade(), 100, 100.1, 99.5, 99.8, 5, exit_signal=True) is None

    class Custom(Exits):
        def custom_exit(self, pair, trade, current_time, current_rate, current_profit, **kw):
            return "time_out" if current_time >= T0 + timedelta(minutes=10) else None

    assert bar(Custom(), _trade(), 100, 100.5, 99.5, 100.2, 5) is None
    hit = bar(Custom(), _trade(), 100, 100.5, 99.5, 100.2, 10)
    assert (hit.reason, hit.kind, hit.price) == ("time_out", CUSTOM_EXIT, 100)


def test_trailing_moves_with_the_high_and_is_hit_by_the_low() -> None:
    class Trail(Exits):
        minimal_roi = {}
        trailing_stop = True

    s, t = Trail(), _trade()
    # the high moves the stop to 110 * 0.98 = 107.8, then the low (107) reaches it
    hit = bar(s, t, 100, 110, 107, 109, 5)
    assert (hit.reason, hit.price) == (TRAILING_STOP_LOSS, pytest.approx(107.8))
    t = _trade()
    assert bar(s, t, 100, 110, 108, 109, 5) is None and t.stop_loss == pytest.approx(107.8)
    assert t.is_stop_loss_trailing
    # a later candle opening below it: the stop price, as long as the candle traded there
    hit = bar(s, t, 107, 108, 106, 107, 10)
    assert (hit.reason, hit.price) == (TRAILING_STOP_LOSS, pytest.approx(107.8))


def test_ticks_round_the_stop_up_for_longs() -> None:
    t = StrategyTrade("X", False, 0.09207, 1.0, T0, tick=1e-8)
    t.adjust_stop_loss(0.09207, -0.013, initial=True)
    assert t.stop_loss == 0.09087309  # 0.09087309 exactly from 0.090873090000...01
    short = StrategyTrade("X", True, 0.09207, 1.0, T0, tick=1e-8)
    short.adjust_stop_loss(0.09207, -0.013, initial=True)
    assert short.stop_loss == 0.09326691
