"""`tui-trader backtest --json` of a rule strategy without pandas (cli/backtest_arrays.py,
backtest/arrays.py) prints the DataFrame path's document to the byte, never imports pandas,
and leaves every run it does not take, and every user error, as they were.

In process (pandas already imported) the arrays path runs without hiding anything; the
DataFrame path is forced with the `_TUI_TRADER_BACKTEST_PANDAS` variable, as the command's own
rerun sets it. The subprocess tests run the command as a user does.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tui_trader.cli import backtest_arrays
from tui_trader.cli.main import main
from tui_trader.strategy.loader import bundled_dir, strategy_files
from tui_trader.strategy.synthetic import synthetic_ohlcv

from process_env import child_env

ROOT = Path(__file__).resolve().parents[2]
PYTHON_EMA = ROOT / "tests" / "strategy" / "fixtures" / "ema_cross_python.py"
RULE_FILES = sorted(p.stem for p in strategy_files(bundled_dir()) if p.suffix == ".toml")
CONFIG = {
    "volatility": '[risk.sizing]\nmode = "volatility"\ntarget_volatility = 0.02\n',
    "protections": '[[risk.protections]]\nmethod = "CooldownPeriod"\nstop_duration_candles = 7\n',
    "kelly": '[risk.sizing]\nmode = "kelly"\n',
}


def candles(bars: int = 40_000, seed: int = 5, gaps: int = 0, minutes: int = 1) -> pd.DataFrame:
    """A seeded walk of 1m candles starting mid-month, ending mid-day (not on any boundary),
    some without volume; with `gaps`, that many candles are missing."""
    df = synthetic_ohlcv(bars, f"{minutes}m", seed=seed)
    df["date"] = df["date"] + pd.Timedelta(days=13, minutes=17 * minutes)
    df.loc[df.index % 97 == 0, "volume"] = 0.0
    if gaps:
        rng = np.random.default_rng(seed)
        drop = rng.choice(np.arange(1, len(df) - 1), size=gaps, replace=False)
        df = df.drop(index=df.index[drop]).reset_index(drop=True)
    return df


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("arrays")
    out = {}
    plain, gappy = candles(), candles(gaps=300, seed=6)
    for name, df in (("plain", plain), ("gaps", gappy)):
        out[name] = root / f"{name}.parquet"
        df.to_parquet(out[name])
    out["feather"] = root / "BTC_USDT-1m.feather"  # a Freqtrade name: the symbol from it
    gappy.to_feather(out["feather"])
    ms = plain.assign(date=plain["date"].astype("datetime64[ms, UTC]"))
    out["ms"] = root / "ms.parquet"  # millisecond timestamps
    ms.to_parquet(out["ms"])
    out["epoch"] = root / "epoch.parquet"  # dates as epoch ms numbers: the general reader's
    plain.assign(date=plain["date"].astype("int64") // 1_000_000).to_parquet(out["epoch"])
    out["5m"] = root / "fivemin.parquet"
    candles(12_000, seed=8, gaps=50, minutes=5).to_parquet(out["5m"])
    return out


def run(argv: list[str], home: Path, *, pandas_path: bool, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str, bool]:  # fmt: skip
    """(exit code, stdout, stderr, whether the arrays path answered) of one command in process."""
    taken: list[bool] = []
    real = backtest_arrays.backtest_arrays_cmd

    def spy(*args: Any) -> int | None:
        try:
            code = real(*args)
        except BaseException:
            taken.append(True)  # the arrays path answered with this error
            raise
        taken.append(code is not None)
        return code

    monkeypatch.setattr(backtest_arrays, "backtest_arrays_cmd", spy)
    if pandas_path:
        monkeypatch.setenv(backtest_arrays.PANDAS_ONLY, "1")
    else:
        monkeypatch.delenv(backtest_arrays.PANDAS_ONLY, raising=False)
    capsys.readouterr()
    code = main(["--home", str(home), "backtest", *argv])
    out, err = capsys.readouterr()
    monkeypatch.delenv(backtest_arrays.PANDAS_ONLY, raising=False)
    return code, out, err, any(taken)


def both(argv: list[str], home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
         *, taken: bool = True) -> tuple[int, str, str]:  # fmt: skip
    fast = run(argv, home, pandas_path=False, monkeypatch=monkeypatch, capsys=capsys)
    slow = run(argv, home, pandas_path=True, monkeypatch=monkeypatch, capsys=capsys)
    assert fast[3] is taken, "the arrays path was not taken" if taken else "the arrays path was taken"
    assert not slow[3]
    assert fast[:3] == slow[:3]
    return fast[:3]


@pytest.mark.parametrize("name", RULE_FILES)
def test_every_bundled_rule_strategy_prints_the_same_document(name: str, files: dict[str, Path], tmp_path: Path,
                                                              monkeypatch, capsys) -> None:  # fmt: skip
    code, out, _ = both(["--strategy", name, "--data", str(files["gaps"]), "--timeframe", "1m", "--json"],
                        tmp_path, monkeypatch, capsys)  # fmt: skip
    assert code == 0 and out.count('"entry_time"') > 20


OPTIONS = [
    ["--fee", "0.0025", "--capital", "2500"],
    ["--stake-amount", "150", "--max-open-trades", "1"],
    ["--stake-amount", "unlimited", "--max-open-trades", "2", "--slippage-bps", "3"],
    ["--max-open-trades", "-1"],
    ["--start", "2025-01-20", "--end", "2025-01-30T12:00:00"],
    ["--start", "2025-01-20T05:30:00+02:00"],
    ["--end", "2025-01-25 10:00"],
    ["--timerange", "20250118-20250126"],
    ["--keep-gaps"],
    ["--symbol", "ETH/USDT", "--enable-protections"],
    ["--pairs", "SOL/USDT"],
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: " ".join(o))
@pytest.mark.parametrize("data", ["plain", "gaps"])
def test_options_print_the_same_document(options: list[str], data: str, files: dict[str, Path], tmp_path: Path,
                                         monkeypatch, capsys) -> None:  # fmt: skip
    code, out, _ = both(["--strategy", "ema_cross", "--data", str(files[data]), "--timeframe", "1m", "--json",
                         *options], tmp_path, monkeypatch, capsys)  # fmt: skip
    assert code == 0 and '"trades": [' in out


@pytest.mark.parametrize("data", ["feather", "ms", "5m"])
def test_other_files_print_the_same_document(data: str, files: dict[str, Path], tmp_path: Path, monkeypatch,
                                             capsys) -> None:  # fmt: skip
    argv = ["--strategy", "rsi_trend", "--data", str(files[data]), "--json"]
    argv += [] if data == "5m" else ["--timeframe", "1m"]
    code, out, _ = both(argv, tmp_path, monkeypatch, capsys)
    assert code == 0 and ('"BTC/USDT"' in out) is (data == "feather")


@pytest.mark.parametrize("config", sorted(CONFIG))
def test_the_risk_config_sizes_and_protects_the_same(config: str, files: dict[str, Path], tmp_path: Path,
                                                     monkeypatch, capsys) -> None:  # fmt: skip
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG[config])
    code, out, _ = both(["--strategy", "ema_cross", "--data", str(files["gaps"]), "--timeframe", "1m", "--json"],
                        home, monkeypatch, capsys)  # fmt: skip
    assert code == 0 and out.count('"entry_time"') > 20


def test_the_python_ema_cross_takes_the_dataframe_path_to_the_same_document(files: dict[str, Path], tmp_path: Path,
                                                                            monkeypatch, capsys) -> None:  # fmt: skip
    argv = ["--data", str(files["plain"]), "--timeframe", "1m", "--json"]
    rules = run(["--strategy", "ema_cross", *argv], tmp_path, pandas_path=False, monkeypatch=monkeypatch, capsys=capsys)
    python = run(["--strategy", str(PYTHON_EMA), *argv], tmp_path, pandas_path=False, monkeypatch=monkeypatch,
                 capsys=capsys)  # fmt: skip
    assert rules[3] and not python[3]
    assert rules[:3] == python[:3] and rules[0] == 0


@pytest.mark.parametrize("extra", [["--plot"], ["--trades-out", "{tmp}/t.csv"], ["--export", "trades"], []])
def test_runs_it_does_not_take_still_work(extra: list[str], files: dict[str, Path], tmp_path: Path, monkeypatch,
                                          capsys) -> None:  # fmt: skip
    extra = [e.replace("{tmp}", str(tmp_path)) for e in extra]
    json_flag = [] if extra == ["--plot"] or not extra else ["--json"]
    data = files["epoch"] if not extra else files["plain"]  # epoch dates: the general reader
    argv = ["--strategy", "ema_cross", "--data", str(data), "--timeframe", "1m", *json_flag, *extra]
    code, out, err, taken = run(argv, tmp_path, pandas_path=False, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and not taken, err
    assert ("with trades" in out) if extra == ["--plot"] else out


# errors the arrays path finds itself (the others: before it decides, or the DataFrame path's)
ARRAYS_ANSWER = {"empty", "corrupt", "capital", "max open", "unlimited", "range", "unsorted", "duplicates", "nan",
                 "mismatch", "stake"}  # fmt: skip


def _bad_files(root: Path, plain: pd.DataFrame) -> dict[str, Path]:
    out = {}
    for name, df in {
        "unsorted": plain.iloc[::-1].reset_index(drop=True),
        "duplicates": pd.concat([plain.iloc[:50], plain.iloc[40:60]]).reset_index(drop=True),
        "nan": plain.assign(close=plain["close"].where(plain.index % 500 != 3)),
        "empty": plain.iloc[:0],
    }.items():
        out[name] = root / f"{name}.parquet"
        df.to_parquet(out[name])
    out["corrupt"] = root / "corrupt.parquet"
    out["corrupt"].write_bytes(b"PAR1" + bytes(range(256)) * 8)
    return out


@pytest.mark.parametrize(
    ("case", "argv", "code", "words"),
    [
        ("missing", ["--data", "{tmp}/nope.parquet"], 2, "no such data file"),
        ("mismatch", ["--data", "{plain}", "--timeframe", "5m"], 1, "apart but the timeframe is 5m"),
        ("unsorted", ["--data", "{unsorted}"], 1, "not sorted"),
        ("duplicates", ["--data", "{duplicates}"], 1, "duplicate timestamp"),
        ("nan", ["--data", "{nan}"], 1, "missing values"),
        ("empty", ["--data", "{empty}"], 1, "the candle data is empty"),
        ("corrupt", ["--data", "{corrupt}"], 1, "cannot read corrupt.parquet"),
        ("capital", ["--data", "{plain}", "--capital", "0"], 2, "capital must be positive"),
        ("stake", ["--data", "{plain}", "--stake-amount", "lots"], 2, "--stake-amount must be"),
        ("max open", ["--data", "{plain}", "--max-open-trades", "0"], 2, "max_open_trades is 0"),
        ("unlimited", ["--data", "{plain}", "--stake-amount", "unlimited", "--max-open-trades", "-1"], 1,
         "needs a finite max_open_trades"),
        ("range", ["--data", "{plain}", "--start", "2030-01-01"], 1, "no candles in the chosen range"),
        ("bad start", ["--data", "{plain}", "--start", "yesterday"], 2, "cannot read 'yesterday'"),
        ("both ranges", ["--data", "{plain}", "--start", "2025-01-20", "--timerange", "20250101-"], 2,
         "not both"),
        ("bad timerange", ["--data", "{plain}", "--timerange", "2024"], 2, "needs a '-'"),
        ("strategy", ["--data", "{plain}", "--strategy", "no_such_thing"], 2, "unknown strategy"),
    ],
)
def test_user_errors_keep_their_one_line_and_exit_code(case: str, argv: list[str], code: int, words: str,
                                                       files: dict[str, Path], tmp_path: Path, monkeypatch,
                                                       capsys) -> None:  # fmt: skip
    bad = _bad_files(tmp_path, pd.read_parquet(files["plain"]).iloc[:3000])
    names = {"tmp": str(tmp_path), "plain": str(files["plain"]), **{k: str(v) for k, v in bad.items()}}
    argv = [a.format(**names) for a in argv]
    if "--strategy" not in argv:
        argv = ["--strategy", "ema_cross", *argv]
    if "--timeframe" not in argv:
        argv += ["--timeframe", "1m"]
    got, out, err = both([*argv, "--json"], tmp_path, monkeypatch, capsys, taken=case in ARRAYS_ANSWER)
    assert got == code and out == "" and words in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


def _subprocess(argv: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    code = ("import atexit, gc, sys; atexit.register(lambda: sys.stderr.write("
            "'pandas imported: %s\\ncollector on: %s\\ncloudpickle imported: %s\\nlogging imported: %s\\n' % ("
            "'pandas' in sys.modules, gc.isenabled(), 'cloudpickle' in sys.modules, 'logging' in sys.modules))); "
            "from tui_trader.cli.main import main; sys.exit(main())")
    environ = child_env(drop=("PYTHONPATH",))
    environ.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-c", code, "--home", str(home), "backtest", *argv],
                          capture_output=True, env=environ, timeout=120, check=False)  # fmt: skip


def test_the_command_never_imports_pandas(files: dict[str, Path], tmp_path: Path, monkeypatch, capsys) -> None:
    argv = ["--strategy", "ema_cross", "--data", str(files["gaps"]), "--timeframe", "1m", "--json"]
    done = _subprocess(argv, tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    # the collector stays off once the command's own process has written the document (on
    # again, it would collect everything the run made before the process ends)
    # nor cloudpickle, which pyarrow imports when it can (~7 ms), nor logging (nothing is logged)
    assert done.stderr.decode() == (
        "pandas imported: False\ncollector on: False\ncloudpickle imported: False\nlogging imported: False\n"
    )
    _, out, _, _ = run(argv, tmp_path, pandas_path=True, monkeypatch=monkeypatch, capsys=capsys)
    assert done.stdout.decode() == out
    _, out, _, taken = run(argv, tmp_path, pandas_path=False, monkeypatch=monkeypatch, capsys=capsys)
    assert taken and done.stdout.decode() == out and gc.isenabled()  # in a process that goes on: on again


def test_a_run_found_ineligible_after_talib_takes_the_dataframe_path(files: dict[str, Path], tmp_path: Path,
                                                                    monkeypatch, capsys) -> None:  # fmt: skip
    """Epoch-number dates are only seen once the file is opened, after TA-Lib was imported
    without pandas: TA-Lib gets pandas back and the DataFrame path prints the same document."""
    argv = ["--strategy", "ema_cross", "--data", str(files["epoch"]), "--timeframe", "1m", "--json"]
    done = _subprocess(argv, tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    # the DataFrame path collects; pyarrow had been imported on the reading thread
    assert done.stderr.decode().startswith("pandas imported: True\ncollector on: True\ncloudpickle imported: False\n")
    _, out, _, _ = run(argv, tmp_path, pandas_path=True, monkeypatch=monkeypatch, capsys=capsys)
    assert done.stdout.decode() == out and out.count('"entry_time"') > 20


def test_talib_given_pandas_back_works_as_if_imported_with_it() -> None:
    """What a pandas strategy calls after the arrays path gave up: the abstract API on a
    DataFrame, the function API on a Series, with the results of a plain import."""
    code = """
import sys
from tui_trader.cli import backtest_arrays
from tui_trader.indicators.talib_lean import import_talib
assert import_talib(hook=False)
import talib, talib.abstract
assert not hasattr(talib.RSI, "__wrapped__")  # no Series wrapper: pandas was hidden
backtest_arrays._give_talib_pandas()
assert hasattr(talib.RSI, "__wrapped__")
import numpy as np, pandas as pd
rng = np.random.default_rng(3)
close = rng.random(300) + 10
df = pd.DataFrame({"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": close})
rsi = talib.abstract.RSI(df, timeperiod=9)
bands = talib.abstract.BBANDS(df)
series = talib.EMA(df["close"], timeperiod=5)
print(type(rsi).__name__, type(bands).__name__, list(bands.columns), type(series).__name__)
print(np.allclose(rsi.to_numpy(), talib.RSI(close, timeperiod=9), equal_nan=True))
"""
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env={**environ, "PYTHONPATH": str(ROOT)},
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split("\n")[:2] == [
        "Series DataFrame ['upperband', 'middleband', 'lowerband'] Series", "True"]


def test_talib_abstract_imported_only_after_pandas_is_given_back_works() -> None:
    """The pandas-free path imports talib, not its abstract API (~200 function objects): a
    strategy that imports `talib.abstract` after `_give_talib_pandas` gets DataFrames out."""
    code = """
import sys
from tui_trader.cli import backtest_arrays
from tui_trader.indicators.talib_lean import import_talib
assert import_talib(hook=False)
assert "talib.abstract" not in sys.modules and "pandas" not in sys.modules
backtest_arrays._give_talib_pandas()
import numpy as np, pandas as pd
import talib.abstract
close = np.random.default_rng(4).random(200) + 10
df = pd.DataFrame({"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": close})
macd = talib.abstract.MACD(df)
print(type(macd).__name__, list(macd.columns), type(talib.abstract.SMA(df)).__name__)
"""
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env={**environ, "PYTHONPATH": str(ROOT)},
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode() == "DataFrame ['macd', 'macdsignal', 'macdhist'] Series\n"


def _one_symbol() -> tuple[Any, Any, Any]:
    from tui_trader.backtest.fills import FillModel
    from tui_trader.backtest.rules import ExitRules
    from tui_trader.backtest.signals import market_from_arrays, signals_from_arrays

    n = 60
    close = 100 + np.sin(np.arange(n) / 3)
    times = np.arange(n, dtype=np.int64) * 60_000_000_000 + 1_700_000_000_000_000_000
    market = market_from_arrays(times, close, close + 0.5, close - 0.5, close, np.ones(n), 60)
    enter = np.zeros(n, dtype=bool)
    enter[[5, 25]] = True
    exits = np.zeros(n, dtype=bool)
    exits[[15, 40]] = True
    rules = ExitRules.build(stoploss=-0.5, minimal_roi={"0": 10.0})
    tags = np.full(n, None, dtype=object)
    sym = signals_from_arrays("X/USDT", market, rules, enter_long=enter, exit_long=exits,
                              enter_short=np.zeros(n, dtype=bool), exit_short=np.zeros(n, dtype=bool),
                              enter_tags=tags, exit_tags=tags)  # fmt: skip
    return sym, rules, FillModel(taker_fee=0.001, maker_fee=0.001)


def test_rows_built_alongside_the_metrics_equal_the_sequential_outcome(monkeypatch) -> None:
    from tui_trader.backtest import outcome
    from tui_trader.core.errors import DataError

    sym, rules, fills = _one_symbol()
    kw: dict[str, Any] = {"timeframe": "1m", "capital": 1000.0, "max_open_trades": 1}
    plain = outcome.simulate_signals([sym], rules, fills, **kw)
    beside = outcome.simulate_signals([sym], rules, fills, alongside=lambda t, mfe, mae: len(t), **kw)
    assert beside.extra == len(plain.trades) == 2 and beside.metrics == plain.metrics
    assert np.array_equal(beside.equity, plain.equity)

    def broken(*_: Any) -> Any:
        raise ValueError("rows")

    with pytest.raises(ValueError, match="rows"):  # the rows' own error
        outcome.simulate_signals([sym], rules, fills, alongside=broken, **kw)

    def no_metrics(*_: Any) -> Any:
        raise DataError("equity curve holds NaN or infinite values")

    monkeypatch.setattr(outcome, "_measure", no_metrics)
    for rows in (broken, lambda *_: None):  # the metrics' error first, as without alongside
        with pytest.raises(DataError, match="NaN"):
            outcome.simulate_signals([sym], rules, fills, alongside=rows, **kw)


def test_iso_times_are_what_isoformat_writes() -> None:
    """The document's trade times: pandas' `isoformat()` with "Z", microseconds only where
    there are some, None where missing."""
    from tui_trader.backtest.document import iso_times

    ns = np.array([0, 1_500_000_000, 1_700_000_000_123_456_000, -1_000_000_000, 1_704_067_200_000_000_000,
                   1_704_067_260_000_001_000], dtype=np.int64)  # fmt: skip
    want = [pd.Timestamp(int(v), tz="UTC").isoformat().replace("+00:00", "Z") for v in ns]
    assert iso_times(ns) == want
    assert iso_times(ns[[0, 4]]) == ["1970-01-01T00:00:00Z", "2024-01-01T00:00:00Z"]
    missing = np.array([False, True, False, False, True, False])
    assert iso_times(ns, missing) == [None if gone else w for w, gone in zip(want, missing, strict=True)]


@pytest.mark.parametrize("data", ["plain", "epoch"])  # taken; given up after TA-Lib (DataFrame path)
def test_the_gil_switch_interval_is_short_during_the_run_only(data: str, files: dict[str, Path], tmp_path: Path,
                                                              monkeypatch, capsys) -> None:  # fmt: skip
    """The arrays path's threads switch every 0.5 ms while it runs; the interval it found is
    back afterwards, whichever way the run went."""
    from tui_trader.backtest import outcome

    seen: list[float] = []
    real = outcome.simulate_signals

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(sys.getswitchinterval())
        return real(*args, **kwargs)

    monkeypatch.setattr(outcome, "simulate_signals", spy)
    before = sys.getswitchinterval()
    argv = ["--strategy", "ema_cross", "--data", str(files[data]), "--timeframe", "1m", "--json"]
    code, _, _, taken = run(argv, tmp_path, pandas_path=False, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and sys.getswitchinterval() == before and taken is (data == "plain")
    if taken:  # (the DataFrame path may hold simulate_signals from an earlier import)
        assert seen == [backtest_arrays.SWITCH_INTERVAL_S] != [before]


def test_numpy_is_loaded_with_one_blas_thread_and_the_variable_is_not_left(files: dict[str, Path],
                                                                           tmp_path: Path) -> None:  # fmt: skip
    """OpenBLAS's spinning thread pool is not started for the run; a count the user set is
    kept; the variable the command set is gone afterwards (children do not inherit it)."""
    pytest.importorskip("threadpoolctl")
    code = ("import atexit, os, sys; atexit.register(lambda: sys.stderr.write('%s %s\\n' % ("
            "os.environ.get('OPENBLAS_NUM_THREADS'), [p['num_threads'] for p in "
            "__import__('threadpoolctl').threadpool_info() if p['internal_api'] == 'openblas']))); "
            "from tui_trader.cli.main import main; sys.exit(main())")  # fmt: skip
    argv = ["--home", str(tmp_path), "backtest", "--strategy", "ema_cross", "--data", str(files["plain"]),
            "--timeframe", "1m", "--json"]  # fmt: skip
    environ = child_env(drop=("PYTHONPATH",))
    environ.pop("OPENBLAS_NUM_THREADS", None)
    for given, want in ((None, "None [1]"), ("2", "2 [2]")):
        env = {**environ, "PYTHONPATH": str(ROOT), **({"OPENBLAS_NUM_THREADS": given} if given else {})}
        done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, env=env, timeout=120,
                              check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        assert done.stderr.decode().strip() == want


def test_malloc_keeps_freed_memory_in_the_command_s_own_process_only(files: dict[str, Path], tmp_path: Path,
                                                                     monkeypatch, capsys) -> None:  # fmt: skip
    """glibc takes the settings; the command's own process (no pandas) sets them, a process
    that already imported pandas (a test, an app calling main()) is left as it is."""
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt settings are glibc's")
    code = ("import sys; from tui_trader.cli import backtest_arrays as b; real = b._malloc_keeps_freed_memory; "
            "b._malloc_keeps_freed_memory = lambda: sys.stderr.write('set %s\\n' % real()) and True; "
            "from tui_trader.cli.main import main; sys.exit(main())")  # fmt: skip
    argv = ["--home", str(tmp_path), "backtest", "--strategy", "ema_cross", "--data", str(files["plain"]),
            "--timeframe", "1m", "--json"]  # fmt: skip
    environ = child_env(drop=("PYTHONPATH",))
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True,
                          env={**environ, "PYTHONPATH": str(ROOT)}, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0 and done.stderr.decode() == "set True\n", done.stderr.decode()
    called: list[bool] = []
    monkeypatch.setattr(backtest_arrays, "_malloc_keeps_freed_memory", lambda: called.append(True))
    argv = ["--strategy", "ema_cross", "--data", str(files["plain"]), "--timeframe", "1m", "--json"]
    assert run(argv, tmp_path, pandas_path=False, monkeypatch=monkeypatch, capsys=capsys)[3]
    assert called == []


def test_a_python_strategy_s_process_is_left_as_it_was(files: dict[str, Path], tmp_path: Path) -> None:
    """A Python strategy takes the DataFrame path before anything process-wide is set: NumPy
    with OpenBLAS's own thread count (its numbers could depend on it), malloc untouched."""
    pytest.importorskip("threadpoolctl")
    probe = ("[p['num_threads'] for p in __import__('threadpoolctl').threadpool_info() "
             "if p['internal_api'] == 'openblas']")  # fmt: skip
    code = ("import atexit, sys; from tui_trader.cli import backtest_arrays as b; "
            "b._malloc_keeps_freed_memory = lambda: sys.stderr.write('malloc set\\n') and True; "
            f"atexit.register(lambda: sys.stderr.write('%s\\n' % {probe})); "
            "from tui_trader.cli.main import main; sys.exit(main())")  # fmt: skip
    environ = child_env(drop=("PYTHONPATH",))
    environ.pop("OPENBLAS_NUM_THREADS", None)
    env = {**environ, "PYTHONPATH": str(ROOT)}
    plain = subprocess.run([sys.executable, "-c", f"import numpy; print({probe})"], capture_output=True, env=env,
                           timeout=120, check=False)  # fmt: skip
    argv = ["--home", str(tmp_path), "backtest", "--strategy", str(PYTHON_EMA), "--data", str(files["plain"]),
            "--timeframe", "1m", "--json"]  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, env=env, timeout=120,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr.decode() == plain.stdout.decode() and '"entry_time"' in done.stdout.decode()


def test_pyarrow_imported_without_cloudpickle_still_pickles_and_lets_it_be_imported() -> None:
    code = ("import pickle, sys; from tui_trader.backtest.arrays import import_pyarrow_without_cloudpickle; "
            "import_pyarrow_without_cloudpickle(); import pyarrow as pa; assert 'cloudpickle' not in sys.modules; "
            "a = pa.table({'x': [1.0, 2.0]}); assert pickle.loads(pickle.dumps(a)).equals(a); "
            "import cloudpickle; print(cloudpickle.loads(cloudpickle.dumps(lambda: 3))())")  # fmt: skip
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env={**environ, "PYTHONPATH": str(ROOT)},
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0 and done.stdout == b"3\n", done.stderr.decode()
