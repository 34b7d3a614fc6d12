"""Many venues as one in the workstation: with two paper instances, the Venues pane shows the
active symbol on both (best bid and offer after fees marked, one merged ladder), the Spreads pane
lists the pair, `buy ... on auto` routes, and the blotter shows the routed order as one row."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from tui_trader.config import Settings
from tui_trader.core.clock import FrozenClock
from tui_trader.engine import Engine
from tui_trader.engine.client import InProcessClient
from tui_trader.ui.app import WorkstationApp
from tui_trader.ui.commandline import OrderCommand, ParseError, parse_command
from tui_trader.ui.panes import BlotterPane, SpreadsPane, VenuesPane
from tui_trader.venues.registry import build_venues

from ui_helpers import START, HeldSource, Rig, answer, confirm_dialog


def routed_rig() -> Rig:
    settings = Settings(
        ui={"flash_ms": 0, "confirm_arm_ms": 100},
        paper={"symbols": ["BTC/USDT", "ETH/USDT"]},
        venues={"dear": {"kind": "paper", "seed": 11, "basis_bps": 25, "basis_noise_bps": 0}},  # type: ignore[dict-item]
    )
    clock = FrozenClock(START)
    venues = build_venues(settings, clock, None)
    for venue in venues.values():
        venue.source = HeldSource(venue.source)  # type: ignore[attr-defined]
    engine = Engine(settings, None, clock=clock, venues=venues, in_memory=True)
    return Rig(WorkstationApp(InProcessClient(engine), settings, None), engine, clock)


def step_all(rig: Rig, n: int) -> None:
    for venue in rig.engine.venues.values():
        for _ in range(n):
            rig.clock.advance(0.25)
            venue.source.step(venue)  # type: ignore[attr-defined]


async def test_venues_and_spreads_panes_and_a_routed_order() -> None:
    rig = routed_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot)
        step_all(rig, 4)
        rig.engine.scanner.scan()
        await rig.app.refresh_snapshot()
        await pilot.pause()
        venues = rig.app.query_one(VenuesPane)
        assert venues.is_mounted  # two venues: the grid has the pane
        rows = venues._sync.rows
        assert list(rows) == ["dear", "paper"]
        assert "bold" in str(rows["paper"][2][1])  # paper has the best offer (25 bp under dear's)
        assert "bold" in str(rows["dear"][1][1])  # and dear the best bid
        ladder = str(venues.query_one("#venues-ladder", Static).render())
        assert "paper" in ladder and "dear" in ladder
        await pilot.press("V")  # Spreads shares the grid's right slot with risk, signals and the tape
        await rig.app.refresh_snapshot()
        await pilot.pause()
        spreads = rig.app.query_one(SpreadsPane)
        rows = spreads._spreads.rows
        assert "BTC/USDT paper>dear" in rows, list(rows)

        await pilot.press("colon")
        await pilot.pause()
        await pilot.press(*"buy 0.1 BTC/USDT on auto", "enter")
        screen = await confirm_dialog(rig, pilot)  # the engine's dry run routed it: ready
        assert "routed 0.1 on paper" in str(screen.query_one("#confirm-check", Static).render())
        await answer(rig, pilot, "ctrl+y")
        for _ in range(100):
            parents = [o for o in rig.engine.recent_orders.values() if o.venue == "auto"]
            if parents and not parents[0].is_open:
                break
            await pilot.pause(0.02)
        [parent] = [o for o in rig.engine.recent_orders.values() if o.venue == "auto"]
        assert parent.filled_quantity == parent.quantity and parent.meta["venues"] == ["paper"]
        await rig.app.refresh_snapshot()
        await pilot.pause()
        blotter = rig.app.query_one(BlotterPane)
        shown = list(blotter._orders.rows)
        child = parent.meta["route"]["children"][0]
        assert parent.client_order_id in shown and child not in shown
        assert str(blotter._orders.rows[parent.client_order_id][7]).startswith("~")


async def test_with_one_venue_the_panes_stay_away() -> None:
    from ui_helpers import build_rig

    rig = build_rig()
    async with rig.app.run_test(size=(80, 24)) as pilot:
        await rig.ready(pilot)
        assert not rig.app.query(VenuesPane) and not rig.app.query(SpreadsPane)
        await pilot.press("v")  # the Venues pane's key says why there is none
        await pilot.pause()
        assert not rig.app.query(VenuesPane) and not rig.app.query("#tab-spreads")
        assert rig.app.query(DataTable)  # the workstation is whole


def test_command_line_on_a_venue() -> None:
    cmd = parse_command("buy 0.1 BTC/USDT mkt on auto")
    assert isinstance(cmd, OrderCommand) and cmd.request.venue == "auto"
    cmd = parse_command("sell 2 ETH/USDT limit 3500 via Paper2")
    assert isinstance(cmd, OrderCommand) and cmd.request.venue == "paper2" and cmd.request.price is not None
    with pytest.raises(ParseError, match="needs a venue"):
        parse_command("buy 1 BTC/USDT on")


async def test_the_ticket_on_auto_with_the_cheaper_venue_down_goes_elsewhere_and_says_why() -> None:
    """The ticket's Venue field on auto; `paper` (the cheaper) is down: the confirmation says
    where the order will go and what is not used; it fills on `dear`, and a toast says why."""
    from textual.widgets import Input, Select

    from tui_trader.ui.screens import TicketScreen

    rig = routed_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot)
        step_all(rig, 4)
        await rig.engine.venues["paper"].close()
        await rig.app.refresh_snapshot()
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        ticket = rig.app.screen
        assert isinstance(ticket, TicketScreen)
        ticket.query_one("#f-venue", Select).value = "auto"
        ticket.query_one("#f-type", Select).value = "market"
        ticket.query_one("#f-quantity", Input).value = "0.1"
        await pilot.pause()
        await pilot.press("ctrl+s")
        screen = await confirm_dialog(rig, pilot)
        check = str(screen.query_one("#confirm-check", Static).render())
        assert "routed 0.1 on dear" in check and "not used: paper (disconnected)" in check, check
        await answer(rig, pilot, "ctrl+y")
        for _ in range(100):
            parents = [o for o in rig.engine.recent_orders.values() if o.venue == "auto"]
            if parents and not parents[0].is_open:
                break
            await pilot.pause(0.02)
        [parent] = [o for o in rig.engine.recent_orders.values() if o.venue == "auto"]
        assert parent.filled_quantity == parent.quantity and parent.meta["venues"] == ["dear"]
        for _ in range(50):
            toasts = [n.message for n in rig.app._notifications]
            if any("paper (disconnected) not used" in m for m in toasts):
                break
            await pilot.pause(0.02)
        assert any("paper (disconnected) not used" in m for m in toasts), toasts


def test_an_oco_pair_on_a_venue_keeps_both_legs_there() -> None:
    cmd = parse_command("sell 1 BTC/USDT limit 66000 oco 63000 on dear")
    assert isinstance(cmd, OrderCommand) and cmd.oco is not None
    assert (cmd.request.venue, cmd.oco.venue) == ("dear", "dear")
