"""The Copy trading pane on the follower's workstation: the leader's row fills in as fills are
mirrored, and `e` stops and starts following through the engine."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import DataTable

from tui_trader.core.enums import Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine.client import InProcessClient
from tui_trader.ui.app import WorkstationApp
from tui_trader.ui.panes import CopyPane

from copy_helpers import Pair, until


def cells(app: WorkstationApp) -> dict[str, str]:
    """The first row by column (a narrow pane shows fewer columns: they fit, never scroll)."""
    table = app.query_one("#copy-table", DataTable)
    labels = [str(c.label) for c in table.columns.values()]
    return dict(zip(labels, (str(c) for c in table.get_row_at(0)), strict=True))


async def test_the_pane_shows_the_leader_and_starts_and_stops_it(pair: Pair) -> None:
    p = pair
    app = WorkstationApp(InProcessClient(p.follower), p.follower.settings, p.follower_home)
    async with app.run_test(size=(160, 48)) as pilot:
        await p.leader.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.1")))
        await until(lambda: p.status()["mirrored"] == 1, what="the mirrored fill")
        await pilot.press("f8")  # its tab beside Risk and Signals comes to the front
        await app.refresh_snapshot()
        await pilot.pause()
        pane = app.query_one(CopyPane)
        assert pane.display
        row = cells(app)
        assert row["Leader"] == "lead" and row["State"] == "following" and row["P&L"] != "-", row
        assert "held: BTC/USDT 0.05000" in str(app.query_one("#copy-note").render())  # no room for a Held column here
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await app.refresh_snapshot()
        await pilot.pause()
        assert p.status()["enabled"] is False and cells(app)["State"] == "stopped"
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await until(lambda: p.status()["state"] == "connected", what="following again")
        await app.refresh_snapshot()
        await pilot.pause()
        assert cells(app)["State"] == "following"

