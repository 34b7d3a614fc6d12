"""Loading CSV, Parquet and Freqtrade files, and the checks that refuse bad candles."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tui_trader.core.errors import DataError
from tui_trader.data import load_ohlcv, load_ohlcv_with_report
from tui_trader.data.filenames import parse_file_name
from tui_trader.data.timeframes import (
    periods_per_year,
    seconds_to_timeframe,
    timeframe_to_pandas_freq,
    timeframe_to_seconds,
)
from tui_trader.data.validate import check_candles

# small excerpts of Freqtrade's sample data, shipped with the tests (files/make_excerpts.py)
FREQTRADE = Path(__file__).resolve().parent / "files"
# the whole sample set, when it sits beside the repository (not in a plain clone) or where
# FREQTRADE_SAMPLE_DATA points
FULL_SET = Path(
    os.environ.get("FREQTRADE_SAMPLE_DATA")
    or Path(__file__).resolve().parents[2].parent / "shared" / "data" / "freqtrade"
)
needs_full_set = pytest.mark.skipif(
    not FULL_SET.is_dir(), reason=f"Freqtrade's full sample set is not at {FULL_SET}"
)
T0 = pd.Timestamp("2024-01-01T00:00:00Z")


def candles(n: int = 5, step: str = "1min", start: pd.Timestamp = T0) -> pd.DataFrame:
    dates = pd.date_range(start, periods=n, freq=step, tz="UTC").as_unit("ns")
    base = np.arange(n, dtype="float64") + 100
    return pd.DataFrame(
        {
            "date": dates,
            "open": base,
            "high": base + 1,
            "low": base - 1,
            "close": base + 0.5,
            "volume": 1.0,
        }
    )


def test_timeframes() -> None:
    assert timeframe_to_seconds("5m") == 300
    assert timeframe_to_seconds("4h") == 14_400
    assert timeframe_to_seconds("1w") == 604_800
    assert timeframe_to_pandas_freq("5m") == "5min"
    assert timeframe_to_pandas_freq("1d") == "1D"
    assert periods_per_year("1h") == 8760.0
    assert periods_per_year("1m") == 525_600.0
    assert seconds_to_timeframe(300) == "5m" and seconds_to_timeframe(86_400) == "1d"
    for bad in ("5x", "0m", "1M", "", "m"):
        with pytest.raises(DataError):
            timeframe_to_seconds(bad)


def test_freqtrade_file_names() -> None:
    eth = parse_file_name(Path("ETH_BTC-5m.feather"))
    assert (eth.symbol, eth.timeframe, eth.trades) == ("ETH/BTC", "5m", False)
    trades = parse_file_name(Path("XRP_ETH-trades.json.gz"))
    assert (trades.symbol, trades.timeframe, trades.trades) == ("XRP/ETH", None, True)
    fut = parse_file_name(Path("BTC_USDT_USDT-1h-futures.feather"))
    assert (fut.symbol, fut.timeframe, fut.candle_type) == ("BTC/USDT:USDT", "1h", "futures")
    assert parse_file_name(Path("prices.csv")).symbol is None


@pytest.mark.parametrize(
    ("folder", "name", "rows", "symbol", "timeframe"),
    [
        (FREQTRADE, "ETH_BTC-5m.feather", 600, "ETH/BTC", "5m"),
        (FREQTRADE, "XRP_ETH-1m.feather", 49, "XRP/ETH", "1m"),
        (FREQTRADE, "UNITTEST_BTC-1m.json", 300, "UNITTEST/BTC", "1m"),
        pytest.param(FULL_SET, "ETH_BTC-5m.feather", 5760, "ETH/BTC", "5m", marks=needs_full_set),
        pytest.param(FULL_SET, "LTC_BTC-5m.feather", 5760, "LTC/BTC", "5m", marks=needs_full_set),
        pytest.param(FULL_SET, "XRP_ETH-1m.feather", 2469, "XRP/ETH", "1m", marks=needs_full_set),
        pytest.param(
            FULL_SET, "UNITTEST_BTC-1m.json", 13681, "UNITTEST/BTC", "1m", marks=needs_full_set
        ),
    ],
)
def test_freqtrade_candle_files(
    folder: Path, name: str, rows: int, symbol: str, timeframe: str
) -> None:
    df = load_ohlcv(folder / name)
    assert list(df.columns) == ["date", "open", "high", "low", "close", "volume"]
    assert str(df["date"].dtype) == "datetime64[ns, UTC]"
    assert all(df[c].dtype == "float64" for c in df.columns[1:])
    assert isinstance(df.index, pd.RangeIndex) and len(df) == rows
    assert df["date"].is_monotonic_increasing and df["date"].is_unique
    assert df.attrs["symbol"] == symbol and df.attrs["timeframe"] == timeframe


def test_freqtrade_json_values_and_gaps() -> None:
    df, report = load_ohlcv_with_report(FREQTRADE / "UNITTEST_BTC-1m.json")
    # first row of the file: [1509836520000, 0.00162008, ..., 108.14853839]
    assert df["date"].iloc[0] == pd.Timestamp(1509836520000, unit="ms", tz="UTC")
    assert df["volume"].iloc[0] == pytest.approx(108.14853839)
    assert report.ok and report.gaps  # gaps are reported, not filled, and not fatal
    assert len(df) == report.rows == 300
    expected_missing = int((df["date"].diff().dropna() / pd.Timedelta("1min")).sub(1).sum())
    assert report.missing_bars == expected_missing


@pytest.mark.parametrize(
    "folder", [FREQTRADE, pytest.param(FULL_SET, marks=needs_full_set)], ids=["excerpt", "full"]
)
def test_freqtrade_trades_become_the_same_candles_as_freqtrade_made(folder: Path) -> None:
    with pytest.raises(DataError, match="--timeframe"):
        load_ohlcv(folder / "XRP_ETH-trades.json.gz")
    built = load_ohlcv(folder / "XRP_ETH-trades.json.gz", timeframe="1m")
    reference = load_ohlcv(folder / "XRP_ETH-1m.feather")
    pd.testing.assert_frame_equal(built, reference, check_exact=False, rtol=1e-9)
    five = load_ohlcv(folder / "XRP_ETH-trades.json.gz", timeframe="5m")
    assert (five["date"].astype("int64") % (300 * 10**9) == 0).all()
    assert five["volume"].sum() == pytest.approx(reference["volume"].sum())


def test_trades_feather(tmp_path: Path) -> None:
    import gzip
    import json

    with gzip.open(FREQTRADE / "XRP_ETH-trades.json.gz", "rt") as fh:
        rows = json.load(fh)[:200]
    cols = ["timestamp", "id", "type", "side", "price", "amount", "cost"]
    path = tmp_path / "XRP_ETH-trades.feather"
    pd.DataFrame(rows, columns=cols).to_feather(path)
    df = load_ohlcv(path, timeframe="1m")
    first_minute = [r for r in rows if r[0] < 1570752060000]
    assert df["open"].iloc[0] == first_minute[0][4]
    assert df["high"].iloc[0] == max(r[4] for r in first_minute)
    assert df["volume"].iloc[0] == pytest.approx(sum(r[5] for r in first_minute))


def test_csv_with_header_iso_and_aliases(tmp_path: Path) -> None:
    path = tmp_path / "btc.csv"
    path.write_text(
        "Timestamp,Open,High,Low,Close,Vol\n"
        "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n"
        "2024-01-01 00:01:00,1.5,2,1,1.8,11\n"
    )
    df = load_ohlcv(path, timeframe="1m", symbol="BTC/USDT")
    assert list(df["date"]) == [T0, T0 + pd.Timedelta("1min")]
    assert df["close"].tolist() == [1.5, 1.8] and df.attrs["symbol"] == "BTC/USDT"


@pytest.mark.parametrize(("stamp", "scale"), [("ms", 1000), ("s", 1)])
def test_csv_without_header_epoch(tmp_path: Path, stamp: str, scale: int) -> None:
    t = int(T0.timestamp())
    path = tmp_path / f"epoch_{stamp}.csv"
    path.write_text(f"{t * scale},1,2,0.5,1.5,10\n{(t + 300) * scale},1,2,0.5,1.5,10\n")
    df = load_ohlcv(path, timeframe="5m")
    assert list(df["date"]) == [T0, T0 + pd.Timedelta("5min")]


def test_parquet_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    candles(10).to_parquet(path)
    pd.testing.assert_frame_equal(load_ohlcv(path, timeframe="1m"), candles(10))


def test_parquet_candles_are_read_without_pyarrow_parquet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # pyarrow.parquet brings pyarrow's filesystems, datasets and their libraries (~5 MB of a
    # backtest's peak): the candles are read through the Parquet reader alone, every row group
    path = tmp_path / "x.parquet"
    candles(1_000).to_parquet(path, row_group_size=300)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # importing it would raise
    pd.testing.assert_frame_equal(load_ohlcv(path, timeframe="1m"), candles(1_000))


def test_missing_columns_and_bad_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("date,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n")
    with pytest.raises(DataError, match="volume"):
        load_ohlcv(path)
    path.write_text("date,open,high,low,close,volume\nyesterday,1,2,0.5,1.5,3\n")
    with pytest.raises(DataError, match="timestamps"):
        load_ohlcv(path)
    with pytest.raises(DataError, match="not found"):
        load_ohlcv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="unknown file type"):
        (tmp_path / "x.txt").write_text("hi")
        load_ohlcv(tmp_path / "x.txt")


def test_check_candles_reports_each_problem() -> None:
    df = candles(10)
    df = df.drop(index=[3, 4, 7]).reset_index(drop=True)  # gaps: bars 3-4 and bar 7
    report = check_candles(df, "1m")
    assert report.ok and report.rows == 7
    assert report.gaps == [
        (T0 + pd.Timedelta("3min"), T0 + pd.Timedelta("4min"), 2),
        (T0 + pd.Timedelta("7min"), T0 + pd.Timedelta("7min"), 1),
    ]
    bad = pd.concat([candles(5), candles(5).iloc[[2]]], ignore_index=True)  # dup, out of order
    bad.loc[1, "close"] = np.nan
    report = check_candles(bad, "1m")
    assert (report.duplicates, report.unsorted, report.nan_rows) == (1, True, 1)
    assert not report.ok and report.gaps == []
    assert any("duplicate" in line for line in report.summary())
    mismatch = check_candles(candles(5, step="5min"), "1m")
    assert mismatch.timeframe_mismatch and not mismatch.ok
    assert "5m apart" in mismatch.problems()[0]
    with pytest.raises(DataError, match="volume"):
        check_candles(candles(3).drop(columns=["volume"]), "1m")


def test_bad_rows_are_refused_unless_clean(tmp_path: Path) -> None:
    df = candles(6)
    messy = pd.concat([df.iloc[[0, 2, 1]], df.iloc[[2]].assign(close=999.0), df.iloc[3:]])
    messy.loc[messy.index[-1], "volume"] = np.nan  # bar 5 has no volume
    path = tmp_path / "messy.csv"
    messy.to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        load_ohlcv(path, timeframe="1m")
    message = str(err.value)
    assert (
        "not sorted" in message and "1 duplicate" in message and "1 row(s) with missing" in message
    )
    assert "--clean" in message and "\n" not in message
    cleaned, report = load_ohlcv_with_report(path, timeframe="1m", clean=True)
    assert list(cleaned["date"]) == list(df["date"].iloc[:5])  # sorted, deduped, NaN row gone
    assert cleaned.loc[2, "close"] == 999.0  # the last duplicate wins
    assert isinstance(cleaned.index, pd.RangeIndex)
    assert len(report.actions) == 3 and not report.ok


def test_timeframe_mismatch_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="5m apart but the timeframe is 1m"):
        load_ohlcv(FREQTRADE / "ETH_BTC-5m.feather", timeframe="1m")


def test_the_modal_spacing_is_the_most_common_one_whatever_the_shortcut() -> None:
    """check_candles' spacing: the expected (or median) spacing when more than half hold it,
    else the most common one, the smallest of a tie, as np.unique + argmax finds it."""
    import numpy as np

    from tui_trader.data.validate import _modal_step

    rng = np.random.default_rng(1)
    for _ in range(500):
        steps = rng.choice([60, 120, 180, 300], size=int(rng.integers(1, 40)),
                           p=rng.dirichlet(np.ones(4))).astype(np.int64)  # fmt: skip
        values, counts = np.unique(steps, return_counts=True)
        for expected in (0, 60, 120, 300, 900):
            assert _modal_step(steps, expected) == int(values[np.argmax(counts)])
