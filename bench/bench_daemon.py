"""Control API figures: request round trip, market order place -> answer, snapshot refresh cost.

    .venv/bin/python bench/bench_daemon.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from tui_trader.core.enums import Side
from tui_trader.core.orders import OrderRequest
from tui_trader.daemon.protocol import decode_snapshot
from tui_trader.daemon.remote_client import RemoteClient
from tui_trader.daemon.server import ControlServer
from tui_trader.engine.testing import manual_engine, step
from tui_trader.home import Home


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Home(Path(tmp)).ensure()
        engine = manual_engine()
        await engine.start()
        await step(engine, 3)
        server = ControlServer(engine, home.socket_path)
        await server.start()
        async with RemoteClient.for_home(home, mirror=False) as client:
            rtt = []
            for _ in range(2000):
                t = time.perf_counter()
                await client.request("fills", limit=1)
                rtt.append(time.perf_counter() - t)
            place = []
            for i in range(500):
                t = time.perf_counter()
                await client.place(OrderRequest("BTC/USDT", Side.BUY if i % 2 else Side.SELL, Decimal("0.01")))
                place.append(time.perf_counter() - t)
            fetch, dec = [], []
            for _ in range(200):
                t = time.perf_counter()
                raw = await client.request("snapshot")
                t2 = time.perf_counter()
                decode_snapshot(raw)
                fetch.append(t2 - t)
                dec.append(time.perf_counter() - t2)
        await server.stop()
        await engine.stop()
    print(f"request round trip (fills limit=1): p50 {pct(rtt, .5):.3f} ms  p99 {pct(rtt, .99):.3f} ms")
    print(f"market order place -> filled answer: p50 {pct(place, .5):.3f} ms  p99 {pct(place, .99):.3f} ms")
    print(f"snapshot fetch: p50 {pct(fetch, .5):.2f} ms; decode: p50 {statistics.median(dec) * 1000:.2f} ms "
          f"(at 2 Hz: {2 * (statistics.median(fetch) + statistics.median(dec)) * 100:.2f} % of a core)")


if __name__ == "__main__":
    asyncio.run(main())
