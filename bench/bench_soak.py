"""Soak: the real ccxt adapter and engine against the fake Binance with a fault about every second.

    .venv/bin/python bench/bench_soak.py --duration 600

Prints faults injected, fills lost (must be 0), duplicate orders (must be 0) and the longest
time from a drop/stall to a connected venue again. Exits 1 if a fill was lost or an order doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from tui_trader.core.enums import OrderType, Side  # noqa: E402
from tui_trader.core.orders import OrderRequest  # noqa: E402
from tui_trader.engine import Engine  # noqa: E402
from tui_trader.execution.reconcile import reconcile  # noqa: E402

from fakes.binance_exchange import FakeBinanceExchange  # noqa: E402
from fakes.venue_harness import API_KEY, engine_settings, make_venue  # noqa: E402


async def inject(fake: FakeBinanceExchange, rng: random.Random) -> str:
    fault = rng.choice(
        [
            "drop",
            "stall",
            "malformed",
            "http429",
            "http418",
            "reject",
            "delayed_ack",
            "duplicate_fills",
            "reorder_fills",
        ]
    )
    if fault == "drop":
        await fake.drop_connections()
    elif fault == "stall":
        fake.stall()
        await asyncio.sleep(rng.uniform(0.8, 1.6))
        fake.stall(False)
    elif fault == "malformed":
        fake.send_malformed(rng.randint(1, 3))
    elif fault in ("http429", "http418"):
        fake.fail_next(rng.randint(1, 2), status=int(fault[4:]))
    elif fault == "reject":
        fake.reject_next()
    elif fault == "delayed_ack":
        fake.delay_next_ack(0.6)
    elif fault == "duplicate_fills":
        fake.duplicate_fills(True)
        await asyncio.sleep(0.5)
        fake.duplicate_fills(False)
    elif fault == "reorder_fills":
        fake.reorder_fills(True)
        await asyncio.sleep(0.5)
        fake.reorder_fills(False)
    return fault


class Recorder(logging.Handler):
    """Keeps warnings and errors with their wall-clock time, to explain a lost fill."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" [{type(record.exc_info[1]).__name__}: {record.exc_info[1]}]"
        self.records.append((time.monotonic(), f"{record.name}: {text}"))


async def explain_lost(
    engine: Engine,
    fake: FakeBinanceExchange,
    lost: set[str],
    timeline: list[tuple[float, str]],
    recorder: Recorder,
    started: float,
) -> None:
    """For each lost fill: its order at the fake and in our DB, and what happened around it."""
    assert engine.store is not None
    for trade in [t for t in fake.trades if str(t.trade_id) in lost]:
        cid = trade.order.client_order_id
        ours = await engine.store.get_order(cid)
        at = trade.made_at - started
        print(
            f"LOST trade {trade.trade_id} at {at:.2f} s (fake ms {trade.time_ms}): order {cid} "
            f"{trade.order.type} {trade.order.side}; fake status {trade.order.status} "
            f"executed {trade.order.executed}/{trade.order.quantity}; ours: "
            + (
                "unknown"
                if ours is None
                else f"{ours.status.value} filled {ours.filled_quantity} meta {ours.meta}"
            )
        )
        near = [f"{t - started:+.2f} {f}" for t, f in timeline if abs(t - trade.made_at) < 3]
        print(f"  faults within 3 s: {', '.join(near) or 'none'}")
        for t, text in recorder.records:
            if abs(t - trade.made_at) < 3 or cid in text or str(trade.trade_id) in text:
                print(f"  log {t - started:+.2f}: {text[:300]}")


async def trader(
    engine: Engine, fake: FakeBinanceExchange, rng: random.Random, stop: asyncio.Event
) -> int:
    placed = 0
    while not stop.is_set():
        mid = Decimal(str(engine.mid("BTC/USDT") or 100)).quantize(Decimal("0.01"))
        if rng.random() < 0.5:
            req = OrderRequest(
                "BTC/USDT", rng.choice([Side.BUY, Side.SELL]), Decimal("0.1"), venue="binance"
            )
        else:
            side = rng.choice([Side.BUY, Side.SELL])
            offset = Decimal(rng.randint(1, 8)) * Decimal("0.01") * (-1 if side is Side.BUY else 1)
            req = OrderRequest(
                "BTC/USDT", side, Decimal("0.1"), OrderType.LIMIT, mid + offset, venue="binance"
            )
        try:
            await asyncio.wait_for(engine.place(req), 10)
            placed += 1
        except Exception as exc:  # the soak goes on; reconciliation settles the outcome
            print(f"place failed: {type(exc).__name__}", file=sys.stderr)
        await asyncio.sleep(rng.uniform(0.1, 0.4))
    return placed


async def soak(duration: float, seed: int, fault_every: float = 1.0) -> int:
    rng = random.Random(seed)
    recorder = Recorder()
    logging.getLogger("tui_trader").addHandler(recorder)
    timeline: list[tuple[float, str]] = []
    fake = await FakeBinanceExchange(api_key=API_KEY, seed=seed).start(tick_interval_s=0.05)
    venue = make_venue(fake, timeout_ms=400)
    engine = Engine(engine_settings(), None, in_memory=True, venues={"binance": venue})
    await engine.start()
    stop = asyncio.Event()
    trading = asyncio.create_task(trader(engine, fake, rng, stop))
    faults: collections.Counter[str] = collections.Counter()
    started = time.monotonic()
    while time.monotonic() - started < duration:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * fault_every)
        at = time.monotonic()
        fault = await inject(fake, rng)
        faults[fault] += 1
        timeline.append((at, fault))
    stop.set()
    placed = await trading
    # quiet period: let the venue recover, then reconcile once more like a restart would
    await asyncio.sleep(3)
    assert engine.oms is not None and engine.store is not None
    for o in list(fake.orders.values()):  # cancel what is still working so nothing fills later
        if o.status in ("NEW", "PARTIALLY_FILLED"):
            o.status = "CANCELED"
    await reconcile(engine.oms, venue, engine.clock.now())
    await engine.oms.flush()
    stored = {f.fill_id for f in await engine.store.load_fills(limit=1_000_000)}
    made = {str(t.trade_id) for t in fake.trades}
    ours = {o.client_order_id for o in await engine.store.load_orders(limit=1_000_000)}
    lost = len(made - stored)
    if lost:
        await explain_lost(engine, fake, made - stored, timeline, recorder, started)
    orphans = len(
        [cid for cid in fake.orders if cid not in ours]
    )  # an order the exchange has twice/unknown
    recovery = max(venue.monitor.recovery_times, default=0.0)
    await engine.stop()
    await fake.stop()
    print(f"soak: {duration:.0f} s, seed {seed}")
    print(
        f"faults injected:      {sum(faults.values())} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(faults.items()))})"
    )
    print(
        f"orders placed:        {placed} (exchange holds {len(fake.orders)}; "
        f"refused duplicate client ids {fake.duplicate_submissions})"
    )
    print(f"fills at exchange:    {len(made)}; stored by us: {len(stored & made)}")
    print(f"fills lost:           {lost}")
    print(f"duplicate orders:     {orphans}")
    print(
        f"reconnects:           {venue.monitor.reconnects}; submits found by client id "
        f"after timeout: {venue.counters['found_by_client_id']}"
    )
    print(f"longest recovery:     {recovery:.2f} s")
    return 1 if lost or orphans else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--fault-every", type=float, default=1.0, help="mean seconds between faults (default 1)"
    )
    args = parser.parse_args()
    return asyncio.run(soak(args.duration, args.seed, args.fault_every))


if __name__ == "__main__":
    raise SystemExit(main())
