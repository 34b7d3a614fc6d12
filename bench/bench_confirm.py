"""Benchmark Enter to confirmation: how long after Enter on `:buy 0.01 BTC/USDT mkt` the
confirmation dialog is on screen (budget: 100 ms).

    .venv/bin/python bench/bench_confirm.py              # 20 orders at 160x48, the grid
    .venv/bin/python bench/bench_confirm.py --orders 10 --size 80x24

The workstation runs headless (Textual's run_test) with live paper data, every pane drawn.
The clock starts when Enter is pressed and stops when the dialog's first frame has been
rendered: ConfirmScreen stamps `shown_at` (Textual's clock) right after its first refresh, and
from then on keys answer it. The stamp is read, not the time this script notices it: the
loop is busy for a while after the frame (the panes behind redraw), and polling for the
dialog would add that wait to a figure the trader does not see.
The process's CPU time over the same interval is printed beside it: on a shared machine the
wall time also holds other processes' turns, the CPU time does not (it does hold the paper
market's own ticks, which run in the same process).
Each dialog is then closed with Esc; nothing is sent. The machine's load average is printed
before and after: a busy machine inflates the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

COMMAND = "buy 0.01 BTC/USDT mkt"


async def run(orders: int, size: tuple[int, int]) -> tuple[list[float], list[float]]:
    from textual._time import get_time

    from tui_trader.config import Settings
    from tui_trader.engine import Engine
    from tui_trader.engine.client import InProcessClient
    from tui_trader.ui.app import WorkstationApp
    from tui_trader.ui.screens import ConfirmScreen

    settings = Settings()
    engine = Engine(settings, None, in_memory=True)
    app = WorkstationApp(InProcessClient(engine), settings, None)
    latencies: list[float] = []
    cpu: list[float] = []
    async with app.run_test(size=size) as pilot:
        while app.snapshot is None:
            await pilot.pause(0.05)
        await pilot.pause(2.0)  # warm up: chart loaded, tables filled
        for _ in range(orders):
            await pilot.press("colon")
            await pilot.pause(0.2)
            await pilot.press(*[c if c != " " else "space" for c in COMMAND])
            await pilot.pause(0.2)
            t0, c0 = get_time(), time.process_time()
            await pilot.press("enter")
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline:
                screen = app.screen
                if isinstance(screen, ConfirmScreen) and screen.shown_at != float("inf"):
                    break
                await asyncio.sleep(0.001)
            else:
                raise SystemExit("no confirmation within 10 s")
            latencies.append((screen.shown_at - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)  # until noticed: a little more than shown
            await pilot.press("escape")
            await pilot.pause(0.3)
    return latencies, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--size", default="160x48", help="terminal size, WIDTHxHEIGHT")
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print(f"machine load average (1, 5, 15 min): {load} on {os.cpu_count()} cores")
    wall, cpu = (sorted(x) for x in asyncio.run(run(args.orders, (width, height))))
    for label, ms in (("wall", wall), ("CPU ", cpu)):
        print(
            f"Enter to confirmation on screen at {args.size}, {label}: median {statistics.median(ms):.0f} ms, "
            f"p90 {ms[int(len(ms) * 0.9)]:.0f} ms, max {ms[-1]:.0f} ms over {len(ms)} orders   (budget 100 ms)"
        )
    print("machine load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
