"""Rebuild the small Freqtrade-format excerpts in this folder from Freqtrade's sample data.

    .venv/bin/python tests/data/files/make_excerpts.py /path/to/freqtrade/tests/testdata

The files are the first rows of Freqtrade's own test data (ETH_BTC-5m.feather,
UNITTEST_BTC-1m.json, XRP_ETH-trades.json.gz and the 1m candles Freqtrade built from those
trades), written back in the same formats: feather as pandas writes it (date as
timestamp[ns, UTC], float64 OHLCV), json as a list of [ms, open, high, low, close, volume],
trades as gzipped [timestamp_ms, id, type, side, price, amount, cost] rows.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ETH_ROWS = 600  # two days and two hours of 5m candles
UNITTEST_ROWS = 300  # five hours of 1m candles, with gaps
TRADES_CUT_MS = 1_570_755_600_000  # 2019-10-11T01:00Z: one hour of XRP/ETH trades


def main(source: Path) -> None:
    eth = pd.read_feather(source / "ETH_BTC-5m.feather").iloc[:ETH_ROWS]
    eth.reset_index(drop=True).to_feather(HERE / "ETH_BTC-5m.feather")

    rows = json.loads((source / "UNITTEST_BTC-1m.json").read_text())[:UNITTEST_ROWS]
    (HERE / "UNITTEST_BTC-1m.json").write_text(json.dumps(rows))

    with gzip.open(source / "XRP_ETH-trades.json.gz", "rt") as fh:
        trades = [t for t in json.load(fh) if t[0] < TRADES_CUT_MS]
    with gzip.open(HERE / "XRP_ETH-trades.json.gz", "wt") as fh:
        json.dump(trades, fh)
    candles = pd.read_feather(source / "XRP_ETH-1m.feather")
    cut = pd.Timestamp(TRADES_CUT_MS, unit="ms", tz="UTC")
    candles[candles["date"] < cut].reset_index(drop=True).to_feather(HERE / "XRP_ETH-1m.feather")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
