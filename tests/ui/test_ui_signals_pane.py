"""Signals pane: recommendations ranked, a ticket pre-filled from one, a pasted chat signal
confirmed into a ticket (entry, stop, target), and orders still confirmed before sending."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import Input, Static

from tui_trader.core.enums import Direction
from tui_trader.core.signals import Signal
from tui_trader.ui.panes import SignalsPane
from tui_trader.ui.panes.signals import rank_recommendations
from tui_trader.ui.screens import ConfirmScreen, PasteSignalScreen, TicketScreen

from ui_helpers import answer, build_rig


async def _frame(rig, pilot) -> None:  # type: ignore[no-untyped-def]
    await rig.app.workers.wait_for_complete()
    await rig.app.refresh_snapshot()
    await pilot.pause()


async def _until(pilot, predicate, tries: int = 100) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition never became true")


def test_rank_by_absolute_score() -> None:
    recs = [
        {"symbol": "A", "score": 0.2},
        {"symbol": "B", "score": -0.7},
        {"symbol": "C", "score": 0.5},
    ]
    assert [r["symbol"] for r in rank_recommendations(recs)] == ["B", "C", "A"]


async def test_ticket_from_recommendation_is_prefilled_and_confirmed() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await rig.ready(pilot)
        from tui_trader.engine.signal_service import ensure_service

        await ensure_service(rig.engine)
        rig.engine.publish_signal(
            Signal(
                "strategy:ema_cross",
                "ETH/USDT",
                Direction.SHORT,
                0.9,
                rig.clock.now(),
                reason="EMA 9 crossed below EMA 21",
                confidence=0.8,
                timeframe="1m",
            )
        )
        await _frame(rig, pilot)
        await pilot.press("7")
        await _frame(rig, pilot)
        pane = rig.app.query_one(SignalsPane)
        recs = pane._syncs["recs-table"].rows
        assert "ETH/USDT" in recs
        assert recs["ETH/USDT"][1][0] == "short"
        assert "strategy:ema_cross" in recs["ETH/USDT"][5]
        assert pane.select("recs-table", "ETH/USDT")
        await pilot.press("o")
        await _until(pilot, lambda: isinstance(rig.app.screen, TicketScreen))
        ticket = rig.app.screen
        values = ticket.values()
        assert values["side"] == "sell" and values["symbol"] == "ETH/USDT"
        mid = rig.engine.ticker("ETH/USDT").mid
        assert abs(float(values["price"]) - mid) < 0.01
        assert "recommendation" in ticket.note
        ticket.query_one("#f-quantity", Input).value = "0.1"
        await pilot.pause()
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(rig.app.screen, ConfirmScreen))
        assert "SELL" in rig.app.screen.body_text
        await pilot.press("n")  # refused: nothing is sent
        await _frame(rig, pilot)
        assert rig.engine.oms.open_orders() == []


async def test_paste_chat_signal_prefills_entry_stop_and_target() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await rig.ready(pilot)
        await pilot.press("p")
        await _until(pilot, lambda: isinstance(rig.app.screen, PasteSignalScreen))
        field = rig.app.screen.query_one(Input)
        field.value = "this is not a trade"
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(rig.app.screen, PasteSignalScreen) and rig.app.screen.error_text)
        assert rig.app.screen.query_one(Input).value == "this is not a trade"
        px = rig.engine.ticker("ETH/USDT").mid
        entry, stop, tp = round(px * 0.999, 2), round(px * 0.98, 2), round(px * 1.03, 2)
        rig.app.screen.query_one(Input).value = f"ETH/USDT LONG entry {entry} SL {stop} TP1 {tp}"
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(rig.app.screen, TicketScreen))
        values = rig.app.screen.values()
        assert values["side"] == "buy" and values["symbol"] == "ETH/USDT"
        assert Decimal(values["price"]) == Decimal(str(entry))
        assert Decimal(values["stop_loss"]) == Decimal(str(stop))
        assert Decimal(values["take_profit"]) == Decimal(str(tp))
        assert "chat signal from manual" in rig.app.screen.note
        await pilot.press("escape")
        await _frame(rig, pilot)
        await pilot.press("7")
        await _frame(rig, pilot)
        chats = rig.app.query_one(SignalsPane)._syncs["chat-table"].rows
        assert len(chats) == 1
        (row,) = chats.values()
        assert (row[2], row[3], row[9][0]) == ("entry", "ETH/USDT", "confirmed")


async def test_pasted_exit_asks_then_closes_the_position_that_message_s_entry_opened() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await rig.ready(pilot)
        await pilot.press("p")
        await _until(pilot, lambda: isinstance(rig.app.screen, PasteSignalScreen))
        px = rig.engine.ticker("ETH/USDT").mid
        rig.app.screen.query_one(Input).value = (
            f"ETH/USDT LONG now SL {round(px * 0.97, 2)} TP1 {round(px * 1.04, 2)}"
        )
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(rig.app.screen, TicketScreen))
        assert "read with confidence" in rig.app.screen.note
        rig.app.screen.query_one("#f-quantity", Input).value = "0.1"
        await pilot.pause()
        await pilot.press("enter")
        await answer(rig, pilot, "ctrl+y")
        await _until(pilot, lambda: rig.engine.portfolio.position("paper", "ETH/USDT").quantity == Decimal("0.1"))
        orders = [o for o in rig.engine.oms.orders.values() if o.source == "signal:manual"]
        assert orders and all(o.tag == "chat-1" for o in orders)

        await pilot.press("p")
        await _until(pilot, lambda: isinstance(rig.app.screen, PasteSignalScreen))
        rig.app.screen.query_one(Input).value = "Closing my ETH long here, +2% 💰"
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(rig.app.screen, ConfirmScreen))
        assert "exit close 100%" in rig.app.screen.body_text and "chat-1" in rig.app.screen.body_text
        await answer(rig, pilot, "ctrl+y")
        await _until(pilot, lambda: rig.engine.portfolio.position("paper", "ETH/USDT").quantity == 0)
        await _frame(rig, pilot)
        await pilot.press("7")
        await _frame(rig, pilot)
        chats = rig.app.query_one(SignalsPane)._syncs["chat-table"].rows
        assert chats["chat-2"][2] == "exit" and chats["chat-2"][5] == "close 100%"
        assert chats["chat-2"][9][0] == "done"


# The ticket shows what was read (entry, stop, target, confidence) and what was not (a `not sure:`
# line per doubt), so the trader sees why it waits for them.
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
