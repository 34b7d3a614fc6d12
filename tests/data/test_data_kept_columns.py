"""A candle file's columns kept between runs (data/kept_columns.py): the next run of the same,
unchanged file reads them instead of the file, to the byte, and imports no pyarrow; any change
to the file, a file too new to tell, a damaged or foreign kept file, or a cache that cannot be
written, all read the file afresh."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tui_trader.backtest.arrays import read_candles
from tui_trader.data import kept_columns
from tui_trader.strategy.synthetic import synthetic_ohlcv

from process_env import child_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUI_TRADER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv(kept_columns.ENV_SWITCH, "1")
    # setting a file's times (as `_age` does) is a change too: kept at once here, the rule
    # itself has its own test
    monkeypatch.setattr(kept_columns, "RACY_S", 0.0)


def _file(tmp_path: Path, name: str = "BTC_USDT-1m.parquet", *, seed: int = 3, bars: int = 3_000,
          age_s: float = 60.0) -> Path:  # fmt: skip
    """A seeded candle file last written `age_s` ago (a file downloaded earlier)."""
    path = tmp_path / name
    synthetic_ohlcv(bars, "1m", seed=seed).to_parquet(path)
    _age(path, age_s)
    return path


def _age(path: Path, age_s: float) -> None:
    then = time.time_ns() - int(age_s * 1e9)
    os.utime(path, ns=(then, then))


def _kept_files() -> list[Path]:
    return sorted(kept_columns.folder().glob(f"*{kept_columns.SUFFIX}"))


def _same(a: object, b: object) -> None:
    """The same candles, to the byte: open times, and each column in the same order."""
    assert a is not None and b is not None
    assert np.array_equal(a.time, b.time) and a.time.dtype == b.time.dtype == np.int64  # type: ignore[attr-defined]
    assert list(a.prices) == list(b.prices)  # type: ignore[attr-defined]
    for name in a.prices:  # type: ignore[attr-defined]
        left, right = a.prices[name], b.prices[name]  # type: ignore[attr-defined]
        assert left.dtype == right.dtype == np.float64 and left.tobytes() == right.tobytes()


def test_the_second_read_of_an_unchanged_file_is_the_kept_copy_to_the_byte(tmp_path: Path) -> None:
    path = _file(tmp_path)
    first = read_candles(path, "1m")
    assert len(_kept_files()) == 1
    second = read_candles(path, "1m")
    _same(first, second)
    assert not second.prices["close"].flags.writeable  # type: ignore[union-attr]  # a copy nobody edits


def test_a_file_changed_in_place_with_its_old_times_put_back_is_read_afresh(tmp_path: Path) -> None:
    """`cp -p` over it, or a tool that restores the modification time: the size and the times
    are the same, the change time (which nothing can set back) is not."""
    path = _file(tmp_path)
    before = path.stat()
    read_candles(path, "1m")
    other = tmp_path / "other.parquet"
    synthetic_ohlcv(3_000, "1m", seed=4).to_parquet(other)
    assert other.stat().st_size == before.st_size  # the same size, other prices
    time.sleep(0.02)  # a change time after the first read's
    path.write_bytes(other.read_bytes())
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns and path.stat().st_ino == before.st_ino
    got = read_candles(path, "1m")
    assert got is not None
    assert np.array_equal(got.prices["close"], synthetic_ohlcv(3_000, "1m", seed=4)["close"].to_numpy())


def test_a_file_replaced_by_another_of_the_same_name_is_read_afresh(tmp_path: Path) -> None:
    path = _file(tmp_path)
    read_candles(path, "1m")
    fresh = _file(tmp_path, "new.parquet", seed=9, bars=2_000)
    fresh.replace(path)  # a download written beside it and renamed over it
    got = read_candles(path, "1m")
    assert got is not None and len(got) == 2_000


def test_a_file_written_a_moment_ago_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Written within the file system's clock tick of a later write, its times could not tell
    the two apart: it is read every time until it is older."""
    monkeypatch.setattr(kept_columns, "RACY_S", 0.3)
    path = _file(tmp_path)
    read_candles(path, "1m")
    assert _kept_files() == []
    time.sleep(0.35)
    read_candles(path, "1m")
    assert len(_kept_files()) == 1


def test_a_damaged_kept_file_is_read_over_removed_and_written_again(tmp_path: Path) -> None:
    path = _file(tmp_path)
    first = read_candles(path, "1m")
    [kept] = _kept_files()
    whole = kept.read_bytes()
    for damaged in (whole[:-8], whole + b"x", b"garbage\n", whole.replace(b'"rows": 3000', b'"rows": 2999')):
        kept.write_bytes(damaged)
        _same(first, read_candles(path, "1m"))
        assert kept.read_bytes() == whole  # written again by that read


def test_a_kept_file_of_another_state_of_the_file_is_not_used(tmp_path: Path) -> None:
    path = _file(tmp_path)
    read_candles(path, "1m")
    [kept] = _kept_files()
    stale = kept.read_bytes()
    _age(path, 30.0)  # touched: a new identity (same name of kept file: same path and inode)
    read_candles(path, "1m")
    kept.write_bytes(stale)  # the old state's columns where the new state's would be
    assert kept_columns.load(path) is None


def test_nothing_is_kept_when_the_cache_cannot_be_written(tmp_path: Path) -> None:
    path = _file(tmp_path)
    (tmp_path / "cache").write_text("a file where the folder would be")
    got = read_candles(path, "1m")
    assert got is not None and len(got) == 3_000


def test_the_switch_turns_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path)
    monkeypatch.setenv(kept_columns.ENV_SWITCH, "0")
    read_candles(path, "1m")
    assert _kept_files() == []


def test_the_folder_keeps_under_its_limit_dropping_the_least_recently_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [_file(tmp_path, f"f{i}.parquet", seed=i, bars=1_000) for i in range(4)]
    read_candles(files[0], "1m")
    one = _kept_files()[0].stat().st_size
    monkeypatch.setattr(kept_columns, "LIMIT_BYTES", 2 * one)  # room for two
    read_candles(files[1], "1m")
    time.sleep(0.01)
    read_candles(files[0], "1m")  # used again: now the newest
    time.sleep(0.01)
    read_candles(files[2], "1m")  # f1 is the least recently used
    assert kept_columns.load(files[0]) is not None and kept_columns.load(files[2]) is not None
    assert kept_columns.load(files[1]) is None and len(_kept_files()) == 2
    monkeypatch.setattr(kept_columns, "LIMIT_BYTES", one // 2)  # not even room for one
    read_candles(files[3], "1m")
    assert [kept_columns.load(f) is not None for f in files] == [False, False, False, True]  # the newest stays


def test_the_command_prints_the_same_document_from_kept_columns_without_pyarrow(tmp_path: Path) -> None:
    path = _file(tmp_path, bars=20_000)
    read_candles(path, "1m")  # kept (in this process, as a first run of the command would)
    probe = ("import atexit, sys; atexit.register(lambda: sys.stderr.write("
             "'pyarrow imported: %s\\n' % ('pyarrow' in sys.modules))); "
             "from tui_trader.cli.main import main; sys.exit(main())")  # fmt: skip
    argv = [sys.executable, "-c", probe, "--home", str(tmp_path / "home"), "backtest", "--strategy", "ema_cross",
            "--data", str(path), "--timeframe", "1m", "--json"]  # fmt: skip
    runs = {}
    for switch in ("1", "0"):  # the kept columns, then the file read afresh
        env = child_env(drop=("PYTHONPATH",), PYTHONPATH=str(ROOT), **{kept_columns.ENV_SWITCH: switch})
        runs[switch] = done = subprocess.run(argv, capture_output=True, env=env, timeout=120, check=False)
        assert done.returncode == 0, done.stderr.decode()
    assert runs["1"].stderr.decode() == "pyarrow imported: False\n"
    assert runs["0"].stderr.decode() == "pyarrow imported: True\n"
    assert runs["1"].stdout == runs["0"].stdout and runs["1"].stdout.count(b'"entry_time"') > 5
