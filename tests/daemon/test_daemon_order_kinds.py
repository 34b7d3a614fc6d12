"""Every order kind through the daemon from the command line (`tui-trader order`) and from an
attached workstation: trailing stop, OCO, post-only, reduce-only and time in force reach the
engine's one placing path (the socket itself: test_daemon_abuse.py)."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.daemon.remote_client import RemoteClient
from tui_trader.engine.testing import step
from tui_trader.ui.app import WorkstationApp

from daemon_helpers import cli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ui"))
from ui_helpers import answer


def test_every_order_kind_from_tui_trader_order(spawn_daemon, capsys) -> None:  # type: ignore[no-untyped-def]
    d = spawn_daemon()
    h = ("--home", str(d.home))
    code, out, err = cli(capsys, "order", "buy", "1", "ETH/USDT", "--json", *h)
    assert code == 0, err
    bought = json.loads(out)
    assert bought["status"] == "filled"
    mid = Decimal(bought["average_price"])
    above, below = str(int(mid * Decimal("1.03"))), str(int(mid * Decimal("0.97")))

    code, out, err = cli(capsys, "order", "sell", "1", "ETH/USDT", "--trail", "2%", "--reduce-only", "--json", *h)
    assert code == 0, err
    trail = json.loads(out)
    assert (trail["type"], trail["status"], trail["reduce_only"], trail["meta"]["trail_percent"]) == (
        "trailing-stop", "accepted", True, "0.02",
    )  # fmt: skip
    code, out, err = cli(capsys, "cancel", trail["client_order_id"], *h)  # reduce-only counts working orders
    assert code == 0, err

    code, out, err = cli(
        capsys, "order", "sell", "1", "ETH/USDT", "--type", "limit", "--price", above, "--oco", below,
        "--reduce-only", "--json", *h,
    )  # fmt: skip
    assert code == 0, out + err
    first, second = json.loads(out)
    assert (first["type"], first["price"], second["type"], second["stop_price"]) == ("limit", above, "stop", below)
    assert first["oco_id"] and first["oco_id"] == second["oco_id"]
    assert first["reduce_only"] and second["reduce_only"] and first["side"] == second["side"] == "sell"
    code, out, err = cli(capsys, "order", "sell", "0.5", "ETH/USDT", "--trail", "150", *h)
    assert code == 0 and " trailing-stop " in out, err

    code, out, err = cli(capsys, "order", "buy", "1", "ETH/USDT", "--type", "limit", "--price", below, "--post-only",
                         *h)  # fmt: skip
    assert code == 0 and "accepted: buy 1 ETH/USDT limit @ " in out, err
    code, out, err = cli(
        capsys, "order", "buy", "1", "ETH/USDT", "--type", "limit", "--price", below, "--tif", "ioc", "--json", *h
    )
    ioc = json.loads(out)
    assert code == 0 and ioc["time_in_force"] == "ioc" and ioc["filled_quantity"] == "0", (out, err)
    assert ioc["status"] in ("cancelled", "expired")  # it could not trade at once: nothing rests

    code, out, _ = cli(capsys, "orders", "--json", *h)
    working = json.loads(out)
    assert sorted(o["type"] for o in working) == ["limit", "limit", "stop", "trailing-stop"]
    assert [o["post_only"] for o in working if o["type"] == "limit" and o["side"] == "buy"] == [True]
    assert d.stop() == 0


def test_order_kind_mistakes_are_one_line_and_send_nothing(spawn_daemon, capsys) -> None:  # type: ignore[no-untyped-def]
    d = spawn_daemon()
    h = ("--home", str(d.home))
    for argv, message in (
        (("--trail", "150%"), "not below 100%"),
        (("--trail", "nan"), "trail distance must be a finite number"),
        (("--type", "trailing-stop"), "a trailing-stop order needs --trail"),
        (("--type", "limit", "--price", "10", "--trail", "2%"), "--trail does not apply to a limit order"),
        (("--type", "stop", "--stop", "10", "--post-only"), "--post-only applies to limit orders only"),
        (("--oco", "10"), "--oco pairs a limit with a stop"),
        (("--type", "limit", "--price", "10", "--oco", "1e23"), "out of range"),
    ):
        code, out, err = cli(capsys, "order", "sell", "1", "ETH/USDT", *argv, *h)
        assert code == 2 and message in err, (argv, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and out == ""
    code, out, _ = cli(capsys, "orders", "--all", "--json", *h)
    assert json.loads(out) == []
    assert d.stop() == 0


async def test_oco_from_an_attached_workstations_command_line(served) -> None:  # type: ignore[no-untyped-def]
    engine, _, home = served
    settings = engine.settings.model_copy(update={"ui": engine.settings.ui.model_copy(update={"confirm_arm_ms": 100})})
    app = WorkstationApp(RemoteClient.for_home(home, refresh_hz=20), settings, None)
    bought = await engine.place(OrderRequest("ETH/USDT", Side.BUY, Decimal(1)))
    assert bought.status is OrderStatus.FILLED
    mid = engine.mid("ETH/USDT")
    take, stop = int(mid * 1.02), int(mid * 0.98)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(1000):  # a hang guard
            if app.snapshot is not None:
                break
            await pilot.pause(0.01)
        assert app.client.attached
        await pilot.press("colon")
        await pilot.pause()
        assert app.command_line.is_open
        app.command_line.field.value = f"sell 1 ETH/USDT limit {take} oco {stop} reduce"
        await pilot.press("enter")
        await answer(SimpleNamespace(app=app), pilot, "ctrl+y")
        await app.workers.wait_for_complete()
        await pilot.pause()
    await step(engine, 1)
    legs = [o for o in engine.oms.open_orders() if o.side is Side.SELL]  # type: ignore[union-attr]
    assert sorted(o.type for o in legs) == [OrderType.LIMIT, OrderType.STOP]
    assert legs[0].oco_id and legs[0].oco_id == legs[1].oco_id and all(o.reduce_only for o in legs)
    assert all(o.source == "tui" or o.source == "manual" for o in legs), [o.source for o in legs]
