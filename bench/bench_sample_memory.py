"""Peak memory of a backtest of Freqtrade's own SampleStrategy on a year of 1-minute candles,
as a command.

    .venv/bin/python bench/bench_sample_memory.py [--runs 3] [--against DIR] [--sample FILE]

Budget (issue #20): `tui-trader backtest --strategy SampleStrategy --data FILE --timeframe 1m
--json` peaks under 250 MB RSS. The strategy is the file Freqtrade's package ships
(`templates/sample_strategy.py`), unmodified, from the Freqtrade environment that
bench/parity_freqtrade.py creates (or `--sample FILE`); the candles are bench_peers.py's year of
1m bars (525,600, seeded). Each run is a fresh process running the console script's main() and
reporting its own peak RSS (VmHWM) in kB, the figure `/usr/bin/time -f %M` prints (and in
MiB). The budget is read in the stricter unit: 250 MB = 250,000 kB.

Bytecode is written first in each tree, as installing the package does: with
PYTHONDONTWRITEBYTECODE set (as on the development machine) a source checkout compiles every
module it imports at each launch, and that compiling raised the peak by ~10 MB (round nine:
251.5 MB from a checkout without bytecode, 241.0 MB from the same commit with it).

`--against DIR` runs another checkout's tui_trader (PYTHONPATH=DIR, e.g. the code before a
change) alternately with this one, in the same minutes, and checks that both print the same
trades. The load average is printed before each run: two cores shared with other work move the
wall time, not the peak.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backtest import CLI_CHILD, MINUTES_PER_YEAR, candles
from parity_freqtrade import VENV, sample_strategy_file

HERE = Path(__file__).resolve().parent.parent
BUDGET_KB = 250_000  # 250 MB, decimal: the stricter reading of the budget


def run_once(tree: Path | None, home: Path, data: Path) -> tuple[int, float, str]:
    env = {**os.environ, "PYTHONPATH": str(tree)} if tree else dict(os.environ)
    args = ["--home", str(home), "backtest", "--strategy", "SampleStrategy", "--data", str(data),
            "--timeframe", "1m", "--json"]  # fmt: skip
    t0 = time.perf_counter()
    # run from the candles' folder: `python -c` puts its working directory first on sys.path,
    # which would shadow PYTHONPATH with the checkout the bench was started in
    proc = subprocess.run([sys.executable, "-c", CLI_CHILD, *args], env=env, capture_output=True,
                          text=True, check=False, cwd=data.parent)  # fmt: skip
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{tree or 'this tree'}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    return int(proc.stderr.split("peak_rss_kb")[1].split()[0]), wall, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout's root (its tui_trader is run too)")
    parser.add_argument("--sample", type=Path, help="Freqtrade's sample_strategy.py (default: from its package)")
    args = parser.parse_args()
    sample = args.sample
    if sample is None:
        python = VENV / "bin" / "python"
        if not python.exists():
            print(f"no Freqtrade environment at {VENV}: run bench/parity_freqtrade.py once, or pass --sample FILE")
            return 2
        sample = sample_strategy_file(python)
    for tree in [HERE, *([args.against.resolve()] if args.against else [])]:
        compileall.compile_dir(str(tree / "tui_trader"), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = root / "BTC_USDT-1m.parquet"
        candles(MINUTES_PER_YEAR, "1min", 7).to_parquet(data)
        home = root / "home"
        (home / "strategies").mkdir(parents=True)
        shutil.copy(sample, home / "strategies" / "sample_strategy.py")
        trees: list[tuple[str, Path | None]] = [("this tree", None)]
        if args.against:
            trees.append((f"{args.against}", args.against.resolve()))
        peaks: dict[str, list[int]] = {label: [] for label, _ in trees}
        outputs: dict[str, str] = {}
        print(f"Freqtrade's SampleStrategy ({sample.name}), {MINUTES_PER_YEAR:,} 1m candles, "
              f"`tui-trader backtest --json`, {os.cpu_count()} cores")  # fmt: skip
        for run in range(args.runs):
            for label, tree in trees:
                load = os.getloadavg()[0]
                peak, wall, out = run_once(tree, home, data)
                peaks[label].append(peak)
                outputs.setdefault(label, out)
                trades = len(json.loads(out)["trades"])
                print(f"  run {run + 1} {label:>12}: peak {peak:,} kB ({peak / 1024:.1f} MiB), {wall:5.2f} s wall, "
                      f"{trades:,} trades, load average {load:.2f}")  # fmt: skip
        for label, values in peaks.items():
            print(f"{label}: peak {min(values):,}-{max(values):,} kB over {len(values)} runs "
                  f"(budget < {BUDGET_KB:,} kB: {'met' if max(values) < BUDGET_KB else 'NOT met'})")  # fmt: skip
        if args.against:
            same = len({json.dumps(json.loads(o)["trades"], sort_keys=True) for o in outputs.values()}) == 1
            print(f"trades of both trees identical: {'yes' if same else 'NO'}")
            if not same:
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
