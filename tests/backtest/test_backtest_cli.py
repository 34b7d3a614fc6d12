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
         "pnl_pct", "fees", "exit_reason", "mfe", "mae", "symbol", "enter_tag", "exit_tag"}  # fmt: skip


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
    assert {"strategy", "symbol", "timeframe", "start", "end", "metrics", "trades",
            "warnings"} == set(doc)  # fmt: skip
    assert doc["symbol"] == "BTC/USDT" and doc["timeframe"] == "15m"
    assert set(doc["metrics"]) >= METRICS and doc["metrics"]["trades"] == len(doc["trades"])
    assert doc["trades"], "the synthetic walk should produce trades"
    assert all(set(t) == TRADE for t in doc["trades"])
    from tui_trader.backtest.result import EXTRA_FIELDS, TRADE_FIELDS

    assert list(doc["trades"][0]) == [*TRADE_FIELDS, *EXTRA_FIELDS]  # the row builder's order
    assert doc["trades"][0]["entry_time"].endswith("Z") and doc["start"].endswith("Z")
    assert out_csv.read_text().startswith("entry_time,exit_time,side")


def test_summary_prints_metrics_and_chart(tmp_path: Path, candles_file: Path, capsys) -> None:
    code = main(["--home", str(tmp_path / "home"), "backtest", "--strategy", "rsi_mean_reversion",
                 "--data", str(candles_file), "--timeframe", "15m"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "sharpe" in out and "drawdown %" in out
    assert "\x1b[" not in out  # captured output is not a terminal: no colour codes in a pipe


def test_a_missing_data_file_is_a_usage_error(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nope.csv"
    code = main(["--home", str(tmp_path / "home"), "backtest", "--strategy", "rsi_mean_reversion",
                 "--data", str(missing), "--timeframe", "15m"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == f"error: no such data file: {missing}"


def test_bad_data_is_one_line_exit_1(tmp_path: Path, candles_file: Path, capsys) -> None:
    code = main(["--home", str(tmp_path / "home"), "backtest", "--strategy", "rsi_mean_reversion",
                 "--data", str(candles_file), "--timeframe", "5m", "--json"])  # fmt: skip
    err = capsys.readouterr()
    assert code == 1 and err.out == ""
    assert len(err.err.strip().splitlines()) == 1 and "15m" in err.err


def test_unknown_strategy_is_a_usage_error_that_says_how_to_list(tmp_path: Path, candles_file: Path, capsys) -> None:
    code = main(["--home", str(tmp_path / "home"), "backtest", "--strategy", "nope",
                 "--data", str(candles_file), "--timeframe", "15m"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "strategies list" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("command", "flag"), [("backtest", "--timeframe"), ("backtest", "--timeframe-detail"), ("optimize", "--timeframe")]
)
def test_a_timeframe_that_is_not_one_is_a_usage_error(command: str, flag: str, tmp_path: Path,
                                                       candles_file: Path, capsys) -> None:  # fmt: skip
    argv = ["--home", str(tmp_path / "home"), command, "--strategy", "rsi_mean_reversion",
            "--data", str(candles_file), "--timeframe", "15m", flag, "7q"]  # fmt: skip
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "unknown timeframe '7q'" in err and len(err.strip().splitlines()) == 1


PARITY = Path(__file__).resolve().parent / "parity"


def _ft_config(tmp_path: Path, **extra: object) -> Path:
    datadir = tmp_path / "data"
    datadir.mkdir(exist_ok=True)
    for name in ("ETH_BTC-5m.feather", "WALK_USDT-5m.feather"):
        (datadir / name).write_bytes((PARITY / name).read_bytes())
    config = {
        "max_open_trades": 1, "stake_currency": "BTC", "stake_amount": "unlimited",
        "tradable_balance_ratio": 0.99, "dry_run_wallet": 1000, "fee": 0.001,
        "timeframe": "5m", "datadir": "data", "trading_mode": "spot",
        # a comment, as Freqtrade's configs allow
        "exchange": {"name": "binance", "pair_whitelist": ["ETH/BTC"]}, "telegram": {"enabled": False},
        **extra,
    }  # fmt: skip
    path = tmp_path / "config.json"
    text = json.dumps(config, indent=1).replace('"telegram"', '// ignored\n "telegram"')
    path.write_text(text)
    return path


def test_freqtrade_config_and_options(tmp_path: Path, capsys) -> None:
    """A Freqtrade user's command: config.json, --timerange, --export trades: the trades of
    the Freqtrade fixture for that range (tests/backtest/parity)."""
    config = _ft_config(tmp_path)
    export = tmp_path / "result.json"
    strategy = str(PARITY / "parity_strategies.py")
    code = main(["--home", str(tmp_path / "home"), "backtest", "--config", str(config),
                 "--strategy", strategy, "--export", "trades", "--export-filename", str(export),
                 "--json"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    doc = json.loads(capsys.readouterr().out)
    # the file holds several strategies: the first, RsiBands, is the one loaded by path
    want = json.loads((PARITY / "RsiBands-ETH_BTC-5m.json").read_text())
    assert [t["entry_time"] for t in doc["trades"]] == [
        t["open_date"].replace(" ", "T").replace("+00:00", "Z") for t in want["trades"]
    ]
    assert {t["symbol"] for t in doc["trades"]} == {"ETH/BTC"}
    assert sum(t["pnl"] for t in doc["trades"]) == pytest.approx(want["profit_total_abs"], rel=1e-3)
    ft = json.loads(export.read_text())
    trades = ft["strategy"]["RsiBands"]["trades"]
    assert [t["open_date"] for t in trades] == [t["open_date"] for t in want["trades"]]
    assert [t["exit_reason"] for t in trades] == [t["exit_reason"] for t in want["trades"]]
    assert trades[0]["pair"] == "ETH/BTC" and trades[0]["enter_tag"] == "rsi_up"


def test_timerange_pairs_and_refusals(tmp_path: Path, capsys) -> None:
    config = _ft_config(tmp_path)
    strategy = str(PARITY / "parity_strategies.py")
    base = ["--home", str(tmp_path / "home"), "backtest", "--config", str(config), "--strategy", strategy]
    code = main([*base, "--pairs", "ETH/BTC", "WALK/USDT", "--max-open-trades", "2", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["symbol"] == ["ETH/BTC", "WALK/USDT"]
    assert {t["symbol"] for t in doc["trades"]} == {"ETH/BTC", "WALK/USDT"}
    assert main([*base, "--timerange", "20180111-20180115", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # warm-up before the start, the end candle included (Freqtrade's --timerange)
    assert doc["start"] == "2018-01-11T00:00:00Z" and doc["end"] == "2018-01-15T00:00:00Z"
    assert main([*base, "--timerange", "2018-01-11"]) == 2
    assert "YYYYMMDD" in capsys.readouterr().err
    futures = _ft_config(tmp_path, trading_mode="futures")
    assert main(["--home", str(tmp_path / "home"), "backtest", "--config", str(futures),
                 "--strategy", strategy]) == 2  # fmt: skip
    err = capsys.readouterr().err  # spot candles only in the datadir: the futures file is named
    assert "ETH_BTC-5m-futures" in err and len(err.strip().splitlines()) == 1
    cross = _ft_config(tmp_path, trading_mode="futures", margin_mode="cross")
    assert main(["--home", str(tmp_path / "home"), "backtest", "--config", str(cross), "--strategy", strategy]) == 2
    err = capsys.readouterr().err
    assert "isolated" in err and len(err.strip().splitlines()) == 1


def test_a_futures_backtest_from_freqtrades_files(tmp_path: Path, capsys) -> None:
    """A Freqtrade user's futures command: its config, its data layout (futures/ with the
    candles, mark prices and funding rates): Freqtrade's trades (tests/backtest/parity/futures)."""
    here = PARITY / "futures"
    doc = json.loads((here / "RsiBandsFutures-ETH_USDT_USDT-5m.json").read_text())
    (tmp_path / "data" / "futures").mkdir(parents=True)
    for key, name in doc["data"].items():  # Freqtrade's file names in DATADIR/futures
        (tmp_path / "data" / "futures" / name).write_bytes((here / doc["files"][key]).read_bytes())
    config = _ft_config(tmp_path, trading_mode="futures", margin_mode="isolated", stake_currency="USDT",
                        fee=doc["fee"], exchange={"name": "binance", "pair_whitelist": [doc["pair"]]})  # fmt: skip
    code = main(["--home", str(tmp_path / "home"), "backtest", "--config", str(config),
                 "--strategy", str(here / "futures_strategies.py"), "--json"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    trades = json.loads(capsys.readouterr().out)["trades"]
    assert [(t["side"], t["exit_reason"]) for t in trades] == [
        ("short" if t["is_short"] else "long", t["exit_reason"]) for t in doc["trades"]
    ]
    assert sum(t["pnl"] for t in trades) == pytest.approx(doc["profit_total_abs"], rel=1e-6)


def test_spot_refuses_a_short_strategy(tmp_path: Path, candles_file: Path, capsys) -> None:
    short = tmp_path / "short.py"
    short.write_text(
        "from freqtrade.strategy import IStrategy\n"
        "class Shorty(IStrategy):\n    timeframe = '15m'\n    can_short = True\n"
    )
    code = main(["--home", str(tmp_path / "home"), "backtest", "--strategy", str(short),
                 "--data", str(candles_file), "--timeframe", "15m"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "can_short" in err and len(err.strip().splitlines()) == 1


def test_plot_markers_sit_on_their_bars_across_gaps() -> None:
    import pandas as pd

    from tui_trader.cli.backtest_cmd import marker_position

    # 10 bars, then a gap of a day, then 10 more: a marker on bar 15 is point 15 (step 1) or 7
    dates = pd.DatetimeIndex(
        list(pd.date_range("2024-01-01", periods=10, freq="1min", tz="UTC"))
        + list(pd.date_range("2024-01-02", periods=10, freq="1min", tz="UTC"))
    )
    arr = dates.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    assert marker_position(arr, dates[15], 1) == 15
    assert marker_position(arr, dates[15], 2) == 7
    assert marker_position(arr, dates[15] + pd.Timedelta(seconds=30), 1) == 15  # inside the bar
    assert marker_position(arr, dates[0], 3) == 0 and marker_position(arr, dates[-1], 3) == 6


def test_timerange_and_config_parsing(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from tui_trader.backtest.ftconfig import parse_timerange, read_config
    from tui_trader.core.errors import ConfigError, UsageError

    assert parse_timerange("20240101-20240301") == (datetime(2024, 1, 1, tzinfo=UTC),
                                                    datetime(2024, 3, 1, tzinfo=UTC))  # fmt: skip
    assert parse_timerange("20240101-") == (datetime(2024, 1, 1, tzinfo=UTC), None)
    assert parse_timerange("-1704067200") == (None, datetime(2024, 1, 1, tzinfo=UTC))
    for bad in ("20240101", "2024-01-01", "20240301-20240101"):
        with pytest.raises(UsageError):
            parse_timerange(bad)
    path = tmp_path / "c.json"
    path.write_text('{"stake_amount": 50, /* a note */ "minimal_roi": {"0": 0.02},\n'
                    '// a line comment\n "exchange": {"pair_whitelist": ["A/B"]}, "fee": 0.002}')  # fmt: skip
    cfg = read_config(path)
    assert (cfg.stake_amount, cfg.fee, cfg.pairs, cfg.overrides) == (
        50, 0.002, ["A/B"], {"minimal_roi": {"0": 0.02}})  # fmt: skip
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        read_config(path)


def test_json_trades_are_the_result_trades(tmp_path: Path, candles_file: Path, capsys) -> None:
    """The fast --json writer prints every trade as the in-process result holds it: times in
    ISO 8601 UTC, numbers as numbers, the same count and order."""
    from tui_trader.backtest import run_backtest
    from tui_trader.data import load_ohlcv
    from tui_trader.strategy.loader import load_strategy

    code = main(["--home", str(tmp_path / "home"), "backtest", "--strategy", "rsi_mean_reversion",
                 "--data", str(candles_file), "--timeframe", "15m", "--symbol", "BTC/USDT",
                 "--fee", "0.001", "--json", "--keep-gaps"])  # fmt: skip
    assert code == 0
    printed = json.loads(capsys.readouterr().out)["trades"]
    frame = load_ohlcv(candles_file, timeframe="15m", symbol="BTC/USDT")
    result = run_backtest(load_strategy("rsi_mean_reversion"), {"BTC/USDT": frame}, timeframe="15m",
                          fee=0.001)  # fmt: skip
    expected = result.trades
    assert len(printed) == len(expected) > 0
    for row, (_, want) in zip(printed, expected.iterrows(), strict=True):
        assert row["entry_time"] == want.entry_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert row["exit_time"] == want.exit_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert row["entry_price"] == pytest.approx(want.entry_price, rel=1e-12)
        assert row["pnl_pct"] == pytest.approx(want.pnl_pct, rel=1e-9, abs=1e-12)
        assert row["exit_reason"] == want.exit_reason and row["side"] == want.side
