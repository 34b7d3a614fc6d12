"""The strategy league: scoring on a common grid (checked against the backtester's own metrics),
ranks only past the minimum trade count, the CLI over three bundled strategies, seasons."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tui_trader.analytics.metrics import compute_metrics
from tui_trader.cli.main import main
from tui_trader.league.scoring import Entry, grid_returns, leaderboard
from tui_trader.optimize.overfitting import deflated_sharpe_ratio, moments

THREE = "ema_cross,rsi_mean_reversion,macd_trend"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _equity(seed: int, drift: float, bars: int = 24 * 60, freq: str = "1h") -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=bars, freq=freq, tz="UTC")
    return pd.Series(10_000 * np.cumprod(1 + drift + rng.normal(0, 0.002, bars)), index=index)


def test_sharpe_on_the_grid_is_the_backtest_metric_of_that_curve() -> None:
    eq = _equity(1, 0.0002)
    rows = leaderboard([Entry("a", "1h", eq, 50)], "1h")
    empty = pd.DataFrame(columns=["entry_time", "exit_time", "pnl", "pnl_pct"])
    reference = compute_metrics(eq, empty, timeframe="1h")["sharpe"]
    assert rows[0].score == pytest.approx(reference, rel=1e-9)


def test_finer_curves_are_sampled_on_the_coarsest_bars() -> None:
    fine = _equity(2, 0.00005, bars=24 * 12 * 30, freq="5min")
    hourly = fine.resample("1h", label="right", closed="right").last()
    assert np.allclose(grid_returns(fine, "1h").to_numpy(), hourly.pct_change().dropna().to_numpy())


def test_rank_order_deflated_sharpe_and_minimum_trades() -> None:
    entries = [
        Entry("steady", "1h", _equity(3, 0.0004), 40, {"max_drawdown": 0.05}),
        Entry("noisy", "1h", _equity(4, 0.0001), 40),
        Entry("loser", "1h", _equity(5, -0.0003), 40),
        Entry("lucky", "1h", _equity(6, 0.0010), 3),  # best curve, too few trades
        Entry("idle", "1h", pd.Series(10_000.0, index=_equity(7, 0).index), 0),
        Entry("broken", "?", pd.Series(dtype="float64"), 0, error="strategy failed to load"),
    ]
    rows = leaderboard(entries, "1h", min_trades=10)
    assert [r.name for r in rows[:3]] == ["steady", "noisy", "loser"]
    assert [r.rank for r in rows[:3]] == [1, 2, 3]
    by = {r.name: r for r in rows}
    assert by["lucky"].rank is None and "fewer than 10" in by["lucky"].note and by["lucky"].score is not None
    assert by["idle"].rank is None and by["idle"].note == "no trades"
    assert by["broken"].rank is None and by["broken"].note == "strategy failed to load"
    assert by["steady"].max_drawdown == 0.05
    # the deflated Sharpe: each strategy with a Sharpe is a trial, the league's spread sets the bar
    sharpes = [moments(grid_returns(e.equity, "1h").to_numpy())[0] for e in entries[:4]]
    sr, skew, kurt = moments(grid_returns(entries[0].equity, "1h").to_numpy())
    expected = deflated_sharpe_ratio(sr, 24 * 60 - 1, 4, float(np.var(sharpes, ddof=1)), skew, kurt)
    assert by["steady"].deflated_sharpe == pytest.approx(expected)
    assert 0 <= by["loser"].deflated_sharpe < by["steady"].deflated_sharpe <= 1
    assert math.isfinite(by["noisy"].deflated_sharpe)


def test_league_run_over_three_bundled_strategies_prints_a_leaderboard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "h")
    code, out, err = run(capsys, "league", "run", "--strategies", THREE, "--days", "10", "--home", home)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("league ") and "scored on 1h bars" in lines[0]
    assert "Sharpe" in lines[1] and "DSR" in lines[1] and "max DD" in lines[1]
    body = lines[2:5]
    assert sorted(line.split()[1] for line in body) == sorted(THREE.split(","))
    code, out, _ = run(capsys, "league", "show", "--json", "--home", home)
    doc = json.loads(out)
    assert code == 0 and len(doc["rows"]) == 3 and doc["grid"] == "1h" and doc["data"] == "paper"
    ranked = [r for r in doc["rows"] if r["rank"] is not None]
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert all(r["trades"] >= doc["min_trades"] for r in ranked)
    scores = [r["score"] for r in ranked]
    assert scores == sorted(scores, reverse=True)
    # the same window again gives the same leaderboard (the paper market is a function of time)
    code, out, _ = run(capsys, "league", "run", "--strategies", THREE, "--days", "10", "--home", home, "--json")
    again = json.loads(out)
    assert [(r["strategy"], r["score"], r["trades"]) for r in again["rows"]] == [
        (r["strategy"], r["score"], r["trades"]) for r in doc["rows"]
    ]


def test_seasons_are_stored_and_runs_keep_their_window(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(tmp_path / "h")
    code, _, err = run(capsys, "league", "season", "add", "spring", "--start", "2024-03-01",
                       "--end", "2024-03-08", "--home", home)  # fmt: skip
    assert code == 0, err
    code, out, _ = run(capsys, "league", "run", "--strategies", "ema_cross,no_such_strategy",
                       "--season", "spring", "--home", home, "--json", "--min-trades", "1")  # fmt: skip
    doc = json.loads(out)
    assert code == 0 and doc["season"] == "spring"
    assert doc["start"] == "2024-03-01T00:00:00Z" and doc["end"] == "2024-03-08T00:00:00Z"
    by = {r["strategy"]: r for r in doc["rows"]}
    assert by["no_such_strategy"]["rank"] is None and "unknown strategy" in by["no_such_strategy"]["note"]
    assert by["ema_cross"]["rank"] == 1
    code, out, _ = run(capsys, "league", "season", "list", "--json", "--home", home)
    seasons = {s["name"]: s for s in json.loads(out)["seasons"]}
    assert seasons["spring"]["status"] == "ended" and seasons["spring"]["leaderboard"] is True
    stored = json.loads((tmp_path / "h" / "league" / "seasons.json").read_text())
    assert stored["seasons"]["spring"]["start"] == "2024-03-01T00:00:00Z"


@pytest.mark.parametrize(
    ("argv", "code", "text"),
    [
        (["league", "run", "--strategies", "ema_cross", "--days", "0"], 2, "--days"),
        (["league", "run", "--strategies", "a,a"], 2, "twice"),
        (["league", "show", "--season", "nope"], 1, "no leaderboard yet"),
        (["league", "run", "--strategies", "ema_cross", "--season", "../x"], 2, "season name"),
        (["league", "season", "add", "s", "--start", "2024-02-01", "--end", "2024-01-01"], 2, "later"),
        (["league"], 2, "needs an action"),
    ],
)
def test_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, text: str
) -> None:
    got, out, err = run(capsys, *argv, "--home", str(tmp_path / "h"))
    assert got == code and out == "" and text in err and err.count("\n") == 1
