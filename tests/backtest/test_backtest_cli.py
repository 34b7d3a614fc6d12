"""`tui-trader backtest` end to end on a small generated file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui_trader.cli.main import main
from tui_trader.strategy.synthetic import synthetic_ohlcv

METRICS = {"total_return", "cagr", "volatility", "sharpe", "sortino", "calmar", "max_drawdown",
           "max_drawdown_duration", "var_95", "cvar_95", "profit_factor", "expectancy",
           "win_rate", "avg_trade_duration", "exposure", "alpha", "beta", "trades"}  # fmt: skip
TRADE = {"entry_time", "exit_time", "side", "entry_price", "exit_price", "quantity", "pnl",
         "pnl_pct", "fees", "exit_reason", "mfe", "mae"}  # fmt: skip


@pytest.fixture
def candles_file(tmp_path: Path) -> Path:
    path = tmp_path / "btc.csv"
    synthetic_ohlcv(2_000, "15m", seed=7).to_csv(path, index=False)
    return path


def test_json_document_has_the_contract_keys(tmp_path: Path, candles_file: Path, capsys) -> None:
    out_csv = tmp_path / "trades.csv"
    code = main(["--home", str(tmp_path / "home"), "backtest", "--strategy", "rsi_mean_reversion",
                 "--data", str(candles_file), "--timeframe", "15m", "--symbol", "BTC/USDT",
                 "--fee", "0.001", "--json", "--trades-out", str(out_csv)])  # fmt: skip
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"strategy", "symbol", "timeframe", "start", "end", "metrics", "trades"} == set(doc)
    assert doc["symbol"] == "BTC/USDT" and doc["timeframe"] == "15m"
    assert set(doc["metrics"]) >= METRICS and doc["metrics"]["trades"] == len(doc["trades"])
    assert doc["trades"], "the synthetic walk should produce trades"
    assert all(set(t) == TRADE for t in doc["trades"])
    assert doc["trades"][0]["entry_time"].endswith("Z") and doc["start"].endswith("Z")
    assert out_csv.read_text().startswith("entry_time,exit_time,side")


def test_summary_prints_metrics_and_chart(tmp_path: Path, candles_file: Path, capsys) -> None:
    code = main(["--home", str(tmp_path / "home"), "backtest", "--strategy", "rsi_mean_reversion",
                 "--data", str(candles_file), "--timeframe", "15m"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "sharpe" in out and "drawdown %" in out


def test_bad_data_is_one_line_exit_1(tmp_path: Path, candles_file: Path, capsys) -> None:
    code = main(["--home", str(tmp_path / "home"), "backtest", "--strategy", "rsi_mean_reversion",
                 "--data", str(candles_file), "--timeframe", "5m", "--json"])  # fmt: skip
    err = capsys.readouterr()
    assert code == 1 and err.out == ""
    assert len(err.err.strip().splitlines()) == 1 and "15m" in err.err


def test_unknown_strategy_says_how_to_list(tmp_path: Path, candles_file: Path, capsys) -> None:
    code = main(["--home", str(tmp_path / "home"), "backtest", "--strategy", "nope",
                 "--data", str(candles_file), "--timeframe", "15m"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "strategies list" in err and len(err.strip().splitlines()) == 1
