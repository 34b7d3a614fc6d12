"""A venue's balances are read again once it is back, against the fake Binance (loopback, a
real ccxt client): after `venue reconnect` gives keys to a venue that started without any
(its cash was unknown: the risk check let every order through to the venue), and after a
reconnect following an outage (a deposit made meanwhile is in the cash; a fill made meanwhile
is counted once: in the balances read, not again as a fill). Cash and the fake's account
agree; a move is said in a notice and an audit row."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from tui_trader.core.enums import ConnectionState, OrderStatus
from tui_trader.core.events import ConnectionEvent, Event, NoticeEvent
from tui_trader.core.orders import Order
from tui_trader.core.positions import Balance
from tui_trader.engine import Engine
from tui_trader.engine.commands import dispatch
from tui_trader.home import Home
from tui_trader.secrets import Credentials, CredentialStore

from fakes.binance_exchange import FakeBinanceExchange
from fakes.venue_harness import (
    API_KEY,
    SECRET,
    buy,
    engine_settings,
    fills_match,
    limit_buy,
    make_venue,
    wait_for,
    wait_status,
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """A home whose encrypted file keyring (at a test's Argon2 cost) holds no keys yet."""
    from keyrings.cryptfile.cryptfile import ArgonAESEncryption

    monkeypatch.setattr(ArgonAESEncryption, "time_cost", 1)
    monkeypatch.setattr(ArgonAESEncryption, "memory_cost", 1024)
    monkeypatch.setenv("TUI_TRADER_KEYRING", "file")
    monkeypatch.setenv("TUI_TRADER_KEYRING_PASSWORD", "keyring-pass")
    return Home(tmp_path / "home")


@pytest.fixture
async def account(fake: FakeBinanceExchange) -> AsyncIterator[FakeBinanceExchange]:
    """The fake Binance holding 1,000 USDT and 2 BTC."""
    fake.balances = {"USDT": Decimal("1000"), "BTC": Decimal("2")}
    yield fake


def holdings(engine: Engine) -> dict[str, Decimal]:
    """What the account holds as the engine counts it: its cash, and the coins its spot
    positions hold (an exchange's balance of BTC counts both; the engine keeps the position's
    part in the position, so that it is counted once in the equity)."""
    cash, held = engine.portfolio.cash, engine.portfolio.spot_held("binance")
    return {c: cash.get(c, Decimal(0)) + held.get(c, Decimal(0)) for c in {*cash, *held}}


def notices(engine: Engine) -> list[str]:
    seen: list[str] = []

    def keep(e: Event) -> None:
        if isinstance(e, NoticeEvent):
            seen.append(e.message)

    engine.bus.on(keep, kinds=["notice"])
    return seen


async def cash_reread_audit(engine: Engine) -> list[dict[str, object]]:
    assert engine.store is not None
    return [r["detail"] for r in await engine.store.audit_log() if r["action"] == "cash_reread"]


async def test_venue_reconnect_with_keys_reads_the_cash_the_risk_check_then_uses(
    account: FakeBinanceExchange, home: Home
) -> None:
    """The venue started with no keys in the keyring: no cash known (the risk check lets any
    buy through to the venue). The keys stored, `venue reconnect`: the cash is the account's,
    said once in a notice and an audit row; a buy the account can pay for trades, one it cannot
    is refused by the risk check (the venue never sees it)."""
    venue = make_venue(account, key="")
    engine = Engine(engine_settings(), home, in_memory=True, venues={"binance": venue})
    await engine.start()
    said = notices(engine)
    try:
        assert engine.portfolio.cash == {}
        CredentialStore.open(home).set("binance", Credentials(API_KEY, SECRET))
        answer = await dispatch(engine, "venue.reconnect", {"name": "binance"}, "test")
        assert answer["state"] == "connected" and answer["cash"] == "USDT 0 -> 1,000, BTC 0 -> 2", answer
        assert engine.portfolio.cash == {"USDT": Decimal("1000"), "BTC": Decimal("2")}
        moved = [s for s in said if "cash re-read" in s]
        assert moved == ["binance: cash re-read after reconnect: USDT 0 -> 1,000, BTC 0 -> 2"], said
        audit = await cash_reread_audit(engine)
        assert [(a["venue"], a["after"]) for a in audit] == [("binance", "reconnect")], audit
        moves = audit[0]["moved"]
        assert isinstance(moves, dict) and {c: [Decimal(x) for x in m] for c, m in moves.items()} == {
            "USDT": [0, 1000], "BTC": [0, 2]
        }

        await wait_for(lambda: engine.ticker("BTC/USDT", "binance") is not None)
        posted = len(account.orders)
        too_big = await engine.place(buy("binance", "20"))  # ~2,000 USDT
        assert too_big.status is OrderStatus.REJECTED and "USDT" in (too_big.reason or ""), too_big.reason
        assert len(account.orders) == posted
        paid = await engine.place(buy("binance", "0.2"))  # ~20 USDT
        await wait_status(engine, paid.client_order_id, OrderStatus.FILLED)
        await fills_match(engine, account)
        assert engine.portfolio.cash["USDT"] == account.balances["USDT"] < Decimal("1000")
    finally:
        await engine.stop()


async def test_a_deposit_and_a_fill_made_during_an_outage_are_in_the_cash_once(
    account: FakeBinanceExchange, home: Home
) -> None:
    """An order rests; the private socket goes silent, the order fills (nobody hears of it) and
    250 USDT are deposited; every socket drops. Back, the fill is reconciled once and the
    balances read again: the cash is the account's (the deposit in, the fill's cost out once),
    the position the fill's; the notice says only the deposit moved the cash. A fill streamed
    after it keeps cash and account agreeing."""
    venue = make_venue(account)
    engine = Engine(engine_settings(), home, in_memory=True, venues={"binance": venue})
    await engine.start()
    said = notices(engine)
    back: list[Event] = []
    engine.bus.on(back.append, kinds=["connection"])
    try:
        assert engine.portfolio.cash == {"USDT": Decimal("1000"), "BTC": Decimal("2")}
        resting = await engine.place(limit_buy("binance", "95"))
        await wait_status(engine, resting.client_order_id, OrderStatus.ACCEPTED)
        account.stall()  # the fill below is lost on the wire
        account.fill(resting.client_order_id)
        account.balances["USDT"] += 250  # a deposit
        await account.drop_connections()
        account.stall(False)
        await wait_for(lambda: any(isinstance(e, ConnectionEvent) and e.attempt > 0
                                   and e.state is ConnectionState.CONNECTED for e in back))  # fmt: skip
        await wait_for(lambda: any("cash re-read" in s for s in said))
        await fills_match(engine, account)
        assert holdings(engine) == account.balances, (holdings(engine), account.balances)
        assert engine.portfolio.cash["BTC"] == 2  # the bought 0.2 is the position's, not cash too
        assert engine.portfolio.position("binance", "BTC/USDT").quantity == Decimal("0.2")
        assert account.balances["USDT"] == 1250 - Decimal("19.019")  # 0.2 x 95 and its fee
        assert [s for s in said if "cash re-read" in s] == [
            "binance: cash re-read after reconnect: USDT 980.981 -> 1,230.981"
        ], said

        streamed = await engine.place(buy("binance", "0.1"))
        await wait_status(engine, streamed.client_order_id, OrderStatus.FILLED)
        await fills_match(engine, account)
        await engine.oms.flush()  # type: ignore[union-attr]
        assert engine.portfolio.cash["USDT"] == account.balances["USDT"]
    finally:
        await engine.stop()


async def test_a_fill_booked_while_the_balances_are_read_makes_them_read_again(
    account: FakeBinanceExchange, home: Home
) -> None:
    """A resting order fills and streams in while the balances are being read: the read may or
    may not hold it (here it does not), so it is not believed; read again, the cash is the
    account's, the fill's cost out once. Fills booked at every read: the cash stays as counted
    from the fills, and a notice says so."""
    venue = make_venue(account)
    engine = Engine(engine_settings(), home, in_memory=True, venues={"binance": venue})
    await engine.start()
    said = notices(engine)
    try:
        resting = await engine.place(limit_buy("binance", "95"))
        await wait_status(engine, resting.client_order_id, OrderStatus.ACCEPTED)
        read = venue.fetch_balances
        reads = 0

        async def fill_while_reading() -> dict[str, Balance]:
            nonlocal reads
            reads += 1
            balances = await read()
            if reads == 1:  # the fill after the venue answered, before the answer is used
                account.fill(resting.client_order_id)
                await wait_status(engine, resting.client_order_id, OrderStatus.FILLED)
            return balances

        venue.fetch_balances = fill_while_reading  # type: ignore[method-assign]
        assert await engine.reconciler.cash.reread("binance", "reconnect") == {}  # the fill's 0.2 BTC: the position's
        assert reads == 2 and holdings(engine) == account.balances, holdings(engine)
        assert not [s for s in said if "not re-read" in s]

        counted = dict(engine.portfolio.cash)
        account.balances["USDT"] += 250  # a deposit the fills below keep us from believing

        async def fill_at_every_read() -> dict[str, Balance]:
            balances = await read()
            order = await engine.place(limit_buy("binance", "95", qty="0.1"))
            await wait_status(engine, order.client_order_id, OrderStatus.ACCEPTED)
            account.fill(order.client_order_id)
            await wait_status(engine, order.client_order_id, OrderStatus.FILLED)
            return balances

        venue.fetch_balances = fill_at_every_read  # type: ignore[method-assign]
        assert await engine.reconciler.cash.reread("binance", "reconnect") is None
        assert [s for s in said if "not re-read" in s] == [
            "binance: cash not re-read after reconnect: fills kept arriving while its balances were read; "
            "as counted from its fills (`tui-trader venue reconnect` reads them again)"
        ]
        assert engine.portfolio.cash["USDT"] < counted["USDT"]  # the fills' cost out, no deposit in
    finally:
        await engine.stop()


async def test_a_withdrawal_found_at_the_re_read_trips_no_breaker(account: FakeBinanceExchange, home: Home) -> None:
    """500 USDT withdrawn during an outage, with a daily loss limit of 100 and a drawdown limit
    of 10 %: once back, the cash read again is 500 lower, and no breaker trips (it is money
    that left, not a loss); trading goes on."""
    from tui_trader.config import Settings

    venue = make_venue(account)
    settings = Settings(risk={"daily_loss_limit": 100, "max_drawdown": 0.1})
    engine = Engine(settings, home, in_memory=True, venues={"binance": venue})
    await engine.start()
    said = notices(engine)
    try:
        assert engine.portfolio.cash["USDT"] == Decimal("1000")
        account.balances["USDT"] -= 500  # a withdrawal
        await account.drop_connections()
        await wait_for(lambda: any("cash re-read" in s for s in said))
        assert engine.portfolio.cash["USDT"] == Decimal("500")
        assert engine.risk.halt_reason() is None, engine.risk.halt_reason()
        done = await engine.place(buy("binance", "0.1"))
        await wait_status(engine, done.client_order_id, OrderStatus.FILLED)
    finally:
        await engine.stop()


async def test_a_spot_position_stored_before_a_restart_is_counted_once_in_the_equity(
    account: FakeBinanceExchange, home: Home
) -> None:
    """0.2 BTC bought, the engine stopped and started again on the same home: the position comes
    back from the database and the exchange's BTC balance (2.2) holds its coins too. The cash
    keeps the 2 BTC the position does not hold; the equity counts the 2.2 once."""
    first = Engine(engine_settings(), home, venues={"binance": make_venue(account)})
    await first.start()
    try:
        done = await first.place(buy("binance", "0.2"))
        await wait_status(first, done.client_order_id, OrderStatus.FILLED)
        await fills_match(first, account)
    finally:
        await first.stop()
    assert account.balances["BTC"] == Decimal("2.2")
    again = Engine(engine_settings(), home, venues={"binance": make_venue(account)})
    await again.start()
    try:
        assert again.portfolio.position("binance", "BTC/USDT").quantity == Decimal("0.2")
        assert again.portfolio.cash["BTC"] == 2 and holdings(again) == account.balances, holdings(again)
    finally:
        await again.stop()


# -- at start-up: the same rule as a read again ------------------------------------------------


async def _resting_before_a_restart(account: FakeBinanceExchange, home: Home) -> str:
    """An engine places a limit buy that rests, and stops: the order stays on the venue and in
    the database; its client order id."""
    first = Engine(engine_settings(), home, venues={"binance": make_venue(account)})
    await first.start()
    try:
        resting = await first.place(limit_buy("binance", "95"))
        await wait_status(first, resting.client_order_id, OrderStatus.ACCEPTED)
        return resting.client_order_id
    finally:
        await first.stop()


async def test_a_fill_made_as_the_balances_are_read_at_start_is_counted_once(
    account: FakeBinanceExchange, home: Home
) -> None:
    """Fault row "start-up, a fill the venue made before its balances answered, heard of after
    the read": an order resting from before a restart fills just as the starting engine asks
    for the balances (they hold its cost), and its message is lost on the wire; a reconcile
    finds it later (the next reconnect, the settle loop). The start-up read is believed only
    once the reconcile right after it finds nothing new: read again, the cash is the
    account's, the fill's cost out once (it was out twice: in the balances, then as the fill
    the later reconcile found)."""
    cid = await _resting_before_a_restart(account, home)
    venue = make_venue(account)
    read, reads = venue.fetch_balances, 0

    async def fill_then_read() -> dict[str, Balance]:
        nonlocal reads
        reads += 1
        if reads == 1:
            account.stall_private()
            account.fill(cid)
            account.stall_private(False)
        return await read()

    venue.fetch_balances = fill_then_read  # type: ignore[method-assign]
    engine = Engine(engine_settings(), home, venues={"binance": venue})
    await engine.start()
    try:
        await engine.reconciler.reconcile_now("binance")  # as the next reconnect would
        await fills_match(engine, account)
        await engine.oms.flush()  # type: ignore[union-attr]
        assert engine.portfolio.position("binance", "BTC/USDT").quantity == Decimal("0.2")
        assert holdings(engine) == account.balances, (holdings(engine), account.balances)
        assert reads == 2
    finally:
        await engine.stop()


async def test_a_fill_made_while_the_engine_was_down_is_counted_once_at_start(
    account: FakeBinanceExchange, home: Home
) -> None:
    """Fault row "start-up, reconciliation after a restart with open orders": the resting order
    fills while the engine is stopped; at start the reconcile applies the fill (position, and
    its cost out of the cash as last counted), then the balances (which hold it) replace the
    cash: counted once, one read."""
    cid = await _resting_before_a_restart(account, home)
    account.fill(cid)
    venue = make_venue(account)
    read, reads = venue.fetch_balances, 0

    async def counted() -> dict[str, Balance]:
        nonlocal reads
        reads += 1
        return await read()

    venue.fetch_balances = counted  # type: ignore[method-assign]
    engine = Engine(engine_settings(), home, venues={"binance": venue})
    await engine.start()
    try:
        await fills_match(engine, account)
        assert engine.portfolio.position("binance", "BTC/USDT").quantity == Decimal("0.2")
        assert holdings(engine) == account.balances and reads == 1, (holdings(engine), reads)
    finally:
        await engine.stop()


async def test_fills_at_every_read_at_start_leave_the_cash_not_known_and_said(
    account: FakeBinanceExchange, home: Home
) -> None:
    """Fault row "start-up, fills keep arriving": something is booked to the venue's cash at
    every read (here: counted by hand, as a fill would be). No read is believed: the cash is not
    known, said in a notice (not silently unlimited: the balance check had nothing to check
    against); an order adding to a position there is refused, with what to do; `venue
    reconnect` reads the balances, and trading goes on."""
    venue = make_venue(account)
    engine = Engine(engine_settings(), home, in_memory=True, venues={"binance": venue})
    read = venue.fetch_balances

    async def moving() -> dict[str, Balance]:
        balances = await read()
        engine.portfolio.moves["binance"] = engine.portfolio.moves.get("binance", 0) + 1
        return balances

    said = notices(engine)
    venue.fetch_balances = moving  # type: ignore[method-assign]
    await engine.start()
    try:
        assert engine.portfolio.unread == {"binance": "fills kept arriving while its balances were read at start"}
        assert [s for s in said if "cash" in s] == [
            "binance: cash not known: fills kept arriving while its balances were read at start; orders adding "
            "to a position there are refused until `tui-trader venue reconnect binance` reads them"
        ], said
        await wait_for(lambda: engine.ticker("BTC/USDT", "binance") is not None)
        refused = await engine.place(buy("binance", "0.1"))
        assert refused.status is OrderStatus.REJECTED and "cash is not known" in (refused.reason or ""), refused
        assert not account.orders

        venue.fetch_balances = read  # type: ignore[method-assign]
        CredentialStore.open(home).set("binance", Credentials(API_KEY, SECRET))
        answer = await dispatch(engine, "venue.reconnect", {"name": "binance"}, "test")
        assert answer["cash"] == "USDT 0 -> 1,000, BTC 0 -> 2", answer
        assert engine.portfolio.unread == {}
        done = await engine.place(buy("binance", "0.1"))
        await wait_status(engine, done.client_order_id, OrderStatus.FILLED)
    finally:
        await engine.stop()


async def read_with_a_fill_not_heard_of(engine: Engine, account: FakeBinanceExchange) -> Order:
    """A resting order fills; its stream message is lost and its order endpoints still show it
    working while the balances, read again now (believed), already hold it. The order."""
    resting = await engine.place(limit_buy("binance", "95"))
    await wait_status(engine, resting.client_order_id, OrderStatus.ACCEPTED)
    account.lag_orders(resting.client_order_id)
    account.stall_private()
    account.fill(resting.client_order_id)
    account.stall_private(False)
    assert await engine.reconciler.cash.reread("binance", "reconnect") == {
        "USDT": (Decimal(1000), Decimal("980.981")), "BTC": (Decimal(2), Decimal("2.2"))
    }
    return resting


async def test_on_a_venue_whose_balances_have_no_time_a_late_fill_they_hold_is_counted_once_after_a_read_again(
    account: FakeBinanceExchange, home: Home
) -> None:
    """The same fill, heard of late, on a venue whose balances come with no time (KuCoin,
    Kraken, Coinbase through ccxt; here the fake's /account without updateTime): whether the
    read held it cannot be told, so the balances are read again at once, and the cash counts it
    once. The breakers see the equity come back, not money coming in. Before, it was counted
    twice until the next reconnect (USDT 961.962 where the account held 980.981)."""
    account.account_time = False
    venue = make_venue(account)
    engine = Engine(engine_settings(), home, in_memory=True, venues={"binance": venue})
    notices: list[str] = []
    engine.bus.on(lambda e: notices.append(e.message) if isinstance(e, NoticeEvent) else None, name="t")
    await engine.start()
    try:
        resting = await read_with_a_fill_not_heard_of(engine, account)
        day_start = engine.risk.breakers.day_start_equity
        account.lag_orders(resting.client_order_id, on=False)
        await engine.reconciler.reconcile_now("binance")  # as the next reconnect would
        await fills_match(engine, account)
        for _ in range(200):  # the read again runs in the background
            await asyncio.sleep(0.02)
            if holdings(engine) == account.balances and not engine.reconciler.cash.tasks:
                break
        assert engine.portfolio.position("binance", "BTC/USDT").quantity == Decimal("0.2")
        assert engine.portfolio.cash == {"USDT": Decimal("980.981"), "BTC": Decimal(2)}
        assert holdings(engine) == account.balances, (holdings(engine), account.balances)
        assert engine.risk.breakers.day_start_equity == day_start  # a correction, not a deposit
        assert any("a fill made before its balances were read" in n for n in notices), notices

        reads = engine.reconciler.cash.moved["binance"][0]
        after = await engine.place(buy("binance", "0.1"))  # made after the read: no question
        await wait_status(engine, after.client_order_id, OrderStatus.FILLED)
        await fills_match(engine, account)
        await engine.oms.flush()  # type: ignore[union-attr]
        assert holdings(engine) == account.balances and engine.portfolio.cash["USDT"] < Decimal("980.981")
        assert engine.reconciler.cash.moved["binance"][0] == reads and not engine.reconciler.cash.tasks
    finally:
        await engine.stop()


async def test_a_fill_heard_of_after_a_read_that_holds_it_is_counted_once(
    account: FakeBinanceExchange, home: Home
) -> None:
    """Fault row "a fill announced late": a resting order fills; its stream message is lost and
    Binance's order endpoints still show it working while the account's balances already hold
    it. The balances are read again (nothing new found: believed), then the fill turns up (a
    later reconcile). Made at or before the balances' time (Binance's updateTime), its money is
    in them: the position takes it, the USDT is not paid again and the bought coins are the
    position's, not cash as well. A fill made after the read moves the cash as usual."""
    venue = make_venue(account)
    engine = Engine(engine_settings(), home, in_memory=True, venues={"binance": venue})
    await engine.start()
    try:
        resting = await read_with_a_fill_not_heard_of(engine, account)
        account.lag_orders(resting.client_order_id, on=False)
        await engine.reconciler.reconcile_now("binance")  # as the next reconnect would
        await fills_match(engine, account)
        await engine.oms.flush()  # type: ignore[union-attr]
        assert engine.portfolio.position("binance", "BTC/USDT").quantity == Decimal("0.2")
        assert engine.portfolio.cash == {"USDT": Decimal("980.981"), "BTC": Decimal(2)}
        assert holdings(engine) == account.balances, (holdings(engine), account.balances)

        after = await engine.place(buy("binance", "0.1"))
        await wait_status(engine, after.client_order_id, OrderStatus.FILLED)
        await fills_match(engine, account)
        await engine.oms.flush()  # type: ignore[union-attr]
        assert holdings(engine) == account.balances and engine.portfolio.cash["USDT"] < Decimal("980.981")
    finally:
        await engine.stop()
