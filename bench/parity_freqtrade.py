"""Freqtrade parity: the same strategy on the same candles, in Freqtrade and in tui_trader.

    .venv/bin/python bench/parity_freqtrade.py                 # compare, print the tables
    .venv/bin/python bench/parity_freqtrade.py --fixtures      # also rewrite the test fixtures

Creates its own virtual environment with Freqtrade (FREQTRADE_VERSION, from PyPI) under
~/.cache/tui-trader/parity (not a project dependency), then for every case runs
`Backtesting` of that Freqtrade (bench/parity/ft_backtest.py: Freqtrade's own code, given the
market list it cannot download here) and `tui_trader.backtest.run_backtest` with the same
settings: fee 0.1 %, stake "unlimited", tradable_balance_ratio 0.99, 1000 quote in the
wallet, amounts in steps of 1e-8. It prints each case's trades side by side where they differ, and one line per case:
trades in each, identical trades (same pair, entry and exit candle, exit reason, prices within
1e-8 relative), total P&L of each and the difference.

Cases: Freqtrade's own SampleStrategy (the file its package ships, loaded by its imports alone)
and variants of it (ROI table, stoploss, trailing stops, custom_stoploss), on Freqtrade's
sample data ETH/BTC and LTC/BTC 5m (read from FREQTRADE_SAMPLE_DATA, default
../shared/data/freqtrade beside the repository); data kept aside: XRP/ETH 1m and a seeded
random walk written by tui_trader; and the strategies of tests/backtest/parity (hooks, DCA) on
the data shipped with the tests. `--fixtures` stores Freqtrade's trades of the latter beside
them, for the test suite to compare against without Freqtrade.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FREQTRADE_VERSION = "2026.9"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tui-trader" / "parity"
VENV = CACHE / f"ft-{FREQTRADE_VERSION}"
SAMPLES = Path(os.environ.get("FREQTRADE_SAMPLE_DATA") or REPO.parent / "shared" / "data" / "freqtrade")
FIXTURES = REPO / "tests" / "backtest" / "parity"
WALLET = 1000.0
FEE = 0.001
REL = 1e-8
AMOUNT_STEP = 1e-8  # the amount step bench/parity/ft_backtest.py gives Freqtrade's markets

SAMPLE_VARIANTS = '''

class SampleRoiSteps(SampleStrategy):
    minimal_roi = {"0": 0.015, "10": 0.01, "25": 0.005, "40": 0.0}
    stoploss = -0.03


class SampleTightStop(SampleStrategy):
    minimal_roi = {"0": 0.05}
    stoploss = -0.01


class SampleTrailing(SampleStrategy):
    minimal_roi = {"0": 0.08}
    stoploss = -0.03
    trailing_stop = True


class SampleTrailingOffset(SampleStrategy):
    minimal_roi = {"0": 0.08}
    stoploss = -0.04
    trailing_stop = True
    trailing_stop_positive = 0.005
    trailing_stop_positive_offset = 0.01


class SampleTrailingOnlyOffset(SampleTrailingOffset):
    trailing_only_offset_is_reached = True


class SampleCustomStop(SampleStrategy):
    minimal_roi = {"0": 0.06}
    stoploss = -0.05
    use_custom_stoploss = True

    def custom_stoploss(self, pair, trade, current_time, current_rate, current_profit,
                        after_fill, **kwargs):
        if current_profit > 0.02:
            return stoploss_from_open(0.005, current_profit, is_short=trade.is_short)
        if current_profit > 0.01:
            return stoploss_from_open(0.0, current_profit, is_short=trade.is_short)
        return None
'''
SAMPLE_CLASSES = ("SampleStrategy", "SampleRoiSteps", "SampleTightStop", "SampleTrailing",
                  "SampleTrailingOffset", "SampleTrailingOnlyOffset", "SampleCustomStop")  # fmt: skip
TEST_CLASSES = ("RsiBands", "RsiBandsSignals", "RsiBandsRoiSteps", "RsiBandsTightStop",
                "RsiBandsTrailing", "RsiBandsTrailingOffset", "RsiBandsTrailingOnlyOffset",
                "RsiBandsCustomStop", "RsiBandsHooks", "RsiBandsDca", "RsiBandsGuarded")  # fmt: skip


@dataclass
class Case:
    name: str
    strategy_file: Path
    strategy: str
    data: dict[str, Path]  # pair -> candle file
    timeframe: str = "5m"
    max_open_trades: int = 1
    timerange: str | None = None
    fixture: bool = False
    protections: bool = False
    detail: dict[str, Path] = field(default_factory=dict)  # pair -> finer candles
    detail_timeframe: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# ---- Freqtrade's side --------------------------------------------------------------------------
def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not (VENV / "bin" / "freqtrade").exists():
        print(f"creating {VENV} with freqtrade=={FREQTRADE_VERSION} (a few minutes, once)")
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"freqtrade=={FREQTRADE_VERSION}"],
                       check=True)  # fmt: skip
    return python


def sample_strategy_file(python: Path) -> Path:
    """Freqtrade's own sample strategy, as its package ships it."""
    out = subprocess.run(
        [str(python), "-c", "import freqtrade, pathlib; "
         "print(pathlib.Path(freqtrade.__file__).parent / 'templates' / 'sample_strategy.py')"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return Path(out.stdout.strip())


def run_freqtrade(python: Path, case: Case, work: Path) -> dict[str, Any]:
    datadir = work / "data"
    datadir.mkdir(parents=True)
    for pair, path in case.data.items():
        suffix = "".join(path.suffixes)
        shutil.copy(path, datadir / f"{pair.replace('/', '_')}-{case.timeframe}{suffix}")
    for pair, path in case.detail.items():
        shutil.copy(path, datadir / f"{pair.replace('/', '_')}-{case.detail_timeframe}{path.suffix}")
    strategies = work / "strategies"
    strategies.mkdir()
    shutil.copy(case.strategy_file, strategies / case.strategy_file.name)
    quote = next(iter(case.data)).split("/")[1]
    spec = {
        "workdir": str(work),
        "strategy": case.strategy,
        "strategy_path": str(strategies),
        "datadir": str(datadir),
        "timerange": case.timerange,
        "enable_protections": case.protections,
        "timeframe_detail": case.detail_timeframe,
        "config": {
            "max_open_trades": case.max_open_trades, "stake_currency": quote,
            "stake_amount": "unlimited", "tradable_balance_ratio": 0.99, "dry_run": True,
            "dry_run_wallet": WALLET, "timeframe": case.timeframe, "fee": FEE,
            "dataformat_ohlcv": "feather" if next(iter(case.data.values())).suffix == ".feather" else "json",
            "exchange": {"name": "binance", "key": "", "secret": "",
                         "pair_whitelist": list(case.data), "pair_blacklist": []},
            "entry_pricing": {"price_side": "same", "use_order_book": False, "order_book_top": 1,
                              "price_last_balance": 0.0,
                              "check_depth_of_market": {"enabled": False, "bids_to_ask_delta": 1}},
            "exit_pricing": {"price_side": "same", "use_order_book": False, "order_book_top": 1},
            "pairlists": [{"method": "StaticPairList"}], "bot_name": "parity",
            "initial_state": "running", "internals": {},
            **case.extra,
        },
    }  # fmt: skip
    (work / "user_data").mkdir()
    (work / "case.json").write_text(json.dumps(spec))
    out = work / "out.json"
    proc = subprocess.run(
        [str(python), str(REPO / "bench" / "parity" / "ft_backtest.py"), str(work / "case.json"), str(out)],
        capture_output=True, text=True, cwd=work,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"freqtrade failed on {case.name}:\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


# ---- our side ------------------------------------------------------------------------------------
def run_ours(case: Case) -> dict[str, Any]:
    from tui_trader.backtest import run_backtest
    from tui_trader.data import load_ohlcv
    from tui_trader.strategy.loader import load_file

    classes = {c.__name__: c for c in load_file(case.strategy_file)}
    strategy = classes[case.strategy]({"stake_currency": next(iter(case.data)).split("/")[1]})
    start = end = None
    if case.timerange:
        a, _, b = case.timerange.partition("-")
        start, end = (a or None), (b or None)
    frames = {pair: load_ohlcv(path, timeframe=case.timeframe) for pair, path in case.data.items()}
    detail = {pair: load_ohlcv(path, timeframe=case.detail_timeframe) for pair, path in case.detail.items()}
    res = run_backtest(
        strategy, frames, timeframe=case.timeframe, capital=WALLET, fee=FEE,
        stake_amount="unlimited", tradable_balance_ratio=0.99,
        max_open_trades=case.max_open_trades, start=start, end=end, protections=[],
        amount_step=AMOUNT_STEP, enable_protections=case.protections,
        detail=detail or None, detail_timeframe=case.detail_timeframe, fill_gaps=True,
    )  # fmt: skip
    return {"trades": [
        {"pair": t.symbol, "open_date": t.entry_time.isoformat(), "close_date": t.exit_time.isoformat(),
         "open_rate": t.entry_price, "close_rate": t.exit_price, "profit_abs": t.pnl,
         "exit_reason": t.exit_reason, "enter_tag": t.enter_tag}
        for t in res.trades.itertuples()
    ], "profit_total_abs": float(res.trades.pnl.sum())}  # fmt: skip


# ---- comparison ----------------------------------------------------------------------------------
def _close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(abs(a), abs(b))


def _key(t: dict[str, Any]) -> tuple[str, str]:
    import pandas as pd

    return t["pair"], pd.Timestamp(t["open_date"]).isoformat()


def compare(ft: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    theirs = {_key(t): t for t in ft["trades"]}
    mine = {_key(t): t for t in ours["trades"]}
    if len(mine) != len(ours["trades"]) or len(theirs) != len(ft["trades"]):
        raise AssertionError("two trades of one pair opened at one time")
    same = 0
    diffs = []
    for key in sorted(set(theirs) | set(mine)):
        a, b = theirs.get(key), mine.get(key)
        if a and b and (
            pd.Timestamp(a["close_date"]) == pd.Timestamp(b["close_date"])
            and a["exit_reason"] == b["exit_reason"]
            and _close(a["open_rate"], b["open_rate"])
            and _close(a["close_rate"], b["close_rate"])
        ):
            same += 1
        else:
            diffs.append((key, a, b))
    p_ft, p_us = ft["profit_total_abs"], ours["profit_total_abs"]
    return {
        "ft": len(theirs), "ours": len(mine), "same": same, "diffs": diffs,
        "p_ft": p_ft, "p_us": p_us,
        "p_diff": abs(p_ft - p_us) / abs(p_ft) if p_ft else abs(p_us),
    }  # fmt: skip


def _row(t: dict[str, Any] | None) -> str:
    if t is None:
        return "-"
    return (f"{t['close_date'][:16]} {t['exit_reason']:<18} {t['open_rate']:.8f} -> "
            f"{t['close_rate']:.8f} {t['profit_abs']:+.6f}")  # fmt: skip


def random_walk(path: Path, rows: int, seed: int, decimals: int, start: float, freq: str = "5min") -> Path:
    """A seeded random walk with candles on a `decimals` tick, as Freqtrade feather."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(0, 0.004, rows)))
    open_ = np.concatenate([[start], close[:-1]]) * np.exp(rng.normal(0, 0.0005, rows))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.003, rows)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.003, rows)))
    frame = pd.DataFrame({
        "date": pd.date_range("2024-03-01", periods=rows, freq=freq, tz="UTC"),
        "open": open_.round(decimals), "high": high.round(decimals), "low": low.round(decimals),
        "close": close.round(decimals), "volume": rng.integers(1, 1000, rows).astype(float),
    })  # fmt: skip
    frame["high"] = frame[["open", "high", "close"]].max(axis=1)
    frame["low"] = frame[["open", "low", "close"]].min(axis=1)
    frame.to_feather(path, compression="zstd")
    return path


def _resample(src: Path, dst: Path, timeframe: str) -> None:
    from tui_trader.data import load_ohlcv
    from tui_trader.strategy.informative import resample_ohlcv

    resample_ohlcv(load_ohlcv(src), timeframe).to_feather(dst, compression="zstd")


def cases(python: Path, scratch: Path) -> list[Case]:
    sample = scratch / "sample_strategy.py"
    sample.write_text(sample_strategy_file(python).read_text() + SAMPLE_VARIANTS)
    out: list[Case] = []
    full = {p: SAMPLES / f"{p.replace('/', '_')}-5m.feather" for p in ("ETH/BTC", "LTC/BTC")}
    walk = random_walk(scratch / "WALK_USDT-5m.feather", 20_000, 11, 2, 100.0)
    sets: dict[str, dict[str, Path]] = {
        "ETH/BTC 5m": {"ETH/BTC": full["ETH/BTC"]},
        "LTC/BTC 5m": {"LTC/BTC": full["LTC/BTC"]},
        "WALK/USDT 5m (kept aside)": {"WALK/USDT": walk},
    }
    if not all(p.exists() for p in full.values()):
        print(f"Freqtrade's sample data is not at {SAMPLES}: only the kept-aside set runs")
        sets = {k: v for k, v in sets.items() if "WALK" in k}
    for label, data in sets.items():
        for cls in SAMPLE_CLASSES:
            out.append(Case(f"{cls} {label}", sample, cls, data))
    fine = random_walk(scratch / "FINE_USDT-1m.feather", 50_000, 5, 2, 100.0, "1min")
    coarse = scratch / "FINE_USDT-5m.feather"
    _resample(fine, coarse, "5m")
    for cls in ("SampleStrategy", "SampleTrailingOffset"):
        out.append(Case(f"{cls} FINE/USDT 5m --timeframe-detail 1m (kept aside)", sample, cls,
                        {"FINE/USDT": coarse}, detail={"FINE/USDT": fine}, detail_timeframe="1m"))  # fmt: skip
    if all(p.exists() for p in full.values()):
        out.append(Case("SampleStrategy ETH+LTC, 2 slots", sample, "SampleStrategy", full, max_open_trades=2))
        xrp = SAMPLES / "XRP_ETH-1m.feather"
        if xrp.exists():
            out.append(Case("SampleStrategy XRP/ETH 1m (kept aside)", sample, "SampleStrategy",
                            {"XRP/ETH": xrp}, timeframe="1m"))  # fmt: skip
        out.append(Case("SampleStrategy ETH/BTC --timerange 20180115-20180120", sample,
                        "SampleStrategy", {"ETH/BTC": full["ETH/BTC"]}, timerange="20180115-20180120"))  # fmt: skip
    tests = FIXTURES / "parity_strategies.py"
    fine_1m, fine_5m = FIXTURES / "FINE_USDT-1m.feather", FIXTURES / "FINE_USDT-5m.feather"
    if fine_1m.exists() and fine_5m.exists():
        for cls in ("RsiBandsBusy", "RsiBandsTrailingOnlyOffset"):
            out.append(Case(f"{cls} FINE_USDT-5m + 1m detail", tests, cls, {"FINE/USDT": fine_5m},
                            fixture=True, detail={"FINE/USDT": fine_1m}, detail_timeframe="1m"))  # fmt: skip
    for data_name in ("ETH_BTC-5m.feather", "WALK_USDT-5m.feather"):
        data = FIXTURES / data_name
        if data.exists():
            pair = data_name.split("-")[0].replace("_", "/")
            for cls in TEST_CLASSES:
                out.append(Case(f"{cls} {data_name}", tests, cls, {pair: data}, fixture=True,
                                protections=cls == "RsiBandsGuarded"))  # fmt: skip
    return out


def compare_qtpylib(python: Path, scratch: Path) -> None:
    """Every qtpylib function: Freqtrade's (technical's) result against ours."""
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(REPO / "bench" / "parity"))
    from parity_qtpylib_calls import CALLS

    from tui_trader.indicators import qtpylib

    data = FIXTURES / "ETH_BTC-5m.feather"
    out = scratch / "qtpylib.npz"
    subprocess.run([str(python), str(REPO / "bench" / "parity" / "ft_qtpylib.py"), str(data), str(out)],
                   check=True)  # fmt: skip
    theirs = np.load(out)
    df = pd.read_feather(data)
    same, differ = 0, []
    for name, call in CALLS.items():
        want = theirs[name]
        try:
            got = np.asarray(call(qtpylib, df), dtype=float)
        except Exception as exc:
            got = np.array([f"raised {type(exc).__name__}"])
        if want.dtype.kind in "US" or got.dtype.kind in "US":
            ok = want.dtype.kind in "US" and got.dtype.kind in "US"  # both refuse
        else:
            ok = want.shape == got.shape and np.allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True)
        same += ok
        if not ok:
            differ.append(name)
    print(f"qtpylib: {same} of {len(CALLS)} calls equal to technical's qtpylib (1e-9 relative)"
          + (f"; differ: {', '.join(differ)}" if differ else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", action="store_true", help="rewrite tests/backtest/parity/*.json")
    parser.add_argument("--only", help="run the cases whose name contains this")
    parser.add_argument("--verbose", action="store_true", help="print every differing trade")
    args = parser.parse_args()
    python = ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        if not args.only:
            compare_qtpylib(python, scratch)
        rows = []
        for i, case in enumerate(cases(python, scratch)):
            if args.only and args.only not in case.name:
                continue
            t0 = time.perf_counter()
            ft = run_freqtrade(python, case, scratch / f"case{i}")
            t_ft = time.perf_counter() - t0
            t0 = time.perf_counter()
            ours = run_ours(case)
            t_us = time.perf_counter() - t0
            c = compare(ft, ours)
            rows.append((case.name, c, t_ft, t_us))
            print(f"{case.name:<55} trades {c['ft']:>4} / {c['ours']:>4}  identical {c['same']:>4}  "
                  f"P&L {c['p_ft']:+12.6f} / {c['p_us']:+12.6f}  diff {c['p_diff'] * 100:.4f} %  "
                  f"({t_ft:.1f} s / {t_us:.2f} s)", flush=True)  # fmt: skip
            if c["diffs"] and (args.verbose or len(c["diffs"]) <= 6):
                for key, a, b in c["diffs"]:
                    print(f"    {key[0]} {key[1][:16]}  freqtrade: {_row(a)}\n{'':>27}ours:      {_row(b)}")
            if args.fixtures and case.fixture:
                stem = Path(next(iter(case.data.values()))).stem
                name = f"{case.strategy}-{stem}{'-detail' + case.detail_timeframe if case.detail else ''}.json"
                doc = {"freqtrade": FREQTRADE_VERSION, "strategy": case.strategy,
                       "data": {p: v.name for p, v in case.data.items()}, "timeframe": case.timeframe,
                       "fee": FEE, "wallet": WALLET, "stake_amount": "unlimited",
                       "tradable_balance_ratio": 0.99, "max_open_trades": case.max_open_trades,
                       "amount_step": AMOUNT_STEP, "enable_protections": case.protections,
                       "detail": {p: v.name for p, v in case.detail.items()},
                       "detail_timeframe": case.detail_timeframe,
                       **ft}  # fmt: skip
                (FIXTURES / name).write_text(json.dumps(doc, indent=1, default=str) + "\n")
        total = sum(c["ft"] for _, c, _, _ in rows)
        same = sum(c["same"] for _, c, _, _ in rows)
        worst = max((c["p_diff"] for _, c, _, _ in rows), default=0) * 100
        print(f"\n{len(rows)} cases, Freqtrade {FREQTRADE_VERSION}: {same} of {total} Freqtrade "
              f"trades identical; worst total P&L difference {worst:.4f} %")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
