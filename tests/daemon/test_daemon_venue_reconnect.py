"""`tui-trader venue reconnect NAME`: a live venue whose keys were refused takes new keys from
the keyring while the engine runs, against the fake KuCoin (loopback, real ccxt clients): the
private streams stopped for refused keys are back, what they missed is reconciled once, an
order trades; keys still refused say so in one line and stay stopped (no loop); the keys are in
no answer, log line, audit row or snapshot. The CLI's bad input is one line, nothing changed."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_daemon_venue_faults import (
    PASSWORD,
    FakeInThread,
    cli,
    cli_json,
    configure,
    exchange,  # noqa: F401  (the fake Binance in a thread: a fixture)
    ledgers_agree,
    posts,
    wait_until,
)

from tui_trader.core.encoding import to_jsonable
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.errors import UsageError, UserError
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.engine.cash_reread import amount
from tui_trader.engine.commands import dispatch
from tui_trader.engine.testing import manual_engine
from tui_trader.home import Home
from tui_trader.secrets import Credentials, CredentialStore
from tui_trader.venues.ccxt.venue import CcxtVenue

from daemon_homes import cheap_argon2, cheap_argon2_env, home_with_keys
from fakes.kucoin_exchange import FakeKucoinExchange
from fakes.venue_harness import (
    API_KEY,
    ccxt_settings,
    ccxt_venue,
    engine_settings,
    fills_match,
    limit_buy,
    wait_for,
    wait_status,
)
from fakes.venue_harness import SECRET as BINANCE_SECRET

KEY, SECRET, PASSPHRASE = "kc-old-key", "kc-old-secret-value", "kc-passphrase"
NEW_KEY, NEW_SECRET = "kc-new-key", "kc-new-secret-value"
PRIVATE_TOKEN = ("POST", "/bullet-private")
NO_KEYS = "no keys for kucoin in the keyring: run `tui-trader keys set kucoin` first; nothing changed"
STILL_REFUSED = (
    "kucoin: load markets: authentication failed; run `tui-trader keys set kucoin`; "
    "nothing changed: kucoin runs on as it was (degraded)"
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeKucoinExchange]:
    ex = await FakeKucoinExchange(api_key=KEY, secret=SECRET, passphrase=PASSPHRASE).start(tick_interval_s=0.02)
    yield ex
    await ex.stop()


@pytest.fixture
def keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CredentialStore:
    """The home's encrypted file keyring (at a test's Argon2 cost), holding the old keys."""
    cheap_argon2(monkeypatch)
    monkeypatch.setenv("TUI_TRADER_KEYRING", "file")
    monkeypatch.setenv("TUI_TRADER_KEYRING_PASSWORD", "keyring-pass")
    store = CredentialStore.open(Home(tmp_path / "home"))
    store.set("kucoin", Credentials(KEY, SECRET, PASSPHRASE))
    return store


async def started(fake: FakeKucoinExchange, home: Path) -> Engine:
    settings = ccxt_settings("kucoin", fake.ccxt_options(), ["BTC/USDT"], rate_limit_ms=1, sandbox=False)
    venue = ccxt_venue(settings, Credentials(KEY, SECRET, PASSPHRASE))
    engine = Engine(engine_settings(), Home(home), in_memory=True, venues={"kucoin": venue})
    await engine.start()
    assert (await dispatch(engine, "arm_live", {}, "test"))["live_venues"] == ["kucoin"]
    return engine


def private_states(venue: CcxtVenue) -> set[str]:
    return {venue.streams.state(k) for k in ("orders", "fills")}


async def test_new_keys_bring_the_stopped_private_streams_back_reconciled_without_a_restart(
    fake: FakeKucoinExchange, keyring: CredentialStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The keys worked; an order rests. The trader revokes them at KuCoin and makes new ones:
    the private streams stop (400003), the order fills meanwhile (nobody hears of it).
    `venue reconnect` with the old keys still stored says so in one line, nothing changed (the
    new client cannot list KuCoin's markets, a signed call there), no private token asked
    for, no reconnect; with the new keys stored it is
    `connected`, the missed fill is reconciled once, a new order trades, and the keys are in
    no answer, log line, audit row or snapshot."""
    caplog.set_level(logging.DEBUG)
    engine = await started(fake, tmp_path / "home")
    venue = engine.venues["kucoin"]
    assert isinstance(venue, CcxtVenue)
    try:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and PRIVATE_TOKEN in fake.requests)
        resting = await engine.place(limit_buy("kucoin", "95"))
        await wait_status(engine, resting.client_order_id, OrderStatus.ACCEPTED)

        fake.api_key, fake.secret = NEW_KEY, NEW_SECRET  # ours revoked, new ones made
        fake.expire_tokens()
        await fake.drop_connections()
        await wait_for(lambda: private_states(venue) == {"stopped"})
        fake.fill(resting.client_order_id)  # while the private streams are stopped

        tokens = fake.requests.count(PRIVATE_TOKEN)
        with pytest.raises(UserError, match=re.escape(STILL_REFUSED)):  # listing KuCoin's markets is signed
            await dispatch(engine, "venue.reconnect", {"name": "kucoin", "wait_s": 20}, "test")
        await asyncio.sleep(0.5)  # a loop would ask for a private token every 0.05-0.2 s
        assert fake.requests.count(PRIVATE_TOKEN) == tokens and venue.counters["reconnects"] == 1
        assert private_states(venue) == {"stopped"} and venue.state is ConnectionState.DEGRADED

        keyring.set("kucoin", Credentials(NEW_KEY, NEW_SECRET, PASSPHRASE))
        answer = await dispatch(engine, "venue.reconnect", {"name": "kucoin"}, "test")
        assert answer["state"] == "connected" and answer["detail"] == "", answer
        assert answer["reconciled"]["fills_applied"] == 1, answer
        assert private_states(venue) <= {"live", "waiting", "quiet"}
        await wait_status(engine, resting.client_order_id, OrderStatus.FILLED)

        placed = await engine.place(limit_buy("kucoin", "94", qty="0.1"))
        await wait_status(engine, placed.client_order_id, OrderStatus.ACCEPTED)
        fake.fill(placed.client_order_id)
        await wait_status(engine, placed.client_order_id, OrderStatus.FILLED)  # streamed in
        await fills_match(engine, fake)  # each fill once: the reconciled one, the streamed one
        assert engine.portfolio.position("kucoin", "BTC/USDT").quantity == Decimal("0.3")
        assert fake.made_twice == []

        assert engine.store is not None
        audit = [r for r in await engine.store.audit_log() if r["action"] == "venue_reconnect"]
        assert [r["detail"]["state"] for r in audit] == ["connected", "failed"], audit  # newest first
        shown = json.dumps(to_jsonable(engine.snapshot())) + json.dumps(audit, default=str) + caplog.text
        for secret in (KEY, SECRET, NEW_KEY, NEW_SECRET, PASSPHRASE):
            assert secret not in shown + json.dumps(answer)
    finally:
        await engine.stop()


async def test_a_venue_that_cannot_be_reached_with_the_new_keys_runs_on_as_it_was(
    fake: FakeKucoinExchange, keyring: CredentialStore, tmp_path: Path
) -> None:
    """No keys in the keyring, or the new client cannot list KuCoin's markets: one line saying
    so and that nothing changed; the venue streams on, `connected`, with its keys."""
    engine = await started(fake, tmp_path / "home")
    venue = engine.venues["kucoin"]
    try:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED)
        keyring.delete("kucoin")
        with pytest.raises(UserError, match=re.escape(NO_KEYS)):
            await dispatch(engine, "venue.reconnect", {"name": "kucoin"}, "test")
        keyring.set("kucoin", Credentials(NEW_KEY, NEW_SECRET, PASSPHRASE))
        fake.fail_next(10, 503, path="/symbols")
        with pytest.raises(UserError, match=r"kucoin: load markets: .*nothing changed: kucoin runs on as it was"):
            await dispatch(engine, "venue.reconnect", {"name": "kucoin"}, "test")
        assert venue.state is ConnectionState.CONNECTED and venue.counters["reconnects"] == 0  # type: ignore[attr-defined]
        assert venue._credentials.api_key == KEY  # type: ignore[attr-defined]
    finally:
        await engine.stop()


async def test_alpaca_takes_new_keys_the_same_way(tmp_path: Path, keyring: CredentialStore) -> None:
    """Alpaca: the keys revoked, the trading stream's login is refused after a drop
    (`trade_updates` stopped, naming `keys set` and `venue reconnect`); with the old keys still
    stored `venue reconnect` says the account refuses them, nothing changed; with new ones it
    is `connected` on new sockets and clients, the fill missed meanwhile reconciled once, an
    order trades."""
    import random

    from tui_trader.core.clock import SystemClock
    from tui_trader.venues.alpaca.venue import AlpacaVenue
    from tui_trader.venues.resilience import Backoff

    from fakes.alpaca_exchange import FakeAlpaca

    keyring.set("alpaca", Credentials(KEY, SECRET))
    fake = await FakeAlpaca(api_key=KEY, secret=SECRET).start()
    backoff = Backoff(0.05, 0.2, rng=random.Random(1))
    venue = AlpacaVenue("alpaca", fake.venue_settings(), SystemClock(), credentials=Credentials(KEY, SECRET),
                        backoff=backoff, order_rate=50, rest_timeout_s=2.0)  # fmt: skip
    engine = Engine(engine_settings(), Home(tmp_path / "home"), in_memory=True, venues={"alpaca": venue})
    await engine.start()
    try:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and engine.ticker("AAPL") is not None)
        resting = await engine.place(OrderRequest("AAPL", Side.BUY, Decimal("2"), OrderType.LIMIT, Decimal("180"),
                                                  venue="alpaca"))  # fmt: skip (under the ~190 market)
        await wait_status(engine, resting.client_order_id, OrderStatus.ACCEPTED)
        fake.api_key, fake.secret = NEW_KEY, NEW_SECRET
        await fake.drop_connections()
        await wait_for(lambda: venue.streams.state("trade_updates") == "stopped")
        assert "then `tui-trader venue reconnect alpaca`" in venue.streams.summary()
        fake.fill(resting.client_order_id)  # nobody hears of it

        with pytest.raises(UserError, match=r"alpaca: account: .*nothing changed: alpaca runs on as it was"):
            await dispatch(engine, "venue.reconnect", {"name": "alpaca"}, "test")
        keyring.set("alpaca", Credentials(NEW_KEY, NEW_SECRET))
        answer = await dispatch(engine, "venue.reconnect", {"name": "alpaca"}, "test")
        assert answer["state"] == "connected" and answer["reconciled"]["fills_applied"] == 1, answer
        await wait_status(engine, resting.client_order_id, OrderStatus.FILLED)
        placed = await engine.place(OrderRequest("AAPL", Side.BUY, Decimal("1"), venue="alpaca"))
        await wait_status(engine, placed.client_order_id, OrderStatus.FILLED)
        await fills_match(engine, fake)
        assert engine.portfolio.position("alpaca", "AAPL").quantity == Decimal("3") and fake.made_twice == []
    finally:
        await engine.stop()
        await fake.stop()


async def test_reconnect_refuses_paper_and_unknown_venues_changing_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = manual_engine()
    await engine.start()
    try:
        with pytest.raises(UsageError, match=r"paper is a paper venue.*`tui-trader venue stop\|start paper`"):
            await dispatch(engine, "venue.reconnect", {"name": "paper"}, "test")
        with pytest.raises(UsageError, match=r"no venue 'krakn'; configured: paper"):
            await dispatch(engine, "venue.reconnect", {"name": "krakn"}, "test")
        assert engine.venues["paper"].state is ConnectionState.CONNECTED
    finally:
        await engine.stop()


def test_reconnect_without_a_daemon_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = cli(capsys, tmp_path / "home", "venue", "reconnect", "kucoin")
    assert code == 1 and out == "" and err.count("\n") == 1 and "no daemon running" in err, err


# -- a real daemon, the CLI ----------------------------------------------------------------------

NEW_BINANCE_KEY, NEW_BINANCE_SECRET = "binance-new-key", "binance-new-secret-value"
STILL_BAD = (
    "binance: degraded: authentication failed; run `tui-trader keys set binance`, "
    "then `tui-trader venue reconnect binance`\n"
)


def one_line_error(result: tuple[int, str, str], code: int, text: str) -> None:
    got, out, err = result
    assert got == code and out == "" and err.count("\n") == 1 and text in err, result


def test_a_running_daemon_takes_new_keys_with_venue_reconnect(
    spawn_daemon: Any,
    exchange: FakeInThread,  # noqa: F811  (the fixture imported above)
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A real daemon trading the fake Binance, its keys in the home's encrypted keyring. Bad
    input is one line, exit 2, nothing changed. The keys are revoked at Binance and new ones
    made: `venue reconnect` with the old ones still stored says in one line that they are
    refused (exit 1, `degraded`); `keys set` says `venue reconnect` makes the running daemon
    use the new ones; `venue reconnect` is `connected`, the cash read again (a deposit made
    meanwhile in it, said on the line), an order fills and the ledgers agree;
    the keys are in no answer, daemon log line, status or audit row, nor in any file of the
    home (its log, its database; the keyring holds them encrypted)."""
    home = home_with_keys(tmp_path / "home", PASSWORD, "binance", API_KEY, BINANCE_SECRET)
    fake = exchange.fake
    configure(home, fake)
    env = cheap_argon2_env(tmp_path / "site")
    d = spawn_daemon(home, ready=False, TUI_TRADER_KEYRING="file", TUI_TRADER_KEYRING_PASSWORD=PASSWORD, **env)
    d.wait_ready(90)  # ccxt's import, on a loaded machine
    said = ""
    try:
        wait_until(lambda: venue_state(capsys, home) == "connected")
        unknown = cli(capsys, home, "venue", "reconnect", "binanse")
        one_line_error(unknown, 2, "no venue 'binanse'; configured: paper, binance")
        one_line_error(cli(capsys, home, "venue", "reconnect", "paper"), 2, "`tui-trader venue stop|start paper`")

        exchange.call(lambda: setattr(fake, "api_key", NEW_BINANCE_KEY))  # ours revoked, a new one made
        exchange.run(fake.drop_connections())
        wait_until(lambda: venue_state(capsys, home) != "connected")
        code, out, err = cli(capsys, home, "venue", "reconnect", "binance")
        assert (code, out) == (1, STILL_BAD), (code, out, err)
        said += out + err

        cheap_argon2(monkeypatch)
        monkeypatch.setenv("TUI_TRADER_KEYRING", "file")
        monkeypatch.setenv("TUI_TRADER_KEYRING_PASSWORD", PASSWORD)
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{NEW_BINANCE_KEY}\n{NEW_BINANCE_SECRET}\n"))
        code, out, err = cli(capsys, home, "keys", "set", "binance")
        assert code == 0 and err.splitlines()[-1].startswith("a daemon is running on this home (pid "), err
        assert err.splitlines()[-1].endswith("`tui-trader venue reconnect binance` makes it use them"), err

        usdt = exchange.call(lambda: fake.balances["USDT"])
        exchange.call(lambda: fake.balances.__setitem__("USDT", usdt + 250))  # deposited meanwhile
        code, out, err = cli(capsys, home, "venue", "reconnect", "binance")
        moved = f"USDT {amount(usdt)} -> {amount(usdt + 250)}"
        assert (code, out) == (0, f"binance: connected; cash re-read: {moved}\n"), (code, out, err)
        answer = cli_json(capsys, home, "venue", "reconnect", "binance")  # once more: nothing lost, nothing doubled
        assert answer["state"] == "connected" and answer["reconciled"] == {"fills_applied": 0, "unsettled": 0}
        assert answer["cash"] == "", answer  # read again, nothing moved
        code, out, err = cli(capsys, home, "order", "buy", "0.1", "BTC/USDT", "--venue", "binance")
        assert code == 0, (out, err)
        ledgers_agree(capsys, home, exchange)
        assert exchange.call(lambda: posts(fake)) == 1
        said += json.dumps(cli_json(capsys, home, "status")) + json.dumps(answer)
    finally:
        assert d.stop() == 0, d.stderr
    with sqlite3.connect(home / "tui_trader.db") as db:
        audit = [json.loads(row[0]) for row in db.execute(
            "SELECT detail FROM audit WHERE action = 'venue_reconnect' ORDER BY id")]  # fmt: skip
    assert [row["state"] for row in audit] == ["degraded", "connected", "connected"], audit
    said += d.stderr + json.dumps(audit)
    files = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}  # the log, the database ...
    assert any(p.suffix == ".log" for p in files), sorted(files)
    for secret in (API_KEY, BINANCE_SECRET, NEW_BINANCE_KEY, NEW_BINANCE_SECRET, PASSWORD):
        assert secret not in said, secret
        assert not [p for p, data in files.items() if secret.encode() in data], secret


def venue_state(capsys: pytest.CaptureFixture[str], home: Path) -> str:
    venues = cli_json(capsys, home, "status")["venues"]
    return str(next(v["state"] for v in venues if v["name"] == "binance"))


async def test_the_workstation_reconnects_a_venue_with_new_keys_from_its_command_line(
    fake: FakeKucoinExchange, keyring: CredentialStore, tmp_path: Path
) -> None:
    """In the workstation: the keys revoked at KuCoin stop the private streams; the palette
    offers "Reconnect venue kucoin"; with new keys stored (`keys set` in a shell),
    `:venue reconnect KuCoin` brings them back and the status line says "kucoin: connected";
    no key is on the screen."""
    from tui_trader.engine.client import InProcessClient
    from tui_trader.ui.app import WorkstationApp
    from tui_trader.ui.panes.statusbar import StatusBar

    engine = await started(fake, tmp_path / "home")
    venue = engine.venues["kucoin"]
    assert isinstance(venue, CcxtVenue)
    app = WorkstationApp(InProcessClient(engine), engine.settings, None)
    try:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and PRIVATE_TOKEN in fake.requests)
        fake.api_key, fake.secret = NEW_KEY, NEW_SECRET  # ours revoked, new ones made
        fake.expire_tokens()
        await fake.drop_connections()
        await wait_for(lambda: private_states(venue) == {"stopped"})
        keyring.set("kucoin", Credentials(NEW_KEY, NEW_SECRET, PASSPHRASE))
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for(lambda: app.snapshot is not None)
            await app.refresh_snapshot()
            offered = {name: run for name, _, run in app.feature_palette_commands()}
            assert "Reconnect venue kucoin" in offered and "Reconnect venue paper" not in offered
            await pilot.press("colon")
            await pilot.pause()
            app.command_line.field.value = "venue reconnect KuCoin"
            await pilot.press("enter")
            bar = app.query_one(StatusBar)
            await wait_for(lambda: bar.message.startswith("kucoin: connected"))
            assert bar.message_style == "" and private_states(venue) <= {"live", "waiting", "quiet"}
            assert venue._credentials.api_key == NEW_KEY  # type: ignore[attr-defined]
            await pilot.pause()
            screen = app.export_screenshot()
            for secret in (KEY, SECRET, NEW_KEY, NEW_SECRET, PASSPHRASE):
                assert secret not in screen + bar.message
    finally:
        await engine.stop()


async def test_oanda_takes_a_new_token_the_same_way(tmp_path: Path, keyring: CredentialStore) -> None:
    """OANDA: a new token made in OANDA's hub revokes ours; both streams are refused (401) and
    the venue line says the token was refused and what fixes it. `venue reconnect` with the old
    token still stored says OANDA refuses it, nothing changed; with the new one stored both
    streams are back on it, the order filled meanwhile is booked once (read back), an order
    trades, and no token is in the answer, the audit log or the snapshot."""
    import random

    from tui_trader.config.venues import VenueSettings
    from tui_trader.core.clock import SystemClock
    from tui_trader.venues.oanda.venue import OandaVenue
    from tui_trader.venues.resilience import Backoff

    from fakes.oanda_exchange import TOKEN, FakeOanda

    new_token = "oanda-new-token-fedcba9876543210"
    keyring.set("oanda", Credentials(TOKEN))
    fake = await FakeOanda(heartbeat_s=0.1).start()
    settings = VenueSettings(kind="oanda", symbols=["EUR/USD"], url_override=fake.url,
                             backoff_base_s=0.05, backoff_cap_s=0.2)  # fmt: skip
    venue = OandaVenue("oanda", settings, SystemClock(), credentials=Credentials(TOKEN), rest_timeout_s=2.0,
                       stall_after_s=2.0, backoff=Backoff(0.05, 0.2, rng=random.Random(1)))  # fmt: skip
    engine = Engine(engine_settings(), Home(tmp_path / "home"), in_memory=True, venues={"oanda": venue})
    await engine.start()

    def line() -> str:
        return next(v.detail for v in engine.snapshot().venues if v.name == "oanda")

    try:
        await wait_for(lambda: venue.state is ConnectionState.CONNECTED and engine.ticker("EUR/USD", "oanda"))
        limit = OrderRequest("EUR/USD", Side.BUY, Decimal("10000"), OrderType.LIMIT, price=Decimal("1.07900"),
                             venue="oanda")  # fmt: skip
        resting = await engine.place(limit)
        await wait_status(engine, resting.client_order_id, OrderStatus.ACCEPTED)

        fake.token = new_token  # ours revoked at OANDA
        fake.drop_streams()
        await wait_for(lambda: "the token was refused; run `tui-trader keys set oanda`, then" in line())
        fake.set_price("EUR_USD", "1.07880", "1.07890")  # filled at OANDA while we hear nothing
        refused = r"oanda: account: authentication failed; .*nothing changed: oanda runs on as it was"
        with pytest.raises(UserError, match=refused):
            await dispatch(engine, "venue.reconnect", {"name": "oanda", "wait_s": 5}, "test")
        assert venue._credentials.api_key == TOKEN  # type: ignore[attr-defined]

        keyring.set("oanda", Credentials(new_token))
        answer = await dispatch(engine, "venue.reconnect", {"name": "oanda"}, "test")
        assert answer["state"] == "connected" and answer["detail"] == "", answer
        await wait_status(engine, resting.client_order_id, OrderStatus.FILLED)  # read back
        placed = await engine.place(OrderRequest("EUR/USD", Side.BUY, Decimal("1000"), OrderType.MARKET, venue="oanda"))
        await wait_status(engine, placed.client_order_id, OrderStatus.FILLED)
        assert sorted(f.client_order_id for f in engine.fills) == sorted(
            [resting.client_order_id, placed.client_order_id]
        )  # each once

        assert engine.store is not None
        audit = [r for r in await engine.store.audit_log() if r["action"] == "venue_reconnect"]
        assert [r["detail"]["state"] for r in audit] == ["connected", "failed"], audit
        shown = json.dumps(to_jsonable(engine.snapshot())) + json.dumps(audit, default=str) + json.dumps(answer)
        assert TOKEN not in shown and new_token not in shown
    finally:
        await engine.stop()
        await fake.stop()


@pytest.mark.parametrize(
    ("role", "kind", "said"),
    [
        ("daemon", "oanda", ": `tui-trader venue reconnect oanda` makes it use them"),
        ("workstation", "ccxt", ": `:venue reconnect oanda` there makes it use them"),
        ("daemon", "webull", ": `tui-trader venue reconnect oanda` makes it use them"),
        ("daemon", "robinhood", ": `tui-trader venue reconnect oanda` makes it use them"),
        ("workstation", "moomoo", ": `:venue reconnect oanda` there makes it use them"),
        ("daemon", "ib", ": it uses them once restarted"),
    ],
)
def test_keys_set_says_what_makes_a_running_engine_use_new_keys(
    tmp_path: Path, role: str, kind: str, said: str
) -> None:
    """`keys set`'s last line names what makes the engine running on the home use the new keys:
    `venue reconnect` for a daemon, `:venue reconnect` in a workstation (Webull, Robinhood and
    moomoo too: they needed a restart), a restart for the venues that cannot take keys while
    running."""
    from types import SimpleNamespace

    from tui_trader.cli.keys_cmd import _running_note
    from tui_trader.home import HomeLock

    home = Home(tmp_path / "home").ensure()
    lock = HomeLock(home.lock_path, role).acquire()
    try:
        assert _running_note(SimpleNamespace(home=home), "oanda", kind).endswith(said)  # type: ignore[arg-type]
    finally:
        lock.release()


def test_a_schwab_refresh_does_not_write_over_a_newer_login_in_the_keyring(
    tmp_path: Path, keyring: CredentialStore
) -> None:
    """A running Schwab venue writes each refreshed token (every 30 minutes) to the keyring. Once
    the trader has logged in again (`keys set schwab`, before the 7 days run out), the old
    login's refresh must not replace the new login there: `venue reconnect schwab` (or the next
    start) would have used the old one, days nearer its end. A refresh of the newest login is
    written as before."""
    pytest.importorskip("schwab", reason="schwab-py is an optional extra (tui-trader[brokers])")
    from tui_trader.config import Settings
    from tui_trader.config.venues import VenueSettings
    from tui_trader.core.clock import SystemClock
    from tui_trader.venues.schwab import build
    from tui_trader.venues.schwab.auth import unwrap, wrapped

    home = Home(tmp_path / "home")
    old_login = wrapped({"access_token": "a-old", "refresh_token": "r-old"}, created=1_000)
    keyring.set("schwab", Credentials("app-key", "app-secret", token=old_login))
    venue = build("schwab", VenueSettings(kind="schwab", symbols=["AAPL"]), Settings(), SystemClock(), home)
    new_login = wrapped({"access_token": "a-new", "refresh_token": "r-new"}, created=2_000)
    keyring.set("schwab", Credentials("app-key", "app-secret", token=new_login))  # `keys set schwab` again

    venue._save_token(wrapped({"access_token": "a-old-2", "refresh_token": "r-old"}, created=1_000))  # type: ignore[attr-defined]
    stored = keyring.get("schwab")
    assert stored is not None and unwrap(stored.token)[0]["access_token"] == "a-new"

    venue._save_token(wrapped({"access_token": "a-new-2", "refresh_token": "r-new"}, created=2_000))  # type: ignore[attr-defined]
    stored = keyring.get("schwab")
    assert stored is not None and unwrap(stored.token)[0]["access_token"] == "a-new-2"
