"""A chat signal provider as a copy leader: the provider's calls (through the chat desk, as a
webhook or a paste delivers them) are mirrored by the follower's engine: entries sized by
[risk.sizing] times scale with the call's stop and target, partial and full exits, stop moves,
cancels, skips with reasons, and no call acted on twice across a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tui_trader.config import Settings
from tui_trader.config.copy import CopySettings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderType, Side
from tui_trader.engine import Engine
from tui_trader.engine.copy.plan import order_id
from tui_trader.engine.testing import manual_engine, paper_settings, step
from tui_trader.home import Home
from tui_trader.store.mirrors import SENDING, Mirror, MirrorRecords

from copy_helpers import until

SYMBOL = "BTC/USDT"


@dataclass
class Chat:
    engine: Engine
    home: Home
    clock: FrozenClock
    copy: CopySettings

    async def say(self, text: str, provider: str = "alpha") -> Any:
        return await self.engine.signal_service.chat.submit_chat(text, provider, origin="webhook")

    def status(self) -> dict[str, Any]:
        return self.engine.copy.status("sig")

    def fills(self) -> list[Any]:
        return [f for f in self.engine.fills if f.symbol == SYMBOL]

    def protection(self) -> list[Any]:
        return [o for o in self.engine.oms.open_orders() if o.tag == "copy:sig" and o.reduce_only]

    def mid(self) -> float:
        return self.engine.mid(SYMBOL)

    async def restart(self, **settings: Any) -> None:
        await self.engine.stop()
        self.engine = make_engine(self.home, self.clock, self.copy, **settings)
        await self.engine.start()
        await step(self.engine, 1, seconds=0)


def make_engine(home: Home, clock: FrozenClock, copy: CopySettings, **extra: Any) -> Engine:
    base = paper_settings().model_dump(exclude_defaults=True)
    doc = {**base, "copy": {"sig": copy.model_dump(exclude_defaults=True)},
           "risk": {"sizing": {"mode": "fixed_quantity", "quantity": 0.1}}, **extra}  # fmt: skip
    return manual_engine(Settings.model_validate(doc), home=home, clock=clock)


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    clock = FrozenClock()
    home = Home(tmp_path / "follower").ensure()
    copy = CopySettings(leader="chat:alpha", scale=0.5)
    c = Chat(make_engine(home, clock, copy), home, clock, copy)
    await c.engine.start()
    await step(c.engine, 1, seconds=0)
    await until(lambda: c.status()["state"] == "connected", what="the chat leader to be followed")
    try:
        yield c
    finally:
        await c.engine.stop()


def entry(mid: float, side: str = "LONG") -> str:
    sign = 1 if side == "LONG" else -1
    return (f"BTC/USDT {side} entry {mid - 10:.0f}-{mid + 10:.0f} SL {mid * (1 - sign * 0.02):.0f} "
            f"TP1 {mid * (1 + sign * 0.03):.0f}")  # fmt: skip


async def test_an_entry_call_is_mirrored_at_scale_with_the_calls_stop_and_target(chat: Chat) -> None:
    c = chat
    mid = c.mid()
    item = await c.say(entry(mid))
    await until(lambda: c.status()["positions"] == {SYMBOL: "0.05000"}, what="the mirrored entry")
    fills = c.fills()
    assert sum(f.quantity for f in fills) == Decimal("0.05")  # [risk.sizing] 0.1 x scale 0.5
    order = c.engine.oms.orders[fills[0].client_order_id]
    assert order.client_order_id == order_id("sig", f"chat:{item.id}")
    assert order.source == "copy:sig" and order.tag == "copy:sig" and order.type is OrderType.LIMIT
    assert order.price == Decimal(f"{mid + 10:.0f}") * Decimal("1.005")  # the zone's far edge + 50 bps
    levels = {o.type: (o.stop_price or o.price, o.quantity) for o in c.protection()}
    assert levels == {OrderType.STOP: (Decimal(f"{mid * 0.98:.0f}"), Decimal("0.05")),
                      OrderType.LIMIT: (Decimal(f"{mid * 1.03:.0f}"), Decimal("0.05"))}  # fmt: skip
    st = c.status()
    assert st["leader"] == "chat provider alpha" and st["kind"] == "chat:alpha"
    assert st["calls"] == {"entry": 1} and st["mirrored"] == 1 and st["skipped"] == 0
    assert abs(st["slippage_bps"]["max"]) < 10  # against the call's price (the zone's middle)
    audit = await c.engine.store.audit_log(100)
    assert any(r["actor"] == "copy:sig" and r["action"] == "place" for r in audit)
    # the chat desk itself did not trade it: the call waits for the trader there, as before
    assert c.engine.signal_service.chat.pending[item.id].status == "pending"


async def test_a_partial_exit_a_stop_move_and_a_full_exit_act_on_the_copy(chat: Chat) -> None:
    c = chat
    await c.say(entry(c.mid()))
    await until(lambda: c.status()["positions"] == {SYMBOL: "0.05000"}, what="the entry")
    await step(c.engine)
    await c.say("BTC/USDT take 50% profit here")
    await until(lambda: c.status()["positions"] == {SYMBOL: "0.02500"}, what="half closed")
    close = c.engine.oms.orders[c.fills()[-1].client_order_id]
    assert close.reduce_only and close.side is Side.SELL and close.tag == "copy:sig"
    assert sorted(o.quantity for o in c.protection()) == [Decimal("0.025")] * 2  # re-placed for the rest
    stop = Decimal(f"{c.mid() * 0.99:.0f}")
    await c.say(f"BTC/USDT move stop to {stop}")
    assert {o.stop_price for o in c.protection() if o.type is OrderType.STOP} == {stop}
    assert len(c.protection()) == 2  # the target stays
    await c.say("Close BTC/USDT")
    await until(lambda: c.status()["positions"] == {}, what="the copy closed")
    assert c.engine.portfolio.positions[("paper", SYMBOL)].is_flat
    await until(lambda: not c.protection(), what="the stop and target cancelled")
    st = c.status()
    assert st["calls"] == {"entry": 1, "exit": 2, "update": 1}
    assert st["mirrored"] == 3 and st["skipped"] == 0
    pnl = st["pnl"]
    assert pnl["difference"] == pytest.approx(pnl["mirrored"] - pnl["leader_at_your_size"])


async def test_calls_that_cannot_be_mirrored_are_skipped_with_their_reason(chat: Chat) -> None:
    c = chat
    mid = c.mid()
    await c.say(f"BTC/USDT LONG entry {mid * 0.9:.0f}-{mid * 0.91:.0f} SL {mid * 0.85:.0f} TP1 {mid * 0.95:.0f}")
    await c.say("Close BTC/USDT")  # nothing copied
    await c.say("Cancel BTC/USDT entry")
    await c.say(f"BTC/USDT SHORT entry {mid - 5:.0f}-{mid + 5:.0f} SL {mid * 1.02:.0f} TP1 {mid * 0.97:.0f}")
    st = c.status()
    assert st["skipped_by"] == {"cancel": 1, "exit": 1, "short": 1, "slippage": 1}
    assert st["mirrored"] == 0 and not c.fills()
    reasons = {m["kind"]: m["reason"] for m in c.engine.copy.status("sig")["recent"]}
    assert "nothing copied from alpha is open in BTC/USDT" in reasons["exit"]
    from tui_trader.cli.copy_cmd import render

    text = render(c.engine.copy.status("sig"), recent=4)
    assert "calls 4: mirrored 0" in text and "calls by kind: cancel 1, entry 2, exit 1" in text
    assert "exit call, BTC/USDT -> skipped: nothing copied from alpha is open in BTC/USDT" in text
    audit = await c.engine.store.audit_log(100)
    assert sum(1 for r in audit if r["actor"] == "copy:sig" and r["action"] == "copy_skip") == 4


async def test_with_mirror_exits_off_exits_and_stop_moves_are_yours(chat: Chat) -> None:
    c = chat
    c.copy = c.copy.model_copy(update={"mirror_exits": False})
    await c.restart()
    await until(lambda: c.status()["state"] == "connected", what="following")
    await c.say(entry(c.mid()))
    await until(lambda: c.status()["positions"] == {SYMBOL: "0.05000"}, what="the entry")
    await c.say("Close BTC/USDT")
    await c.say("BTC/USDT move SL to breakeven")
    assert c.status()["skipped_by"] == {"exit": 2}
    assert c.status()["positions"] == {SYMBOL: "0.05000"}


async def test_no_call_is_acted_on_twice_across_a_restart(chat: Chat) -> None:
    c = chat
    text = entry(c.mid())
    await c.say(text)
    await until(lambda: c.status()["mirrored"] == 1, what="the entry")
    await c.restart()
    await until(lambda: c.status()["state"] == "connected", what="following again")
    assert c.status()["positions"] == {SYMBOL: "0.05000"}  # rebuilt from the stored fills
    await c.say(text)  # the webhook retried across the restart: a new message id, the same call
    assert c.status()["duplicates"] == 1 and c.status()["mirrored"] == 1
    assert len(await c.engine.store.load_fills()) == 1
    c.clock.advance(200)  # later, the same words are a new call
    await step(c.engine, 1, seconds=0)
    await c.say(entry(c.mid()))
    await until(lambda: c.status()["mirrored"] == 2, what="a second entry")


async def test_a_call_row_written_before_a_crash_is_sent_once_at_restart(chat: Chat) -> None:
    c = chat
    await c.engine.copy.set_enabled("sig", False, "test")
    ask = Decimal(str(c.engine.ticker(SYMBOL).ask))
    key = "chat:chat-999"
    cid = order_id("sig", key)
    limit = (ask * Decimal("1.001")).quantize(Decimal("0.01"))
    detail = {"kind": "entry", "order_quantity": "0.05", "limit": str(limit), "exit": False,
              "venue": "paper", "stop_loss": str(int(ask * Decimal("0.98")))}  # fmt: skip
    await MirrorRecords(c.engine.store).insert(Mirror("sig", key, c.clock.now(), SYMBOL, Side.BUY, Decimal("0.05"), ask,
                                                      c.clock.now(), SENDING, "", cid, detail))  # fmt: skip
    await c.engine.copy.set_enabled("sig", True, "test")
    await c.restart()
    await until(lambda: c.status()["positions"] == {SYMBOL: "0.05"}, what="the pending call sent")
    assert [f.client_order_id for f in c.fills()] == [cid]
    assert [o.type for o in c.protection()] == [OrderType.STOP]
    await c.restart()
    assert len(await c.engine.store.load_fills()) == 1
    assert (await MirrorRecords(c.engine.store).load("sig"))[0].status == "sent"


async def test_a_stop_hit_closes_the_copy_in_its_track_record(chat: Chat) -> None:
    c = chat
    await c.say(entry(c.mid()))
    await until(lambda: c.status()["positions"] == {SYMBOL: "0.05000"}, what="the entry")
    bid = Decimal(str(c.engine.ticker(SYMBOL).bid))
    await c.say(f"BTC/USDT move stop to {bid - 1:.2f}")  # just under the market: the walk hits it
    for _ in range(2000):
        if c.status()["positions"] == {}:
            break
        await step(c.engine)
    await until(lambda: c.status()["positions"] == {}, what="the stop to close the copy")
    assert c.engine.portfolio.positions[("paper", SYMBOL)].is_flat
    theirs = c.engine.copy.follows["sig"].record.theirs[SYMBOL]
    assert theirs.is_flat  # the call is taken to have stopped out at its stop too


async def test_a_provider_that_also_auto_executes_is_refused_with_a_reason(tmp_path: Path) -> None:
    clock = FrozenClock()
    copy = CopySettings(leader="chat:alpha")
    eng = make_engine(Home(tmp_path).ensure(), clock, copy, signals={"chat": {"auto_execute": ["alpha"]}})
    await eng.start()
    try:
        await until(lambda: eng.copy.status("sig")["state"] == "disconnected", what="the refusal")
        assert "auto_execute: each call would be traded twice" in eng.copy.status("sig")["detail"]
    finally:
        await eng.stop()


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"leader": "chat:"}, "the provider is 1-40 letters"),
        ({"leader": "chat:a b"}, "the provider is 1-40 letters"),
        ({"leader": "telegram"}, 'leader must be "daemon", "exchange" or "chat:PROVIDER"'),
        ({"leader": "chat:alpha", "scale_by": "equity"}, "a chat provider has no equity"),
    ],
)
def test_bad_chat_leader_tables_are_refused(table: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        CopySettings.model_validate(table)


async def test_the_copy_pane_shows_the_provider_and_its_calls(chat: Chat) -> None:
    from textual.widgets import DataTable, Static

    from tui_trader.engine.client import InProcessClient
    from tui_trader.ui.app import WorkstationApp

    c = chat
    await c.say(entry(c.mid()))
    await c.say("Cancel BTC/USDT entry")
    await until(lambda: c.status()["mirrored"] == 1, what="the entry")
    app = WorkstationApp(InProcessClient(c.engine), c.engine.settings, c.home)
    async with app.run_test(size=(100, 30)) as pilot:  # the pane full width: the counts fit
        await pilot.press("f8")
        await app.refresh_snapshot()
        await pilot.pause()
        table = app.query_one("#copy-table", DataTable)
        labels = [str(col.label) for col in table.columns.values()]
        row = dict(zip(labels, map(str, table.get_row_at(0)), strict=True))
        assert (row["Leader"], row["State"], row["Seen"], row["Copied"], row["Skipped"]) == (
            "sig", "following", "2", "1", "1"
        ), row
        assert row["Held"] == "BTC/USDT 0.05000"
        note = str(app.query_one("#copy-note", Static).render())
        assert "chat provider alpha" in note and "calls: cancel 1, entry 1" in note and "skipped: cancel 1" in note


async def test_calls_posted_to_the_chat_webhook_are_mirrored_and_a_retry_is_not(tmp_path: Path) -> None:
    """The provider's feed as it arrives for real: HTTP posts to the engine's chat webhook on
    loopback (its token from the run folder), the same post retried."""
    import aiohttp

    clock = FrozenClock()
    copy = CopySettings(leader="chat:alpha", scale=0.5)
    eng = make_engine(Home(tmp_path).ensure(), clock, copy, signals={"chat": {"webhook_port": 0}})
    await eng.start()
    try:
        await step(eng, 1, seconds=0)
        await until(lambda: eng.copy.status("sig")["state"] == "connected", what="following")
        hook = eng.signal_service.webhook
        auth = {"Authorization": f"Bearer {eng.signal_service.webhook_token}"}
        body = {"text": entry(eng.mid(SYMBOL)), "provider": "alpha"}
        async with aiohttp.ClientSession() as http:
            for _ in range(2):
                async with http.post(hook.url, json=body, headers=auth) as r:
                    assert r.status == 200
            await until(lambda: eng.copy.status("sig")["mirrored"] == 1, what="the mirrored entry")
            async with http.post(hook.url, json={"text": "Close BTC/USDT", "provider": "alpha"}, headers=auth) as r:
                assert r.status == 200
            async with http.post(hook.url, json={"text": "Close BTC/USDT", "provider": "beta"}, headers=auth) as r:
                assert r.status == 200  # another provider's call: not this copy's
        await until(lambda: eng.copy.status("sig")["positions"] == {}, what="the copy closed")
        st = eng.copy.status("sig")
        assert st["calls"] == {"entry": 1, "exit": 1} and st["mirrored"] == 2
        assert len([f for f in eng.fills if f.symbol == SYMBOL]) == 2
    finally:
        await eng.stop()


async def test_a_cancel_of_an_entry_the_copy_already_filled_is_said_not_guessed(chat: Chat) -> None:
    c = chat
    await c.say(entry(c.mid()))
    await until(lambda: c.status()["positions"] == {SYMBOL: "0.05000"}, what="the entry")
    notices = c.engine.bus.subscribe("t", ["notice"])
    await c.say("Cancel BTC/USDT entry")
    said = [e.message for e in notices.drain()]
    assert any("alpha cancelled an entry your copy already filled (BTC/USDT 0.05000)" in m for m in said), said
    assert c.status()["positions"] == {SYMBOL: "0.05000"} and c.status()["skipped_by"] == {"cancel": 1}
    assert len(c.protection()) == 2  # its stop and target stay


async def test_an_exit_the_book_fills_only_in_part_leaves_the_rest_protected(tmp_path: Path) -> None:
    """The close is an IOC a slippage away from the mid: when the book under it is thinner than
    the copy, part fills and the rest stays held, so its stop and target are placed again for
    exactly what is left (the paper book shows ~1 BTC a level, ~0.5 bp apart)."""
    clock = FrozenClock()
    copy = CopySettings(leader="chat:alpha", scale=0.5, max_slippage_bps=1)
    home = Home(tmp_path).ensure()
    engine = make_engine(home, clock, copy, paper={"balances": {"USDT": 10_000_000.0}},
                         risk={"sizing": {"mode": "fixed_quantity", "quantity": 10}})  # fmt: skip
    c = Chat(engine, home, clock, copy)
    await c.engine.start()
    try:
        await step(c.engine, 1, seconds=0)
        await until(lambda: c.status()["state"] == "connected", what="the chat leader to be followed")
        await c.say(entry(c.mid()))
        await until(lambda: c.status()["mirrored"] == 1, what="the entry")
        held = Decimal(c.status()["positions"][SYMBOL])
        assert held > 0 and {o.quantity for o in c.protection()} == {held}
        bids = c.engine.book(SYMBOL).bids
        await c.say("Close BTC/USDT")
        await until(lambda: c.status()["mirrored"] == 2, what="the exit")
        close = c.engine.oms.orders[c.fills()[-1].client_order_id]
        assert close.reduce_only and close.side is Side.SELL and not close.is_open
        assert 0 < close.filled_quantity < held, (close.filled_quantity, held, bids[:3])
        rest = held - close.filled_quantity
        assert Decimal(c.status()["positions"][SYMBOL]) == rest
        assert c.engine.portfolio.positions[("paper", SYMBOL)].quantity == rest
        assert sorted(o.type for o in c.protection()) == [OrderType.LIMIT, OrderType.STOP]
        assert {o.quantity for o in c.protection()} == {rest}  # placed again for what is left
    finally:
        await c.engine.stop()
