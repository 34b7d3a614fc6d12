"""`tui-trader attach`: the workstation driven with Pilot, fed by a daemon through RemoteClient."""

from __future__ import annotations

from decimal import Decimal

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.daemon.remote_client import RemoteClient
from tui_trader.engine.testing import step
from tui_trader.ui.app import WorkstationApp


async def test_two_workstations_attach_and_detach(served) -> None:  # type: ignore[no-untyped-def]
    engine, server, home = served
    first = WorkstationApp(RemoteClient.for_home(home, refresh_hz=20), engine.settings, None)
    second = WorkstationApp(RemoteClient.for_home(home, refresh_hz=20), engine.settings, None)
    async with first.run_test(size=(100, 30)) as p1, second.run_test(size=(100, 30)) as p2:
        for _ in range(300):
            if first.snapshot is not None and second.snapshot is not None:
                break
            await p1.pause(0.01)
        assert first.snapshot is not None and second.snapshot is not None
        assert first.client.attached and len(server.connections) == 2
        below = Decimal(round(engine.mid("BTC/USDT") * 0.97))
        order = await first.client.place(
            OrderRequest("BTC/USDT", Side.BUY, Decimal("0.01"), OrderType.LIMIT, price=below)
        )
        assert order.status is OrderStatus.ACCEPTED, order.reason
        await step(engine, 2)
        for _ in range(300):
            await second.refresh_snapshot()
            if second.snapshot and any(o.client_order_id == order.client_order_id for o in second.snapshot.open_orders):
                break
            await p2.pause(0.01)
        assert [o.client_order_id for o in second.snapshot.open_orders] == [order.client_order_id]
        await p1.pause()
    assert engine.started and engine.oms is not None
    assert [o.client_order_id for o in engine.oms.open_orders()] == [order.client_order_id]


async def test_attached_workstation_shows_the_daemon_badge_the_tape_and_the_dry_run(served) -> None:  # type: ignore[no-untyped-def]
    """Attached: the ⇄ DAEMON badge with the daemon's pid; the tape and the performance pane
    read through `call` like in-process; the order dialog's dry run answers from the daemon."""
    import os

    from textual.widgets import DataTable

    from tui_trader.ui.panes.statusbar import AttachBadge
    from tui_trader.ui.panes.tape import TapePane
    from tui_trader.ui.screens import ConfirmScreen

    engine, _server, home = served
    app = WorkstationApp(RemoteClient.for_home(home, refresh_hz=20), engine.settings, None)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(300):
            if app.snapshot is not None:
                break
            await pilot.pause(0.01)
        await step(engine, 3)
        await app.refresh_snapshot()
        await pilot.pause()
        badge = app.query_one(AttachBadge)
        assert badge.display and f"DAEMON pid {os.getpid()}" in str(badge.render())
        await pilot.press("9")
        for _ in range(200):
            await app.refresh_snapshot()
            if app.query_one(TapePane).prints:
                break
            await pilot.pause(0.02)
        assert app.query_one(TapePane).prints, "no prints reached the tape"
        await pilot.press("0")
        for _ in range(100):
            await app.refresh_snapshot()
            if app.query_one("#pane-performance").report is not None:  # type: ignore[attr-defined]
                break
            await pilot.pause(0.02)
        assert app.query_one("#perf-table", DataTable) is not None
        app.submit_order(OrderRequest("BTC/USDT", Side.BUY, Decimal("100000")))
        for _ in range(300):
            screen = app.screen
            if isinstance(screen, ConfirmScreen) and screen.state == "refused":
                break
            await pilot.pause(0.02)
        assert isinstance(app.screen, ConfirmScreen) and app.screen.state == "refused"
        assert "free" in app.screen.refusal
        await pilot.press("escape")
        await pilot.pause()
    assert engine.oms is not None and list(engine.oms.open_orders()) == []
