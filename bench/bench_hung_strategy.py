"""A hung strategy against the budget "status < 1 s, kill switch < 2 s".

Starts a real daemon (its own process) on a fresh home whose only strategy's
populate_indicators is `while True: pass`, then times, as a user would, whole CLI commands in
their own processes: `tui-trader status` (many times) and `tui-trader flatten --yes` (after
buying something each time). Also prints how long the daemon took to start and to notice the
hang. Prints the machine's load: figures on a busy machine are slower.

    .venv/bin/python bench/bench_hung_strategy.py [--status 20] [--flatten 5] [--timeout 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLUGIN = '''
from pandas import DataFrame
from tui_trader.strategy import IStrategy


class Spin(IStrategy):
    timeframe = "1m"
    stoploss = -0.5

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        while True:
            pass

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe
'''
CLI = [sys.executable, "-m", "tui_trader.cli.main"]


def run(home: Path, *argv: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    done = subprocess.run([*CLI, *argv, "--home", str(home)], capture_output=True, text=True, env=ENV)
    return time.perf_counter() - t0, done


ENV = {k: v for k, v in os.environ.items() if not k.startswith("TUI_TRADER_")}


async def socket_round_trips(home: Path, n: int) -> list[float]:
    from tui_trader.daemon.remote_client import RemoteClient
    from tui_trader.home import Home

    client = RemoteClient.for_home(Home.resolve(home), client="bench", mirror=False)
    await client.connect()
    out = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            await client.request("status")
            out.append(time.perf_counter() - t0)
    finally:
        await client.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--status", type=int, default=20)
    ap.add_argument("--flatten", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=5.0, help="[engine] strategy_timeout_s")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        (home / "strategies").mkdir(parents=True)
        (home / "strategies" / "spin.py").write_text(PLUGIN)
        (home / "config.toml").write_text(
            f'[engine]\nstrategy_timeout_s = {args.timeout}\n\n[strategies.Spin]\nsymbols = ["ETH/USDT"]\n'
        )
        log = open(Path(tmp) / "daemon.err", "wb")  # noqa: SIM115
        t0 = time.perf_counter()
        daemon = subprocess.Popen([*CLI, "daemon", "--home", str(home)], stderr=log, stdout=subprocess.DEVNULL, env=ENV)
        try:
            while b"daemon running" not in (Path(tmp) / "daemon.err").read_bytes():
                if daemon.poll() is not None or time.perf_counter() - t0 > 120:
                    print((Path(tmp) / "daemon.err").read_text(), file=sys.stderr)
                    return 1
                time.sleep(0.02)
            started = time.perf_counter() - t0
            while True:
                _, done = run(home, "status", "--json")
                (spin,) = json.loads(done.stdout)["strategies"]
                if spin["state"] == "hung":
                    break
                time.sleep(0.05)
            noticed = time.perf_counter() - t0
            status = []
            for _ in range(args.status):
                took, done = run(home, "status")
                assert done.returncode == 0, done.stderr
                status.append(took)
            answers = asyncio.run(socket_round_trips(home, args.status * 5))
            floor = []
            for _ in range(5):  # Python and the CLI starting, talking to nobody
                t1 = time.perf_counter()
                subprocess.run([*CLI, "--version"], capture_output=True, env=ENV)
                floor.append(time.perf_counter() - t1)
            flatten = []
            for _ in range(args.flatten):
                _, done = run(home, "order", "buy", "0.5", "ETH/USDT")
                assert done.returncode == 0, done.stderr
                took, done = run(home, "flatten", "--yes", "--json")
                assert done.returncode == 0 and json.loads(done.stdout)["still_open"] == [], done.stdout
                flatten.append(took)
                _, done = run(home, "risk", "reset", "kill_switch", "--yes")  # the kill switch halts entries
                assert done.returncode == 0, done.stderr
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
    print(f"a hung strategy (populate_indicators: while True), deadline {args.timeout:g} s, daemon in its own process")
    print(f"  daemon start -> serving: {started:.2f} s; hang noticed (status shows hung) after {noticed:.2f} s")
    print(
        f"  tui-trader status, whole command: p50 {statistics.median(status):.3f} s  max {max(status):.3f} s "
        f"({len(status)} runs; budget < 1 s)"
    )
    print(f"  (of which starting Python and the CLI, `tui-trader --version`: p50 {statistics.median(floor):.3f} s)")
    print(
        f"  status over the socket (the daemon's answer, no CLI start-up): "
        f"p50 {statistics.median(answers) * 1000:.1f} ms"
        f"  max {max(answers) * 1000:.1f} ms ({len(answers)} requests)"
    )
    print(
        f"  tui-trader flatten --yes, whole command: p50 {statistics.median(flatten):.3f} s  max {max(flatten):.3f} s "
        f"({len(flatten)} runs; budget < 2 s)"
    )
    load = os.getloadavg()
    print(f"load average while measuring: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
