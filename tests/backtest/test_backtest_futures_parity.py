"""Our futures backtest against Freqtrade's own, trade by trade, without Freqtrade at test time.

`parity/futures/RsiBandsFutures-ETH_USDT_USDT-5m.json` is what Freqtrade 2026.9 produced in
futures mode (isolated margin, the strategy's 3x, both sides, funding from the mark-price and
funding-rate candles beside it; the candles are parity/WALK_USDT-5m.feather under Freqtrade's
futures file name) for `parity/futures/futures_strategies.py`;
`bench/parity_freqtrade_futures.py --fixtures` regenerates it with the real Freqtrade. Each
trade must have the same side, entry and exit candle, exit reason and prices within 1e-8
relative, the same amount and funding, and the same profit (fees and funding included).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tui_trader.backtest import run_backtest
from tui_trader.core.errors import UsageError
from tui_trader.data import load_ohlcv
from tui_trader.strategy.loader import load_file

HERE = Path(__file__).resolve().parent / "parity" / "futures"
FIXTURE = HERE / "RsiBandsFutures-ETH_USDT_USDT-5m.json"


def _run(doc: dict, **kw):  # type: ignore[no-untyped-def]
    classes = {c.__name__: c for c in load_file(HERE / "futures_strategies.py")}
    strategy = kw.pop("strategy", None) or classes[doc["strategy"]]()
    pair, files = doc["pair"], doc["files"]
    candles = load_ohlcv(HERE / files["candles"], timeframe=doc["timeframe"])
    funding = (pd.read_feather(HERE / files["funding"]), pd.read_feather(HERE / files["mark"]))
    return run_backtest(
        strategy, {pair: candles}, timeframe=doc["timeframe"], capital=doc["wallet"], fee=doc["fee"],
        stake_amount=doc["stake_amount"], tradable_balance_ratio=doc["tradable_balance_ratio"],
        max_open_trades=doc["max_open_trades"], amount_step=doc["amount_step"], protections=[],
        trading_mode="futures", funding={pair: funding}, **kw,
    )  # fmt: skip


def test_the_fixture_covers_shorts_leverage_funding_and_both_exits() -> None:
    doc = json.loads(FIXTURE.read_text())
    trades = doc["trades"]
    assert doc["trading_mode"] == "futures" and doc["margin_mode"] == "isolated"
    assert {t["is_short"] for t in trades} == {True, False} and {t["leverage"] for t in trades} == {3.0}
    assert sum(1 for t in trades if t["funding_fees"] > 0) and sum(1 for t in trades if t["funding_fees"] < 0)
    assert {"stop_loss", "rsi_65", "rsi_35"} <= {t["exit_reason"] for t in trades}


def test_same_futures_trades_as_freqtrade() -> None:
    doc = json.loads(FIXTURE.read_text())
    ours = _run(doc).trades
    theirs = doc["trades"]
    assert len(ours) == len(theirs), f"Freqtrade {doc['freqtrade']}: {len(theirs)} trades"
    for t, ft in zip(ours.itertuples(), theirs, strict=True):
        where = f"{ft['pair']} {ft['open_date']}"
        assert t.side == ("short" if ft["is_short"] else "long"), where
        assert t.entry_time == pd.Timestamp(ft["open_date"]), where
        assert t.exit_time == pd.Timestamp(ft["close_date"]), where
        assert t.exit_reason == ft["exit_reason"], where
        assert t.entry_price == pytest.approx(ft["open_rate"], rel=1e-8), where
        assert t.exit_price == pytest.approx(ft["close_rate"], rel=1e-8), where
        assert t.quantity == pytest.approx(ft["amount"], rel=1e-8), where
        assert t.pnl == pytest.approx(ft["profit_abs"], rel=1e-6, abs=1e-6), where
        assert t.pnl_pct == pytest.approx(ft["profit_ratio"], rel=1e-6, abs=1e-8), where
    assert ours.pnl.sum() == pytest.approx(doc["profit_total_abs"], rel=1e-6)


def test_funding_is_in_the_profit() -> None:
    """Without the funding table the same trades lose or gain exactly Freqtrade's funding."""
    doc = json.loads(FIXTURE.read_text())
    classes = {c.__name__: c for c in load_file(HERE / "futures_strategies.py")}
    pair, files = doc["pair"], doc["files"]
    candles = load_ohlcv(HERE / files["candles"], timeframe=doc["timeframe"])
    bare = run_backtest(
        classes[doc["strategy"]](), {pair: candles}, timeframe="5m", capital=doc["wallet"], fee=doc["fee"],
        stake_amount="unlimited", max_open_trades=1, amount_step=doc["amount_step"], protections=[],
        trading_mode="futures",
    ).trades  # fmt: skip
    first = doc["trades"][0:2]
    for t, ft in zip(bare.head(2).itertuples(), first, strict=True):
        assert t.pnl == pytest.approx(ft["profit_abs"] - ft["funding_fees"], rel=1e-6, abs=1e-6)


def test_a_leverage_that_changes_per_trade_or_a_stop_past_liquidation_is_refused() -> None:
    doc = json.loads(FIXTURE.read_text())
    classes = {c.__name__: c for c in load_file(HERE / "futures_strategies.py")}
    base = classes[doc["strategy"]]

    class Wavering(base):  # type: ignore[misc, valid-type]
        def leverage(self, pair, current_time, current_rate, proposed_leverage, max_leverage, entry_tag, side,  # type: ignore[no-untyped-def]
                     **kwargs):  # fmt: skip
            return 2.0 if side == "short" else 3.0

    with pytest.raises(UsageError, match="one leverage per run"):
        _run(doc, strategy=Wavering())

    class Reckless(base):  # type: ignore[misc, valid-type]
        stoploss = -0.5

    with pytest.raises(UsageError, match="liquidation"):
        _run(doc, strategy=Reckless())
