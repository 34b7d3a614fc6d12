"""Backtest and live never disagree: the live StrategyRunner, fed the same history candle by
candle (fills at the next bar's open, as the backtester assumes), decides the same entries and
exits at the same times as `run_backtest`."""

from __future__ import annotations

from datetime import timedelta

from tui_trader.backtest import run_backtest
from tui_trader.core.market import Candle
from tui_trader.strategy.loader import load_strategy
from tui_trader.strategy.runner import Decision, StrategyRunner
from tui_trader.strategy.synthetic import synthetic_ohlcv

SYMBOL = "BTC/USDT"


def live_decisions(name: str, df, timeframe: str) -> list[tuple[str, object, str]]:
    """(action, time, reason) of every decision the live runner makes; each decision is filled
    at the open of the next bar before that bar is fed, as the paper venue would."""
    strategy = load_strategy(name)
    decisions: list[Decision] = []
    runner = StrategyRunner(strategy, [SYMBOL], on_decision=decisions.append)
    pending: Decision | None = None
    for row in df.itertuples():
        if pending is not None:
            runner.on_fill(SYMBOL, pending.side, 1.0, row.open, row.date.to_pydatetime())
            pending = None
        candle = Candle(SYMBOL, timeframe, row.date.to_pydatetime(), row.open, row.high,
                        row.low, row.close, row.volume)  # fmt: skip
        for d in runner.on_candle(SYMBOL, timeframe, candle):
            assert runner.confirm(d, 1.0)
            pending = d
    last_close = df.date.iloc[-1] + timedelta(minutes=5)
    return [(d.action, d.ts, "exit_signal" if d.tag and d.reason == d.tag else d.reason)
            for d in decisions if d.ts < last_close]  # fmt: skip


def backtest_decisions(name: str, df, bar: timedelta) -> list[tuple[str, object, str]]:
    """The backtest's trades as the decisions behind them, stamped at the close of the bar
    that decided: an entry or exit signal fills at the next open (= that close); a stop or
    ROI exit inside bar j (stamped at j's open, as Freqtrade) is decided on j's close."""
    strategy = load_strategy(name)
    res = run_backtest(strategy, {SYMBOL: df}, timeframe="5m", fee=0.0, stake_amount=1_000.0)
    out = []
    for t in res.trades.itertuples():
        out.append(("enter_long", t.entry_time.to_pydatetime(), "entry_signal"))
        if t.exit_reason == "force_exit":  # the end of the backtest, not a decision
            continue
        signal = t.exit_reason == "exit_signal" or t.exit_reason == t.exit_tag
        decided = t.exit_time if signal else t.exit_time + bar
        reason = "exit_signal" if signal else t.exit_reason
        out.append(("exit_long", decided.to_pydatetime(), reason))
    return out


def test_ema_cross_live_runner_matches_backtest() -> None:
    df = synthetic_ohlcv(800, "5m", seed=3)
    live = live_decisions("ema_cross", df, "5m")
    back = backtest_decisions("ema_cross", df, timedelta(minutes=5))
    # the backtest trades from bar startup_candle_count on; the runner may decide on the
    # bar before (its window is full there): compare from the first bar both can trade
    first = df.date.iloc[200].to_pydatetime()
    live = [d for d in live if d[1] > first]
    back = [d for d in back if d[1] > first]
    assert len(back) >= 6, "the seeded walk should cross several times"
    assert {r for _, _, r in back} >= {"entry_signal", "exit_signal", "roi"}
    assert live == back
