"""No order sent by accident: the confirmation cannot be answered by keys typed before it was
shown, it opens before the engine's dry run answers, it never offers what the engine would
refuse, and every path that sends or changes an order (modify, close, one-key) or quits with
work outstanding asks first."""

from __future__ import annotations

import asyncio
import gc
from decimal import Decimal
from typing import Any

from textual import events
from textual._time import get_time
from textual.widgets import Button, Input

from tui_trader.core.enums import OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.orders import OrderRequest
from tui_trader.ui.panes import PositionsPane
from tui_trader.ui.panes.statusbar import StatusBar
from tui_trader.ui.screens import ConfirmScreen, TicketScreen

from ui_helpers import answer, build_rig, confirm_dialog, open_line, settle

SIZE = (100, 30)


def sent(rig) -> list:  # type: ignore[no-untyped-def]
    return [o for o in rig.engine.recent_orders.values() if o.status is not OrderStatus.REJECTED]


async def typed(rig, pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    line = await open_line(rig, pilot)
    line.field.value = text


async def test_keys_typed_before_the_dialog_was_shown_are_dropped() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await typed(rig, pilot, "buy 0.01 BTC/USDT mkt")
        # The trader types Enter, then at once `y`, `ctrl+y` and Enter (for the next command):
        # the terminal reads them all now, the busy app gets to them later.
        burst = [events.Key(k, None) for k in ("y", "ctrl+y", "enter", "y")]
        await pilot.press("enter")
        dialog = await confirm_dialog(rig, pilot)  # shown, checked and armed
        assert all(key.time < dialog.shown_at for key in burst)
        for key in burst:
            rig.app.post_message(key)
        await pilot.pause(0.1)
        assert rig.app.screen is dialog and sent(rig) == []
        # Typed after it is shown, `y` still does nothing: it is a letter of the grammar.
        await pilot.press("y")
        await pilot.pause(0.1)
        assert rig.app.screen is dialog and sent(rig) == []
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        assert [o.symbol for o in sent(rig)] == ["BTC/USDT"]


async def test_the_command_line_keeps_the_keyboard_until_the_dialog_and_a_second_enter_sends_nothing() -> None:
    """Between Enter and the dialog the keys go to the command line (the workstation's hotkeys
    cannot catch them: `b` would open a ticket), the line closes under the dialog once it is
    shown, and Enter pressed twice on the command line asks once."""
    rig = build_rig()
    slow = SlowCheck(rig.app.client)
    rig.app.client = slow  # type: ignore[assignment]
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        main = rig.app.screen
        before = rig.app.focused
        await typed(rig, pilot, "buy 0.01 BTC/USDT mkt")
        line = rig.app.command_line
        tops: list[object] = []
        rig.app.screen_change_signal.subscribe(rig.app, tops.append)
        line.field.post_message(Input.Submitted(line.field, "buy 0.01 BTC/USDT mkt"))
        for key in ("enter", "b", "x"):  # a second Enter, then hotkeys (buy ticket, cancel all)
            rig.app.post_message(events.Key(key, None if key == "enter" else key))
        dialog = await confirm_dialog(rig, pilot, "checking")
        assert tops == [dialog] and rig.app.screen_stack == [main, dialog]
        await pilot.pause()
        assert not line.is_open and line.field.value == "" and main.focused is before
        assert gc.isenabled()  # held off from Enter to the dialog's first frame only
        slow.release.set()
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        assert len(sent(rig)) == 1 and rig.app.screen is main and tops[-1] is main


async def test_keys_typed_in_one_burst_after_the_colon_are_typed_into_the_line() -> None:
    """`:buy 0.01 BTC/USDT mkt` Enter `y`, all read before the app gets to the first of them
    (a fast typist, tmux, a macro): the line has the keyboard from the `:` on, so `b`, `u`, `y`
    are typed, not run as hotkeys, and the `y` after Enter answers nothing."""
    from textual.keys import _character_to_key

    rig = build_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        main = rig.app.screen
        for char in ":buy 0.01 BTC/USDT mkt":
            rig.app.post_message(events.Key(_character_to_key(char), char))
        rig.app.post_message(events.Key("enter", None))
        rig.app.post_message(events.Key("y", "y"))
        dialog = await confirm_dialog(rig, pilot)
        assert rig.app.screen_stack == [main, dialog] and "Send BUY 0.01 BTC/USDT" in dialog.title_text
        assert rig.app.command_line.history[-1] == "buy 0.01 BTC/USDT mkt"
        await pilot.press("y")
        await pilot.pause(0.1)
        assert rig.app.screen is dialog and sent(rig) == []
        await answer(rig, pilot, "escape")
        await settle(rig, pilot)
        assert sent(rig) == [] and not any(isinstance(s, TicketScreen) for s in rig.app.screen_stack)


async def _burst_after_enter(rig, pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    """`text` Enter, then at once `b` (buy ticket), `x` (cancel all) and `s`, all read before the
    app gets to the first of them."""
    line = rig.app.command_line
    await typed(rig, pilot, text)
    after_enter: list[tuple[bool, bool]] = []
    submit = line.submit

    def submitted(value: str) -> None:  # where the keyboard is once Enter has been handled
        submit(value)
        after_enter.append((line.is_open, rig.app.focused is line.field))

    line.submit = submitted  # type: ignore[method-assign]
    line.field.post_message(Input.Submitted(line.field, text))
    for key in ("b", "x", "s"):
        rig.app.post_message(events.Key(key, key))
    await confirm_dialog(rig, pilot)
    line.submit = submit  # type: ignore[method-assign]
    assert after_enter == [(True, True)]  # the line kept it until the dialog


async def test_keys_after_flatten_or_cancel_all_reach_no_hotkey_before_their_dialog() -> None:
    """`:flatten` and `:cancel all` ask first, like orders: the line keeps the keyboard until
    their dialog is up, so keys typed after Enter open no ticket and run no second command."""
    rig = build_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        main = rig.app.screen
        below = Decimal(round(rig.engine.mid("BTC/USDT") * 0.99))
        await rig.app.client.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.01"), OrderType.LIMIT, below))
        await rig.app.refresh_snapshot()
        for text, title in (("flatten", "Flatten everything"), ("cancel all", "Cancel all?")):
            await _burst_after_enter(rig, pilot, text)
            dialog = await confirm_dialog(rig, pilot)
            assert dialog.title_text == title and rig.app.screen_stack == [main, dialog]
            assert not rig.app.command_line.is_open
            await answer(rig, pilot, "escape", danger=text == "flatten")
            await settle(rig, pilot)
            assert rig.app.screen_stack == [main]
        assert [o.status for o in sent(rig)] == [OrderStatus.ACCEPTED]  # nothing cancelled or sent


async def test_a_command_that_has_nothing_to_ask_closes_the_line_or_says_why_inline() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        main = rig.app.screen
        line = rig.app.command_line
        await typed(rig, pilot, "cancel all")  # nothing working: said, and the line closes
        await pilot.press("enter")
        await settle(rig, pilot)
        assert rig.app.screen_stack == [main] and not line.is_open and not line.handed_off
        await typed(rig, pilot, "close eth")  # nothing held: said inline, the line stays to fix it
        await pilot.press("enter")
        await settle(rig, pilot)
        assert line.is_open and not line.handed_off and line.error_text == "no open position in ETH/USDT"
        assert rig.app.screen_stack == [main] and sent(rig) == []


async def test_history_and_escape_over_a_zoomed_pane() -> None:
    """↑/↓ recall what ran; Esc closes the line even over a zoomed pane (Textual would unzoom)."""
    rig = build_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        for text in ("tf 5m", "symbol eth/usdt"):
            line = await open_line(rig, pilot)
            line.field.value = text
            await pilot.press("enter")
            await pilot.pause()
            assert not line.is_open
        await pilot.press("3")  # the chart, focused
        await pilot.press("z")
        await pilot.pause()
        zoomed = rig.app.screen.maximized
        assert zoomed is not None
        line = await open_line(rig, pilot)
        await pilot.press("up")
        assert line.field.value == "symbol eth/usdt"
        await pilot.press("up", "up")
        assert line.field.value == "tf 5m"
        await pilot.press("down", "down")
        assert line.field.value == ""
        await pilot.press("escape")
        await pilot.pause()
        assert not line.is_open and rig.app.screen.maximized is zoomed
        assert rig.app.focused is not None and zoomed in rig.app.focused.ancestors_with_self


async def test_the_ticket_hands_its_order_to_the_dialog_in_place() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        main = rig.app.screen
        rig.app.action_ticket("buy", "market")
        await pilot.pause()
        ticket = rig.app.screen
        ticket.query_one("#f-quantity", Input).value = "0.01"
        await pilot.press("ctrl+s")
        await pilot.press("ctrl+s")  # twice: asked once
        dialog = await confirm_dialog(rig, pilot)
        assert rig.app.screen_stack == [main, dialog]
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        assert len(sent(rig)) == 1 and rig.app.screen is main


async def test_an_order_refused_before_asking_closes_the_command_line_it_came_from() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        main = rig.app.screen
        rig.app.command_line.check = None  # skip the inline check
        await typed(rig, pilot, "buy 0.0000001 BTC/USDT mkt")  # below the lot: the preview refuses
        await pilot.press("enter")
        await settle(rig, pilot)
        assert rig.app.screen is main and sent(rig) == [] and not rig.app.command_line.is_open
        assert gc.isenabled()
        assert "order not sent" in rig.app.query_one(StatusBar).message


async def test_the_confirm_key_waits_for_the_arming_delay_and_enter_defaults_to_no() -> None:
    rig = build_rig(confirm_arm_ms=1500)
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await typed(rig, pilot, "buy 0.01 BTC/USDT mkt")
        await pilot.press("enter")
        for _ in range(200):
            screen = rig.app.screen
            if isinstance(screen, ConfirmScreen) and screen.state == "ready" and screen.shown_at <= get_time():
                break
            await pilot.pause(0.01)
        dialog = rig.app.screen
        assert isinstance(dialog, ConfirmScreen) and get_time() < dialog.armed_at
        assert dialog.query_one("#yes", Button).disabled  # cannot be clicked or tabbed to yet
        await pilot.press("ctrl+y")  # too early: ignored
        await pilot.pause()
        assert rig.app.screen is dialog and sent(rig) == []
        assert rig.app.focused is dialog.query_one("#no", Button)
        await confirm_dialog(rig, pilot)  # armed now
        await pilot.press("enter")  # Enter presses the focused button: No
        await settle(rig, pilot)
        assert not isinstance(rig.app.screen, ConfirmScreen) and sent(rig) == []
        assert rig.app.query_one(StatusBar).message == "order not sent"


class SlowCheck:
    """A client whose dry run answers only when the test says so."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def call(self, command: str, **params: Any) -> Any:
        if command == "order.check":
            await self.release.wait()
        return await self.inner.call(command, **params)


async def test_the_dialog_opens_before_the_engine_answers() -> None:
    rig = build_rig()
    slow = SlowCheck(rig.app.client)
    rig.app.client = slow  # type: ignore[assignment]
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await typed(rig, pilot, "buy 0.01 BTC/USDT mkt")
        await pilot.press("enter")
        dialog = await confirm_dialog(rig, pilot, "checking")
        assert "checking with the engine" in dialog.body_text and "Notional" in dialog.body_text
        await pilot.pause(0.3)  # longer than the arming delay: still not confirmable
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert rig.app.screen is dialog and dialog.state == "checking" and sent(rig) == []
        slow.release.set()
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        assert len(sent(rig)) == 1


async def test_what_the_engine_would_refuse_is_never_offered() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        mid = rig.engine.mid("BTC/USDT")
        cases = {
            "buy 100000 BTC/USDT": "free",  # 6.5 billion on a 200k account
            f"buy 0.01 BTC/USDT stop {round(mid * 0.97)}": "must be above the market",
            f"buy 0.01 BTC/USDT limit {round(mid * 0.85)}": "band",
            f"sell 0.01 BTC/USDT stop {round(mid * 1.02)} limit {round(mid * 1.01)}": "must be below the market",
        }
        for text, reason in cases.items():
            await typed(rig, pilot, text)
            await pilot.press("enter")
            dialog = await confirm_dialog(rig, pilot, "refused")
            assert reason in dialog.refusal, (text, dialog.refusal)
            assert not dialog.query_one("#yes", Button).display
            await pilot.pause(0.2)
            await pilot.press("ctrl+y")  # nothing to confirm
            await pilot.pause()
            assert rig.app.screen is dialog
            await pilot.press("escape")
            await settle(rig, pilot)
            assert reason in rig.app.query_one(StatusBar).message
        assert rig.engine.recent_orders == {}  # not even a rejection was recorded: nothing was sent


async def test_one_key_orders_are_confirmed_and_leave_nothing_resting() -> None:
    rig = build_rig(quick_notional=1000)
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        ask = rig.engine.tickers[("paper", "BTC/USDT")].ask
        size = (Decimal(1000) / Decimal(str(ask))).quantize(Decimal("0.00001"), rounding="ROUND_DOWN")
        await pilot.press("B")
        dialog = await confirm_dialog(rig, pilot)
        assert f"One-key buy: {size} BTC/USDT" in dialog.title_text
        await answer(rig, pilot, "n")
        await settle(rig, pilot)
        assert sent(rig) == []
        await pilot.press("B")
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        [order] = sent(rig)
        assert (order.side, order.type, order.time_in_force) == (Side.BUY, OrderType.LIMIT, TimeInForce.IOC)
        assert float(order.price) == round(ask, 2) and order.quantity == size
        assert rig.engine.oms.open_orders() == []


async def test_close_a_position_from_the_command_line_and_the_positions_pane() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await rig.app.client.place(OrderRequest("ETH/USDT", Side.BUY, Decimal("0.5")))
        await rig.app.client.place(OrderRequest("SOL/USDT", Side.SELL, Decimal("3")))
        await rig.app.refresh_snapshot()
        await typed(rig, pilot, "close eth")
        await pilot.press("enter")
        dialog = await confirm_dialog(rig, pilot)
        assert "Close ETH/USDT: sell 0.5 at market" in dialog.title_text
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        assert [p.symbol for p in rig.engine.portfolio.open_positions()] == ["SOL/USDT"]
        await rig.app.refresh_snapshot()
        await pilot.press("4")
        await rig.app.refresh_snapshot()
        await pilot.pause()
        rig.app.query_one(PositionsPane).focus_main()
        await pilot.press("c")
        dialog = await confirm_dialog(rig, pilot)
        assert "Close SOL/USDT: buy 3 at market" in dialog.title_text
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
        assert rig.engine.portfolio.open_positions() == []
        closing = [o for o in sent(rig) if o.reduce_only]
        assert len(closing) == 2


async def test_ctrl_q_asks_while_orders_are_working() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        below = Decimal(round(rig.engine.mid("ETH/USDT") * 0.97))
        await rig.app.client.place(
            OrderRequest("ETH/USDT", Side.BUY, Decimal(1), OrderType.LIMIT, below, take_profit=below * 2)
        )
        await rig.app.refresh_snapshot()
        await pilot.press("ctrl+q")
        dialog = await confirm_dialog(rig, pilot)
        assert "1 order(s) are working" in dialog.body_text
        await answer(rig, pilot, "escape")
        await settle(rig, pilot)
        assert rig.app.is_running
        await pilot.press("ctrl+q")
        await answer(rig, pilot, "ctrl+y")
        await settle(rig, pilot)
    assert rig.app.return_code == 0


async def test_quitting_with_nothing_outstanding_does_not_ask() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await pilot.press("ctrl+q")
        await settle(rig, pilot)
    assert rig.app.return_code == 0
