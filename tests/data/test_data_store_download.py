"""The Parquet store and the ccxt downloader against a loopback fake Binance."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ccxt
import numpy as np
import pandas as pd
import pytest

from tui_trader.core.clock import FrozenClock
from tui_trader.core.errors import DataError
from tui_trader.data.download import download_ohlcv, make_exchange
from tui_trader.data.store import CandleStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared fakes
from fakes.binance_rest import FakeBinance

T0 = datetime(2024, 1, 1, tzinfo=UTC)
MS0 = int(T0.timestamp() * 1000)
MIN = 60_000


def candles(n: int, start: datetime = T0, close0: float = 100.0) -> pd.DataFrame:
    dates = pd.date_range(start, periods=n, freq="1min", tz="UTC").as_unit("ns")
    close = close0 + np.arange(n, dtype="float64")
    return pd.DataFrame(
        {
            "date": dates,
            "open": close,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "volume": 2.0,
        }
    )


def klines(first: int, last: int, close0: float = 100.0) -> list[list[float]]:
    """Bars first..last inclusive (minutes after T0), close = close0 + minute."""
    return [
        [MS0 + i * MIN, close0 + i, close0 + i + 1, close0 + i - 1, close0 + i, 3.0]
        for i in range(first, last + 1)
    ]


# -- store ----------------------------------------------------------------------------------


def test_store_save_load_merge_and_list(tmp_path: Path) -> None:
    store = CandleStore(tmp_path)
    info = store.save("Binance", "btc/usdt", "1m", candles(10))
    assert info.path == tmp_path / "binance" / "BTC_USDT-1m.parquet" and info.rows == 10
    overlap = candles(5, start=T0 + timedelta(minutes=8), close0=500.0)  # minutes 8..12
    info = store.save("binance", "BTC/USDT", "1m", overlap)
    assert info.rows == 13 and info.end == T0 + timedelta(minutes=12)
    df = store.load("binance", "BTC/USDT", "1m")
    assert df["date"].is_monotonic_increasing and df["date"].is_unique
    assert df.loc[8, "close"] == 500.0  # the newer rows win
    assert str(df["date"].dtype) == "datetime64[ns, UTC]" and isinstance(df.index, pd.RangeIndex)
    part = store.load(
        "binance", "BTC/USDT", "1m", start=T0 + timedelta(minutes=2), end="2024-01-01T00:05Z"
    )
    assert list(part["date"].dt.minute) == [2, 3, 4]
    assert store.last_timestamp("binance", "BTC/USDT", "1m") == T0 + timedelta(minutes=12)
    assert store.last_timestamp("binance", "ETH/USDT", "1m") is None
    store.save(
        "import",
        "BTC/USDT:USDT",
        "1h",
        candles(3).assign(date=lambda d: d["date"] + pd.Timedelta("1D")),
    )
    listed = store.list()
    assert [(i.venue, i.symbol, i.timeframe, i.rows) for i in listed] == [
        ("binance", "BTC/USDT", "1m", 13),
        ("import", "BTC/USDT:USDT", "1h", 3),
    ]
    assert listed[0].start == T0
    with pytest.raises(DataError, match="no stored candles"):
        store.load("kraken", "BTC/USDT", "1m")
    with pytest.raises(DataError):
        store.path_for("../etc", "BTC/USDT", "1m")


# -- download -------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    server = FakeBinance(symbols=["BTC/USDT", "ETH/USDT"])
    server.start()
    yield server
    server.stop()


def exchange_for(fake: FakeBinance) -> ccxt.Exchange:
    exchange = make_exchange("binance", {"options": FakeBinance.ccxt_options()})
    assert exchange.enableRateLimit
    return fake.patch(exchange)


def test_download_paginates_skips_forming_candle_and_resumes(
    fake: FakeBinance, tmp_path: Path
) -> None:
    store = CandleStore(tmp_path)
    fake.set_klines("BTC/USDT", "1m", klines(0, 25))  # bar 25 is still forming at 00:25:30
    clock = FrozenClock(T0 + timedelta(minutes=25, seconds=30))
    result = download_ohlcv(
        store,
        "binance",
        "BTC/USDT",
        "1m",
        T0,
        exchange=exchange_for(fake),
        clock=clock,
        limit=10,
        progress=False,
    )
    starts = [int(q["startTime"]) for q in fake.klines_requests()]
    assert starts == [MS0, MS0 + 10 * MIN, MS0 + 20 * MIN]  # three pages of at most 10
    assert all(q["limit"] == "10" for q in fake.klines_requests())
    assert (result.new_rows, result.requests, result.stored_rows) == (25, 3, 25)
    df = store.load("binance", "BTC/USDT", "1m")
    assert df["date"].iloc[-1] == pd.Timestamp(T0 + timedelta(minutes=24))  # not the forming bar 25
    assert df["close"].tolist() == [100.0 + i for i in range(25)]

    # later: bar 25 closed with a different price, bars up to 40 exist, 40 is forming
    fake.add_klines("BTC/USDT", "1m", klines(25, 40, close0=1000.0))
    fake.requests.clear()
    clock.set(T0 + timedelta(minutes=40, seconds=10))
    result = download_ohlcv(
        store,
        "binance",
        "BTC/USDT",
        "1m",
        T0,
        exchange=exchange_for(fake),
        clock=clock,
        limit=10,
        progress=False,
    )
    starts = [int(q["startTime"]) for q in fake.klines_requests()]
    assert starts == [MS0 + 25 * MIN, MS0 + 35 * MIN]  # only new bars are asked for
    assert result.new_rows == 15 and result.stored_rows == 40
    df = store.load("binance", "BTC/USDT", "1m")
    assert len(df) == 40 and df["date"].is_unique
    assert df["close"].iloc[25] == 1025.0  # the closed value of bar 25, never the forming one

    # nothing new: no candle requests at all
    fake.requests.clear()
    result = download_ohlcv(
        store,
        "binance",
        "BTC/USDT",
        "1m",
        T0,
        exchange=exchange_for(fake),
        clock=clock,
        limit=10,
        progress=False,
    )
    assert result.new_rows == 0 and fake.klines_requests() == []


def test_download_until_and_retries_with_backoff(fake: FakeBinance, tmp_path: Path) -> None:
    store = CandleStore(tmp_path)
    fake.set_klines("ETH/USDT", "1m", klines(0, 30))
    exchange = exchange_for(fake)
    exchange.load_markets()
    fake.fail_next(1, status=429)  # rate limited
    fake.fail_next(1, status=503)  # then unavailable
    waits: list[float] = []
    later = FrozenClock(T0 + timedelta(hours=1))
    until = T0 + timedelta(minutes=15)
    result = download_ohlcv(
        store, "binance", "ETH/USDT", "1m", T0, until, exchange=exchange, clock=later,
        limit=10, progress=False, backoff=0.5, sleep=waits.append,
    )  # fmt: skip
    assert waits == [0.5, 1.0]
    assert result.retries == 2 and result.new_rows == 15
    assert store.last_timestamp("binance", "ETH/USDT", "1m") == T0 + timedelta(minutes=14)

    fake.fail_next(10, status=503)
    with pytest.raises(DataError, match="after 3 retries"):
        download_ohlcv(
            store, "binance", "ETH/USDT", "1m", T0, exchange=exchange, clock=later,
            progress=False, max_retries=3, sleep=lambda s: None,
        )  # fmt: skip
    assert store.last_timestamp("binance", "ETH/USDT", "1m") == T0 + timedelta(minutes=14)


def test_download_rejects_unknown_market_and_timeframe(fake: FakeBinance, tmp_path: Path) -> None:
    store = CandleStore(tmp_path)
    clock = FrozenClock(T0 + timedelta(hours=1))
    with pytest.raises(DataError, match=r"no market 'BTC/EUR'.*BTC/USDT"):
        download_ohlcv(
            store,
            "binance",
            "BTC/EUR",
            "1m",
            T0,
            exchange=exchange_for(fake),
            clock=clock,
            progress=False,
        )
    with pytest.raises(DataError, match="no 7m candles"):
        download_ohlcv(
            store,
            "binance",
            "BTC/USDT",
            "7m",
            T0,
            exchange=exchange_for(fake),
            clock=clock,
            progress=False,
        )
    with pytest.raises(DataError, match="unknown venue"):
        make_exchange("no-such-exchange")
