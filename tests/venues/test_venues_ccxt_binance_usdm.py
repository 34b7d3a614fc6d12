"""The ccxt adapter on Binance USDⓈ-M perpetuals (ccxt.pro's `binanceusdm`) against a loopback
fake of the futures API written from Binance's public docs (tests/fakes/binance_futures.py):
brackets, leverage and margin type, the venue's own position figures, funding into the ledger,
reduce-only, liquidation / ADL / margin calls on the user stream, and the spot fault rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tui_trader.core.enums import InstrumentKind, MarginMode, OrderStatus, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.core.events import Event
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.engine import Engine
from tui_trader.home import Home
from tui_trader.secrets import Credentials
from tui_trader.venues.ccxt.venue import CcxtVenue

from fakes.binance_futures import FakeBinanceFutures
from fakes.venue_harness import (
    API_KEY,
    SECRET,
    ccxt_settings,
    ccxt_venue,
    position_opened,
    private_refusals_spare_market_data,
    revoked_keys_stop_the_private_streams_once,
    risk_events,
    wait_for,
    wait_status,
)

BTC = "BTC/USDT:USDT"
VENUE = "binanceusdm"


@pytest.fixture
async def usdm() -> AsyncIterator[FakeBinanceFutures]:
    fake = await FakeBinanceFutures(api_key=API_KEY).start(tick_interval_s=0.02)
    yield fake
    await fake.stop()


def usdm_venue(fake: FakeBinanceFutures, **extra: Any) -> CcxtVenue:
    # ccxt spaces requests by their weight (/openOrders without a symbol weighs 40 x 50 ms):
    # a loopback venue need not wait for that
    options = {**fake.ccxt_options(), "rateLimit": 1}
    settings = ccxt_settings(VENUE, options, [BTC], poll_interval_s=extra.pop("poll_interval_s", 0.2), **extra)
    return ccxt_venue(settings, Credentials(API_KEY, SECRET))


async def started(fake: FakeBinanceFutures, home: Home | None = None, **venue: Any) -> Engine:
    from fakes.venue_harness import engine_settings

    engine = Engine(engine_settings(), home, in_memory=home is None, venues={VENUE: usdm_venue(fake, **venue)})
    await engine.start()
    return engine


def perp(side: Side, qty: str = "1", **kw: Any) -> OrderRequest:
    return OrderRequest(BTC, side, Decimal(qty), venue=VENUE, **kw)


async def test_perpetuals_load_with_the_venues_leverage_brackets(usdm: FakeBinanceFutures) -> None:
    engine = await started(usdm)
    try:
        inst = engine.instrument(VENUE, BTC)
        assert inst is not None and inst.kind is InstrumentKind.LINEAR_PERP and inst.settle_currency == "USDT"
        assert inst.tick_size == Decimal("0.1") and inst.lot_size == Decimal("0.001")
        assert inst.max_leverage == 125 and len(inst.tiers) == 4
        assert inst.tiers[1].maintenance_rate == Decimal("0.005") and inst.tiers[1].maintenance_amount == 50
        assert ("GET", "/leverageBracket") in usdm.requests
    finally:
        await engine.stop()


async def test_an_account_in_hedge_mode_is_refused_at_start_in_one_line(usdm: FakeBinanceFutures) -> None:
    from tui_trader.core.errors import ConfigError

    usdm.hedge_mode = True
    venue = usdm_venue(usdm)
    with pytest.raises(ConfigError, match="hedge mode") as caught:
        await venue.connect(lambda e: None)
    await venue.close()
    assert "\n" not in str(caught.value) and not any(p == "/order" for _, p in usdm.requests)


async def test_leverage_and_margin_mode_are_set_at_the_venue_first(usdm: FakeBinanceFutures) -> None:
    engine = await started(usdm)
    try:
        setting = await engine.derivatives.set_leverage(VENUE, BTC, Decimal(5), MarginMode.ISOLATED)
        assert setting.leverage == 5 and usdm.positions[BTC].leverage == 5
        assert usdm.positions[BTC].margin_type == "isolated"
        assert usdm.margin_type_requests[-1]["marginType"] == "ISOLATED"
        # the mode it has already: Binance answers -4046, which is no refusal
        await engine.derivatives.set_leverage(VENUE, BTC, Decimal(7), MarginMode.ISOLATED)
        assert usdm.positions[BTC].leverage == 7
        usdm.refuse_leverage = "Leverage 9 is not valid"
        with pytest.raises(UserError, match=r"refused leverage 9x.*nothing changed"):
            await engine.derivatives.set_leverage(VENUE, BTC, Decimal(9))
        assert engine.derivatives.setting(VENUE, BTC).leverage == 7 and usdm.positions[BTC].leverage == 7
    finally:
        await engine.stop()


async def test_a_position_shows_the_venues_mark_liquidation_price_and_margin(
    usdm: FakeBinanceFutures, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = await started(usdm)
    try:
        await engine.derivatives.set_leverage(VENUE, BTC, Decimal(10), MarginMode.ISOLATED)
        usdm.mark_premium[BTC] = Decimal("0.50")
        await wait_for(lambda: engine.ticker(BTC, VENUE) is not None)
        order = await engine.place(perp(Side.BUY, "2"))
        assert order.status is not OrderStatus.REJECTED, order.reason
        await wait_status(engine, order.client_order_id, OrderStatus.FILLED)
        venue = engine.venues[VENUE]
        assert isinstance(venue, CcxtVenue)
        # the price holds from here: the mark compared is the one asked (a loaded machine's fake
        # ticked during each of five reads the test made to catch a still one)
        monkeypatch.setattr(usdm, "price_step", lambda symbol: Decimal(0))
        mark = usdm.mark(BTC)
        theirs = (await venue.fetch_venue_positions())[BTC]
        assert theirs.quantity == Decimal("2") and theirs.mark == mark
        assert theirs.liquidation_price == usdm.liquidation_price(BTC)
        assert theirs.maintenance_margin > 0 and theirs.initial_margin > 0
        # the engine values the position at the venue's mark (premiumIndex), not the last trade
        await wait_for(lambda: (t := engine.ticker(BTC, VENUE)) is not None and t.mark_price > 0)
        ticker = engine.ticker(BTC, VENUE)
        assert ticker is not None and abs(Decimal(str(ticker.mark_price)) - usdm.mark(BTC)) < 5
        await wait_for(lambda: "at_venue" in {r["symbol"]: r for r in engine.derivatives.rows()}[BTC])
        rows = {r["symbol"]: r for r in engine.derivatives.rows()}
        assert Decimal(rows[BTC]["at_venue"]["liquidation_price"]) == usdm.liquidation_price(BTC)
        ours = Decimal(str(rows[BTC]["liquidation_price"]))
        # our formula and Binance's agree (to the fee the fake books in the isolated wallet)
        assert abs(ours - theirs.liquidation_price) / theirs.liquidation_price < Decimal("0.01")  # type: ignore[operator]
    finally:
        await engine.stop()


async def opened(engine: Engine, fake: FakeBinanceFutures, qty: str = "1", side: Side = Side.BUY) -> None:
    await position_opened(engine, perp(side, qty))


async def test_funding_is_polled_into_the_ledger_once(usdm: FakeBinanceFutures) -> None:
    engine = await started(usdm, poll_interval_s=30)  # the stream's ACCOUNT_UPDATE triggers the read
    try:
        await opened(engine, usdm, "2")
        paid = usdm.pay_funding(BTC, Decimal("0.0005"))  # a long pays when the rate is positive
        assert engine.store is not None
        await wait_for(lambda: engine.portfolio.positions[(VENUE, BTC)].funding != 0)
        pos = engine.portfolio.positions[(VENUE, BTC)]
        assert pos.funding == Decimal(paid["income"]) < 0
        await engine.derivatives.settle()
        stored = await engine.store.load_cash_flows()
        assert [(f.flow_id, f.amount, f.currency) for f in stored] == [
            (str(paid["tranId"]), Decimal(paid["income"]), "USDT")
        ]
        venue = engine.venues[VENUE]
        assert isinstance(venue, CcxtVenue)
        venue._flows_seen.clear()  # the next poll reads the same payment again: booked once
        venue._flows_due.set()
        await asyncio.sleep(0.3)
        assert engine.portfolio.positions[(VENUE, BTC)].funding == Decimal(paid["income"])
        assert len(await engine.store.load_cash_flows()) == 1
    finally:
        await engine.stop()


async def test_funding_paid_while_the_engine_was_down_is_imported_at_start(usdm: FakeBinanceFutures, tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = Home(tmp_path / "home")
    engine = await started(usdm, home)
    try:
        await opened(engine, usdm, "1")
    finally:
        await engine.stop()
    first = usdm.pay_funding(BTC, Decimal("-0.0002"))  # shorts pay: the long receives
    second = usdm.pay_funding(BTC, Decimal("0.0001"))
    engine = await started(usdm, home, poll_interval_s=30)
    try:
        assert engine.store is not None
        await engine.derivatives.settle()
        flows = {f.flow_id: f.amount for f in await engine.store.load_cash_flows()}
        assert flows == {str(r["tranId"]): Decimal(r["income"]) for r in (first, second)}
    finally:
        await engine.stop()


async def test_funding_paid_before_a_balances_read_and_heard_of_after_is_counted_once(usdm: FakeBinanceFutures) -> None:
    """Fault row "a funding payment made before the balances are read, heard of after": the
    stream's ACCOUNT_UPDATE is lost and the next poll is 30 s away, so the payment is in the
    balances read after a reconnect but not yet booked (the position closed meanwhile, so the
    balances hold no unrealised P&L). The read is believed only once the venue's funding
    history has been read after it (the payment booked: read again); the poll that then finds
    it books nothing. The cash is the venue's wallet, the payment in it once (it was in twice:
    in the balances, then booked by the poll)."""
    engine = await started(usdm, poll_interval_s=30)
    try:
        await opened(engine, usdm, "2")
        venue = engine.venues[VENUE]
        assert isinstance(venue, CcxtVenue)
        usdm.stall_private()
        paid = usdm.pay_funding(BTC, Decimal("0.0005"))
        usdm.stall_private(False)
        await opened(engine, usdm, "2", Side.SELL)  # flat again
        await engine.reconciler.cash.reread(VENUE, "reconnect")
        venue._flows_due.set()  # the next poll
        await wait_for(lambda: (VENUE, str(paid["tranId"])) in engine.derivatives._seen_flows)
        await asyncio.sleep(0.3)  # the poll's events booked, or found booked
        await engine.derivatives.settle()
        assert engine.store is not None and len(await engine.store.load_cash_flows()) == 1
        assert engine.portfolio.cash["USDT"] == usdm.wallet, (engine.portfolio.cash, usdm.wallet)
    finally:
        await engine.stop()


async def test_a_balances_read_with_a_position_open_takes_the_wallet_not_its_unrealised_pnl(
    usdm: FakeBinanceFutures,
) -> None:
    """ccxt's binanceusdm `total` is the margin balance: the wallet plus the open position's
    unrealised P&L, which the engine's position adds again. A read with a long open in profit
    sets the cash to the wallet, so the unrealised P&L counts once in the equity (it counted
    twice: in the cash read and on the position)."""
    engine = await started(usdm, poll_interval_s=30)
    try:
        await opened(engine, usdm, "2")
        usdm.set_price(BTC, usdm.prices[BTC] + 10)
        venue = engine.venues[VENUE]
        assert isinstance(venue, CcxtVenue)
        total = (await venue.fetch_balances())["USDT"].total
        assert total == usdm.wallet
        await engine.reconciler.cash.reread(VENUE, "reconnect")
        assert engine.portfolio.cash["USDT"] == usdm.wallet, (engine.portfolio.cash, usdm.wallet)
    finally:
        await engine.stop()


async def test_reduce_only_reaches_the_venue_and_its_refusal_is_one_line(usdm: FakeBinanceFutures) -> None:
    engine = await started(usdm)
    try:
        await wait_for(lambda: engine.ticker(BTC, VENUE) is not None)
        refused = await engine.place(perp(Side.SELL, "1", reduce_only=True))  # nothing to reduce
        assert refused.status is OrderStatus.REJECTED and "reduce" in (refused.reason or "")
        assert not usdm.orders  # the engine's own check: the venue was not asked
        # past the engine's check (its position is stale): the venue's refusal, in one line
        assert engine.oms is not None
        stale = Order.from_request(perp(Side.SELL, "1", reduce_only=True), engine.new_id(), VENUE, engine.clock.now())
        await engine.oms.submit(stale)
        await wait_status(engine, stale.client_order_id, OrderStatus.REJECTED)
        assert "ReduceOnly Order is rejected" in (engine.oms.orders[stale.client_order_id].reason or "")
        await opened(engine, usdm, "2")
        closing = await engine.place(perp(Side.SELL, "2", reduce_only=True))
        await wait_status(engine, closing.client_order_id, OrderStatus.FILLED)
        assert usdm._order_rest(usdm.orders[closing.client_order_id])["reduceOnly"] is True
        assert usdm.positions[BTC].amount == 0 and engine.portfolio.positions[(VENUE, BTC)].quantity == 0
    finally:
        await engine.stop()


@pytest.mark.parametrize("adl", [False, True])
async def test_a_liquidation_or_adl_on_the_stream_is_recorded_and_books_its_fill(
    usdm: FakeBinanceFutures, adl: bool
) -> None:
    engine = await started(usdm)
    seen = risk_events(engine)
    try:
        await opened(engine, usdm, "3")
        usdm.margin_call(BTC)
        await wait_for(lambda: any(e.code == "venue:margin_call" for e in seen))
        forced = usdm.liquidate(BTC, adl=adl)
        await wait_for(lambda: engine.portfolio.positions[(VENUE, BTC)].quantity == 0)
        assert engine.oms is not None and engine.store is not None
        await wait_status(engine, forced.client_order_id, OrderStatus.FILLED)
        ours = await engine.store.get_order(forced.client_order_id)
        assert ours is not None and ours.meta.get("forced") == ("adl" if adl else "liquidation")
        assert ours.meta.get("external") is True and ours.reduce_only
        kind = "adl" if adl else "liquidation"
        assert any(e.code == f"venue:{kind}" and forced.client_order_id in e.message for e in seen)
        fills = [f for f in await engine.store.load_fills(limit=100) if f.client_order_id == forced.client_order_id]
        assert sum(f.quantity for f in fills) == Decimal("3")
    finally:
        await engine.stop()


async def test_a_liquidation_while_the_stream_was_silent_is_found_by_the_reconcile(usdm: FakeBinanceFutures) -> None:
    engine = await started(usdm)
    try:
        await opened(engine, usdm, "2")
        usdm.stall()  # nothing reaches us: the liquidation is only in the venue's history
        forced = usdm.liquidate(BTC)
        await usdm.drop_connections()
        usdm.stall(False)
        await wait_for(lambda: engine.portfolio.positions[(VENUE, BTC)].quantity == 0)
        assert engine.store is not None
        ours = await engine.store.get_order(forced.client_order_id)
        assert ours is not None and ours.meta.get("forced") == "liquidation"
    finally:
        await engine.stop()


# -- the spot fault rules, on the futures API ----------------------------------------------------


def resting(qty: str = "1") -> OrderRequest:
    return perp(Side.BUY, qty, type=OrderType.LIMIT, price=Decimal("93"))


def posts(fake: FakeBinanceFutures) -> int:
    return sum(1 for m, p in fake.requests if m == "POST" and p == "/order")


async def test_a_lost_answer_is_unknown_then_found_by_client_id_never_resent(usdm: FakeBinanceFutures) -> None:
    engine = await started(usdm, timeout_ms=300)
    try:
        usdm.stall_private()  # the stream's news is lost too: only REST can tell
        usdm.delay_next_ack(1.0)  # the order is made; its answer comes after our timeout
        placed = await engine.place(resting())
        assert placed.status is not OrderStatus.REJECTED, placed.reason
        await wait_status(engine, placed.client_order_id, OrderStatus.ACCEPTED)
        usdm.stall_private(False)
        await asyncio.sleep(0.3)
        assert posts(usdm) == 1 and len(usdm.orders) == 1 and usdm.made_twice == []
        venue = engine.venues[VENUE]
        assert isinstance(venue, CcxtVenue) and venue.counters["found_by_client_id"] == 1
    finally:
        await engine.stop()


async def test_a_duplicate_client_id_answer_is_looked_up_not_taken_as_a_refusal(usdm: FakeBinanceFutures) -> None:
    """The order is made but the answer is -4116 "ClientOrderId is duplicated." (the request
    reached Binance twice): ccxt raises a plain InvalidOrder, which must not reject it."""
    engine = await started(usdm)
    try:
        usdm.answer_duplicate_next()
        placed = await engine.place(resting())
        assert placed.status is not OrderStatus.REJECTED, placed.reason
        await wait_status(engine, placed.client_order_id, OrderStatus.ACCEPTED)
        assert posts(usdm) == 1 and usdm.orders[placed.client_order_id].is_open
        usdm.fill(placed.client_order_id)
        await wait_status(engine, placed.client_order_id, OrderStatus.FILLED)
        assert engine.portfolio.positions[(VENUE, BTC)].quantity == usdm.positions[BTC].amount == 1
    finally:
        await engine.stop()


async def test_a_refused_listen_key_is_asked_for_again_on_the_private_socket_alone(usdm: FakeBinanceFutures) -> None:
    """The user data socket's listenKey expired (the socket dropped; its handshake is refused:
    HTTP 400, -1125 "This listenKey does not exist."). ccxt kept it for its 20 minutes: each
    retry was a venue-wide reconnect with the same key, market data paused every time, the venue
    shown `connected` between them. Now a new key is asked for, on the private socket alone."""
    await private_refusals_spare_market_data(usdm_venue(usdm), usdm, usdm.listen_keys.clear)
    assert usdm.listen_keys == {"fake-listen-key-2"}


async def test_keys_revoked_mid_session_stop_the_private_streams_once_saying_keys_set(usdm: FakeBinanceFutures) -> None:
    """A revoked key's listenKey goes with it; asking for a new one is refused 401 / -2015
    (ccxt's binanceusdm: an AuthenticationError). Before, the venue reconnected with the old
    listenKey for ccxt's 20 minutes, never saying a word of the keys."""
    await revoked_keys_stop_the_private_streams_once(
        usdm_venue(usdm), usdm, lambda: usdm.requests.count(("POST", "/listenKey")), usdm.listen_keys.clear
    )


async def test_a_silent_user_stream_is_noticed_and_its_fills_backfilled(usdm: FakeBinanceFutures) -> None:
    engine = await started(usdm)
    events: list[Event] = []
    engine.bus.on(events.append, kinds=["connection"])
    try:
        placed = await engine.place(resting("2"))
        await wait_status(engine, placed.client_order_id, OrderStatus.ACCEPTED)
        usdm.stall_private()  # market data keeps flowing
        usdm.fill(placed.client_order_id)
        await wait_status(engine, placed.client_order_id, OrderStatus.FILLED)  # found over REST
        assert any("orders silent" in getattr(e, "detail", "") for e in events)
        usdm.stall_private(False)
        assert engine.store is not None
        fills = [f for f in await engine.store.load_fills(limit=100) if f.client_order_id == placed.client_order_id]
        assert sorted(f.fill_id for f in fills) == sorted(str(t.trade_id) for t in usdm.trades)
        assert engine.portfolio.positions[(VENUE, BTC)].quantity == usdm.positions[BTC].amount == 2
    finally:
        await engine.stop()


async def test_a_leveraged_order_from_the_command_line_sets_binances_leverage_first(
    usdm: FakeBinanceFutures, tmp_path, capsys: pytest.CaptureFixture[str]  # type: ignore[no-untyped-def]
) -> None:
    """`tui-trader order buy 1 BTC/USDT:USDT --leverage 5` against the daemon trading the fake:
    Binance is told the leverage before the order; `positions --json` shows Binance's own
    figures beside ours; a leverage Binance refuses is one line, exit 1, and no order."""
    import json

    from tui_trader.cli.main import main
    from tui_trader.daemon.server import ControlServer

    home = Home(tmp_path / "h").ensure()
    engine = await started(usdm)
    server = ControlServer(engine, home.socket_path, token="t0ken-for-tests", tcp_port=0)
    await server.start()

    async def cli(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(main, [*argv, "--home", str(home.root)])
        out, err = capsys.readouterr()
        return code, out, err

    try:
        await wait_for(lambda: engine.ticker(BTC, VENUE) is not None)
        code, out, err = await cli("order", "buy", "1", BTC, "--venue", VENUE, "--leverage", "5", "--json")
        assert code == 0 and json.loads(out)["status"] in ("accepted", "filled"), err
        await wait_for(lambda: engine.portfolio.position(VENUE, BTC).quantity == 1)  # the fill streams in
        assert usdm.positions[BTC].leverage == 5 and usdm.positions[BTC].amount == 1
        assert [p for m, p in usdm.requests if m == "POST"].index("/leverage") < [
            p for m, p in usdm.requests if m == "POST"
        ].index("/order")
        await wait_for(lambda: "at_venue" in engine.derivatives.rows()[0])
        code, out, _ = await cli("positions", "--json")
        (pos,) = json.loads(out)
        assert pos["margin"]["leverage"] == "5"
        assert Decimal(pos["margin"]["at_venue"]["liquidation_price"]) == usdm.liquidation_price(BTC)
        usdm.refuse_leverage = "Leverage 7 is not valid"
        orders = len(usdm.orders)
        code, _, err = await cli("order", "buy", "1", BTC, "--venue", VENUE, "--leverage", "7")
        assert code == 1 and "Leverage 7 is not valid" in err and len(err.strip().splitlines()) == 1
        assert len(usdm.orders) == orders and usdm.positions[BTC].leverage == 5
    finally:
        await server.stop()
        await engine.stop()


async def test_perpetuals_on_an_unverified_exchange_are_refused_live_and_its_funding_not_booked() -> None:
    """Perpetuals on an exchange not verified here (OKX swaps, docs/futures.md): a live venue
    refuses them at start in one line; on its testnet they trade, but ccxt's funding amounts
    (whose sign differs between exchanges) are not booked with a guessed sign."""
    from tui_trader.core.enums import AssetClass
    from tui_trader.core.errors import ConfigError
    from tui_trader.core.instrument import Instrument

    perp = Instrument(symbol=BTC, venue="okx", base="BTC", quote="USDT", asset_class=AssetClass.CRYPTO,
                      tick_size=Decimal("0.1"), lot_size=Decimal("0.001"), kind=InstrumentKind.LINEAR_PERP,
                      settle="USDT", max_leverage=Decimal(100))  # fmt: skip
    for sandbox in (False, True):
        settings = ccxt_settings("okx", {}, [BTC], sandbox=sandbox)
        venue = ccxt_venue(settings, Credentials(API_KEY, SECRET))
        venue.instruments = {BTC: perp}
        if not sandbox:
            with pytest.raises(ConfigError, match="not verified") as caught:
                venue._check_derivatives()
            assert "\n" not in str(caught.value)
        else:
            venue._check_derivatives()
            assert await venue.fetch_cash_flows() == []
