"""Chat messages acting on paper, end to end: an entry from a provider opens a position through
the risk engine; that provider's exit, update or cancel acts on it; another provider's does
not. Real engine, paper venue, frozen clock, a home in tmp_path."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from async_wait import until

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.engine.chat_desk import STATE_KEY
from tui_trader.engine.commands import dispatch
from tui_trader.engine.testing import manual_engine, paper_settings, step
from tui_trader.home import Home

SYMBOL = "BTC/USDT"


def _settings(**chat):
    chat = {"auto_execute": ["alpha"], "min_trades": 0, **chat}
    return paper_settings().model_copy(update={"signals": {"chat": chat}})


@pytest.fixture
def home(tmp_path) -> Home:
    return Home(tmp_path / "home").ensure()


async def _until(predicate, timeout: float = 10.0) -> None:
    await until(predicate, timeout)


async def _say(engine, text: str, provider: str) -> dict:
    return await dispatch(engine, "signals.parse_chat", {"text": text, "provider": provider}, "test")


def _position(engine) -> Decimal:
    return engine.portfolio.position("paper", SYMBOL).quantity


def _tagged(engine, tag: str, *, open_only: bool = True) -> list:
    return [o for o in engine.oms.orders.values() if o.tag == tag and (o.is_open or not open_only)]


async def _entry(engine, provider: str = "alpha") -> dict:
    mid = engine.mid(SYMBOL)
    text = f"{SYMBOL} long now SL {mid * 0.97:.0f} TP {mid * 1.05:.0f}"
    item = await _say(engine, text, provider)
    assert item["status"] == "executed", item["note"]
    await _until(lambda: _position(engine) > 0)
    return item


async def test_an_exit_closes_the_position_that_providers_entry_opened_and_no_other(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        item = await _entry(engine)
        order = engine.oms.orders[item["order_id"]]
        assert (order.source, order.tag, order.status) == ("signal:alpha", item["id"], OrderStatus.FILLED)
        opened = _position(engine)
        protection = _tagged(engine, item["id"])
        assert {o.type for o in protection} == {OrderType.STOP, OrderType.LIMIT}
        assert all(o.reduce_only and o.side is Side.SELL for o in protection)
        audit = await engine.store.audit_log(limit=50)
        assert any(a["action"] == "place" and a["actor"] == "signal:alpha" for a in audit)

        other = await _say(engine, "Closing my BTC long here, +12% 💰", "beta")
        assert other["status"] == "ignored" and "nothing from beta" in other["note"]
        assert _position(engine) == opened

        mine = await _say(engine, "Closing my BTC long here, +12% 💰", "alpha")
        assert mine["kind"] == "exit" and mine["status"] == "done", mine["note"]
        await _until(lambda: _position(engine) == 0)
        assert _tagged(engine, item["id"]) == []  # the stop and target went with it
        closing = [
            o for o in _tagged(engine, item["id"], open_only=False) if o.type is OrderType.MARKET and o.reduce_only
        ]
        assert len(closing) == 1 and closing[0].source == "signal:alpha"
        service = engine.signal_service
        await _until(lambda: service.chat.providers.stats("alpha").count == 1)
        assert service.chat.links.get(item["id"]).status == "closed"
        audit = await engine.store.audit_log(limit=50)
        exit_rows = [a for a in audit if a["action"] == "chat_exit"]
        assert exit_rows and "Closing my BTC long" in str(exit_rows[0]["detail"])


async def test_a_partial_exit_keeps_the_rest_protected(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        item = await _entry(engine)
        opened = _position(engine)
        done = await _say(engine, "Take half off BTC here", "alpha")
        assert done["status"] == "done", done["note"]
        inst = engine.instrument("paper", SYMBOL)
        rest = opened - inst.round_qty(opened / 2)
        await _until(lambda: _position(engine) == rest)
        protection = _tagged(engine, item["id"])
        assert {o.type for o in protection} == {OrderType.STOP, OrderType.LIMIT}
        assert all(o.quantity == rest for o in protection)


def _stops(engine, tag: str) -> list[Decimal]:
    return [o.stop_price for o in _tagged(engine, tag) if o.type is OrderType.STOP]


async def test_updates_move_the_stop_and_a_stop_past_the_market_is_refused(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        item = await _entry(engine)
        link = engine.signal_service.chat.links.get(item["id"])
        inst = engine.instrument("paper", SYMBOL)
        higher = f"{engine.mid(SYMBOL) * 0.985:.0f}"
        done = await _say(engine, f"Raise the stop on BTC to {higher}", "alpha")
        assert done["status"] == "done", done["note"]
        assert _stops(engine, item["id"]) == [Decimal(higher)]
        assert [o.price for o in _tagged(engine, item["id"]) if o.type is OrderType.LIMIT] == [link.take_profit]
        # right after the entry the market is below its price (we paid the ask): breakeven
        # would stop out at once, so it is refused and the stop stays where it was
        refused = await _say(engine, "BTC: move SL to breakeven", "alpha")
        assert "would close at once; not moved" in refused["note"]
        assert _stops(engine, item["id"]) == [Decimal(higher)]
        for _ in range(100):  # once the market is above the entry, breakeven is taken
            if engine.mid(SYMBOL) > float(link.average_entry) * 1.001:
                break
            await step(engine, 20)
        done = await _say(engine, "BTC: move SL to breakeven", "alpha")
        assert done["status"] == "done", done["note"]
        assert _stops(engine, item["id"]) == [inst.round_price(link.average_entry)]
        assert _position(engine) > 0


async def test_a_cancel_withdraws_the_pending_entry(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        mid = engine.mid(SYMBOL)
        text = f"{SYMBOL} long entry {mid * 0.95:.0f} SL {mid * 0.93:.0f} TP {mid * 0.99:.0f}"
        item = await _say(engine, text, "alpha")
        assert item["status"] == "executed", item["note"]
        assert engine.oms.orders[item["order_id"]].is_open
        await _say(engine, "Cancel the BTC limit, not filling", "beta")  # not beta's order
        assert engine.oms.orders[item["order_id"]].is_open
        done = await _say(engine, "Cancel the BTC limit, not filling", "alpha")
        assert done["status"] == "done", done["note"]
        await _until(lambda: not engine.oms.orders[item["order_id"]].is_open)
        await _until(lambda: _tagged(engine, item["id"]) == [])  # held bracket children too
        await _until(lambda: engine.signal_service.chat.links.get(item["id"]).status == "cancelled")
        assert _position(engine) == 0


async def test_a_provider_not_trusted_to_act_alone_waits_for_confirmation(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        mid = engine.mid(SYMBOL)
        pending = await _say(engine, f"{SYMBOL} long now SL {mid * 0.97:.0f} TP {mid * 1.05:.0f}", "gamma")
        assert pending["status"] == "pending" and not _tagged(engine, pending["id"])
        ticket = await dispatch(engine, "signals.confirm", {"id": pending["id"], "quantity": "0.01"}, "test")
        req = ticket["request"]
        assert (req.source, req.tag) == ("signal:gamma", pending["id"])
        await engine.place(req, actor="user")  # what the ticket does once the trader submits
        await _until(lambda: _position(engine) == Decimal("0.01"))
        exit_item = await _say(engine, "gamma here: out of BTC", "gamma")
        assert exit_item["status"] == "pending" and pending["id"] in exit_item["note"]
        assert _position(engine) == Decimal("0.01")
        result = await dispatch(engine, "signals.confirm", {"id": exit_item["id"]}, "test")
        assert result["status"] == "done" and result["kind"] == "exit"
        await _until(lambda: _position(engine) == 0)


async def test_the_kill_switch_closes_the_link_and_scores_the_provider(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        item = await _entry(engine)
        await engine.flatten("test")
        chat = engine.signal_service.chat
        await _until(lambda: chat.links.get(item["id"]).status == "closed")
        await _until(lambda: chat.providers.stats("alpha").count == 1)
        assert abs(chat.providers.stats("alpha").total_r) < 0.5  # closed at once: little of the risk


async def test_links_survive_a_restart_and_the_exit_still_closes(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        item = await _entry(engine)
        opened = _position(engine)
    state = None
    again = manual_engine(_settings(), home=home)
    async with again:
        state = await again.store.load_strategy_state(STATE_KEY)
        assert again.signal_service is not None  # started to follow the open link
        assert again.signal_service.chat.links.get(item["id"]).qty == opened
        second = await _say(again, f"{SYMBOL} long now SL 1 TP 999999", "alpha")
        assert second["id"] != item["id"]  # message ids stay unique across restarts
        await _say(again, "Cancel all pending orders", "alpha")
        done = await _say(again, "Closing my BTC long here", "alpha")
        assert done["status"] == "done", done["note"]
        await _until(lambda: _position(again) == 0)
    assert any(d["id"] == item["id"] for d in state["links"]["links"])


async def test_exit_of_some_without_a_size_never_acts_alone(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        await _entry(engine)
        opened = _position(engine)
        item = await _say(engine, "Take some profits on BTC", "alpha")
        assert item["status"] == "pending" and "below 0.70" in item["note"]
        await step(engine, 2)
        assert _position(engine) == opened
        with pytest.raises(UserError, match="not a trade signal"):
            await _say(engine, "gm traders, big CPI day", "alpha")


async def test_a_repeated_message_acts_once(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        await _entry(engine)
        opened = _position(engine)
        first = await _say(engine, "Take half off BTC here", "alpha")
        again = await _say(engine, "Take half off BTC here", "alpha")  # a webhook retry
        assert first["status"] == "done"
        assert again["status"] == "ignored" and first["id"] in again["note"]
        inst = engine.instrument("paper", SYMBOL)
        await _until(lambda: _position(engine) == opened - inst.round_qty(opened / 2))


async def test_two_providers_in_one_symbol_each_close_only_their_own(home):
    engine = manual_engine(_settings(auto_execute=["alpha", "beta"]), home=home)
    async with engine:
        await _entry(engine, "alpha")
        alpha_qty = _position(engine)
        mid = engine.mid(SYMBOL)
        beta = await _say(engine, f"BTC long here, SL {mid * 0.96:.0f} TP {mid * 1.06:.0f}", "beta")
        assert beta["status"] == "executed", beta["note"]
        await _until(lambda: _position(engine) > alpha_qty)
        both = _position(engine)
        done = await _say(engine, "out of BTC", "alpha")
        assert done["status"] == "done", done["note"]
        await _until(lambda: _position(engine) == both - alpha_qty)
        assert _tagged(engine, beta["id"])  # beta's stop and target still work


async def test_an_exit_before_the_entry_fills_cancels_the_entry(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        mid = engine.mid(SYMBOL)
        item = await _say(
            engine, f"{SYMBOL} long entry {mid * 0.95:.0f} SL {mid * 0.93:.0f} TP {mid * 0.99:.0f}", "alpha"
        )
        done = await _say(engine, "Closing the BTC long, changed my mind", "alpha")
        assert done["status"] == "done" and "cancelled" in done["note"]
        await _until(lambda: not engine.oms.orders[item["order_id"]].is_open)
        assert _position(engine) == 0


async def test_an_exit_after_the_stop_already_closed_finds_nothing(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        item = await _entry(engine)
        await engine.flatten("test")  # as if the stop had fired first
        await _until(lambda: engine.signal_service.chat.links.get(item["id"]).status == "closed")
        late = await _say(engine, "Closing my BTC long here", "alpha")
        assert late["status"] == "ignored" and "nothing from alpha" in late["note"]



async def test_a_close_the_market_refuses_leaves_the_position_with_its_stop_and_target(home):
    # AAPL bought in the session; the provider's exit comes after the close: the market order
    # is refused, and the stop and target the close had to cancel are placed again
    in_session = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)  # a Wednesday, 15:00 in New York
    engine = manual_engine(_settings(), home=home, start=in_session)
    async with engine:
        mid = engine.mid("AAPL")
        item = await _say(engine, f"AAPL long now SL {mid * 0.97:.2f} TP {mid * 1.05:.2f}", "alpha")
        assert item["status"] == "executed", item["note"]
        await _until(lambda: engine.portfolio.position("paper", "AAPL").quantity > 0)
        opened = engine.portfolio.position("paper", "AAPL").quantity

        def protection() -> set:
            return {(o.type, o.price, o.stop_price, o.quantity) for o in _tagged(engine, item["id"])}

        before = protection()
        assert len(before) == 2
        await step(engine, 1, seconds=2 * 3600)  # 17:00 in New York: the exchange is shut
        refused = await _say(engine, "Closing my AAPL here, +3% 💰", "alpha")
        assert "refused by the risk checks" in refused["note"] and "market closed" in refused["note"]
        assert "the stop and take-profit placed again" in refused["note"]
        assert engine.portfolio.position("paper", "AAPL").quantity == opened
        assert protection() == before  # the same stop and target, for the whole position
        audit = await engine.store.audit_log(limit=50)
        assert any(a["action"] == "chat_exit" and "refused by the risk checks" in str(a["detail"]) for a in audit)


async def test_a_close_refused_after_the_stop_was_cancelled_says_loudly_that_nothing_protects_it(home):
    # a limit lowered below what the position is worth after it opened: the close passes the
    # dry run's early checks, is refused when sent, and placing the stop again is refused too
    engine = manual_engine(_settings(), home=home)
    async with engine:
        item = await _entry(engine)
        opened = _position(engine)
        notices: list[tuple] = []
        notify = engine.notify
        engine.notify = lambda *a, **k: (notices.append(a), notify(*a, **k))  # type: ignore[method-assign]
        await engine.apply_risk_settings(engine.settings.risk.model_copy(update={"max_order_notional": 1.0}), "test")
        refused = await _say(engine, "Closing my BTC long here, +12% 💰", "alpha")
        assert "refused by the risk checks" in refused["note"] and "max_order_notional" in refused["note"]
        assert "has no stop now" in refused["note"] and "protect it yourself" in refused["note"]
        assert any(level == "error" and "has no stop now" in message for level, message, *_ in notices)
        assert _position(engine) == opened
        # with the limit back, placing the stop again works and says so
        await engine.apply_risk_settings(engine.settings.risk.model_copy(update={"max_order_notional": None}), "test")
        moved = await _say(engine, f"BTC SL now {engine.mid(SYMBOL) * 0.96:.0f}", "alpha")
        assert moved["status"] == "done" and "protection refused" not in moved["note"], moved["note"]
        assert len(_tagged(engine, item["id"])) == 2


async def test_an_update_the_venue_refuses_leaves_the_old_stop_working_and_says_so(home):
    # Our check keeps a new stop below the mid; the paper venue (like an exchange) refuses a sell
    # stop at or above the LAST trade, which after a sale at the bid is below the mid. So a stop
    # at the last price passes our check and the venue refuses it: the old stop and target must
    # work again, the audit must say what happened, and the trader must be told.
    engine = manual_engine(_settings(), home=home)
    async with engine:
        item = await _entry(engine)
        link = engine.signal_service.chat.links.get(item["id"])
        old = {(o.type, o.price, o.stop_price, o.quantity) for o in _tagged(engine, item["id"])}
        assert len(old) == 2 and link.stop is not None
        venue = engine.venues["paper"]
        for _ in range(200):  # until the last trade was at the bid, a dollar or more under the mid
            if engine.mid(SYMBOL) - venue.matching.last_price(SYMBOL) >= 1:
                break
            await step(engine, 1)
        last = Decimal(str(venue.matching.last_price(SYMBOL)))
        assert Decimal(str(engine.mid(SYMBOL))) - last >= 1 and last > link.stop
        notices: list[tuple] = []
        notify = engine.notify
        engine.notify = lambda *a, **k: (notices.append(a), notify(*a, **k))  # type: ignore[method-assign]

        moved = await _say(engine, f"Raise the stop on BTC to {last}", "alpha")

        assert moved["status"] == "done", moved["note"]
        assert "not moved; protection refused" in moved["note"] and "would trigger at once" in moved["note"]
        assert "the stop and take-profit placed again" in moved["note"]
        refused = [o for o in _tagged(engine, item["id"], open_only=False) if o.stop_price == last]
        assert [o.status for o in refused] == [OrderStatus.REJECTED]
        assert {(o.type, o.price, o.stop_price, o.quantity) for o in _tagged(engine, item["id"])} == old
        assert link.stop == min(o.stop_price for o in _tagged(engine, item["id"]) if o.stop_price)
        stops = [o.client_order_id for o in _tagged(engine, item["id"]) if o.type is OrderType.STOP]
        assert stops and {o.client_order_id for o in venue.matching.open_orders()} >= set(stops)  # at the venue
        warnings = [message for level, message, *_ in notices if level == "warning"]
        assert len(warnings) == 1 and "refused" in warnings[0] and f"old stop {link.stop}" in warnings[0]
        audit = await engine.store.audit_log(limit=50)
        rows = [a for a in audit if a["action"] == "chat_update"]
        assert len(rows) == 1 and "protection refused" in str(rows[0]["detail"])
        assert "Raise the stop on BTC" in str(rows[0]["detail"])
        assert _position(engine) > 0


class _Killed(BaseException):
    """The process dying between two steps (nothing after it runs, no handler catches it)."""


def _protection(engine, tag: str) -> set:
    return {(o.type, o.price, o.stop_price, o.quantity) for o in _tagged(engine, tag)}


async def test_an_engine_stopped_between_cancelling_the_stop_and_placing_the_new_one_protects_it_at_start(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        item = await _entry(engine)
        before = _protection(engine, item["id"])
        assert len(before) == 2
        chat = engine.signal_service.chat

        async def killed(*args, **kwargs):
            raise _Killed

        chat.orders._protect = killed  # type: ignore[method-assign]
        with pytest.raises(_Killed):
            await _say(engine, f"Raise the stop on BTC to {engine.mid(SYMBOL) * 0.985:.0f}", "alpha")
        assert _tagged(engine, item["id"]) == []  # cancelled, and nothing placed: unprotected
        stored = await engine.store.load_strategy_state(STATE_KEY)  # what a killed process leaves
        [saved] = [d for d in stored["links"]["links"] if d["id"] == item["id"]]
        assert saved["moving"] is not None and saved["moving"].startswith("the update chat-")
    notices: list[tuple] = []
    again = manual_engine(_settings(), home=home)
    notify = again.notify
    again.notify = lambda *a, **k: (notices.append(a), notify(*a, **k))  # type: ignore[method-assign]
    async with again:
        assert again.signal_service is not None  # started by itself for the open link
        assert _protection(again, item["id"]) == before  # the stop and target it had, again
        stops = [o.client_order_id for o in _tagged(again, item["id"]) if o.type is OrderType.STOP]
        assert set(stops) <= {o.client_order_id for o in again.venues["paper"].matching.open_orders()}
        assert again.signal_service.chat.links.get(item["id"]).moving is None
        warnings = [m for level, m, *_ in notices if level == "warning" and item["id"] in m]
        assert len(warnings) == 1 and "engine stopped while acting on the update" in warnings[0]
        audit = await again.store.audit_log(limit=50)
        assert [a["detail"]["id"] for a in audit if a["action"] == "chat_protect"] == [item["id"]]
    # a further start finds nothing to do: placed once, not twice
    third = manual_engine(_settings(), home=home)
    async with third:
        assert _protection(third, item["id"]) == before
        assert len(_tagged(third, item["id"])) == 2


async def test_an_entry_is_sized_to_the_cash_of_the_venue_it_goes_to(home):
    """A chat entry sized by [risk.sizing] reads the free cash of the venue it goes to, as the
    balance check does. Before, it read the cash summed over venues: with 10 million USDT held
    on another venue, the entry was sized past what the paper venue held and refused there."""
    engine = manual_engine(_settings(), home=home)
    await engine.start()
    try:
        await step(engine, 3)
        engine.portfolio.read_cash("elsewhere", {"USDT": Decimal(10_000_000)})  # another venue's money
        await _entry(engine)  # executed: sized to what paper holds (100,000 USDT), not refused
        assert engine.portfolio.venue_cash["paper"]["USDT"] >= 0  # paid from paper's own cash
        assert engine.portfolio.venue_cash["elsewhere"]["USDT"] == 10_000_000
    finally:
        await engine.stop()
