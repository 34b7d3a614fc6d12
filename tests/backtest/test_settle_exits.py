"""Planned exits are settled as Freqtrade records them (`portfolio.settle_exits`): an exit
signal under its candle's exit_tag when it has one (an empty or missing tag keeps the reason),
a ROI exit (or an exit tagged "roi") filled at its price with the maker fee, every other exit
a market order with the slippage and the taker fee. Checked cell by cell against the rule
written plainly, over tags of every kind."""

from __future__ import annotations

import math

import numpy as np

from tui_trader.backtest.fills import FillModel
from tui_trader.backtest.portfolio import settle_exits
from tui_trader.backtest.rules import ExitRules
from tui_trader.backtest.signals import market_from_arrays, signals_from_arrays
from tui_trader.strategy.exits import EXIT_SIGNAL, FORCE_EXIT, ROI, STOP_LOSS, TRAILING_STOP_LOSS

TAGS = ["x", "", None, float("nan"), "roi", "stop", "y"]
REASONS = [EXIT_SIGNAL, ROI, STOP_LOSS, TRAILING_STOP_LOSS, FORCE_EXIT]


def plainly(exit_tags: list[object], fills: FillModel, sides: list[int], bars: list[int], raw: list[float],
            reasons: list[str], shift: int) -> list[tuple[object, object, float, float]]:  # fmt: skip
    out = []
    frac = fills.slippage_bps / 10_000.0
    for side, bar, price, reason in zip(sides, bars, raw, reasons, strict=True):
        tag = None
        if reason == EXIT_SIGNAL:
            found = exit_tags[bar - shift]
            tag = None if found is None or (isinstance(found, float) and math.isnan(found)) else found
        recorded = tag or reason
        if recorded == ROI:
            out.append((recorded, tag, price, fills.maker_fee))
        else:
            out.append((recorded, tag, price * (1.0 + frac) if side < 0 else price * (1.0 - frac), fills.taker_fee))
    return out


def test_settled_exits_record_tags_fills_and_fees_as_freqtrade() -> None:
    rng = np.random.default_rng(7)
    bars = 400
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, bars)))
    times = np.arange(bars, dtype=np.int64) * 60_000_000_000 + 1_700_000_000_000_000_000
    market = market_from_arrays(times, close, close * 1.01, close * 0.99, close, np.ones(bars), 60)
    exit_tags = np.empty(bars, dtype=object)
    exit_tags[:] = [TAGS[i] for i in rng.integers(0, len(TAGS), bars)]
    sym = signals_from_arrays(
        "X/USDT", market, ExitRules.build(stoploss=-0.1, minimal_roi={"0": 0.05}, can_short=True),
        enter_long=rng.random(bars) < 0.1, exit_long=rng.random(bars) < 0.1, enter_short=rng.random(bars) < 0.1,
        exit_short=rng.random(bars) < 0.1, enter_tags=np.full(bars, None, dtype=object), exit_tags=exit_tags,
    )  # fmt: skip
    count = 300
    sides = rng.choice([1, -1], count)
    exit_bars = rng.integers(1, bars, count)
    raw = rng.lognormal(3, 1, count)
    reasons = [REASONS[i] for i in rng.integers(0, len(REASONS), count)]
    fills = FillModel(taker_fee=0.002, maker_fee=0.0005, slippage_bps=7.0)
    got = settle_exits(sym, fills, sides, exit_bars, raw, reasons)
    want = plainly(list(exit_tags), fills, sides.tolist(), exit_bars.tolist(), raw.tolist(), reasons, sym.shift)
    assert got == want
    kinds = {(r, t) for r, t, _, _ in got}
    assert {("x", "x"), (EXIT_SIGNAL, None), (EXIT_SIGNAL, ""), ("roi", "roi"), (ROI, None)} <= kinds
    assert all(type(v) is float for _, _, price, rate in got for v in (price, rate))
