"""One symbol without per-entry hooks walks its candidates in `backtest.single` (a plain loop,
the trades as columns): the same trades, rejections, final cash and wallet as the general
walk of `portfolio.simulate` (forced here by offering no plain stake function), to the bit,
over sizing modes, Freqtrade stakes, both sides, fees, slippage and rejections; and the
sizers' plain stake functions give their `stake` to the bit."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from tui_trader.backtest import portfolio
from tui_trader.backtest.fills import FillModel
from tui_trader.backtest.risk import risk_sizer
from tui_trader.backtest.rules import ExitRules
from tui_trader.backtest.signals import market_from_arrays, signals_from_arrays
from tui_trader.backtest.single import walk_single
from tui_trader.backtest.sizing import StakeRequest, StakeSizer
from tui_trader.config.risk import RiskSettings, SizingSettings
from tui_trader.strategy.dataprovider import BacktestWallets

SIZINGS = {
    "percent": SizingSettings(mode="percent_equity", percent=0.3),
    "capped": SizingSettings(mode="percent_equity", percent=0.9, max_percent=0.5),
    "notional": SizingSettings(mode="fixed_notional", notional=700.0),
    "quantity": SizingSettings(mode="fixed_quantity", quantity=3.0),
    "risk": SizingSettings(mode="risk_per_trade", risk_per_trade=0.02),
}


class Strategy:
    """What the sizers read of a strategy: its name and stoploss (no hooks)."""

    name = "walk"
    stoploss = -0.07


def one_symbol(seed: int, bars: int = 3000, shorts: bool = True) -> tuple[Any, ExitRules]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, bars)))
    spread = np.abs(rng.normal(0, 0.003, bars)) * close
    opens = np.r_[close[0], close[:-1]]
    times = np.arange(bars, dtype=np.int64) * 60_000_000_000 + 1_700_000_000_000_000_000
    market = market_from_arrays(times, opens, np.maximum(opens, close) + spread, np.minimum(opens, close) - spread,
                                close, rng.random(bars) * 10, 60)  # fmt: skip
    rules = ExitRules.build(stoploss=-0.07, minimal_roi={"0": 0.05, "30": 0.01}, can_short=shorts)
    enter_short = (rng.random(bars) < 0.02) if shorts else np.zeros(bars, dtype=bool)
    tags = np.where(rng.random(bars) < 0.5, "a", None).astype(object)
    sym = signals_from_arrays(
        "X/USDT", market, rules, enter_long=rng.random(bars) < 0.03, exit_long=rng.random(bars) < 0.02,
        enter_short=enter_short, exit_short=(rng.random(bars) < 0.02) & shorts,
        enter_tags=tags, exit_tags=np.where(rng.random(bars) < 0.3, "x", None).astype(object),
    )  # fmt: skip
    return sym, rules


def both_walks(monkeypatch: pytest.MonkeyPatch, sym: Any, rules: ExitRules, fills: FillModel,
               make_sizer: Any, **kw: Any) -> tuple[Any, Any]:  # fmt: skip
    """(single walk, general walk) of the same run, each with a fresh sizer and wallet; the
    single walk must be the one taken."""
    taken: list[bool] = []
    real = portfolio.walk_single

    def spy(*args: Any, **kwargs: Any) -> Any:
        done = real(*args, **kwargs)
        taken.append(done is not None)
        return done

    outs = []
    for single in (True, False):
        strategy = Strategy()
        strategy.wallets = BacktestWallets("USDT", kw["capital"])  # type: ignore[attr-defined]
        with monkeypatch.context() as m:
            m.setattr(portfolio, "walk_single", spy)
            if not single:
                m.setattr(portfolio, "stake_function", lambda *_: None)
            out = portfolio.simulate([sym], rules, fills, make_sizer(strategy), strategy=strategy, **kw)
        outs.append((out, (strategy.wallets.free, strategy.wallets.used)))  # type: ignore[attr-defined]
    assert taken == [True], "the single walk was not taken"
    return outs[0], outs[1]


def assert_same(a: Any, b: Any) -> None:
    (sa, wa), (sb, wb) = a, b
    for f in dataclasses.fields(sa.trades):
        x, y = getattr(sa.trades, f.name), getattr(sb.trades, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), f.name
        else:
            assert x == y, f.name
    assert sa.rejected == sb.rejected
    assert sa.final_cash == sb.final_cash and wa == wb


@pytest.mark.parametrize("sizing", sorted(SIZINGS))
@pytest.mark.parametrize("seed", [1, 2])
def test_risk_sizing_walks_alike(sizing: str, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    sym, rules = one_symbol(seed)
    risk = RiskSettings(sizing=SIZINGS[sizing])
    fills = FillModel(taker_fee=0.001, maker_fee=0.0005, slippage_bps=3.0)
    single, general = both_walks(monkeypatch, sym, rules, fills, lambda s: risk_sizer(s, risk, {}),
                                 capital=10_000.0, max_open_trades=1, min_stake=5.0)  # fmt: skip
    assert len(single[0].trades) > 20 and set(single[0].trades.side.tolist()) == {1, -1}
    assert_same(single, general)


@pytest.mark.parametrize(("stake", "ratio", "slots", "capital", "min_stake", "rejects"), [
    ("unlimited", 0.99, 1, 10_000.0, 0.0, None),
    ("unlimited", 1.0, 3, 10_000.0, 0.0, None),
    (500.0, 0.99, None, 10_000.0, 0.0, None),
    (500.0, 1.0, 1, 500.5, 0.0, "insufficient_capital"),  # a loss and the capital is short: the walk ends
    (500.0, 1.0, 1, 10_000.0, 600.0, "stake"),  # every stake under the minimum
])  # fmt: skip
def test_freqtrade_stakes_walk_alike(stake: float | str, ratio: float, slots: int | None, capital: float,
                                     min_stake: float, rejects: str | None,
                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    sym, rules = one_symbol(3)
    fills = FillModel(taker_fee=0.002, maker_fee=0.002)
    single, general = both_walks(monkeypatch, sym, rules, fills, lambda s: StakeSizer(stake, s, ratio),
                                 capital=capital, max_open_trades=slots, min_stake=min_stake)  # fmt: skip
    assert_same(single, general)
    assert list(single[0].rejected) == ([rejects] if rejects else [])


def test_a_run_without_trades_walks_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    sym, rules = one_symbol(4, shorts=False)
    fills = FillModel(taker_fee=0.001, maker_fee=0.001)
    single, general = both_walks(monkeypatch, sym, rules, fills, lambda s: StakeSizer(50.0, s),
                                 capital=10_000.0, max_open_trades=1, min_stake=60.0)  # fmt: skip
    assert len(single[0].trades) == 0 and single[1] == (10_000.0, 0.0)
    assert_same(single, general)


def test_a_candidate_before_the_open_trade_exits_gives_the_walk_up() -> None:
    """Two trades open at once cannot happen with ascending candle times; if it did, the lane
    says so (None) rather than guess, and the general walk runs."""
    sym, _ = one_symbol(5, bars=400, shorts=False)
    count = len(sym.entry_bars)
    late = int(sym.market.time[-1])

    def plan(exit_bars: list[int]) -> portfolio.PlannedExits:
        settled = (np.full(count, "roi", dtype=object), np.full(count, None, dtype=object), np.full(count, 100.0),
                   np.full(count, 0.001))  # fmt: skip
        return portfolio.PlannedExits(np.full(count, 100.0), np.full(count, 100.0), np.asarray(exit_bars),
                                      np.full(count, 100.0), ["roi"] * count, np.zeros(count, dtype=bool),
                                      np.full(count, late), settled)  # fmt: skip

    def walk(exit_bars: list[int]) -> Any:
        return walk_single(sym, plan(exit_bars), lambda *_: 10.0, taker_fee=0.001, capital=1000.0, ratio=1.0,
                           min_stake=0.0)  # fmt: skip

    exit_bars = [len(sym.market.time) - 1] * count
    found = walk(exit_bars)
    assert count > 2 and found is not None  # one trade to the end: nothing comes before its exit
    assert found[0]["exit_reason"] == ["roi"] and found[0]["exit_ns"].tolist() == [late]
    exit_bars[0] = int(sym.entry_bars[0])  # exits at its own candle, stamped late
    assert walk(exit_bars) is None


def requests(seed: int, count: int = 400) -> list[StakeRequest]:
    """Entries of every kind: prices over decades (and 0, negative, tiny), both sides, free
    cash with and without stakes tied up."""
    rng = np.random.default_rng(seed)
    prices = np.r_[rng.lognormal(3, 2, count - 3), [0.0, -1.0, 1e-9]].tolist()
    sides = rng.choice([1, -1], count).tolist()
    free = (rng.random(count) * 1e4).tolist()
    tied = (rng.random(count) * 1e4 * (rng.random(count) < 0.5)).tolist()
    return [StakeRequest("X/USDT", 0, p, s, None, a, t, 0, 2, 0.001)
            for p, s, a, t in zip(prices, sides, free, tied, strict=True)]  # fmt: skip


@pytest.mark.parametrize("sizing", sorted(SIZINGS))
def test_a_plain_stake_function_is_the_stake(sizing: str) -> None:
    sizer = risk_sizer(Strategy(), RiskSettings(sizing=SIZINGS[sizing]), {})
    for fee in (0.0, 0.001, 0.0075):
        plain = sizer.stake_function(fee, 2)
        assert plain is not None
        for req in requests(7):
            req.fee = fee
            got = plain(req.price, req.side, req.available, req.tied)
            want = sizer.stake(req)
            assert got == want and np.signbit(got) == np.signbit(want)


@pytest.mark.parametrize(("stake", "slots"), [("unlimited", 2), ("unlimited", 5), (250.0, None)])
def test_a_freqtrade_stake_function_is_the_stake(stake: float | str, slots: int | None) -> None:
    sizer = StakeSizer(stake, None, 0.99)
    plain = sizer.stake_function(0.001, slots)
    assert plain is not None
    for req in requests(8):
        req.max_open_trades = slots
        assert plain(req.price, req.side, req.available, req.tied) == sizer.stake(req)


class Hooked(Strategy):
    def custom_stake_amount(self, **kw: Any) -> float:
        return 1.0


@pytest.mark.parametrize("case", ["kelly", "volatility", "risk without stoploss", "hook", "custom", "unlimited"])
def test_stakes_that_read_more_have_no_plain_function(case: str) -> None:
    """A custom_stake_amount hook, the ATR, the track record, or "unlimited" without a slot
    count: the general walk asks the sizer per entry."""
    strategy: Any = Hooked() if case == "hook" else Strategy()
    sizing = {"kelly": SizingSettings(mode="kelly"), "volatility": SizingSettings(mode="volatility"),
              "risk without stoploss": SizingSettings(mode="risk_per_trade")}.get(case, SizingSettings())  # fmt: skip
    if case == "risk without stoploss":
        strategy.stoploss = None
    if case == "unlimited":
        assert StakeSizer("unlimited", None).stake_function(0.001, None) is None
        assert StakeSizer(10.0, Hooked()).stake_function(0.001, 1) is None
        return
    sizer = risk_sizer(strategy, RiskSettings(sizing=sizing), {"X/USDT": {}})
    if case == "custom":
        sizer.inner.sizer.custom_stake = lambda stake, most: stake / 2
    assert sizer.stake_function(0.001, 1) is None

