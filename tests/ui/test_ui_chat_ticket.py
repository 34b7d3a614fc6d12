"""The ticket opened from a pasted chat signal shows what was read (entry, stop, target, the
confidence) and what was not (a `not sure:` line per doubt, e.g. a number it could not
place), so the trader sees why it waits for them. Pilot, in-process engine."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import Input, Static

from tui_trader.ui.screens import PasteSignalScreen, TicketScreen

from ui_helpers import build_rig


async def _until(pilot, predicate, tries: int = 100) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition never became true")


async def test_the_ticket_shows_what_was_read_and_what_was_not() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await rig.ready(pilot)
        await pilot.press("p")
        await _until(pilot, lambda: isinstance(rig.app.screen, PasteSignalScreen))
        px = rig.engine.ticker("ETH/USDT").mid
        entry, stop, tp = round(px * 0.999, 2), round(px * 0.98, 2), round(px * 1.03, 2)
        stray = round(px * 1.2)  # a number the parser cannot place
        rig.app.screen.query_one(Input).value = f"ETH/USDT LONG entry {entry} SL {stop} TP1 {tp} maybe {stray}"
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(rig.app.screen, TicketScreen))
        ticket = rig.app.screen
        assert isinstance(ticket, TicketScreen)
        shown = str(ticket.query_one("#ticket-note", Static).render())
        read, *doubts = shown.splitlines()
        assert read.startswith("chat signal from manual")
        assert f"entry {Decimal(str(entry))}" in read and f"SL {Decimal(str(stop))}" in read
        assert f"TP {Decimal(str(tp))}" in read and "read with confidence 0.30" in read
        assert doubts == [
            "not sure: hedged wording ('maybe'): not a firm call",
            f"not sure: numbers not placed: {stray}",
        ]
        assert Decimal(ticket.values()["price"]) == Decimal(str(entry))  # what was read is filled in
