"""The ccxt adapter against a loopback fake OKX: real ccxt / ccxt.pro okx clients, OKX's wire format.

The fake answers as OKX's v5 API documents it (signed REST with a passphrase, demo trading
header, newest-first fills paged by billId, websocket login, books with seqId deltas).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared fakes

from tui_trader.core.enums import ConnectionState, OrderStatus, Side
from tui_trader.core.events import BookEvent, ConnectionEvent, Event, TickerEvent
from tui_trader.engine import Engine
from tui_trader.secrets import Credentials
from tui_trader.venues.ccxt.venue import CcxtVenue

from fakes.okx_exchange import FakeOkxExchange
from fakes.venue_harness import (
    buy,
    cancelled_by_client_id,
    ccxt_settings,
    ccxt_venue,
    duplicate_and_reordered_fills_count_once,
    engine_with,
    fills_match,
    limit_buy,
    order_status,
    private_refusals_spare_market_data,
    rate_limit_backs_off_then_reject,
    revoked_keys_stop_the_private_streams_once,
    streaming,
    timed_out_submit_is_found_by_client_id,
    trading,
    wait_for,
    wait_for_streams,
    wait_reconnected,
    wait_status,
)

KEY, SECRET, PASSPHRASE = "okx-key", "okx-secret-value", "okx-pass-phrase"


@pytest.fixture
async def okx() -> AsyncIterator[FakeOkxExchange]:
    ex = await FakeOkxExchange(api_key=KEY, secret=SECRET, passphrase=PASSPHRASE).start(tick_interval_s=0.02)
    yield ex
    await ex.stop()



def _venue(fake: FakeOkxExchange, *, secret: str = SECRET, passphrase: str = PASSPHRASE, **extra: Any) -> CcxtVenue:
    settings = ccxt_settings("okx", fake.ccxt_options(), ["BTC/USDT"], **{"rate_limit_ms": 1, **extra})
    return ccxt_venue(settings, Credentials(KEY, secret, passphrase))


async def _fills_match(engine: Engine, fake: FakeOkxExchange) -> None:
    """Every fill the exchange made is stored exactly once, with OKX's fee as a positive cost."""
    stored = await fills_match(engine, fake)
    fees = {str(t.trade_id): t.commission for t in fake.trades}
    assert all(f.fee == fees[f.fill_id] and f.fee > 0 for f in stored)


async def test_markets_become_instruments_with_okx_tick_lot_and_min_size(okx) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(okx)
    async with streaming(venue):
        inst = (await venue.load_markets())["BTC/USDT"]
        assert inst.tick_size == Decimal("0.01") and inst.lot_size == Decimal("0.00001")
        # OKX lists a minimum size (minSz), no minimum notional
        assert inst.min_qty == Decimal("0.0001") and inst.min_notional == 0 and inst.quote == "USDT"
        assert ("GET", "public/instruments") in okx.requests


async def test_ticker_book_trades_and_candles_stream_over_websockets(okx) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(okx, candles=["1m"])
    async with streaming(venue, ["BTC/USDT"]) as events:
        await wait_for_streams(events, at_least=5)
        ticker = next(e.ticker for e in reversed(events) if isinstance(e, TickerEvent))
        assert round(ticker.ask - ticker.bid, 2) == 0.02 and ticker.symbol == "BTC/USDT"
        # the books channel: one snapshot, then seqId-chained deltas the client applied
        book = next(e.book for e in reversed(events) if isinstance(e, BookEvent))
        assert len(book.bids) == 5 and len(book.asks) == 5 and book.bids[0][0] < book.asks[0][0]
        assert [b - a for (b, _), (a, _) in zip(book.bids[:-1], book.bids[1:], strict=True)] == [
            pytest.approx(0.01)
        ] * 4
        # websockets only: no REST polling of market data, sandbox (demo) socket URLs
        assert not [p for _, p in okx.requests if p.startswith("market/")]
        assert okx.ws_queries and all(q == "brokerId=9999" for q in okx.ws_queries)


async def test_balances_and_orders_fill_through_the_engine(okx) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(okx)
    async with trading(venue) as engine:
        before = await venue.fetch_balances()
        assert before["USDT"].total == Decimal("1000000") and before["BTC"].free == Decimal("1000")
        await wait_for(lambda: engine.ticker("BTC/USDT") is not None)
        resting = await engine.place(limit_buy("okx", "97", "0.3"))
        await wait_status(engine, resting.client_order_id, OrderStatus.ACCEPTED)
        assert [o.client_order_id for o in okx.open_orders()] == [resting.client_order_id]
        locked = await venue.fetch_balances()
        assert locked["USDT"].free == Decimal("1000000") - Decimal("0.3") * 97
        okx.set_price("BTC/USDT", "96.5")  # the market reaches the bid: it fills at 97
        await wait_status(engine, resting.client_order_id, OrderStatus.FILLED)
        market = await engine.place(buy("okx", "0.2"))
        await wait_status(engine, market.client_order_id, OrderStatus.FILLED)
        assert len(okx.trades_for("BTC/USDT")) == 3  # the market order filled in two parts
        await _fills_match(engine, okx)
        assert engine.portfolio.positions[("okx", "BTC/USDT")].quantity == Decimal("0.5")
        sent = okx.orders[market.client_order_id]
        assert sent.side == "buy" and sent.type == "market" and len(market.client_order_id) == 18
        after = await venue.fetch_balances()
        assert after["BTC"].total == Decimal("1000.5")
        # cancel by client order id (clOrdId)
        await cancelled_by_client_id(engine, okx, limit_buy("okx", "90", "0.1"))


async def test_timed_out_submit_is_found_by_clordid_not_sent_twice(okx) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(okx, timeout_ms=300)
    async with trading(venue) as engine:
        await timed_out_submit_is_found_by_client_id(engine, venue, okx, limit_buy("okx", "97"))


async def test_drop_reconnects_resubscribes_and_reconciles_missed_fills(okx) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(okx)
    async with trading(venue) as engine:
        events: list[Event] = []
        engine.bus.on(events.append, kinds=["connection", "ticker"])
        order = await engine.place(limit_buy("okx", "97", "0.4"))
        await wait_status(engine, order.client_order_id, OrderStatus.ACCEPTED)
        okx.stall()  # the fills below are lost on the wire
        okx.fill(order.client_order_id, Decimal("0.1"))
        okx.fill(order.client_order_id)
        await okx.drop_connections()
        okx.stall(False)
        await wait_reconnected(events)
        await _fills_match(engine, okx)  # reconciled over REST (fills-history), each once
        assert order_status(engine, order.client_order_id) is OrderStatus.FILLED
        seen = sum(isinstance(e, TickerEvent) for e in events)
        await wait_for(lambda: sum(isinstance(e, TickerEvent) for e in events) > seen + 3)  # resubscribed
        assert engine.portfolio.positions[("okx", "BTC/USDT")].quantity == Decimal("0.4")


async def test_fill_history_pages_newest_first_by_bill_id(okx) -> None:  # type: ignore[no-untyped-def]
    """OKX returns at most 100 fills, newest first: all 250 come back, none twice."""
    venue = _venue(okx)
    async with streaming(venue):
        order = okx.place("BTC/USDT", "buy", "limit", Decimal("25"), Decimal("50"), "web1")
        for _ in range(250):
            okx.fill(order.client_order_id, Decimal("0.1"))
        fills = await venue.fetch_fills()
        assert sorted(int(f.fill_id) for f in fills) == sorted(t.trade_id for t in okx.trades)
        assert len(fills) == 250 and {f.client_order_id for f in fills} == {"web1"}
        assert not okx.auth_failures


async def test_rate_limit_backs_off_and_reject_carries_okx_reason(okx) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(okx)
    async with trading(venue) as engine:
        rejected = await rate_limit_backs_off_then_reject(
            engine, venue, okx, limit_buy("okx", "97"), limit_buy("okx", "96")
        )
        assert "51008" in (rejected.reason or "") and "Insufficient USDT balance" in (rejected.reason or "")


@pytest.mark.parametrize(
    ("secret", "passphrase", "code"), [("wrong-secret", PASSPHRASE, "50113"), (SECRET, "wrong", "50105")]
)
async def test_wrong_secret_or_passphrase_is_an_authentication_failure(okx, secret, passphrase, code) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from tui_trader.core.events import ExecutionReport
    from tui_trader.core.orders import Order
    from tui_trader.venues.base import VenueError

    # the engine refuses to start: its first reconcile (signed) is refused, with a clear line
    refused = _venue(okx, secret=secret, passphrase=passphrase)
    with pytest.raises(VenueError, match="authentication failed; run `tui-trader keys set okx`"):
        await engine_with(refused)
    await refused.close()
    venue = _venue(okx, secret=secret, passphrase=passphrase)
    async with streaming(venue) as events:
        req = limit_buy("okx", "97")
        await venue.create_order(Order.from_request(req, "ttokxauth00000001", "okx", datetime.now(UTC)))
        report = [e for e in events if isinstance(e, ExecutionReport)][-1]
        assert report.status is OrderStatus.REJECTED and "authentication failed" in (report.reason or "")
        assert not okx.orders and code in okx.auth_failures
        # the private websocket login is refused too: the orders stream stops, loudly
        await wait_for(lambda: venue.state is ConnectionState.DEGRADED)
        assert {"60007", "60024"} & set(okx.auth_failures)
        degraded = [e for e in events if isinstance(e, ConnectionEvent) and e.state is ConnectionState.DEGRADED]
        assert "authentication failed" in degraded[-1].detail


async def test_a_login_okx_refuses_for_its_own_fault_renews_the_private_socket_alone(okx) -> None:  # type: ignore[no-untyped-def]
    """OKX answers the private login 63999 "Login failed due to internal error. Please try
    again later." (its websocket error codes): not our keys. Each retry was a venue-wide
    reconnect that paused market data for its backoff; now the private socket alone."""
    refusal = ("63999", "Login failed due to internal error. Please try again later.")
    await private_refusals_spare_market_data(_venue(okx), okx, lambda: okx.login_refusals.extend([refusal] * 3))
    assert not okx.login_refusals and okx.logins >= 4  # three refused, then one taken


async def test_keys_revoked_mid_session_stop_the_private_streams_once_saying_keys_set(okx) -> None:  # type: ignore[no-untyped-def]
    """OKX refuses the login of a revoked key: 60005 "Invalid OK-ACCESS-KEY" (ccxt: an
    AuthenticationError)."""
    await revoked_keys_stop_the_private_streams_once(_venue(okx), okx, lambda: okx.logins)


async def test_a_login_refused_without_a_reason_stops_once_saying_what_to_check(okx) -> None:  # type: ignore[no-untyped-def]
    """OKX's 60009 "Login failure" (ccxt: an AuthenticationError) has no cause in OKX's docs,
    which have codes of their own for a wrong key, sign or passphrase, a timestamp, an internal
    error: it cannot be told from refused keys. The private streams stop once, as for them,
    saying what to check."""
    venue = _venue(okx)
    refuse = lambda: okx.login_refusals.extend([("60009", "Login failure")] * 3)  # noqa: E731
    await revoked_keys_stop_the_private_streams_once(venue, okx, lambda: okx.logins, refuse)
    said = venue.streams.summary()
    assert '"Login failure" (60009)' in said and "IP whitelist" in said and "keys set okx" in said, said


async def test_live_okx_sends_no_demo_header_and_needs_arming(okx) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.engine.commands import dispatch

    okx.demo = False  # the live environment: demo-trading requests are refused (50101)
    venue = _venue(okx, sandbox=False)
    assert venue.is_live
    async with trading(venue) as engine:
        refused = await engine.place(buy("okx"))
        assert refused.status is OrderStatus.REJECTED and "not armed" in (refused.reason or "")
        assert (await dispatch(engine, "arm_live", {}, "test"))["live_venues"] == ["okx"]
        placed = await engine.place(buy("okx"))
        await wait_status(engine, placed.client_order_id, OrderStatus.FILLED)
        assert len(okx.orders) == 1 and not okx.auth_failures
        assert ("GET", "asset/currencies") in okx.requests  # live ccxt loads currencies, signed
        assert okx.ws_queries and all(q == "" for q in okx.ws_queries)


async def test_demo_keys_against_live_environment_are_refused(okx) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.venues.base import VenueError

    okx.demo = False
    venue = _venue(okx)  # sandbox = true: ccxt sends x-simulated-trading: 1
    async with streaming(venue):
        with pytest.raises(VenueError, match="authentication failed"):
            await venue.fetch_balances()
        assert okx.auth_failures[-1] == "50101"


async def test_duplicate_and_out_of_order_order_updates_count_once(okx) -> None:  # type: ignore[no-untyped-def]
    async with trading(_venue(okx)) as engine:
        await duplicate_and_reordered_fills_count_once(engine, okx, buy("okx", "0.4"), settle_s=0)
        await _fills_match(engine, okx)


async def test_malformed_frames_and_a_silent_stall_do_not_lose_the_stream(okx) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(okx)
    events: list[Event] = []
    await venue.connect(events.append)
    await venue.subscribe(["BTC/USDT"])
    tickers = lambda: sum(isinstance(e, TickerEvent) for e in events)  # noqa: E731
    try:
        await wait_for(lambda: tickers() > 2)
        okx.send_malformed(3)
        seen = tickers()
        await wait_for(lambda: tickers() > seen + 5)
        okx.stall()
        await wait_for(lambda: venue.state is not ConnectionState.CONNECTED)
        okx.stall(False)
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and venue.monitor.reconnects >= 1)
        seen = tickers()
        await wait_for(lambda: tickers() > seen + 3)
    finally:
        await venue.close()


async def test_order_placed_on_the_website_is_imported_at_start(okx) -> None:  # type: ignore[no-untyped-def]
    okx.place("BTC/USDT", "sell", "limit", Decimal("0.5"), Decimal("500"), "web1")
    async with trading(_venue(okx)) as engine:
        imported = engine.oms.orders["web1"]  # type: ignore[union-attr]
        assert imported.meta.get("external") is True and imported.side is Side.SELL
        assert imported.quantity == Decimal("0.5")


async def test_streamed_fill_names_its_order_by_clordid(okx) -> None:  # type: ignore[no-untyped-def]
    """An order from before this connection fills: ccxt.pro okx hands the trade to watchMyTrades
    before the order update reaches watchOrders, so the trade's own clOrdId must name it."""
    from tui_trader.core.events import ExecutionReport

    okx.place("BTC/USDT", "buy", "limit", Decimal("0.2"), Decimal("90"), "ttearlier00000001")
    venue = _venue(okx)
    async with streaming(venue) as events:
        await wait_for(lambda: len(okx._private) == 1 and bool(next(iter(okx._private.values()))))
        okx.fill("ttearlier00000001")
        await wait_for(lambda: any(isinstance(e, ExecutionReport) and e.fill for e in events))
        fill = next(e.fill for e in events if isinstance(e, ExecutionReport) and e.fill)
        assert fill.client_order_id == "ttearlier00000001" and fill.fee == okx.trades[0].commission
