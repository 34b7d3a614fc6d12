"""Our backtests against Freqtrade's own, trade by trade, without Freqtrade at test time.

`tests/backtest/parity/*.json` are the trades Freqtrade itself produced (its version is in each
file) for the strategies of `parity/parity_strategies.py` (written against Freqtrade's import
paths) on the candles beside them: an excerpt of Freqtrade's ETH/BTC 5m sample data and a
seeded random walk on a 0.01 tick that tui_trader wrote. `bench/parity_freqtrade.py --fixtures`
regenerates them with the real Freqtrade. Each trade must have the same pair, entry and exit
candle, exit reason and prices within 1e-8 relative; the total P&L within 0.1 %.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tui_trader.backtest import run_backtest
from tui_trader.data import load_ohlcv
from tui_trader.strategy.loader import load_file

HERE = Path(__file__).resolve().parent / "parity"
FIXTURES = sorted(HERE.glob("*.json"))


def test_the_fixtures_are_there_and_cover_the_rules() -> None:
    names = {json.loads(p.read_text())["strategy"] for p in FIXTURES}
    assert any(json.loads(p.read_text()).get("detail") for p in FIXTURES)  # --timeframe-detail
    assert len(FIXTURES) >= 20 and {"RsiBands", "RsiBandsTrailingOnlyOffset", "RsiBandsCustomStop",
                                    "RsiBandsHooks", "RsiBandsDca", "RsiBandsGuarded"} <= names  # fmt: skip
    reasons = {t["exit_reason"] for p in FIXTURES for t in json.loads(p.read_text())["trades"]}
    assert {"roi", "stop_loss", "trailing_stop_loss", "force_exit", "rsi_60",
            "stale_loser", "rsi_hot"} <= reasons  # fmt: skip


@pytest.mark.parametrize("fixture", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_same_trades_as_freqtrade(fixture: Path) -> None:
    doc = json.loads(fixture.read_text())
    classes = {c.__name__: c for c in load_file(HERE / "parity_strategies.py")}
    strategy = classes[doc["strategy"]]()
    frames = {pair: load_ohlcv(HERE / name, timeframe=doc["timeframe"])
              for pair, name in doc["data"].items()}  # fmt: skip
    res = run_backtest(
        strategy, frames, timeframe=doc["timeframe"], capital=doc["wallet"], fee=doc["fee"],
        stake_amount=doc["stake_amount"], tradable_balance_ratio=doc["tradable_balance_ratio"],
        max_open_trades=doc["max_open_trades"], amount_step=doc["amount_step"], protections=[],
        enable_protections=doc["enable_protections"],
        detail={pair: load_ohlcv(HERE / name, timeframe=doc["detail_timeframe"])
                for pair, name in doc.get("detail", {}).items()} or None,
        detail_timeframe=doc.get("detail_timeframe"),
    )  # fmt: skip
    ours = res.trades
    theirs = doc["trades"]
    assert len(ours) == len(theirs), f"Freqtrade {doc['freqtrade']}: {len(theirs)} trades"
    for t, ft in zip(ours.itertuples(), theirs, strict=True):
        where = f"{ft['pair']} {ft['open_date']}"
        assert t.symbol == ft["pair"], where
        assert t.entry_time == pd.Timestamp(ft["open_date"]), where
        assert t.exit_time == pd.Timestamp(ft["close_date"]), where
        assert t.exit_reason == ft["exit_reason"], where
        assert t.enter_tag == ft["enter_tag"], where
        assert t.entry_price == pytest.approx(ft["open_rate"], rel=1e-8), where
        assert t.exit_price == pytest.approx(ft["close_rate"], rel=1e-8), where
        assert t.pnl == pytest.approx(ft["profit_abs"], rel=1e-6, abs=1e-6), where
    total = sum(ft["profit_abs"] for ft in theirs)
    assert ours.pnl.sum() == pytest.approx(total, rel=1e-3, abs=1e-6)


def test_strategies_check_runs_the_hooks_with_dp_protections_and_dca() -> None:
    """`tui-trader strategies check` backtests each class: self.dp, self.wallets, protections
    and adjust_trade_position all run, and a hook that raises fails the check."""
    from tui_trader.cli.strategies_cmd import check_file

    results = {r["class"]: r for r in check_file(HERE / "parity_strategies.py", bars=3000)}
    assert results["RsiBandsGuarded"]["trades"] > 0 and results["RsiBandsDca"]["trades"] > 0


def test_a_hook_that_raises_fails_the_check(tmp_path: Path) -> None:
    from tui_trader.cli.strategies_cmd import check_file
    from tui_trader.strategy.errors import StrategyError

    broken = tmp_path / "broken.py"
    broken.write_text(
        (HERE / "parity_strategies.py").read_text()
        + "\n\nclass Broken(RsiBands):\n"
        "    def custom_exit(self, pair, trade, current_time, current_rate, current_profit, **kw):\n"
        "        df, _ = self.dp.get_analyzed_dataframe(pair, '1h')\n"
        "        return df.iloc[-1]['rsi'] > 50\n"
    )
    with pytest.raises(StrategyError, match="custom_exit"):
        check_file(broken, bars=3000)
