"""Freqtrade parity in futures mode: Freqtrade's own futures backtest of one strategy (both sides,
3x, isolated margin, funding) on candles, mark prices and funding rates shipped with the tests.

    .venv/bin/python bench/parity_freqtrade_futures.py              # compare, print the trades
    .venv/bin/python bench/parity_freqtrade_futures.py --fixtures   # also rewrite the fixture

Uses the Freqtrade environment of bench/parity_freqtrade.py (created there once). The data: the
seeded random walk of tests/backtest/parity (4,000 x 5m, copied under Freqtrade's futures file
name) as the candles of ETH/USDT:USDT (a pair Freqtrade has Binance's leverage tiers for), its
mark price every hour (the hour's 5m open times a premium that wanders within +/-0.1 %), and a
funding rate at 00:00, 08:00 and 16:00 UTC (seeded, between -0.03 % and +0.05 %), written once
by `--write-data` into tests/backtest/parity/futures/ in Freqtrade's own file names.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from parity_freqtrade import AMOUNT_STEP, FREQTRADE_VERSION, WALLET, ensure_venv  # noqa: E402

HERE = REPO / "tests" / "backtest" / "parity" / "futures"
PAIR = "ETH/USDT:USDT"
STEM = "ETH_USDT_USDT"
STRATEGY = "RsiBandsFutures"
FEE = 0.0005  # Binance USDⓈ-M's taker fee
# Freqtrade's names for the files (in DATADIR/futures), and where they are beside the tests
FILES = {"candles": f"{STEM}-5m-futures.feather", "mark": f"{STEM}-1h-mark.feather",
         "funding": f"{STEM}-1h-funding_rate.feather"}  # fmt: skip
SOURCES = {"candles": "../WALK_USDT-5m.feather", "mark": FILES["mark"], "funding": FILES["funding"]}


def write_data() -> None:
    import numpy as np
    import pandas as pd

    walk = pd.read_feather(HERE / SOURCES["candles"])
    rng = np.random.default_rng(25)
    hours = walk[walk["date"].dt.minute == 0].reset_index(drop=True)
    premium = np.clip(np.cumsum(rng.normal(0, 0.0002, len(hours))), -0.001, 0.001)
    mark = (hours["open"] * (1 + premium)).round(4)
    pd.DataFrame({"date": hours["date"], "open": mark, "high": mark, "low": mark, "close": mark,
                  "volume": 0.0}).to_feather(HERE / FILES["mark"])  # fmt: skip
    times = hours[hours["date"].dt.hour % 8 == 0]["date"].reset_index(drop=True)
    rate = np.round(rng.uniform(-0.0003, 0.0005, len(times)), 6)
    pd.DataFrame({"date": times, "open": rate, "high": rate, "low": rate, "close": rate,
                  "volume": 0.0}).to_feather(HERE / FILES["funding"])  # fmt: skip


def run_freqtrade(python: Path, work: Path) -> dict[str, Any]:
    data = work / "data" / "futures"
    data.mkdir(parents=True)
    for key, name in FILES.items():
        shutil.copy(HERE / SOURCES[key], data / name)
    strategies = work / "strategies"
    strategies.mkdir()
    shutil.copy(HERE / "futures_strategies.py", strategies / "futures_strategies.py")
    (work / "user_data").mkdir()
    spec = {
        "workdir": str(work), "strategy": STRATEGY, "strategy_path": str(strategies),
        "datadir": str(work / "data"),
        "config": {
            "trading_mode": "futures", "margin_mode": "isolated",
            "max_open_trades": 1, "stake_currency": "USDT", "stake_amount": "unlimited",
            "tradable_balance_ratio": 0.99, "dry_run": True, "dry_run_wallet": WALLET, "timeframe": "5m",
            "fee": FEE, "dataformat_ohlcv": "feather",
            "exchange": {"name": "binance", "key": "", "secret": "", "pair_whitelist": [PAIR], "pair_blacklist": []},
            # Binance's futures tickers carry no bid/ask: Freqtrade wants order book pricing
            # configured (a backtest prices at the candles either way)
            "entry_pricing": {"price_side": "same", "use_order_book": True, "order_book_top": 1,
                              "price_last_balance": 0.0,
                              "check_depth_of_market": {"enabled": False, "bids_to_ask_delta": 1}},
            "exit_pricing": {"price_side": "same", "use_order_book": True, "order_book_top": 1},
            "pairlists": [{"method": "StaticPairList"}], "bot_name": "parity",
            "initial_state": "running", "internals": {},
        },
    }  # fmt: skip
    (work / "case.json").write_text(json.dumps(spec))
    out = work / "out.json"
    proc = subprocess.run(
        [str(python), str(REPO / "bench" / "parity" / "ft_backtest.py"), str(work / "case.json"), str(out)],
        capture_output=True, text=True, cwd=work,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"freqtrade failed:\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


def compare(doc: dict[str, Any]) -> tuple[int, float]:
    """Our futures backtest on the same files: (trades identical to Freqtrade's, our total)."""
    import math

    import pandas as pd

    from tui_trader.backtest import run_backtest
    from tui_trader.data import load_ohlcv
    from tui_trader.strategy.loader import load_file

    strategy = {c.__name__: c for c in load_file(HERE / "futures_strategies.py")}[STRATEGY]()
    candles = load_ohlcv(HERE / SOURCES["candles"], timeframe="5m")
    funding = (pd.read_feather(HERE / FILES["funding"]), pd.read_feather(HERE / FILES["mark"]))
    ours = run_backtest(
        strategy, {PAIR: candles}, timeframe="5m", capital=WALLET, fee=FEE, stake_amount="unlimited",
        tradable_balance_ratio=0.99, max_open_trades=1, amount_step=AMOUNT_STEP, protections=[],
        trading_mode="futures", funding={PAIR: funding},
    ).trades  # fmt: skip
    same = sum(
        1
        for t, ft in zip(ours.itertuples(), doc["trades"], strict=False)
        if t.side == ("short" if ft["is_short"] else "long")
        and t.entry_time == pd.Timestamp(ft["open_date"]) and t.exit_time == pd.Timestamp(ft["close_date"])
        and t.exit_reason == ft["exit_reason"]
        and math.isclose(t.entry_price, ft["open_rate"], rel_tol=1e-8)
        and math.isclose(t.exit_price, ft["close_rate"], rel_tol=1e-8)
        and math.isclose(t.pnl, ft["profit_abs"], rel_tol=1e-6, abs_tol=1e-6)
    )  # fmt: skip
    return same, float(ours.pnl.sum())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", action="store_true", help="rewrite the fixture beside the data")
    parser.add_argument("--write-data", action="store_true", help="write the mark and funding files again")
    args = parser.parse_args()
    if args.write_data or not (HERE / FILES["funding"]).exists():
        write_data()
    python = ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        ft = run_freqtrade(python, Path(tmp))
    doc = {"freqtrade": FREQTRADE_VERSION, "strategy": STRATEGY, "pair": PAIR, "data": FILES, "files": SOURCES,
           "timeframe": "5m",
           "trading_mode": "futures", "margin_mode": "isolated", "fee": FEE, "wallet": WALLET,
           "stake_amount": "unlimited", "tradable_balance_ratio": 0.99, "max_open_trades": 1,
           "amount_step": AMOUNT_STEP, **ft}  # fmt: skip
    trades = doc["trades"]
    sides = sum(1 for t in trades if t["is_short"])
    funded = sum(1 for t in trades if t.get("funding_fees"))
    print(f"Freqtrade {FREQTRADE_VERSION} futures: {len(trades)} trades ({sides} short, {funded} with funding), "
          f"profit {doc['profit_total_abs']:+.6f}")  # fmt: skip
    same, total_ours = compare(doc)
    print(f"tui_trader: {same} of {len(trades)} Freqtrade trades identical; profit {total_ours:+.6f} "
          f"(difference {abs(total_ours - doc['profit_total_abs']):.2e})")  # fmt: skip
    if args.fixtures:
        (HERE / f"{STRATEGY}-{STEM}-5m.json").write_text(json.dumps(doc, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
