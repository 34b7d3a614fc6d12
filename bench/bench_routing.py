"""Routing decision time for `--venue auto` with 5 venues: prints figures, asserts nothing.

The decision is what the router does between an order arriving and its children being sent:
gather every venue's market for the symbol (state, stream health, freshness, fees, lot rules,
cached balances), then walk the books and plan the legs. Balances are fetched before it (I/O,
cached for `balance_max_age_s`) and are not part of the figure; neither is sending.

Five paper instances of one market, each a 25-level book; order sizes from 0.01 BTC (one
venue) to 20 BTC (split across all five, past the shown depth), market and limit, both sides.

Run: .venv/bin/python bench/bench_routing.py [--n 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from decimal import Decimal

from tui_trader.config import Settings
from tui_trader.core.enums import OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine.testing import paper_engine, step
from tui_trader.routing.plan import plan_route

VENUES = {f"v{i}": {"kind": "paper", "seed": 20 + i, "basis_bps": i * 0.7} for i in range(1, 5)}  # + paper


def pct(xs: list[float], p: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(p / 100 * len(xs)))]


async def main(n: int) -> None:
    load_before = os.getloadavg()[0]
    eng = paper_engine(Settings(venues=VENUES, paper={"balances": {"USDT": 10_000_000, "USD": 0}}))  # type: ignore[arg-type]
    await eng.start()
    await step(eng, 4)
    router = eng.router
    await router.chooser.refresh_balances(list(eng.venues))
    rng = random.Random(1)
    mid = eng.mid("BTC/USDT")
    sizes = ["0.01", "0.1", "0.5", "2", "5", "20"]
    reqs = []
    for i in range(n):
        side = Side.BUY if i % 2 else Side.SELL
        qty = Decimal(rng.choice(sizes))
        if i % 4 == 3:
            off = mid * (1 + 0.0008 * (1 if side is Side.BUY else -1))
            reqs.append(OrderRequest("BTC/USDT", side, qty, OrderType.LIMIT, Decimal(str(round(off, 2))), venue="auto"))
        else:
            reqs.append(OrderRequest("BTC/USDT", side, qty, venue="auto"))
    for req in reqs[:500]:  # warm-up
        router.chooser.decide(req)
    decide_us, cpu_us, plan_us, legs = [], [], [], []
    for req in reqs:
        c0 = time.thread_time()
        t0 = time.perf_counter()
        plan, _ = router.chooser.decide(req)
        decide_us.append((time.perf_counter() - t0) * 1e6)
        cpu_us.append((time.thread_time() - c0) * 1e6)
        legs.append(len(plan.legs))
    cands = {}
    for side in (Side.BUY, Side.SELL):
        probe = OrderRequest("BTC/USDT", side, Decimal("1"), venue="auto")
        cands[side] = router.chooser.candidates(probe)[0]
    for req in reqs:
        t0 = time.perf_counter()
        plan_route(req.side, req.quantity, cands[req.side], limit=float(req.price) if req.price else None)
        plan_us.append((time.perf_counter() - t0) * 1e6)
    await eng.stop()
    print(f"routing decision, {len(eng.venues)} venues x 25 levels, {n} orders (sizes {', '.join(sizes)} BTC, "
          f"1 in 4 limit), {os.cpu_count()} cores; 1-min load average {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after")
    print(f"  whole decision (gather 5 markets + plan): p50 {statistics.median(decide_us):.0f} us, "
          f"p99 {pct(decide_us, 99):.0f} us, max {max(decide_us):.0f} us")
    print(f"  the same, CPU time of the thread:           p50 {statistics.median(cpu_us):.0f} us, "
          f"p99 {pct(cpu_us, 99):.0f} us (wall minus time the machine gave to other processes)")
    print(f"  planner alone (routing/plan.py):           p50 {statistics.median(plan_us):.0f} us, "
          f"p99 {pct(plan_us, 99):.0f} us, max {max(plan_us):.0f} us")
    print(f"  children per order: {', '.join(f'{k}: {legs.count(k)}' for k in sorted(set(legs)))}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    asyncio.run(main(ap.parse_args().n))
