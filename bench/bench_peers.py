"""tui_trader beside backtesting.py and vectorbt: one year of 1-minute candles, one EMA 12/26 cross.

    .venv/bin/python bench/bench_peers.py [--cache DIR] [--rows N]

Each peer runs in its own virtual environment, which this script creates and fills from PyPI
on first use (under ~/.cache/tui_trader/bench-peers; the peers are not project dependencies).
All three get the same Parquet file and the same rules, written the way each library is meant
to be used:

- EMA 12 and 26 of the close, `ewm(span, adjust=False)` (the same function in all three);
- long when the fast EMA crosses above the slow one (below before, above now), flat when it
  crosses back; signals on a bar's close are executed at the next bar's open; no fees;
- one position at a time, all in.

Printed per library: the whole command (interpreter start, imports, reading the file, the
backtest, the report) in wall seconds, the backtest alone in process (cold: first call, with
any JIT; warm: a second call), the process's peak RSS, and the trade list compared with
tui_trader's (same entry and exit bars). The machine's load is printed too: compare ratios,
not seconds, on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_backtest import CLI_CHILD, MINUTES_PER_YEAR, candles

PEERS = {
    "backtesting.py": ["backtesting==0.6.6", "pandas", "pyarrow"],
    "vectorbt": ["vectorbt==0.28.5", "plotly<6", "pyarrow"],  # vectorbt 0.28 needs plotly 5
}

STRATEGY = '''
from pandas import DataFrame

from tui_trader.strategy import IStrategy


class BenchEma1226(IStrategy):
    """EMA 12/26 cross, no ROI and no stop: only the crosses decide."""

    name = "bench_ema_12_26"
    timeframe = "1m"
    startup_candle_count = 0
    minimal_roi = {"0": 1000.0}
    stoploss = -0.999

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        close = dataframe["close"]
        dataframe["fast"] = close.ewm(span=12, adjust=False).mean()
        dataframe["slow"] = close.ewm(span=26, adjust=False).mean()
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        f, s = dataframe["fast"], dataframe["slow"]
        dataframe.loc[(f > s) & (f.shift(1) < s.shift(1)), "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        f, s = dataframe["fast"], dataframe["slow"]
        dataframe.loc[(f < s) & (f.shift(1) > s.shift(1)), "exit_long"] = 1
        return dataframe
'''

# Each peer script: argv[1] = the Parquet file; prints one JSON line:
# {"cold": s, "warm": s, "trades": [[entry_iso, exit_iso], ...], "peak_rss_mb": MB}
BACKTESTING_PY = r'''
import json, sys, time
import pandas as pd
from backtesting import Backtest, Strategy


def ema(values, span):
    return pd.Series(values).ewm(span=span, adjust=False).mean().to_numpy()


class EmaCross(Strategy):
    def init(self):
        self.fast = self.I(ema, self.data.Close, 12)
        self.slow = self.I(ema, self.data.Close, 26)

    def next(self):
        f0, f1, s0, s1 = self.fast[-2], self.fast[-1], self.slow[-2], self.slow[-1]
        if f0 < s0 and f1 > s1:
            if not self.position:
                self.buy()
        elif f0 > s0 and f1 < s1:
            self.position.close()


df = pd.read_parquet(sys.argv[1])
data = df.set_index("date").rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
runs = []
for _ in range(2):
    t0 = time.perf_counter()
    # Whole units only in backtesting.py: enough cash that "all in" buys thousands of units.
    stats = Backtest(data, EmaCross, cash=1e9, commission=0.0, finalize_trades=False).run()
    runs.append(time.perf_counter() - t0)
trades = stats["_trades"]
pairs = [[a.isoformat(), b.isoformat()] for a, b in zip(trades["EntryTime"], trades["ExitTime"])]
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"cold": runs[0], "warm": runs[1], "trades": pairs, "peak_rss_mb": int(hwm.split()[1]) / 1024}))
'''

VECTORBT = r'''
import json, sys, time
import pandas as pd
import vectorbt as vbt

df = pd.read_parquet(sys.argv[1]).set_index("date")
runs = []
for _ in range(2):
    t0 = time.perf_counter()
    close = df["close"]
    fast = close.ewm(span=12, adjust=False).mean()
    slow = close.ewm(span=26, adjust=False).mean()
    up = (fast > slow) & (fast.shift(1) < slow.shift(1))
    down = (fast < slow) & (fast.shift(1) > slow.shift(1))
    # a signal on a bar's close is executed at the next bar's open
    pf = vbt.Portfolio.from_signals(
        close, up.shift(1, fill_value=False), down.shift(1, fill_value=False),
        price=df["open"], init_cash=10_000.0, fees=0.0, freq="1min",
    )
    count = pf.trades.closed.count()
    runs.append(time.perf_counter() - t0)
closed = pf.trades.closed.records_readable  # for the comparison only, outside the timing
pairs = [[a.isoformat(), b.isoformat()] for a, b in zip(closed["Entry Timestamp"], closed["Exit Timestamp"])]
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"cold": runs[0], "warm": runs[1], "trades": pairs, "peak_rss_mb": int(hwm.split()[1]) / 1024}))
'''

TUI_TRADER_IN_PROCESS = r'''
import json, sys, time
from tui_trader.backtest import run_backtest
from tui_trader.data import load_ohlcv
from tui_trader.strategy.loader import load_strategy

strategy = load_strategy("bench_ema_12_26", [sys.argv[2]])
df = load_ohlcv(sys.argv[1], timeframe="1m", symbol="BTC/USDT")
runs = []
for _ in range(2):
    t0 = time.perf_counter()
    result = run_backtest(strategy, {"BTC/USDT": df}, timeframe="1m", fee=0.0)
    runs.append(time.perf_counter() - t0)
t = result.trades
t = t[t["exit_reason"] != "force_exit"]  # the others leave the last trade open
pairs = [[a.isoformat(), b.isoformat()] for a, b in zip(t["entry_time"], t["exit_time"])]
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"cold": runs[0], "warm": runs[1], "trades": pairs, "peak_rss_mb": int(hwm.split()[1]) / 1024}))
'''


def peer_python(cache: Path, name: str) -> Path:
    """The peer's own interpreter, its virtual environment created and filled on first use."""
    env = cache / name.replace(".", "_")
    python = env / "bin" / "python"
    stamp = env / ".installed"
    if not stamp.exists():
        print(f"installing {name} into {env} (first run only) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS[name]], check=True)
        stamp.write_text("ok\n")
    return python


def run_script(python: Path, script: str, *args: str, env: dict[str, str] | None = None) -> tuple[float, dict]:
    t0 = time.perf_counter()
    proc = subprocess.run([str(python), "-c", script, *args], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{python} failed:\n{proc.stderr[-3000:]}")
    return wall, json.loads(proc.stdout.strip().splitlines()[-1])


def same(ours: list[list[str]], theirs: list[list[str]]) -> str:
    a = {tuple(_minute(x) for x in pair) for pair in ours}
    b = {tuple(_minute(x) for x in pair) for pair in theirs}
    return f"{len(a & b):,} of {len(b):,} identical to tui_trader's"


def _minute(iso: str) -> str:
    return iso.replace("+00:00", "")[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "tui_trader" / "bench-peers")
    parser.add_argument("--rows", type=int, default=MINUTES_PER_YEAR)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    pythons = {name: peer_python(args.cache, name) for name in PEERS}

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = root / "BTC_USDT-1m.parquet"
        candles(args.rows, "1min", 7).to_parquet(data)
        strategies = root / "home" / "strategies"
        strategies.mkdir(parents=True)
        (strategies / "bench_ema_12_26.py").write_text(STRATEGY)
        env = {**os.environ, "TUI_TRADER_HOME": str(root / "home")}

        cli_args = ["backtest", "--strategy", "bench_ema_12_26", "--data", str(data), "--timeframe", "1m",
                    "--fee", "0", "--json"]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CLI_CHILD, *cli_args], env=env, capture_output=True, text=True)
        cli_wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-3000:])
        cli_rss = int(proc.stderr.split("peak_rss_kb")[1].split()[0]) / 1024
        _, ours = run_script(Path(sys.executable), TUI_TRADER_IN_PROCESS, str(data), str(strategies), env=env)

        print(f"{args.rows:,} 1m candles, EMA 12/26 cross, load {os.getloadavg()[0]:.2f} "
              f"on {os.cpu_count()} cores")  # fmt: skip
        header = f"{'':16} {'command':>9} {'in process cold':>16} {'warm':>8} {'peak RSS':>9}  trades"
        print(header)
        print(f"{'tui_trader':16} {cli_wall:8.2f}s {ours['cold']:15.3f}s {ours['warm']:7.3f}s "
              f"{cli_rss:7.0f}MB  {len(ours['trades']):,} closed")  # fmt: skip
        rows = [("tui_trader", cli_wall, ours)]
        for name, script in (("backtesting.py", BACKTESTING_PY), ("vectorbt", VECTORBT)):
            wall, res = run_script(pythons[name], script, str(data))
            rows.append((name, wall, res))
            print(f"{name:16} {wall:8.2f}s {res['cold']:15.3f}s {res['warm']:7.3f}s "
                  f"{res['peak_rss_mb']:7.0f}MB  {len(res['trades']):,} closed, "
                  f"{same(ours['trades'], res['trades'])}")  # fmt: skip
        print("ratios (peer / tui_trader): " + "; ".join(
            f"{name}: command {wall / cli_wall:.1f}x, warm {res['warm'] / ours['warm']:.1f}x"
            for name, wall, res in rows[1:]
        ))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
