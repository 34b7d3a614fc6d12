"""`tui-trader backtest --strategy ema_cross --timeframe 1m --json` on a year of 1m candles, as a
whole command, beside what no code of ours can go under (budget: < 0.5 s wall).

    .venv/bin/python bench/bench_backtest_command.py [--runs 5] [--data FILE] [--against TREE]

Each run is a new interpreter running the console script's `main()` with this checkout's
package (or `--against`'s, a checkout of another commit: the runs alternate, so both see the
same load). Printed: wall and CPU seconds (user + system of the process), peak RSS, the trade
count, and three floors: an interpreter that only imports pandas, pyarrow.parquet, TA-Lib and
orjson (what a pandas strategy's run cannot go under), and one that imports TA-Lib with pandas
hidden, NumPy, pyarrow's Parquet reader and orjson (the floor of the pandas-free path a rule
strategy such as `ema_cross` takes, `cli/backtest_arrays.py`), and the same without pyarrow
(the floor of its runs from a file's kept columns). The load average is printed
before and after: on a shared machine compare CPU seconds and ratios, not wall seconds.

Bytecode is written first in each tree, as installing the package does (with
PYTHONDONTWRITEBYTECODE set, a source checkout would compile its modules at every launch).
The command keeps its dataclasses' and regular expressions' compiled code in the cache folder
(`core/dataclass_code.py`, `core/regex_code.py`): the runs read it as a user's second and later
runs do (the first run after a change of those classes writes it).
The runs use a cache folder of their own (a temporary one), filled by one unmeasured run of
each tree first. A run reads the candle file's columns kept by the run before it
(`data/kept_columns.py`), as a user's second and later runs of the same file do; the row "a
file's first run" is this checkout with the kept columns removed before each run (it reads the
file with pyarrow and keeps its columns again).
Without `--data`, a seeded random walk of 525,600 1m candles is written to a temporary file.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_backtest import MINUTES_PER_YEAR, candles

HERE = Path(__file__).resolve().parent.parent
# the console script, then the process's own peak RSS (VmHWM) on stderr as it exits
PEAK = ("import atexit, sys; atexit.register(lambda: print('peak_rss_kb', next(line for line in "
        "open('/proc/self/status') if line.startswith('VmHWM')).split()[1], file=sys.stderr)); ")  # fmt: skip
MAIN = PEAK + "from tui_trader.cli.main import main; sys.exit(main())"
FLOOR = PEAK + "import pandas, pyarrow.parquet, talib.abstract, orjson"
# what the pandas-free path of a rule strategy imports (TA-Lib with pandas hidden, as it does)
FLOOR_ARRAYS = PEAK + ("import sys; sys.modules['pandas'] = sys.modules['polars'] = None; "
                       "import talib; del sys.modules['pandas'], sys.modules['polars']; "
                       "import numpy, pyarrow._parquet, orjson")  # fmt: skip
# ... and of its runs from a file's kept columns (no pyarrow)
FLOOR_KEPT = FLOOR_ARRAYS.replace("pyarrow._parquet, ", "")


FIRST = "this checkout, a file's first run"


def measure(code: str, args: list[str], tree: Path, cwd: Path) -> tuple[float, float, float, bytes]:
    """(wall s, CPU s, peak RSS MB, stdout) of one interpreter running `code` with `tree`'s
    package (run from `cwd`, so the checkout the bench sits in is not on the path first).
    The CPU is this child's (RUSAGE_CHILDREN accumulates), the peak RSS its own VmHWM."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "PYTHONPATH": str(tree), "TUI_TRADER_CACHE_DIR": str(cwd / "cache")}
    t0 = time.perf_counter()
    child = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=cwd,
                           capture_output=True, check=False)  # fmt: skip
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode:
        raise SystemExit(f"{tree}: exit {child.returncode}: {child.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_kb = int(child.stderr.decode().split("peak_rss_kb")[1].split()[0])
    return wall, cpu, peak_kb / 1024, child.stdout


def summary(name: str, rows: list[tuple[float, float, float]]) -> str:
    wall, cpu, rss = ([r[i] for r in rows] for i in range(3))
    return (f"{name:34s} wall min {min(wall):.3f} median {statistics.median(wall):.3f} s | "
            f"CPU min {min(cpu):.3f} median {statistics.median(cpu):.3f} s | peak RSS {max(rss):.0f} MB")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", type=Path, help="a 1m candle file (default: a seeded year)")
    parser.add_argument("--against", type=Path, help="another checkout's root, run alternately")
    opts = parser.parse_args()
    trees = [HERE] + ([opts.against.resolve()] if opts.against else [])
    for tree in trees:
        compileall.compile_dir(str(tree / "tui_trader"), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = opts.data
        if data is None:
            data = root / "BTC_USDT-1m.parquet"
            candles(MINUTES_PER_YEAR, "1min", 1).to_parquet(data)
        args = ["--home", str(root / "home"), "backtest", "--strategy", "ema_cross",
                "--data", str(data.resolve()), "--timeframe", "1m", "--json"]  # fmt: skip
        # a file changed in the last 2 s is not kept (kept_columns.RACY_S): as a file
        # downloaded before a backtest, it is older
        time.sleep(max(0.0, 2.1 - (time.time() - data.stat().st_ctime)))
        for tree in trees:  # the cache folder filled: kept code, the file's columns
            measure(MAIN, args, tree, root)
        load_before = os.getloadavg()
        results: dict[str, list[tuple[float, float, float]]] = {}
        outputs: dict[str, bytes] = {}
        for _ in range(opts.runs):
            for tree in trees:
                name = "this checkout" if tree == HERE else f"--against {tree.name}"
                wall, cpu, rss, out = measure(MAIN, args, tree, root)
                results.setdefault(name, []).append((wall, cpu, rss))
                outputs[name] = out
            shutil.rmtree(root / "cache" / "candles", ignore_errors=True)
            wall, cpu, rss, out = measure(MAIN, args, HERE, root)
            results.setdefault(FIRST, []).append((wall, cpu, rss))
            outputs[FIRST] = out
            wall, cpu, rss, _ = measure(FLOOR, [], HERE, root)
            results.setdefault("floor: interpreter + imports", []).append((wall, cpu, rss))
            wall, cpu, rss, _ = measure(FLOOR_ARRAYS, [], HERE, root)
            results.setdefault("floor without pandas", []).append((wall, cpu, rss))
            wall, cpu, rss, _ = measure(FLOOR_KEPT, [], HERE, root)
            results.setdefault("floor without pandas nor pyarrow", []).append((wall, cpu, rss))
        load_after = os.getloadavg()
    trades = len(json.loads(outputs["this checkout"])["trades"])
    print(f"tui-trader backtest --strategy ema_cross --timeframe 1m --json, {trades:,} trades, "
          f"{opts.runs} runs each, alternating; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after, {os.cpu_count()} cores")  # fmt: skip
    for name, rows in results.items():
        print(summary(name, rows))
    if len(outputs) > 1:
        same = len(set(outputs.values())) == 1
        print("JSON documents identical" if same else "JSON documents DIFFER")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
