"""A venue whose cash is not known (no balances read could be believed at start: fills kept
arriving at every read) as the trader meets it from the command line: `tui-trader status
--json` and `tui-trader status` say which venue, why and since when, orders adding to a
position there are refused, and once its balances are read again it is gone."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tui_trader.core.clock import FrozenClock
from tui_trader.core.encoding import to_jsonable
from tui_trader.core.positions import Balance
from tui_trader.daemon.server import ControlServer
from tui_trader.engine import Engine
from tui_trader.engine.testing import paper_settings, step
from tui_trader.home import Home
from tui_trader.venues.paper import PaperVenue

from daemon_helpers import cli_beside

WHY = "fills kept arriving while its balances were read at start"


@pytest.fixture
async def unread(tmp_path: Path) -> AsyncIterator[tuple[Engine, Home, datetime]]:
    """A control server on an engine whose paper venue's balances had something booked to its
    cash at every read at start (as fills arriving would)."""
    home = Home(tmp_path / "h").ensure()
    settings, clock = paper_settings(), FrozenClock()
    venue = PaperVenue(settings.paper, clock, run_feed=False)
    engine = Engine(settings, None, clock=clock, venues={"paper": venue}, in_memory=True)
    read = venue.fetch_balances

    async def moving() -> dict[str, Balance]:
        balances = await read()
        engine.portfolio.moves["paper"] = engine.portfolio.moves.get("paper", 0) + 1
        return balances

    venue.fetch_balances = moving  # type: ignore[method-assign]
    started = clock.now()
    await engine.start()
    venue.fetch_balances = read  # type: ignore[method-assign]
    await step(engine, 3)
    server = ControlServer(engine, home.socket_path, token="t0ken-for-tests", tcp_port=0)
    await server.start()
    try:
        yield engine, home, started
    finally:
        await server.stop()
        await engine.stop()


async def test_status_says_which_venues_cash_is_not_known_why_and_since_when(unread: Any, capsys: Any) -> None:
    _, home, started = unread
    since = to_jsonable(started)
    assert since == "2026-01-05T14:30:00Z"  # the engine's clock at start (the status's times are UTC, with a Z)
    code, out, err = await cli_beside(capsys, home.root, "status", "--json")
    assert code == 0, err
    (paper,) = json.loads(out)["venues"]
    assert paper["cash_unknown"] == WHY and paper["cash"] == {}  # no read believed: none known
    assert paper["cash_unknown_since"] == since

    code, out, _ = await cli_beside(capsys, home.root, "status")
    lines = [line.strip() for line in out.splitlines() if "cash not known" in line]
    assert lines == [
        f"cash not known since {since}: {WHY}; orders adding to a position here are refused "
        "until `tui-trader venue stop paper` then `venue start paper` reads its balances"
    ], out

    code, _, err = await cli_beside(capsys, home.root, "order", "buy", "0.01", "BTC/USDT")
    assert code == 1 and "cash is not known" in err and len(err.strip().splitlines()) == 1, err

    # read again: believed, and the status no longer says it
    for verb in ("stop", "start"):
        code, _, err = await cli_beside(capsys, home.root, "venue", verb, "paper")
        assert code == 0, err
    code, out, _ = await cli_beside(capsys, home.root, "status", "--json")
    (paper,) = json.loads(out)["venues"]
    assert paper["cash_unknown"] == "" and paper["cash_unknown_since"] is None
    assert set(paper["cash"]) == {"USDT", "USD"}  # its own cash, now read
    code, out, _ = await cli_beside(capsys, home.root, "status")
    assert "cash not known" not in out
    code, out, err = await cli_beside(capsys, home.root, "order", "buy", "0.01", "BTC/USDT", "--json")
    assert code == 0 and json.loads(out)["status"] == "filled", (out, err)


async def test_status_says_a_position_the_broker_does_not_hold(served: Any, capsys: Any) -> None:
    """A broker's positions are read with its balances (here the paper venue answers as a
    broker whose account no longer holds the BTC we bought: sold elsewhere): after the read
    again, `status --json` and `status` name the symbol and both quantities, until a read agrees."""
    from decimal import Decimal

    engine, _, home = served
    held: dict[str, Decimal] = {}

    async def positions() -> dict[str, Decimal]:
        return dict(held)

    engine.venues["paper"].fetch_positions = positions  # read with its balances from now on
    code, out, err = await cli_beside(capsys, home.root, "order", "buy", "0.01", "BTC/USDT", "--json")
    assert code == 0 and json.loads(out)["status"] == "filled", (out, err)
    for verb in ("stop", "start"):  # its account read again: 0.01 BTC counted, none there
        assert (await cli_beside(capsys, home.root, "venue", verb, "paper"))[0] == 0
    code, out, _ = await cli_beside(capsys, home.root, "status", "--json")
    (paper,) = json.loads(out)["venues"]
    assert paper["positions_disagree"] == [{"symbol": "BTC/USDT", "ours": "0.01", "at_venue": "0"}]
    code, out, _ = await cli_beside(capsys, home.root, "status")
    assert "    position BTC/USDT: 0.01 here, 0 at the venue (a fill not heard of, or sold elsewhere" in out
    # an exit goes no further than what the broker holds: past it, it would open a short there
    code, _, err = await cli_beside(capsys, home.root, "order", "sell", "0.01", "BTC/USDT")
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert "paper holds 0 BTC/USDT where we count 0.01: this sell of 0.01 would open the other side there" in err
    held["BTC/USDT"] = Decimal("0.004")  # part of it sold elsewhere: that part can still be sold here
    for verb in ("stop", "start"):
        assert (await cli_beside(capsys, home.root, "venue", verb, "paper"))[0] == 0
    code, out, err = await cli_beside(capsys, home.root, "order", "sell", "0.004", "BTC/USDT", "--json")
    assert code == 0 and json.loads(out)["status"] == "filled", (out, err)

    held["BTC/USDT"] = Decimal("0.006")  # the broker holds what we count again
    for verb in ("stop", "start"):
        assert (await cli_beside(capsys, home.root, "venue", verb, "paper"))[0] == 0
    code, out, _ = await cli_beside(capsys, home.root, "status", "--json")
    assert json.loads(out)["venues"][0]["positions_disagree"] == []

    # 0.004 more sold elsewhere: the status names the command that takes the broker's figure,
    # which sets ours to it in one line; the two agree from then on
    held["BTC/USDT"] = Decimal("0.002")
    for verb in ("stop", "start"):
        assert (await cli_beside(capsys, home.root, "venue", verb, "paper"))[0] == 0
    code, out, _ = await cli_beside(capsys, home.root, "status")
    assert "`tui-trader venue adopt paper BTC/USDT` takes its figure" in out, out
    code, out, err = await cli_beside(capsys, home.root, "venue", "adopt", "paper", "btc/usdt")
    assert code == 0 and out.startswith("paper: BTC/USDT 0.006 -> 0.002 (the broker's), booked at "), (out, err)
    assert engine.portfolio.position("paper", "BTC/USDT").quantity == Decimal("0.002")
    code, out, _ = await cli_beside(capsys, home.root, "status", "--json")
    assert json.loads(out)["venues"][0]["positions_disagree"] == []
    code, _, err = await cli_beside(capsys, home.root, "venue", "adopt", "paper", "ETH/USDT", "--json")
    assert code == 0, err  # held nowhere, counted nowhere: nothing to change
