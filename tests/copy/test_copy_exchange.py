"""An exchange account as the leader: a loopback fake Binance (its public REST API: /myTrades
paged as Binance pages it) is the leader's account, read through ccxt with a key; the follower
mirrors its trades on paper. The leader's account is only ever read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tui_trader.config.copy import CopySettings
from tui_trader.core.clock import FrozenClock
from tui_trader.engine import Engine
from tui_trader.engine.testing import step
from tui_trader.home import Home
from tui_trader.secrets import Credentials

from copy_helpers import follower_engine, until
from fakes.binance_exchange import FakeBinanceExchange
from fakes.venue_harness import API_KEY, SECRET, ccxt_settings


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinanceExchange]:
    ex = await FakeBinanceExchange(api_key=API_KEY).start(tick_interval_s=3600)  # prices move only when told
    yield ex
    await ex.stop()


@pytest.fixture
def read_only_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import tui_trader.secrets

    def load(name: str, home: object) -> Credentials | None:
        return Credentials(API_KEY, SECRET) if name == "copy.lead" else None

    monkeypatch.setattr(tui_trader.secrets, "load_credentials", load)


async def test_an_exchange_account_leader_is_mirrored_once_per_trade(
    fake: FakeBinanceExchange, read_only_key: None, tmp_path: Path
) -> None:
    clock = FrozenClock(datetime.fromtimestamp(fake.now_ms / 1000, UTC))  # the fake's trade times
    cfg = CopySettings(
        leader="exchange",
        exchange=ccxt_settings("binance", fake.ccxt_options(), ["BTC/USDT"]),
        poll_s=0.1,
        scale=0.5,
        max_slippage_bps=20,
    )
    follower: Engine = follower_engine(Home(tmp_path / "f").ensure(), clock, cfg)
    await follower.start()
    try:
        await step(follower, 1, seconds=0)
        desk = follower.copy
        await until(lambda: desk.status("lead")["state"] == "connected", what="the leader account to load")
        fake.set_price("BTC/USDT", Decimal(str(round(follower.mid("BTC/USDT"), 2))))  # the same market
        order = fake.place("BTC/USDT", "buy", "market", Decimal("0.1"), None, None)  # fills in two halves
        assert [t.qty for t in fake.trades_for("BTC/USDT")] == [Decimal("0.05"), Decimal("0.05")]

        def mine() -> Decimal:
            return sum((f.quantity for f in follower.fills if f.symbol == "BTC/USDT"), Decimal(0))

        await until(lambda: mine() == Decimal("0.05"), what="both trades mirrored at half size")
        await until(lambda: desk.status("lead")["duplicates"] >= 4, what="a few more polls of the same trades")
        st = desk.status("lead")
        assert st["mirrored"] == 2 and st["seen"] == 2 and mine() == Decimal("0.05")
        sources = {follower.oms.orders[f.client_order_id].source for f in follower.fills}
        assert sources == {"copy:lead"}
        assert order.order_id and all(m["fill"].startswith("copy.lead:") for m in st["recent"])
        # the leader's account was read, never traded
        writes = [(m, p) for m, p in fake.requests if m != "GET"]
        assert writes == [] and any(p.endswith("/myTrades") for _, p in fake.requests)
    finally:
        await follower.stop()
