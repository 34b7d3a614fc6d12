"""Kill the engine mid-run (SIGKILL, no clean shutdown), start again: same orders and positions."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from decimal import Decimal as D
from pathlib import Path

from tui_trader.core.enums import OrderStatus
from tui_trader.engine.testing import manual_engine, paper_venue
from tui_trader.home import Home

CHILD = textwrap.dedent(
    """
    import asyncio, json, os, signal, sys
    from decimal import Decimal as D
    from tui_trader.core import OrderRequest, OrderType, Side
    from tui_trader.home import Home
    from tui_trader.engine.testing import manual_engine, step

    async def main(home, out):
        eng = manual_engine(home=Home.resolve(home))
        await eng.start()
        await step(eng, 5)
        filled = await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.25")))
        short = await eng.place(OrderRequest("ETH/USDT", Side.SELL, D("2")))
        mid = eng.mid("SOL/USDT")
        resting = await eng.place(OrderRequest("SOL/USDT", Side.BUY, D("5"), OrderType.LIMIT,
                                               price=D(str(round(mid * 0.97, 3)))))
        # An order persisted but never sent: the process dies between the two steps.
        from tui_trader.core.orders import Order
        lost = Order.from_request(OrderRequest("AAPL", Side.BUY, D("3")), "lost-1", "paper", eng.clock.now())
        await eng.store.save_order(lost)
        with open(out, "w") as fh:
            json.dump({"filled": filled.client_order_id, "resting": resting.client_order_id,
                       "short": short.client_order_id}, fh)
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_kill_minus_nine_then_restart_keeps_orders_and_positions(tmp_path: Path) -> None:
    out = tmp_path / "ids.json"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "home"), str(out)], capture_output=True, text=True
    )
    assert proc.returncode == -9, proc.stderr
    ids = json.loads(out.read_text())

    eng = manual_engine(home=Home.resolve(tmp_path / "home"))
    await eng.start()
    try:
        positions = {p.symbol: p.quantity for p in eng.portfolio.open_positions()}
        assert positions == {"BTC/USDT": D("0.25"), "ETH/USDT": D("-2")}
        # The venue (the paper exchange's own journal) agrees.
        assert paper_venue(eng).account.positions == positions
        open_ids = [o.client_order_id for o in eng.snapshot().open_orders]
        assert open_ids == [ids["resting"]]
        filled = await eng.store.get_order(ids["filled"])
        assert filled.status is OrderStatus.FILLED
        lost = await eng.store.get_order("lost-1")
        assert lost.status is OrderStatus.REJECTED and "never reached the venue" in lost.reason
        # The resting order still works after the restart: it can be cancelled.
        cancelled = await eng.cancel(ids["resting"])
        assert cancelled.status is OrderStatus.CANCELLED
    finally:
        await eng.stop()


async def test_clean_round_trip_restores_fills_and_equity(tmp_path: Path) -> None:
    from tui_trader.core import OrderRequest, Side
    from tui_trader.engine.testing import step

    home = Home.resolve(tmp_path / "h")
    eng = manual_engine(home=home)
    await eng.start()
    await step(eng, 3)
    await eng.place(OrderRequest("MSFT", Side.BUY, D("4")))
    equity_before = eng.account().equity
    fills_before = [f.fill_id for f in eng.fills]
    await eng.stop()

    again = manual_engine(home=home)
    await again.start()
    try:
        assert [f.fill_id for f in again.fills] == fills_before
        assert again.portfolio.positions[("paper", "MSFT")].quantity == D(4)
        assert abs(again.account().equity - equity_before) < 1.0  # marks identical after same steps
    finally:
        await again.stop()


SEND_KILLED = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from decimal import Decimal as D
    from tui_trader.core import OrderRequest, Side
    from tui_trader.home import Home
    from tui_trader.engine.testing import manual_engine, paper_venue, step

    async def main(home):
        eng = manual_engine(home=Home.resolve(home))
        await eng.start()
        await step(eng, 5)
        assert eng.store._now is not None  # the order is written on the loop's own connection

        async def killed(order):  # the process dies the moment the order would go out
            os.kill(os.getpid(), signal.SIGKILL)

        paper_venue(eng).create_order = killed
        await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.25"), client_order_id="at-send-1"))

    asyncio.run(main(sys.argv[1]))
    """
)


async def test_kill_minus_nine_as_the_order_is_sent_keeps_it_and_restart_settles_it(tmp_path: Path) -> None:
    """The order is written (with the audit row of its placing) before the send: a process
    killed at the send leaves it on disk, and the restart settles it with the venue (which never
    got it) instead of forgetting or resending it."""
    proc = subprocess.run([sys.executable, "-c", SEND_KILLED, str(tmp_path / "home")], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr

    eng = manual_engine(home=Home.resolve(tmp_path / "home"))
    await eng.start()
    try:
        order = await eng.store.get_order("at-send-1")  # type: ignore[union-attr]
        assert order is not None and order.status is OrderStatus.REJECTED
        assert "never reached the venue" in (order.reason or "")
        assert paper_venue(eng).matching.fills == [] and eng.portfolio.open_positions() == []
        placed = [r for r in await eng.store.audit_log() if r["action"] == "place"]  # type: ignore[union-attr]
        assert [r["detail"]["client_order_id"] for r in placed] == ["at-send-1"]
    finally:
        await eng.stop()


DEFERRED_KILLED = textwrap.dedent(
    """
    import asyncio, json, os, signal, sqlite3, sys
    from decimal import Decimal as D
    from tui_trader.core import OrderRequest, OrderType, Side
    from tui_trader.home import Home
    from tui_trader.engine.testing import manual_engine, step

    async def main(home, out):
        eng = manual_engine(home=Home.resolve(home))
        await eng.start()
        await step(eng, 5)
        await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.25")))
        below = D(str(round(eng.mid("BTC/USDT") * 0.95, 2)))
        stop = await eng.place(OrderRequest("BTC/USDT", Side.SELL, D("0.25"), OrderType.STOP, stop_price=below,
                                            client_order_id="stop-1"))
        # a protective stop's cancel: its final state waits for the next order's transaction
        eng.oms.defer_final("stop-1")
        cancelled = await eng.cancel("stop-1")
        with sqlite3.connect(eng.store.path) as reader:
            stored = reader.execute("SELECT status FROM orders WHERE client_order_id='stop-1'").fetchone()[0]
        with open(out, "w") as fh:
            json.dump({"placed": stop.status.value, "in_memory": cancelled.status.value, "stored": stored}, fh)
        os.kill(os.getpid(), signal.SIGKILL)  # before anything wrote it

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_kill_minus_nine_before_a_deferred_cancel_is_written_and_restart_settles_it(tmp_path: Path) -> None:
    """A stop's cancel waits to be stored with the next order (Store.defer_order). Killed
    before that, the database still says the stop works; the restart asks the venue, which
    cancelled it, and settles it: not working, not sent again, no second cancel needed."""
    out = tmp_path / "seen.json"
    proc = subprocess.run(
        [sys.executable, "-c", DEFERRED_KILLED, str(tmp_path / "home"), str(out)], capture_output=True, text=True
    )
    assert proc.returncode == -9, proc.stderr
    seen = json.loads(out.read_text())
    assert seen == {"placed": "accepted", "in_memory": "cancelled", "stored": "accepted"}

    eng = manual_engine(home=Home.resolve(tmp_path / "home"))
    await eng.start()
    try:
        assert [o.client_order_id for o in eng.snapshot().open_orders] == []
        stop = await eng.store.get_order("stop-1")  # type: ignore[union-attr]
        assert stop is not None and stop.status is OrderStatus.CANCELLED
        assert paper_venue(eng).matching.open_orders() == []
        assert {p.symbol: p.quantity for p in eng.portfolio.open_positions()} == {"BTC/USDT": D("0.25")}
    finally:
        await eng.stop()
