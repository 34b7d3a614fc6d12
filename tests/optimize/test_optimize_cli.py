"""`tui-trader optimize --json`: one document with the best parameters, metrics and all trials."""

from __future__ import annotations

import json

from tui_trader.cli.main import main


def _write(candles, tmp_path):
    path = tmp_path / "candles.csv"
    candles.to_csv(path, index=False)
    return path


def test_optimize_json_contract(strategy_file, candles, tmp_path, capsys):
    data = _write(candles, tmp_path)
    code = main(["optimize", "--strategy", str(strategy_file), "--data", str(data),
                 "--timeframe", "5m", "--method", "grid", "--space", "fast=3:5", "slow=12:20:4",
                 "--jobs", "1", "--min-trades", "1", "--json"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    doc = json.loads(out)  # one JSON document and nothing else on stdout
    assert doc["strategy"] == "toy_sma" and doc["method"] == "grid"
    assert doc["objectives"] == [{"name": "sharpe", "direction": "maximize"}]
    assert doc["counts"]["trials"] == 9 and len(doc["trials"]) == 9
    best = doc["best"]
    assert set(best["params"]) == {"buy_fast", "buy_slow"}
    assert best["metrics"]["sharpe"] == best["values"][0]
    ok = [t for t in doc["trials"] if t["status"] == "ok"]
    assert best["values"][0] == max(t["values"][0] for t in ok)
    for trial in doc["trials"]:
        assert {"number", "params", "status", "values", "metrics", "reason"} <= set(trial)


def test_optimize_walk_forward_json(strategy_file, candles, tmp_path, capsys):
    data = _write(candles, tmp_path)
    code = main(["optimize", "--strategy", str(strategy_file), "--data", str(data),
                 "--timeframe", "5m", "--method", "random", "--trials", "4", "--seed", "1",
                 "--jobs", "1", "--walk-forward", "--train", "3d", "--test", "2d",
                 "--json"])  # fmt: skip
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["windows"]) == 3
    assert doc["windows"][0]["train"] == ["2024-01-01T00:00:00Z", "2024-01-04T00:00:00Z"]
    assert doc["windows"][0]["test"] == ["2024-01-04T00:00:00Z", "2024-01-06T00:00:00Z"]
    assert {"efficiency", "pbo", "warning", "equity", "out_of_sample_metrics"} <= set(doc)


def test_optimize_usage_errors_are_one_line(strategy_file, candles, tmp_path, capsys):
    data = _write(candles, tmp_path)
    base = ["optimize", "--strategy", str(strategy_file), "--data", str(data), "--timeframe", "5m"]
    assert main([*base, "--space", "nope=1:2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    assert main([*base, "--objective", "luck"]) == 2
    assert "unknown objective" in capsys.readouterr().err
    assert main([*base, "--walk-forward", "--objectives", "sharpe,max_drawdown"]) == 2
