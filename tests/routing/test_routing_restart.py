"""A restart in the middle of a routed order (SIGKILL, no clean shutdown) neither loses nor
doubles a child: the parent was stored first and lists every child that may exist, each venue's
own ledger is reconciled, and only what no child can still fill is routed again."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderStatus
from tui_trader.engine.testing import paper_engine, step
from tui_trader.home import Home
from tui_trader.venues.paper import PaperVenue

# `paper` is cheaper but holds money for about half of the order: two children, paper's first.
SETUP = textwrap.dedent(
    """
    from tui_trader.config import Settings
    def make_settings():
        return Settings(
            paper={"balances": {"USDT": 3000, "USD": 0}},
            venues={"rich": {"kind": "paper", "seed": 11, "basis_bps": 20, "basis_noise_bps": 0,
                             "balances": {"USDT": 100000}}},
            routing={"split": True},
        )
    """
)

CHILD = SETUP + textwrap.dedent(
    """
    import asyncio, json, os, signal, sys
    from decimal import Decimal as D
    from tui_trader.core import OrderRequest, Side
    from tui_trader.home import Home
    from tui_trader.engine.testing import paper_engine, step

    WHERE = sys.argv[3]

    async def main(home, out):
        eng = paper_engine(make_settings(), home=Home.resolve(home))
        await eng.start()
        await step(eng, 4)
        calls = {"place": 0, "create": 0}
        place = eng.emulator.place

        async def placing(order, **kw):
            calls["place"] += 1
            if WHERE == "before_store" and calls["place"] == 2:
                os.kill(os.getpid(), signal.SIGKILL)  # child 2 listed in the parent, never stored
            return await place(order, **kw)

        eng.emulator.place = placing
        for venue in eng.venues.values():
            create = venue.create_order
            async def creating(order, create=create):
                calls["create"] += 1
                if WHERE == "before_send" and calls["create"] == 2:
                    os.kill(os.getpid(), signal.SIGKILL)  # child 2 stored, never sent
                await create(order)
                if WHERE == "after_send" and calls["create"] == 2:
                    os.kill(os.getpid(), signal.SIGKILL)  # child 2 filled at the venue, not stored
            venue.create_order = creating
        with open(out, "w") as fh:
            json.dump({"started": True}, fh)
        await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.1"), venue="auto", source="cli"), "cli")
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def make_settings():  # type: ignore[no-untyped-def]
    scope: dict[str, object] = {}
    exec(SETUP, scope)
    return scope["make_settings"]()  # type: ignore[operator]


def crash(tmp_path: Path, where: str) -> Home:
    home = tmp_path / "home"
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(home), str(out), where], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr[-2000:]
    return Home.resolve(home)


def venue_holdings(eng: object) -> D:
    """What the venues' own ledgers (their journals, reloaded) say we bought."""
    total = D(0)
    for venue in eng.venues.values():  # type: ignore[attr-defined]
        assert isinstance(venue, PaperVenue)
        total += venue.account.position("BTC/USDT")
    return total


@pytest.mark.parametrize("where", ["before_store", "before_send", "after_send"])
async def test_a_restart_between_children_neither_loses_nor_doubles_one(tmp_path: Path, where: str) -> None:
    home = crash(tmp_path, where)
    eng = paper_engine(make_settings(), home=home)
    await eng.start()
    try:
        await step(eng, 2)
        assert eng.store is not None
        [parent] = [o for o in await eng.store.load_orders() if o.venue == "auto"]
        for _ in range(20):  # the router carries on in the background once venues quote
            await step(eng, 1)
            await eng.router._refresh(parent.client_order_id, True)
            parent = eng.oms.orders.get(parent.client_order_id) or parent  # type: ignore[union-attr]
            if not parent.is_open:
                break
        assert parent.status is OrderStatus.FILLED, parent.reason
        assert parent.filled_quantity == D("0.1")
        # the venues hold exactly what the parent says: nothing lost, nothing doubled
        assert venue_holdings(eng) == D("0.1")
        # each venue's cash as its own account holds it (read at the start after the kill, moved
        # since by its own fills only): what the balance check of an order there reads
        for name, venue in eng.venues.items():
            assert isinstance(venue, PaperVenue)
            assert eng.portfolio.venue_cash[name] == venue.account.cash, name
        kids = [await eng.store.get_order(c) for c in parent.meta["route"]["children"]]
        assert sum(k.filled_quantity for k in kids if k is not None) == D("0.1")
        if where == "before_store":
            assert "never sent" in " ".join(parent.meta["route"]["notes"])
        if where == "after_send":  # the fill the crash hid was found at the venue: no new child
            assert len(kids) == 2
    finally:
        await eng.stop()


async def test_a_routed_order_older_than_resume_within_s_stops_after_a_restart(tmp_path: Path) -> None:
    home = crash(tmp_path, "before_store")
    later = FrozenClock(FrozenClock().now() + timedelta(hours=1))
    eng = paper_engine(make_settings(), home=home, clock=later)
    await eng.start()
    try:
        await step(eng, 2)
        assert eng.store is not None
        [parent] = [o for o in await eng.store.load_orders() if o.venue == "auto"]
        await eng.router._refresh(parent.client_order_id, True)
        parent = await eng.store.get_order(parent.client_order_id)  # type: ignore[assignment]
        assert parent is not None and parent.status is OrderStatus.CANCELLED
        assert "stopped by a restart" in (parent.reason or "")
        assert venue_holdings(eng) == parent.filled_quantity < D("0.1")
        assert json.dumps(parent.meta)  # stored as plain JSON
    finally:
        await eng.stop()


async def test_after_a_restart_each_venues_position_is_valued_at_its_own_price_in_its_quote(tmp_path: Path) -> None:
    """Positions come back from the database before any fill: each is still valued at its own
    venue's price, in its quote currency (USDT), not counted as the reporting currency (USD)."""
    from tui_trader.core import OrderRequest, Side

    home = Home.resolve(tmp_path / "home")
    eng = paper_engine(make_settings(), home=home)
    await eng.start()
    await step(eng, 4)
    for venue in ("paper", "rich"):
        placed = await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.01"), venue=venue, source="cli"), "cli")
        assert placed.status is OrderStatus.FILLED, placed.reason
    await eng.stop()

    eng = paper_engine(make_settings(), home=home)
    await eng.start()
    try:
        await step(eng, 4)
        for venue in ("paper", "rich"):
            pos = eng.portfolio.position(venue, "BTC/USDT")
            assert pos.quantity == D("0.01") and pos.mark == eng.tickers[(venue, "BTC/USDT")].mid
        by_ccy = {b.currency: b.positions for b in eng.portfolio.balances()}
        expected = sum(0.01 * eng.tickers[(v, "BTC/USDT")].mid for v in ("paper", "rich"))
        assert by_ccy.get("USDT") == pytest.approx(expected) and not by_ccy.get("USD")
    finally:
        await eng.stop()
