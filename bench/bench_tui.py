"""Benchmark the workstation: frames/s, event-loop lag, CPU and RSS under ~1,000 market-data
messages a second over 20 symbols, plus `tui-trader` launch to first paint. It prints the rate
the paper feed delivered, and says so when it fell short of 1,000.

    .venv/bin/python bench/bench_tui.py              # 30 s load run + 3 launches
    .venv/bin/python bench/bench_tui.py --seconds 10 --launches 1

The app runs headless (Textual's run_test) at 160x48, the grid layout, so every pane is
visible and redrawn: the worst case. `--front` picks the panes in front of the grid's shared
slots: by default the time & sales tape and the performance pane (they poll the engine), or
`risk,blotter`. The machine's load average is printed before and after: a busy machine
inflates the lag. `--busy 1` (the default) keeps one other process spinning on a core for
the whole load run, as a backtest or a browser would on a trader's machine, so the figure is
an honest one for a shared machine (`--busy 0` for a quiet one). Budgets: >= 15 fps, lag
p99 < 50 ms, < 60 % of a core, first paint < 0.5 s (DESIGN.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

REFRESH_HZ = 20.0  # the default (settings.ui.refresh_hz)
# Each paper tick publishes a book and a ticker for every symbol, plus that tick's trades:
# ~45 messages over these 20 symbols (some are closed equities: no trades), so a 40 ms tick
# delivers ~1,100 msg/s. (At 60 ms it was ~750 msg/s, short of the budget's 1,000.)
TICK_MS = 40.0
TARGET_MSG_S = 1_000
SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "AAPL", "MSFT", "SPY"] + [f"SYM{i:02d}/USDT" for i in range(14)]


async def load_run(seconds: float, tick_ms: float, front: list[str]) -> dict[str, float]:
    from tui_trader.config import Settings
    from tui_trader.engine import Engine
    from tui_trader.engine.client import InProcessClient
    from tui_trader.ui.app import WorkstationApp

    settings = Settings(paper={"symbols": SYMBOLS, "tick_interval_ms": tick_ms}, ui={"refresh_hz": REFRESH_HZ})
    engine = Engine(settings, None, in_memory=True)
    app = WorkstationApp(InProcessClient(engine), settings, None)
    proc = psutil.Process()
    lags: list[float] = []

    async def lag_probe(stop: asyncio.Event) -> None:
        period = 0.01
        while not stop.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(period)
            lags.append(time.perf_counter() - t0 - period)

    async with app.run_test(size=(160, 48)) as pilot:
        deadline = time.monotonic() + 60
        while app.snapshot is None:  # the engine starting
            if app.return_code is not None or time.monotonic() > deadline:
                raise SystemExit(f"the workstation did not start (exit {app.return_code}): run tui-trader to see why")
            await pilot.pause(0.05)
        for key in front:  # the pane shown in its slot of the grid
            app.action_show_pane(key)
        await pilot.pause(2.0)  # warm up: chart loaded, tables filled
        stop = asyncio.Event()
        probe = asyncio.create_task(lag_probe(stop))
        frames0, published0 = app.frames, engine.bus.published
        proc.cpu_percent(None)
        t0 = time.perf_counter()
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - t0
        cpu = proc.cpu_percent(None)
        frames, published = app.frames - frames0, engine.bus.published - published0
        stop.set()
        await probe
        rss = proc.memory_info().rss / 2**20
    lags.sort()
    return {
        "seconds": elapsed,
        "messages_per_s": published / elapsed,
        "fps": frames / elapsed,
        "lag_p50_ms": lags[len(lags) // 2] * 1000,
        "lag_p99_ms": lags[int(len(lags) * 0.99)] * 1000,
        "lag_max_ms": lags[-1] * 1000,
        "cpu_pct": cpu,
        "rss_mb": rss,
    }


def compile_package() -> int:
    """Write the package's bytecode first, as installing it does (pip compiles what it installs;
    a source checkout writes it on its first run). Without it, with PYTHONDONTWRITEBYTECODE set
    (as on the development machine), every launch compiled ~250 modules again: ~0.4 s that no
    installed workstation pays. Returns how many modules had to be compiled."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("tui_trader")
    assert spec is not None and spec.submodule_search_locations
    root = Path(next(iter(spec.submodule_search_locations)))
    before = sum(1 for _ in root.rglob("*.pyc"))
    compileall.compile_dir(str(root), quiet=1)
    return max(0, sum(1 for _ in root.rglob("*.pyc")) - before)


def first_paint(launches: int, args: Sequence[str] = ()) -> list[tuple[float, float, float | None]]:
    """Launch `tui-trader` (with `args`) in a pseudo-terminal; the app writes when it first
    painted (Textual's first frame on the terminal), when its first frame with engine data was
    drawn and when the screen had settled after its first paint (Textual's layout pass after
    the first frame done; None from a tree before that stamp), then exits. Seconds from the
    launch."""
    exe = Path(sys.executable).with_name("tui-trader")
    times = []
    for _ in range(launches):
        with tempfile.TemporaryDirectory() as home:
            stamp = Path(home) / "first_paint"
            env = {
                **os.environ,
                "TUI_TRADER_HOME": home,
                "TUI_TRADER_FIRST_PAINT_FILE": str(stamp),
                "TERM": "xterm-256color",
                "COLUMNS": "160",
                "LINES": "48",
            }
            master, slave = pty.openpty()
            t0 = time.time()
            child = subprocess.Popen(
                [str(exe), *args], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
            )
            os.close(slave)
            deadline = time.time() + 20
            while child.poll() is None and time.time() < deadline:
                try:
                    os.read(master, 65536)  # drain the screen so the child never blocks on output
                except OSError:
                    break
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:  # never leave a workstation behind (a loaded machine)
                child.kill()
                child.wait(timeout=20)
            os.close(master)
            if stamp.exists():
                paint, data, *settled = (float(x) for x in stamp.read_text().splitlines()[0].split())
                times.append((paint - t0, data - t0, settled[0] - t0 if settled else None))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--tick-ms",
        type=float,
        default=TICK_MS,
        help="paper tick interval (each tick publishes ~45 messages over the 20 symbols: 40 ms ~ 1,100 msg/s)",
    )
    parser.add_argument("--launches", type=int, default=3)
    parser.add_argument(
        "--config",
        help="launch `tui-trader --config FILE` (default none: nothing to check at start; a config: a child checks it)",
    )
    parser.add_argument(
        "--front", default="tape,performance", help="panes in front of the grid's slots (risk,blotter: the others)"
    )
    parser.add_argument("--busy", type=int, default=1, help="other processes spinning on a core meanwhile")
    args = parser.parse_args()
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print(f"machine load average (1, 5, 15 min): {load} on {os.cpu_count()} cores")
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        r = asyncio.run(load_run(args.seconds, args.tick_ms, [k for k in args.front.split(",") if k]))
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    print(f"meanwhile {args.busy} other process(es) kept a core busy")
    print(f"panes in front: {args.front} (and watchlist, chart, book, positions, strategies)")
    short = (
        f"   ** short of the {TARGET_MSG_S:,} the budget names: the figures below are for a lighter load **"
        if r["messages_per_s"] < TARGET_MSG_S
        else f"   (budget load >= {TARGET_MSG_S:,})"
    )
    print(
        f"load: {r['messages_per_s']:,.0f} market-data msg/s over {len(SYMBOLS)} symbols for {r['seconds']:.0f} s"
        f" at a {args.tick_ms:g} ms tick{short}"
    )
    print(f"frames rendered: {r['fps']:.1f} /s            (budget >= 15)")
    print(
        f"event-loop lag: p50 {r['lag_p50_ms']:.1f} ms, p99 {r['lag_p99_ms']:.1f} ms, max {r['lag_max_ms']:.1f} ms"
        "   (budget p99 < 50 ms)"
    )
    print(f"CPU: {r['cpu_pct']:.0f} % of one core          (budget < 60 %)")
    print(f"RSS: {r['rss_mb']:.0f} MB")
    if args.launches:
        compiled = compile_package()
        print(f"bytecode written first, as an install does ({compiled} module(s) had none or a stale one)")
        times = first_paint(args.launches, ["--config", args.config] if args.config else [])
        print(f"launched as: tui-trader{' --config ' + args.config if args.config else ''}")
        if times:
            paint = [p for p, _, _ in times]
            data = [d for _, d, _ in times]
            settled = [s for _, _, s in times if s is not None]
            print(
                f"launch to first paint: median {statistics.median(paint) * 1000:.0f} ms, "
                f"max {max(paint) * 1000:.0f} ms over {len(times)} launches   (budget < 0.5 s)"
            )
            if settled:
                print(
                    f"launch to the screen settled after it (Textual's layout pass after its first frame, "
                    f"the same cells): median {statistics.median(settled) * 1000:.0f} ms"
                )
            print(
                f"launch to first frame with market data: median {statistics.median(data) * 1000:.0f} ms, "
                f"max {max(data) * 1000:.0f} ms"
            )
        else:
            print("launch to first paint: no launch reported a first paint")
    print("machine load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
