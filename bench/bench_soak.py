"""Soak: a real venue adapter and the engine against its loopback fake, a fault about every second.

    .venv/bin/python bench/bench_soak.py --seconds 600                  # ccxt vs the fake Binance
    .venv/bin/python bench/bench_soak.py --venue alpaca --seconds 600   # alpaca-py vs the fake Alpaca

Prints faults injected by kind, orders, fills at the fake vs fills stored by the engine, fills
lost (must be 0), duplicate orders (must be 0: an order the fake holds that we do not know, or
a client id the fake accepted twice), fills doubled (must be 0), mis-stated orders (must be 0:
at the end each order's state agrees with the fake's; none is left `unknown`) and the longest
time from a drop/stall to a connected venue again. Exits 1 if any of those is not 0. One soak
loop for every venue: what differs (the fake, the adapter, the fault menu, how to count at the
fake) lives in a small `SoakVenue` per venue.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from tui_trader.core.enums import OrderStatus, OrderType, Side  # noqa: E402
from tui_trader.core.orders import OrderRequest  # noqa: E402
from tui_trader.engine import Engine  # noqa: E402
from tui_trader.execution.reconcile import reconcile  # noqa: E402

API_KEY, SECRET = "test-key", "test-secret-value"


@dataclass(frozen=True)
class FakeFillInfo:
    """A fill as the fake made it, for explaining a lost one."""

    made_at: float  # time.monotonic() when the fake made it
    client_order_id: str
    text: str


class SoakVenue:
    """The venue-specific half of a soak: start the fake and adapter, inject, count at the fake."""

    name = ""
    faults: tuple[str, ...] = ()
    cancel_share = 0.0  # after an order, the chance the trader cancels a working one
    fake: Any
    venue: Any

    async def start(self, seed: int) -> Any:
        """Start the fake and return the adapter pointed at it (not yet connected)."""
        raise NotImplementedError

    def pick(self, rng: random.Random) -> tuple[str, Decimal, Decimal]:
        """(symbol, quantity, tick) of the next order."""
        raise NotImplementedError

    async def inject(self, fault: str, rng: random.Random) -> None:
        """The faults every fake has (`fakes.faults.FaultSwitches` plus drop_connections)."""
        fake = self.fake
        if fault == "drop":
            await fake.drop_connections()
        elif fault == "stall":
            fake.stall()
            await asyncio.sleep(rng.uniform(0.8, 1.6))
            fake.stall(False)
        elif fault == "malformed":
            fake.send_malformed(rng.randint(1, 3))
        elif fault.startswith("http"):
            fake.fail_next(rng.randint(1, 2), status=int(fault[4:]))
        elif fault == "reject":
            fake.reject_next()
        elif fault == "delayed_ack":
            fake.delay_next_ack(0.6)
        elif fault in ("duplicate_fills", "reorder_fills"):
            switch = getattr(fake, fault)
            switch(True)
            await asyncio.sleep(0.5)
            switch(False)
        else:
            raise ValueError(f"{self.name} fake has no fault {fault!r}")

    def fills_at_fake(self) -> dict[str, FakeFillInfo]:
        """Every execution the fake made, by the fill id the adapter reports."""
        raise NotImplementedError

    def orders_at_fake(self) -> dict[str, Decimal]:
        """Client order id -> quantity the fake executed for it."""
        raise NotImplementedError

    def cancel_working(self) -> None:
        """Close every working order at the fake, so nothing fills after the final reconcile."""
        raise NotImplementedError

    def states_at_fake(self) -> dict[str, str]:
        """Client order id -> the fake's status word for it."""
        return {cid: str(o.status) for cid, o in self.fake.orders.items()}

    def made_twice(self) -> list[str]:
        """Client ids the fake accepted a second time (Binance: unique among open orders only)."""
        return list(getattr(self.fake, "made_twice", []))

    async def inject_order_fault(self, fault: str, rng: random.Random) -> bool:
        """The faults the issue's table lists, for either venue; False if `fault` is not one."""
        fake = self.fake
        lookup = self.lookup_path
        if fault == "lost_answer":  # the answer to an order is lost, then its lookup fails too
            fake.delay_next_ack(0.6)
            status = rng.choice((503, 429, 0))
            if status:
                fake.fail_next(rng.randint(1, 3), status, method="GET", path=lookup, retry_after=0.2)
            else:
                fake.hang_next(0.6, method="GET", path=lookup)
        elif fault == "duplicate_answer":  # made, answered "duplicate", the lookup fails once
            fake.answer_duplicate_next()
            fake.fail_next(1, 503, method="GET", path=lookup)
        elif fault == "unsent_503":  # a 503 before the exchange made anything: unknown, then settled
            fake.fail_next(1, 503, method="POST", path=self.order_path)
        elif fault == "private_stall":  # only the private stream is silent; market data flows
            fake.stall_private()
            await asyncio.sleep(rng.uniform(1.0, 2.5))
            fake.stall_private(False)
        elif fault == "ban":  # rate limited with Retry-After: orders meanwhile are refused, not sent
            fake.fail_next(1, self.ban_status, retry_after=rng.uniform(0.5, 2.0))
        else:
            return False
        return True

    lookup_path = ""
    order_path = ""
    ban_status = 429

    async def stop(self) -> None:
        await self.fake.stop()


class BinanceSoak(SoakVenue):
    """The ccxt adapter (binance) against `fakes.binance_exchange`."""

    name = "binance"
    faults = (
        "drop", "stall", "malformed", "http429", "http418", "reject", "delayed_ack",
        "duplicate_fills", "reorder_fills",
        "lost_answer", "duplicate_answer", "unsent_503", "private_stall", "clock_skew", "ban",
    )  # fmt: skip
    lookup_path = "/order"
    order_path = "/order"
    ban_status = 418

    async def inject(self, fault: str, rng: random.Random) -> None:
        if fault == "clock_skew":  # Binance's clock jumps: the next signed request gets -1021
            self.fake.skew_clock(rng.choice((-1, 1)) * rng.randint(11_000, 40_000))
        elif not await self.inject_order_fault(fault, rng):
            await super().inject(fault, rng)

    async def start(self, seed: int) -> Any:
        from fakes.binance_exchange import FakeBinanceExchange
        from fakes.venue_harness import make_venue

        self.fake = await FakeBinanceExchange(api_key=API_KEY, seed=seed).start(tick_interval_s=0.05)
        self.venue = make_venue(self.fake, timeout_ms=400)
        return self.venue

    def pick(self, rng: random.Random) -> tuple[str, Decimal, Decimal]:
        return "BTC/USDT", Decimal("0.1"), Decimal("0.01")

    def fills_at_fake(self) -> dict[str, FakeFillInfo]:
        return {
            str(t.trade_id): FakeFillInfo(
                t.made_at,
                t.order.client_order_id,
                f"fake ms {t.time_ms}; order {t.order.type} {t.order.side}, fake status "
                f"{t.order.status} executed {t.order.executed}/{t.order.quantity}",
            )
            for t in self.fake.trades
        }

    def orders_at_fake(self) -> dict[str, Decimal]:
        return {cid: Decimal(str(o.executed)) for cid, o in self.fake.orders.items()}

    def cancel_working(self) -> None:
        for o in self.fake.open_orders():
            o.status = "canceled"


class AlpacaSoak(SoakVenue):
    """The alpaca-py adapter against `fakes.alpaca_exchange` (stocks and crypto)."""

    name = "alpaca"
    cancel_share = 0.2  # cancels race fills: a cancelled order's late fill must still count
    faults = (
        "drop", "refuse", "stall", "malformed", "http429", "http503", "reject", "delayed_ack",
        "duplicate_fills", "reorder_fills",
        "lost_answer", "duplicate_answer", "unsent_503", "private_stall", "ban",
    )  # fmt: skip
    lookup_path = "/v2/orders:by_client_order_id"
    order_path = "/v2/orders"
    ban_status = 429

    async def start(self, seed: int) -> Any:
        from tui_trader.core.clock import SystemClock
        from tui_trader.secrets import Credentials
        from tui_trader.venues.alpaca.venue import AlpacaVenue
        from tui_trader.venues.resilience import Backoff

        from fakes.alpaca_exchange import FakeAlpaca

        self.fake = await FakeAlpaca(api_key=API_KEY, secret=SECRET, seed=seed).start(tick_interval_s=0.05)
        self.venue = AlpacaVenue(
            "alpaca", self.fake.venue_settings(), SystemClock(), credentials=Credentials(API_KEY, SECRET),
            backoff=Backoff(0.05, 0.2, rng=random.Random(seed)), order_rate=50, rest_timeout_s=0.4,
            not_found_final_after_s=5.0,  # Alpaca names no window: the engine waits 60 s by default
        )  # fmt: skip
        return self.venue

    def pick(self, rng: random.Random) -> tuple[str, Decimal, Decimal]:
        if rng.random() < 0.7:
            return "AAPL", Decimal(rng.choice(("1", "2", "0.5"))), Decimal("0.01")  # 0.5: fractional
        return "BTC/USD", Decimal("0.01"), Decimal("1")

    async def inject(self, fault: str, rng: random.Random) -> None:
        if await self.inject_order_fault(fault, rng):
            return
        if fault == "refuse":  # the stream host is down for a while: sockets dropped and refused
            self.fake.refuse_connections()
            await self.fake.drop_connections()
            await asyncio.sleep(rng.uniform(0.5, 1.5))
            self.fake.refuse_connections(False)
        else:
            await super().inject(fault, rng)

    def fills_at_fake(self) -> dict[str, FakeFillInfo]:
        now_wall, now_mono = datetime.now(UTC), time.monotonic()
        return {
            f.execution_id: FakeFillInfo(
                now_mono - (now_wall - f.at).total_seconds(),
                f.order.client_order_id,
                f"{f.qty} @ {f.price}; order {f.order.type} {f.order.side} {f.order.symbol}, fake "
                f"status {f.order.status} filled {f.order.filled_qty}/{f.order.qty}",
            )
            for f in self.fake.fills
        }

    def orders_at_fake(self) -> dict[str, Decimal]:
        return {cid: o.filled_qty for cid, o in self.fake.orders.items()}

    def cancel_working(self) -> None:
        for o in self.fake.orders.values():
            if o.is_open:
                o.status = "canceled"


VENUES: dict[str, type[SoakVenue]] = {"binance": BinanceSoak, "alpaca": AlpacaSoak}


class Recorder(logging.Handler):
    """Keeps the engine's log (reconnects, reconciles, warnings) with its time, to explain a lost fill."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" [{type(record.exc_info[1]).__name__}: {record.exc_info[1]}]"
        self.records.append((time.monotonic(), f"{record.name}: {text}"))


async def explain_lost(
    label: str,
    engine: Engine,
    made: dict[str, FakeFillInfo],
    lost: set[str],
    timeline: list[tuple[float, str]],
    recorder: Recorder,
    started: float,
) -> None:
    """For each lost fill: its order at the fake and in our DB, and what happened around it."""
    assert engine.store is not None
    for fill_id in sorted(lost, key=lambda f: made[f].made_at):
        info = made[fill_id]
        cid = info.client_order_id
        ours = await engine.store.get_order(cid)
        print(
            f"{label} fill {fill_id} at {info.made_at - started:.2f} s: order {cid}; {info.text}; ours: "
            + ("unknown" if ours is None else f"{ours.status.value} filled {ours.filled_quantity} meta {ours.meta}")
        )
        near = [f"{t - started:+.2f} {f}" for t, f in timeline if abs(t - info.made_at) < 3]
        print(f"  faults within 3 s: {', '.join(near) or 'none'}")
        for t, text in recorder.records:
            if abs(t - info.made_at) < 3 or cid in text or fill_id in text:
                print(f"  log {t - started:+.2f}: {text[:300]}")


async def trader(engine: Engine, soak_venue: SoakVenue, rng: random.Random, stop: asyncio.Event) -> tuple[int, int]:
    placed = cancels = 0
    while not stop.is_set():
        symbol, qty, tick = soak_venue.pick(rng)
        mid = Decimal(str(engine.mid(symbol) or 100)).quantize(tick)
        if rng.random() < 0.5:
            req = OrderRequest(symbol, rng.choice([Side.BUY, Side.SELL]), qty, venue=soak_venue.name)
        else:
            side = rng.choice([Side.BUY, Side.SELL])
            offset = Decimal(rng.randint(1, 8)) * tick * (-1 if side is Side.BUY else 1)
            req = OrderRequest(symbol, side, qty, OrderType.LIMIT, mid + offset, venue=soak_venue.name)
        try:
            await asyncio.wait_for(engine.place(req), 10)
            placed += 1
        except Exception as exc:  # the soak goes on; reconciliation settles the outcome
            print(f"place failed: {type(exc).__name__}", file=sys.stderr)
        if soak_venue.cancel_share and rng.random() < soak_venue.cancel_share:
            working = [o.client_order_id for o in engine.oms.open_orders()]  # type: ignore[union-attr]
            if working:
                try:
                    await asyncio.wait_for(engine.cancel(rng.choice(working)), 10)
                    cancels += 1
                except Exception as exc:  # filled meanwhile, or the venue is down: goes on
                    print(f"cancel failed: {type(exc).__name__}", file=sys.stderr)
        await asyncio.sleep(rng.uniform(0.1, 0.4))
    return placed, cancels


async def soak(venue_name: str, duration: float, seed: int, fault_every: float = 1.0) -> int:
    rng = random.Random(seed)
    recorder = Recorder()
    logging.getLogger("tui_trader").addHandler(recorder)
    logging.getLogger("tui_trader").setLevel(logging.INFO)
    timeline: list[tuple[float, str]] = []
    soak_venue = VENUES[venue_name]()
    venue = await soak_venue.start(seed)
    engine = Engine(_settings(), None, in_memory=True, venues={venue_name: venue})
    await engine.start()
    stop = asyncio.Event()
    trading = asyncio.create_task(trader(engine, soak_venue, rng, stop))
    faults: collections.Counter[str] = collections.Counter()
    started = time.monotonic()
    loads = [os.getloadavg()[0]]  # the machine is shared: the load is part of the figures
    while time.monotonic() - started < duration:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * fault_every)
        if time.monotonic() - started > 30 * len(loads):
            loads.append(os.getloadavg()[0])
        at = time.monotonic()
        fault = rng.choice(soak_venue.faults)
        await soak_venue.inject(fault, rng)
        faults[fault] += 1
        timeline.append((at, fault))
    stop.set()
    placed, cancels = await trading
    # quiet period: let the venue recover, then reconcile once more like a restart would
    await asyncio.sleep(3)
    assert engine.oms is not None and engine.store is not None
    soak_venue.cancel_working()
    await engine.oms.flush()
    before = {f.fill_id for f in await engine.store.load_fills(limit=1_000_000)}
    late = await reconcile(engine.oms, venue, engine.clock.now())
    await engine.oms.flush()
    settle_deadline = time.monotonic() + 90  # orders still unknown settle as the venue answers
    while any(o.status in (OrderStatus.UNKNOWN, OrderStatus.NEW) for o in engine.oms.open_orders()):
        if time.monotonic() > settle_deadline:
            break
        await asyncio.sleep(1.0)
        more = await reconcile(engine.oms, venue, engine.clock.now())
        late.fills_applied += more.fills_applied
    await engine.oms.flush()
    reconciles = [r["detail"] for r in await engine.store.audit_log(limit=1_000_000) if r["action"] == "reconcile"]
    recovered = sum(int(d.get("fills", 0)) for d in reconciles) - late.fills_applied  # before the final one
    stored = {f.fill_id for f in await engine.store.load_fills(limit=1_000_000)}
    made = soak_venue.fills_at_fake()
    ours = {o.client_order_id: o for o in await engine.store.load_orders(limit=1_000_000)}
    lost = set(made) - stored
    if lost:
        await explain_lost("LOST", engine, made, lost, timeline, recorder, started)
    if stored - before:
        await explain_lost("LATE", engine, made, (stored - before) & set(made), timeline, recorder, started)
    at_fake = soak_venue.orders_at_fake()
    orphans = [cid for cid in at_fake if cid not in ours]  # an order the venue has twice/unknown
    twice = soak_venue.made_twice()  # a client id the venue accepted again: sent twice
    misstated = mis_stated(ours, soak_venue.states_at_fake())
    for cid in misstated[:20]:
        o = ours[cid]
        live = engine.oms.orders.get(cid)
        print(f"  in memory: {None if live is None else (live.status.value, live.meta)}")
        try:
            print(f"  venue says: {await venue.fetch_order(cid, o.symbol)}")
        except Exception as exc:
            print(f"  venue lookup failed: {exc}")
        print(
            f"MIS-STATED order {cid}: ours {o.status.value} filled {o.filled_quantity} ({o.reason}); "
            f"fake {soak_venue.states_at_fake().get(cid, 'never received it')} {at_fake.get(cid, '')}"
        )
    were_unknown = sum(1 for o in ours.values() if o.meta.get("submit_error"))
    doubled = [
        cid for cid, qty in at_fake.items() if cid in ours and ours[cid].filled_quantity > qty
    ]  # a fill applied twice
    for cid in doubled:
        print(f"DOUBLED order {cid}: filled {ours[cid].filled_quantity} by us, {at_fake[cid]} at the fake")
    recovery = max(venue.monitor.recovery_times, default=0.0)
    await engine.stop()
    await soak_venue.stop()
    print(f"soak: {venue_name}, {duration:.0f} s, seed {seed}")
    print(f"faults injected:      {sum(faults.values())} ({', '.join(f'{k} {v}' for k, v in sorted(faults.items()))})")
    print(
        f"orders placed:        {placed}, cancels sent {cancels} (fake holds {len(at_fake)}; "
        f"refused duplicate client ids {soak_venue.fake.duplicate_submissions})"
    )
    print(f"fills at fake:        {len(made)}; stored by the engine: {len(stored & set(made))}")
    print(f"fills lost:           {len(lost)}")
    print(f"fills the stream missed, applied by reconciliation during the run: {recovered}")
    print(f"found only at the end: {late.fills_applied} (fills the session lacked until the final reconcile)")
    print(f"fills doubled:        {len(doubled)}")
    print(
        f"duplicate orders:     {len(orphans) + len(twice)} (unknown to us {len(orphans)}, "
        f"a client id accepted twice {len(twice)})"
    )
    print(f"mis-stated orders:    {len(misstated)} (each order's final state against the fake's; none left unknown)")
    print(f"orders whose outcome was unknown, settled without sending again: {were_unknown}")
    print(
        f"reconnects:           {venue.monitor.reconnects}; submits found by client id "
        f"after timeout: {venue.counters['found_by_client_id']}"
    )
    print(f"longest recovery:     {recovery:.2f} s")
    print(
        f"load average (1 min): {loads[0]:.1f} at start, {sum(loads) / len(loads):.1f} mean, {max(loads):.1f} max "
        f"(sampled every 30 s) on {os.cpu_count()} cores"
    )
    return 1 if lost or orphans or twice or doubled or misstated else 0


def mis_stated(ours: dict[str, Any], at_fake: dict[str, str]) -> list[str]:
    """Orders whose final state disagrees with the fake's: one the fake filled or cancelled must
    be filled or cancelled here; one it never received must be refused or cancelled here, with
    nothing filled; none may be left `unknown` or `new`."""
    out = []
    for cid, o in ours.items():
        fake = at_fake.get(cid)
        if fake is None:
            if o.status not in (OrderStatus.REJECTED, OrderStatus.CANCELLED) or o.filled_quantity:
                out.append(cid)
        elif (
            (fake == "filled" and o.status is not OrderStatus.FILLED)
            or (fake == "canceled" and o.status not in (OrderStatus.CANCELLED, OrderStatus.FILLED))
            or fake not in ("filled", "canceled")  # still working at the fake: should not happen
        ):
            out.append(cid)
    return out


def _settings() -> Any:
    from tui_trader.config import Settings

    return Settings()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venue", choices=sorted(VENUES), default="binance", help="default binance")
    parser.add_argument("--seconds", "--duration", dest="seconds", type=float, default=600.0, help="default 600")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fault-every", type=float, default=1.0, help="mean seconds between faults (default 1)")
    args = parser.parse_args()
    return asyncio.run(soak(args.venue, args.seconds, args.seed, args.fault_every))


if __name__ == "__main__":
    raise SystemExit(main())
