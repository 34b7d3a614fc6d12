"""What Schwab can do to an order, against the fake Schwab (real schwab-py clients): each fault
ends with Schwab's ledger and ours agreeing, and no order sent twice.

Schwab's rules the fake follows (its Trader API and Streamer documents): no client order id;
a new order is answered 201 with its address in `Location`; the order list needs
fromEnteredTime/toEnteredTime; access tokens last 30 minutes and the refresh token 7 days; a
streamer LOGIN with an expired token is denied with code 3 and the socket closed.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("schwab", reason="schwab-py is an optional extra (tui-trader[brokers])")

from test_venues_schwab import buy, ledgers_agree, make_venue, posts, started, status

from tui_trader.config import Settings
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType
from tui_trader.engine import Engine
from tui_trader.home import Home
from tui_trader.venues.streams import RESUBSCRIBED

from fakes.schwab_exchange import FakeSchwab
from fakes.venue_harness import wait_for, what_it_says


async def test_lost_answer_is_found_by_what_it_is_and_never_sent_again(schwab: FakeSchwab, tmp_path: Path) -> None:
    """The 201 comes after the client gave up: the order is unknown, then found among Schwab's
    orders by symbol, side, quantity, type and time, bound to our id, and filled."""
    engine = await started(schwab, tmp_path, timeout=0.4)
    try:
        schwab.stall_private()  # account activity loses the news too: only REST can tell
        schwab.delay_next_ack(1.0)
        placed = await engine.place(buy("2"))
        assert placed.status in (OrderStatus.UNKNOWN, OrderStatus.ACCEPTED, OrderStatus.FILLED), placed.reason
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        schwab.stall_private(False)
        assert posts(schwab) == 1 and len(schwab.orders) == 1
        vid = str(next(iter(schwab.orders.values())).order_id)
        assert engine.oms.orders[placed.client_order_id].venue_order_id == vid  # type: ignore[union-attr]
        assert f'"vid": "{vid}"' in (tmp_path / "schwab_ids.jsonl").read_text()  # the binding persisted
        await ledgers_agree(engine, schwab)
    finally:
        await engine.stop()


async def test_a_twin_of_an_unknown_order_is_not_sent(schwab: FakeSchwab, tmp_path: Path) -> None:
    """While an order's fate is unknown, an identical one would make both ambiguous (Schwab
    takes no client id): it is refused, not sent; a different one goes."""
    engine = await started(schwab, tmp_path, timeout=0.3)
    try:
        for _ in range(8):  # the answer and the lookups fail for a while
            schwab.fail_next(1, 503, method="GET", path="/orders")
        schwab.delay_next_ack(0.8)
        first = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
        assert first.status is OrderStatus.UNKNOWN, first
        twin = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
        assert twin.status is OrderStatus.REJECTED and "identical order" in (twin.reason or ""), twin
        other = await engine.place(buy("3", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, other.client_order_id) is OrderStatus.ACCEPTED)
        await wait_for(lambda: status(engine, first.client_order_id) is OrderStatus.ACCEPTED, 20)
        assert posts(schwab) == 2 and len(schwab.orders) == 2
    finally:
        await engine.stop()


async def test_an_order_schwab_never_got_settles_as_never_sent(schwab: FakeSchwab, tmp_path: Path) -> None:
    engine = await started(schwab, tmp_path, not_found_final_after_s=1.0)
    try:
        schwab.fail_next(1, 503, method="POST", path="/orders")
        placed = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
        assert placed.status is OrderStatus.UNKNOWN
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.REJECTED, 20)
        assert "never reached the venue (schwab)" in (engine.oms.orders[placed.client_order_id].reason or "")  # type: ignore[union-attr]
        assert posts(schwab) == 1 and not schwab.orders
    finally:
        await engine.stop()


async def test_a_restart_after_a_crash_mid_send_finds_the_order(schwab: FakeSchwab, tmp_path: Path) -> None:
    """The order reached Schwab; we died before hearing back. The intent was on disk: the next
    start finds the order by it and binds our id (never sends it again)."""
    home = Home(tmp_path).ensure()
    venue = make_venue(schwab, tmp_path, timeout=0.3)
    engine = Engine(Settings(), home, venues={"schwab": venue})
    await engine.start()
    engine.live_armed = True
    await wait_for(lambda: engine.ticker("AAPL") is not None)
    schwab.delay_next_ack(2.0)
    schwab.stall_private()
    placed = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
    cid = placed.client_order_id
    await engine.stop()  # "crashed": the order is unknown here, working at Schwab
    schwab.stall_private(False)
    assert len(schwab.orders) == 1
    venue2 = make_venue(schwab, tmp_path)
    engine2 = Engine(Settings(), home, venues={"schwab": venue2})
    await engine2.start()
    try:
        vid = str(next(iter(schwab.orders.values())).order_id)
        await wait_for(lambda: (o := engine2.oms.orders.get(cid)) is not None and o.venue_order_id == vid)  # type: ignore[union-attr]
        assert status(engine2, cid) is OrderStatus.ACCEPTED
        schwab.set_price("AAPL", "184.50")
        await wait_for(lambda: status(engine2, cid) is OrderStatus.FILLED)
        assert posts(schwab) == 1
    finally:
        await engine2.stop()


async def test_access_token_ended_early_is_refreshed_and_stored(schwab: FakeSchwab) -> None:
    saved: list[str] = []
    engine = await started(schwab, saved=saved)
    try:
        schwab.expire_access_tokens()
        placed = await engine.place(buy("1"))  # 401, refresh, the order goes once
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        assert "refresh_token" in schwab.token_requests and saved, schwab.token_requests
        assert '"refresh_token"' in saved[-1] and '"creation_timestamp"' in saved[-1]  # schwab-py's format
        await schwab.drop_connections()  # the streamer logs in again with the new token
        resting = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.ACCEPTED)
        schwab.set_price("AAPL", "184.50")
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED)
        assert posts(schwab) == 3 and len(schwab.orders) == 2  # the 401'd request made nothing
        await ledgers_agree(engine, schwab)
    finally:
        await engine.stop()


async def test_streamer_denies_an_expired_login_and_we_log_in_again(schwab: FakeSchwab) -> None:
    engine = await started(schwab)
    try:
        schwab.deny_next_login()
        await schwab.drop_connections()
        await wait_for(lambda: schwab.login_denials >= 1)
        await wait_for(lambda: "refresh_token" in schwab.token_requests)
        resting = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.ACCEPTED)
        schwab.set_price("AAPL", "184.50")
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED)
    finally:
        await engine.stop()


async def test_an_expired_login_refuses_orders_with_one_line(schwab: FakeSchwab) -> None:
    engine = await started(schwab)
    try:
        schwab.expire_refresh_tokens()
        placed = await engine.place(buy("1"))
        assert placed.status is OrderStatus.REJECTED
        assert "keys set schwab" in (placed.reason or "") and "log in again" in (placed.reason or "")
        assert not schwab.orders
        again = await engine.place(buy("1"))  # no request at all now
        assert again.status is OrderStatus.REJECTED and posts(schwab) == 1
    finally:
        await engine.stop()


async def test_rate_limited_order_waits_as_asked_and_goes_once(schwab: FakeSchwab) -> None:
    engine = await started(schwab)
    try:
        schwab.fail_next(1, 429, method="POST", path="/orders", retry_after=0.5)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        placed = await engine.place(buy("1"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        assert loop.time() - t0 >= 0.45  # Retry-After honoured
        assert posts(schwab) == 2 and len(schwab.orders) == 1  # the 429 made nothing
        venue = engine.venues["schwab"]
        assert venue.counters["rate_limited"] == 1  # type: ignore[attr-defined]
    finally:
        await engine.stop()


async def test_market_closed_refuses_without_sending_and_extended_takes_limits(schwab: FakeSchwab) -> None:
    schwab.set_market(False)
    engine = await started(schwab, settings={"extended_hours": True})
    try:
        placed = await engine.place(buy("1"))
        assert placed.status is OrderStatus.REJECTED and "closed" in (placed.reason or ""), placed
        assert posts(schwab) == 0
        schwab.set_market(False, extended=True)
        await engine.venues["schwab"]._refresh_hours()  # type: ignore[attr-defined]
        limit = await engine.place(buy("1", type=OrderType.LIMIT, price=Decimal("185"), extended_hours=True))
        await wait_for(lambda: status(engine, limit.client_order_id) is OrderStatus.ACCEPTED)
        assert next(iter(schwab.orders.values())).session == "SEAMLESS"  # type: ignore[attr-defined]
        market = await engine.place(buy("1", extended_hours=True))
        assert market.status is OrderStatus.REJECTED and "limit orders only" in (market.reason or "")
    finally:
        await engine.stop()


async def test_silent_account_activity_is_noticed_and_its_fills_backfilled(schwab: FakeSchwab) -> None:
    """Quotes and heartbeats flow, account activity says nothing: the order Schwab acknowledged
    is owed news; the stream is silent, the socket reconnects and the fill comes by reconcile."""
    engine = await started(schwab)
    try:
        schwab.stall_private()
        resting = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
        assert resting.status is OrderStatus.ACCEPTED
        schwab.fill(next(iter(schwab.orders)))
        venue = engine.venues["schwab"]
        await wait_for(lambda: venue.counters["reconnects"] >= 1)  # type: ignore[attr-defined]
        schwab.stall_private(False)
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED)
        await ledgers_agree(engine, schwab)
    finally:
        await engine.stop()


async def test_duplicate_and_reordered_activity_counts_each_fill_once(schwab: FakeSchwab) -> None:
    engine = await started(schwab)
    try:
        schwab.duplicate_fills()
        schwab.reorder_fills()
        placed = await engine.place(buy("4"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        await asyncio.sleep(0.3)
        await ledgers_agree(engine, schwab)
    finally:
        await engine.stop()


async def test_a_reconnect_says_what_is_true_of_each_stream_while_down_and_after(schwab: FakeSchwab) -> None:
    """After the close no quote comes (both symbols quiet); the streamer socket drops and the
    first logins after it are denied. While it is down every stream on it is `down`, account
    activity too (it said `waiting`, subscribed, while nothing was); once Schwab has taken the
    login and the subscriptions, the quotes still quiet say "resubscribed at the reconnect, no
    live update since", on their rows and the venue's line (they said "reconnecting" for as
    long as no quote came, hours after the close), and the outage is one reconnect."""
    engine = await started(schwab)
    venue = engine.venues["schwab"]
    quotes = {"quote:AAPL", "quote:MSFT"}
    try:
        schwab.set_market(False)
        for symbol in ("AAPL", "MSFT"):
            schwab.mute_stream(symbol)
        seen = what_it_says(venue)
        schwab.deny_next_login(2)
        await schwab.drop_connections()
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects == 1, 10)
        down = [rows for state, _, rows in seen if state == "reconnecting"]
        assert len(down) >= 2 and all(set(rows.values()) == {"down"} for rows in down), seen
        assert [state for state, _, _ in seen].count("connected") == 1, seen  # one outage, one reconnect
        rows = {r.name: r for r in venue.streams.rows()}
        assert all(rows[q].state == "down" and rows[q].detail == RESUBSCRIBED for q in quotes), rows
        (status_line,) = [v.detail for v in engine.snapshot().venues]
        assert status_line.startswith("reconnected after ") and "reconnecting" not in status_line, status_line
        assert "quote:AAPL, quote:MSFT down" in status_line, status_line
        assert rows["account"].reconnects == 1 and rows["account"].state in ("waiting", "live", "quiet")
        schwab.mute_stream("AAPL", False)
        await wait_for(lambda: venue.streams.state("quote:AAPL") == "live")
        assert [r.reconnects for r in venue.streams.rows() if r.name in quotes] == [1, 0]
    finally:
        await engine.stop()


async def test_a_new_login_while_running_takes_orders_again_and_reads_back_the_fills_missed(schwab: FakeSchwab) -> None:
    """The 7-day login runs out: orders are refused in one line and the streamer stops at its
    next login. The trader logs in again (`keys set schwab`) and runs `venue reconnect schwab`
    (which hands the venue the login read from the keyring): a login that has expired too is
    refused in one line, nothing changed; the new one is taken: the streamer logs in with it,
    the order filled while the login was over is read back once, a new order trades, and the
    ledgers agree. (Before, only a restart of the daemon brought the venue back.)"""
    import json
    import time

    from test_venues_schwab import KEY, SECRET

    from tui_trader.secrets import Credentials
    from tui_trader.venues.base import VenueError

    engine = await started(schwab)
    venue = engine.venues["schwab"]
    try:
        resting = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.ACCEPTED)
        schwab.expire_refresh_tokens()
        refused = await engine.place(buy("1"))
        assert refused.status is OrderStatus.REJECTED and "log in again" in (refused.reason or "")
        await schwab.drop_connections()  # the streamer's next login is refused: it stops
        await wait_for(lambda: venue.streams.state("account") == "stopped")  # type: ignore[attr-defined]
        schwab.fill(next(iter(schwab.orders)))  # filled at Schwab; nobody tells us

        stale = json.loads(schwab.issue_token())
        stale["creation_timestamp"] = int(time.time()) - 8 * 24 * 3600
        with pytest.raises(VenueError, match=r"the stored Schwab login has expired too .*keys set schwab"):
            await venue.reconnect_with(Credentials(KEY, SECRET, token=json.dumps(stale)))  # type: ignore[attr-defined]
        assert (await engine.place(buy("1"))).status is OrderStatus.REJECTED  # nothing changed

        await venue.reconnect_with(Credentials(KEY, SECRET, token=schwab.issue_token()))  # type: ignore[attr-defined]
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED)  # read back
        assert venue.state is ConnectionState.CONNECTED
        placed = await engine.place(buy("1"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        await ledgers_agree(engine, schwab)
    finally:
        await engine.stop()
