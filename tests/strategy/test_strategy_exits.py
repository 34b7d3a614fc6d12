"""Exit functions against the examples in Freqtrade's documentation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui_trader.strategy import IStrategy
from tui_trader.strategy.exits import (
    EXIT_SIGNAL,
    ROI,
    STOP_LOSS,
    TRAILING_STOP_LOSS,
    evaluate_exit,
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


def _trade() -> StrategyTrade:
    return StrategyTrade("X", False, 100.0, 1.0, T0, max_rate=100.0, min_rate=100.0)


def test_evaluate_exit_order_stop_roi_signal():
    s = Exits()
    t = _trade()
    # A bar that touches the stop exits at the stop even if its high also reached the ROI.
    hit = evaluate_exit(
        s,
        t,
        bar_open=100,
        bar_high=106,
        bar_low=97.5,
        bar_close=101,
        bar_close_time=T0 + timedelta(minutes=5),
    )
    assert (hit.reason, hit.price) == (STOP_LOSS, pytest.approx(98.0))
    # Gap below the stop: filled at the open.
    hit = evaluate_exit(
        s,
        _trade(),
        bar_open=96,
        bar_high=96.5,
        bar_low=95,
        bar_close=96,
        bar_close_time=T0 + timedelta(minutes=5),
    )
    assert hit.price == 96
    # ROI after 30 minutes is 1 %.
    hit = evaluate_exit(
        s,
        _trade(),
        bar_open=100.5,
        bar_high=101.2,
        bar_low=100.2,
        bar_close=101,
        bar_close_time=T0 + timedelta(minutes=30),
    )
    assert (hit.reason, hit.price) == (ROI, pytest.approx(101.0))
    # Exit signal otherwise.
    hit = evaluate_exit(
        s,
        _trade(),
        bar_open=100,
        bar_high=100.5,
        bar_low=99.5,
        bar_close=100.2,
        bar_close_time=T0 + timedelta(minutes=5),
        exit_signal=True,
        exit_tag="x",
    )
    assert (hit.reason, hit.tag) == (EXIT_SIGNAL, "x")
    s.exit_profit_only = True
    assert (
        evaluate_exit(
            s,
            _trade(),
            bar_open=100,
            bar_high=100.1,
            bar_low=99.5,
            bar_close=99.8,
            bar_close_time=T0 + timedelta(minutes=5),
            exit_signal=True,
        )
        is None
    )


def test_trailing_ratchets_and_triggers_as_trailing_stop_loss():
    class Trail(Exits):
        minimal_roi = {}
        trailing_stop = True

    s, t = Trail(), _trade()
    assert (
        evaluate_exit(
            s,
            t,
            bar_open=100,
            bar_high=110,
            bar_low=100,
            bar_close=109,
            bar_close_time=T0 + timedelta(minutes=5),
        )
        is None
    )
    assert t.stop_loss == pytest.approx(110 * 0.98)
    hit = evaluate_exit(
        s,
        t,
        bar_open=109,
        bar_high=109,
        bar_low=107,
        bar_close=107.5,
        bar_close_time=T0 + timedelta(minutes=10),
    )
    assert (hit.reason, hit.price) == (TRAILING_STOP_LOSS, pytest.approx(107.8))
