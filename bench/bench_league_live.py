"""Live league update cost: one update of a contest (each strategy's sub-account traded from the
season's start to its last closed bar, the board written) for seasons 1, 7 and 30 days in, with
the three bundled strategies on BTC/USDT, as the engine's worker process runs it. Prints the
time of each (best of 3) and the machine's load.

    .venv/bin/python bench/bench_league_live.py
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tui_trader.config.paper import PaperSettings
from tui_trader.config.risk import RiskSettings
from tui_trader.league.live import Contest, ContestStore, update_contest

STRATEGIES = ["ema_cross", "rsi_mean_reversion", "macd_trend"]


def main() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for days in (1, 7, 30):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            store = ContestStore(root)
            store.add_season("s", start, start + timedelta(days=31))
            store.register(Contest("s", STRATEGIES, ["BTC/USDT"], 10_000.0, 10, start))
            now = start + timedelta(days=days, minutes=1)
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                doc = update_contest(root, "s", PaperSettings(), RiskSettings(), now)
                times.append(time.perf_counter() - t0)
            trades = sum(a["closed_trades"] for a in doc["accounts"].values())
            size = (root / "league" / "results" / "s.json").stat().st_size
            print(f"{days:>2} days in: update {min(times):.2f} s (best of 3; worst {max(times):.2f} s), "
                  f"{trades} closed trades, board {size / 1024:.0f} KiB")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
