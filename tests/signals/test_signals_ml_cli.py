"""`tui-trader signals train / predict / models` through the real entry point."""

from __future__ import annotations

import json

import pytest

from tui_trader.cli import main as cli_main
from tui_trader.data.store import CandleStore
from tui_trader.strategy.synthetic import synthetic_ohlcv


@pytest.fixture(autouse=True)
def only_signals(monkeypatch):
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("tui_trader.cli.signals_cmd",))


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "candles.csv"
    synthetic_ohlcv(1200, "1h", seed=4).to_csv(path, index=False)
    return path


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli_main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_predict_models_json(tmp_path, csv, capsys):
    home = str(tmp_path / "home")
    code, out, _ = _run(
        capsys,
        "signals",
        "train",
        "--home",
        home,
        "--data",
        str(csv),
        "--symbol",
        "BTC/USDT",
        "--timeframe",
        "1h",
        "--horizon",
        "2",
        "--folds",
        "3",
        "--max-iter",
        "20",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["symbol"] == "BTC/USDT" and doc["horizon"] == 2
    assert doc["report"]["verdict"]
    assert {"accuracy", "log_loss", "auc"} <= set(doc["report"]["metrics"])

    code, out, _ = _run(
        capsys,
        "signals",
        "predict",
        "--home",
        home,
        "--data",
        str(csv),
        "--symbol",
        "BTC/USDT",
        "--timeframe",
        "1h",
        "--json",
    )
    assert code == 0
    pred = json.loads(out)
    assert pred["model"] == doc["model"]
    assert pred["prediction"] in (-1, 1) and 0.5 <= pred["confidence"] <= 1
    assert pred["bar"] == "2025-02-19T23:00:00Z"  # the last candle of the file (1200 h after Jan 1)

    code, out, _ = _run(capsys, "signals", "models", "--home", home, "--json")
    assert code == 0 and [m["id"] for m in json.loads(out)] == [doc["model"]]


def test_train_from_the_candle_store_prints_the_baselines(tmp_path, capsys):
    home = tmp_path / "home"
    CandleStore(home / "data").save(
        "binance", "ETH/USDT", "1h", synthetic_ohlcv(1000, "1h", seed=8)
    )
    code, out, _ = _run(
        capsys,
        "signals",
        "train",
        "--home",
        str(home),
        "--venue",
        "binance",
        "--symbol",
        "ETH/USDT",
        "--timeframe",
        "1h",
        "--folds",
        "3",
        "--max-iter",
        "20",
    )
    assert code == 0
    assert "majority class" in out and "same as last" in out and "verdict" in out
    code, out, _ = _run(capsys, "signals", "models", "--home", str(home))
    assert "ETH/USDT" in out


def test_user_mistakes_are_one_line(tmp_path, csv, capsys):
    home = str(tmp_path / "home")
    code, out, err = _run(
        capsys,
        "signals",
        "predict",
        "--home",
        home,
        "--data",
        str(csv),
        "--symbol",
        "BTC/USDT",
        "--timeframe",
        "1h",
    )
    assert code == 2 and "no model for BTC/USDT 1h" in err and out == ""
    code, _, err = _run(capsys, "signals", "train", "--home", home, "--timeframe", "1h")
    assert code == 2 and "--data FILE or --venue" in err
    code, _, err = _run(
        capsys,
        "signals",
        "train",
        "--home",
        home,
        "--venue",
        "binance",
        "--symbol",
        "BTC/USDT",
        "--timeframe",
        "1h",
    )
    assert code == 1 and "no stored candles" in err and "Traceback" not in err
    code, _, err = _run(capsys, "signals", "models", "--home", home)
    assert code == 0
