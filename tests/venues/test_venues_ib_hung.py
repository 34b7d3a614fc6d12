"""A hung IB Gateway, against the fake IB Gateway (real ib_async clients): the socket stays
open and nothing (or nothing about orders) is answered. Each row of the fault table in
docs/brokers.md ("IB Gateway hung"): the venue says so, refuses new orders unsent in one line,
opens the socket again, and settles every order sent into the silence by IB's own answer,
sent once.

Timings are injected, not waited out: the heartbeat asks every 1 s (IB's least) and waits
1 s (5 s where order requests alone are silent: a loaded machine must not pass for a hung
Gateway there); `stall_after_s` is 5 s, so the quote streams going silent is not what
notices."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("ib_async", reason="ib_async is an optional extra (tui-trader[brokers])")

from test_venues_ib import buy, ledgers_agree, placed_orders, started, status
from test_venues_ib_faults import a_buy_fills

from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType
from tui_trader.core.events import ConnectionEvent, Event, NoticeEvent
from tui_trader.engine import Engine
from tui_trader.venues.ib.heartbeat import MIN_EVERY_S, Heartbeat

from fakes.ib_gateway import FakeIBGateway
from fakes.venue_harness import wait_for

NOT_ANSWERING = "IB Gateway not answering for"
ORDERS_UNANSWERED = "IB Gateway not answering order requests"


async def watched(ibg: FakeIBGateway, seen: list[Event], **kw: Any) -> Engine:
    kw.setdefault("settings", {"stall_after_s": 5.0})
    kw.setdefault("ack_timeout_s", 5.0)  # the heartbeat notices first
    kw.setdefault("ping_timeout_s", 1.0)
    return await started(ibg, seen, ping_every_s=1.0, **kw)


def said(seen: list[Event], words: str, state: ConnectionState | None = None) -> bool:
    return any(isinstance(e, ConnectionEvent) and words in e.detail and state in (None, e.state) for e in seen)


async def resting_order(engine: Engine) -> str:
    resting = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
    await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.ACCEPTED)
    return resting.client_order_id


async def refused_unsent(engine: Engine, ibg: FakeIBGateway, starts: str) -> None:
    sent = placed_orders(ibg)
    refused = await engine.place(buy("1"))
    reason = refused.reason or ""
    assert refused.status is OrderStatus.REJECTED and reason.startswith(starts), refused
    assert "\n" not in reason and placed_orders(ibg) == sent


async def test_a_gateway_silent_on_everything_is_noticed_and_the_order_sent_into_it_settled_once(
    ibg: FakeIBGateway,
) -> None:
    """Normal operation; the Gateway freezes with its socket open while an order rests. The
    heartbeat goes unanswered: `degraded` "IB Gateway not answering for 1 s", the order sent
    into the silence `unknown` (not sent, not failed), the next one refused unsent. The socket
    is opened again once the Gateway answers; it had done the order when it resumed: found by
    its orderRef, filled once; the resting order's fill in the silence by reconcile."""
    seen: list[Event] = []
    engine = await watched(ibg, seen)
    try:
        resting = await resting_order(engine)
        ibg.hang()
        ibg.fill(next(iter(ibg.orders)))  # at the exchange; the news waits with the Gateway
        into = await engine.place(buy("2"))
        assert into.status is OrderStatus.UNKNOWN, into
        assert said(seen, NOT_ANSWERING, ConnectionState.DEGRADED), [e for e in seen if isinstance(e, ConnectionEvent)]
        await refused_unsent(engine, ibg, f"not sent: {NOT_ANSWERING}")
        ibg.hang(False)
        await wait_for(lambda: status(engine, into.client_order_id) is OrderStatus.FILLED)
        await wait_for(lambda: status(engine, resting) is OrderStatus.FILLED)
        assert engine.venues["ib"].state is ConnectionState.CONNECTED
        assert placed_orders(ibg) == 2 and len(ibg.orders) == 2
        await ledgers_agree(engine, ibg)
    finally:
        await engine.stop()


async def test_a_gateway_silent_only_on_orders_is_noticed_and_refuses_new_orders_until_it_answers(
    ibg: FakeIBGateway,
) -> None:
    """The heartbeat and the quotes are answered; order requests are not. The order goes
    unanswered: `unknown`, the venue `degraded` naming it, new orders refused unsent; the
    lookup is unanswered too, so the socket is opened again (once), and comes back `degraded`
    (the new socket's open orders unanswered as well). When IB answers order requests again the
    order, made late, is found by its orderRef and filled once; the venue `connected`."""
    seen: list[Event] = []
    engine = await watched(ibg, seen, ack_timeout_s=0.5, timeout=1.0, ping_timeout_s=5.0)
    try:
        ibg.hang_orders()
        into = await engine.place(buy("2"))
        assert into.status is OrderStatus.UNKNOWN, into
        assert said(seen, ORDERS_UNANSWERED, ConnectionState.DEGRADED)
        await refused_unsent(engine, ibg, f"not sent: {ORDERS_UNANSWERED} (order {into.client_order_id} unanswered")
        await wait_for(lambda: said(seen, "reconnected after", ConnectionState.DEGRADED))
        assert engine.venues["ib"].state is ConnectionState.DEGRADED
        await refused_unsent(engine, ibg, f"not sent: {ORDERS_UNANSWERED}")
        ibg.hang_orders(False)
        await wait_for(lambda: status(engine, into.client_order_id) is OrderStatus.FILLED)
        await wait_for(lambda: engine.venues["ib"].state is ConnectionState.CONNECTED)
        assert placed_orders(ibg) == 1
        await ledgers_agree(engine, ibg)
    finally:
        await engine.stop()


async def test_an_order_answered_just_after_its_timeout_is_counted_once(ibg: FakeIBGateway) -> None:
    """Order requests answered late: past the order's 0.5 s, on the same socket. Meanwhile the
    venue is `degraded` and a new order refused unsent; then the late acknowledgement and the
    fills streamed arrive beside the lookup's answer (the same executions): one order at IB,
    each fill once, `connected` again without a reconnect, as a recovery the engine reconciles."""
    seen: list[Event] = []
    engine = await watched(ibg, seen, ack_timeout_s=0.5, timeout=2.0, ping_timeout_s=5.0)
    try:
        ibg.hang_orders()
        placing = asyncio.create_task(engine.place(buy("2")))
        await wait_for(lambda: said(seen, ORDERS_UNANSWERED, ConnectionState.DEGRADED))
        await refused_unsent(engine, ibg, f"not sent: {ORDERS_UNANSWERED}")
        ibg.hang_orders(False)  # within the lookup's 2 s: everything asked is answered, in order
        into = await placing
        await wait_for(lambda: status(engine, into.client_order_id) is OrderStatus.FILLED)
        await wait_for(lambda: engine.venues["ib"].state is ConnectionState.CONNECTED)
        back = [e for e in seen if isinstance(e, ConnectionEvent) and "answers order requests again" in e.detail]
        assert back and back[-1].attempt > 0, back  # a recovery: the engine reconciles what it missed
        assert engine.venues["ib"].counters["reconnects"] == 0  # type: ignore[attr-defined]
        assert len([f for f in engine.fills if f.client_order_id == into.client_order_id]) == 2
        assert placed_orders(ibg) == 1
        await ledgers_agree(engine, ibg)
    finally:
        await engine.stop()


async def test_a_gateway_restarted_mid_hang_loses_the_order_sent_into_it_which_is_never_sent_again(
    ibg: FakeIBGateway,
) -> None:
    """The Gateway freezes with an order written to it, then restarts: what it had not read is
    lost. The order, unanswered past its deadline while a heartbeat also waits, is `unknown` at
    once (no lookup waits on the silent socket); it stays so until IB's "not found" is final,
    then is rejected as never having reached IB; it is never sent again; the next order trades."""
    seen: list[Event] = []
    engine = await watched(ibg, seen, not_found_final_after_s=1.0, ack_timeout_s=1.5, ping_timeout_s=3.0)
    try:
        ibg.hang()
        into = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
        # its 1.5 s ran out while a heartbeat waited: no lookup on the silent socket, `unknown` at once
        assert into.status is OrderStatus.UNKNOWN, into
        assert "IB Gateway has not answered its heartbeat either" in into.meta["submit_error"], into.meta
        await wait_for(lambda: said(seen, NOT_ANSWERING))
        await ibg.restart()
        await wait_for(lambda: status(engine, into.client_order_id) is OrderStatus.REJECTED)
        assert "never reached the venue (ib)" in (engine.oms.orders[into.client_order_id].reason or "")  # type: ignore[union-attr]
        assert placed_orders(ibg) == 1 and not ibg.orders
        await a_buy_fills(engine, ibg)
    finally:
        await engine.stop()


async def test_a_gateway_that_hangs_while_ibs_servers_are_lost_is_noticed_then_1102_ends_it(
    ibg: FakeIBGateway,
) -> None:
    """1100 (the venue `degraded`, orders refused), then the Gateway freezes: the heartbeat
    still watches (it did not: a hang during a loss went unnoticed). The venue says both; the
    socket is opened again once the Gateway answers, and comes back `degraded` for the loss;
    1102 ends it: `connected`, the fill made meanwhile by reconcile, the next order trades."""
    seen: list[Event] = []
    engine = await watched(ibg, seen)
    try:
        resting = await resting_order(engine)
        ibg.lose_connectivity()
        await wait_for(lambda: said(seen, "lost its connection to IB's servers", ConnectionState.DEGRADED))
        ibg.hang()
        await wait_for(lambda: said(seen, NOT_ANSWERING))
        assert said(seen, "it had lost IB's servers before (code 1100)")
        await refused_unsent(engine, ibg, f"not sent: {NOT_ANSWERING}")
        ibg.fill(next(iter(ibg.orders)))
        ibg.hang(False)
        await wait_for(lambda: said(seen, "reconnected after", ConnectionState.DEGRADED))
        await refused_unsent(engine, ibg, "not sent: IB Gateway lost its connection to IB's servers (code 1100)")
        ibg.restore_connectivity()
        await wait_for(lambda: engine.venues["ib"].state is ConnectionState.CONNECTED)
        await wait_for(lambda: status(engine, resting) is OrderStatus.FILLED)
        await a_buy_fills(engine, ibg)
    finally:
        await engine.stop()


async def test_a_broken_link_2110_is_said_and_refuses_nothing_on_a_guess(ibg: FakeIBGateway) -> None:
    """2110 (the Gateway's link to IB's servers broken, to be restored by itself; IB documents
    no end for it): a warning notice says so; the venue stays `connected` and the next order is
    sent and fills (an order left unanswered would hold back the next ones, as above)."""
    seen: list[Event] = []
    engine = await watched(ibg, seen)
    try:
        ibg.break_link()
        await wait_for(lambda: any(isinstance(e, NoticeEvent) and "(IB 2110)" in e.message for e in seen))
        assert engine.venues["ib"].state is ConnectionState.CONNECTED
        await a_buy_fills(engine, ibg)
    finally:
        await engine.stop()


def test_the_heartbeat_asks_at_most_once_a_second_and_says_how_long_nothing_answered() -> None:
    """Frozen clock: TWS leaves a time request within a second of the previous unanswered, so
    the interval is never below 1 s; silent only past the deadline; the line says for how long."""
    assert Heartbeat(every_s=0.2, timeout_s=5).every_s == MIN_EVERY_S
    hb = Heartbeat(every_s=5, timeout_s=5)
    assert hb.silent_for(100.0) == 0
    hb.sent(100.0)
    assert hb.silent_for(105.0) == 0  # at the deadline: not yet
    assert hb.silent_for(105.5) == 5.5
    assert hb.describe(112.0) == "IB Gateway not answering for 12 s (reqCurrentTime unanswered)"
    hb.answered(113.0)
    assert hb.silent_for(200.0) == 0 and hb.answered_since(100.0) and not hb.answered_since(114.0)
