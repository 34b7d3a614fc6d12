"""The command line against a control server on the paper exchange: a leveraged perpetual
order and its margin figures in `positions`, and an FX bracket given in lots and pips (from
the CLI and from the TUI's command line, which must agree)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tui_trader.cli.main import main
from tui_trader.config import Settings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderType
from tui_trader.daemon.server import ControlServer
from tui_trader.engine import Engine
from tui_trader.engine.testing import manual_engine, step
from tui_trader.home import Home
from tui_trader.ui.commandline import OrderCommand, parse_command

D = Decimal
PERP = "BTC/USDT:USDT"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Engine, Home]]:
    home = Home(tmp_path / "h").ensure()
    settings = Settings()
    settings.paper.symbols = ["BTC/USDT", PERP, "EUR/USD", "USD/JPY", "USDT/USD"]
    engine = manual_engine(settings, clock=FrozenClock())  # Monday 14:30 UTC: London + New York
    await engine.start()
    await step(engine, 4)
    server = ControlServer(engine, home.socket_path, token="t0ken-for-tests", tcp_port=0)
    await server.start()
    try:
        yield engine, home
    finally:
        await server.stop()
        await engine.stop()


async def cli(capsys: pytest.CaptureFixture[str], home: Home, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = await asyncio.to_thread(main, [*argv, "--home", str(home.root)])
    out, err = capsys.readouterr()
    return code, out, err


async def test_a_leveraged_perpetual_order_from_the_command_line(served: Any, capsys: Any) -> None:
    _, home = served
    code, out, _ = await cli(capsys, home, "order", "buy", "0.5", PERP, "--leverage", "5", "--json")
    assert code == 0 and json.loads(out)["status"] == "filled"
    code, out, _ = await cli(capsys, home, "positions", "--json")
    (pos,) = json.loads(out)
    margin = pos["margin"]
    assert margin["leverage"] == "5" and margin["settle"] == "USDT"
    assert D(margin["liquidation_price"]) < D(margin["guard_price"]) < D(margin["entry"])
    assert D(margin["initial_margin"]) == D(margin["entry"]) * D("0.5") / 5
    assert margin["next_funding"].startswith("2026-01-05T16:00")
    code, out, _ = await cli(capsys, home, "positions")
    assert code == 0 and "on margin:" in out and "5x" in out and margin["liquidation_price"] in out
    # A spot symbol refuses a leverage in one line, exit 1.
    code, _, err = await cli(capsys, home, "order", "buy", "0.01", "BTC/USDT", "--leverage", "3")
    assert code == 1 and "is spot" in err and len(err.strip().splitlines()) == 1


def bracket(engine: Engine, parent: str) -> tuple[Decimal, Decimal]:
    legs = [o for o in engine.recent_orders.values() if o.parent_id == parent]
    stop = next(o for o in legs if o.type is OrderType.STOP)
    take = next(o for o in legs if o.type is OrderType.LIMIT)
    assert stop.stop_price is not None and take.price is not None
    return stop.stop_price, take.price


async def test_an_fx_bracket_in_lots_and_pips(served: Any, capsys: Any) -> None:
    engine, home = served
    ask = D(repr(engine.ticker("EUR/USD", "paper").ask))
    code, out, err = await cli(
        capsys, home, "order", "buy", "0.1", "EUR/USD", "--lot", "lot", "--sl", "20p", "--tp", "40p", "--json"
    )
    assert code == 0, err
    order = json.loads(out)
    assert order["quantity"] == "10000" and order["status"] == "filled"
    assert order["pip_value"] == {"amount": "1.00", "currency": "USD"}  # 10,000 units: $1 a pip
    await step(engine, 2)
    assert bracket(engine, order["client_order_id"]) == (ask - D("0.0020"), ask + D("0.0040"))
    # The TUI's command line says the same thing the same way.
    cmd = parse_command("buy 0.1 lot EUR/USD sl 20p tp 40p", None, ["EUR/USD"])
    assert isinstance(cmd, OrderCommand)
    req = cmd.request
    assert req.quantity == D(10_000) and req.stop_loss_offset == D("0.0020") and req.take_profit_offset == D("0.0040")
    code, out, _ = await cli(capsys, home, "order", "sell", "2", "USD/JPY", "--lot", "mini", "--json")
    jpy = json.loads(out)  # 20,000 units: 200 yen a pip, in dollars at the fill price
    assert code == 0 and jpy["quantity"] == "20000"
    assert jpy["pip_value"] == {"amount": f"{D(200) / D(jpy['average_price']):.2f}", "currency": "USD"}
    # Pips on a symbol without pips: one line, exit 2, nothing sent.
    before = len(engine.recent_orders)
    code, _, err = await cli(capsys, home, "order", "buy", "0.1", "BTC/USDT", "--sl", "20p")
    assert code == 2 and "has no pip" in err and len(engine.recent_orders) == before
