"""The issue's check, with a real daemon: two paper instances quote BTC/USDT at different prices;
`order buy 0.1 BTC/USDT --venue auto` fills at the cheaper; with that venue stopped the order goes
to the other and says so; `scan spreads --json` lists the pair with its net edge."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tui_trader.cli import main as cli_main

CONFIG = """
[venues.pricier]
kind = "paper"
seed = 11
basis_bps = 30          # the same market 30 bp dearer, with its own noise (4 bp by default)
taker_fee = 0.001

[routing.scanner]
alert_bps = 5
"""


def cli(home: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = cli_main.main(["--home", str(home), *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_auto_routes_to_the_cheaper_then_to_the_other_when_it_is_stopped(
    tmp_path: Path, spawn_daemon: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG)
    spawn_daemon(home)

    rc, out, _ = cli(home, capsys, "quote", "BTC/USDT", "--all-venues", "--json")
    assert rc == 0
    view = json.loads(out)
    assert view["source"] == "daemon" and [v["venue"] for v in view["venues"]] == ["paper", "pricier"]
    paper, pricier = view["venues"]
    assert paper["ask"] < pricier["ask"] and view["best_ask"]["venue"] == "paper"
    assert pricier["taker_fee"] == 0.001 and {lv[2] for lv in view["book"]["asks"]} <= {"paper", "pricier"}

    rc, out, err = cli(home, capsys, "order", "buy", "0.1", "BTC/USDT", "--venue", "auto", "--json")
    assert rc == 0, err
    parent = json.loads(out)
    assert parent["status"] == "filled" and parent["venue"] == "auto" and parent["meta"]["venues"] == ["paper"]
    assert float(parent["average_price"]) == pytest.approx(paper["ask"], rel=2e-3)

    rc, out, _ = cli(home, capsys, "scan", "spreads", "--json")
    assert rc == 0
    rows = json.loads(out)["rows"]
    [btc] = [r for r in rows if r["symbol"] == "BTC/USDT"]
    assert (btc["buy_venue"], btc["sell_venue"]) == ("paper", "pricier") and not btc["stale"]
    expected = (btc["bid"] * (1 - 0.001) - btc["ask"] * (1 + 0.0005)) / btc["ask"] * 1e4
    assert btc["net_bps"] == pytest.approx(expected, abs=1e-3) and btc["fees_bps"] == pytest.approx(15.0)

    assert cli(home, capsys, "venue", "stop", "paper")[0] == 0
    rc, out, err = cli(home, capsys, "order", "buy", "0.1", "BTC/USDT", "--venue", "auto")
    assert rc == 0, err
    assert "filled on pricier" in out and "not used: paper (disconnected)" in out

    rc, out, _ = cli(home, capsys, "orders", "--all")
    assert rc == 0 and "└" in out  # children listed under their routed order

    assert cli(home, capsys, "venue", "start", "paper")[0] == 0
    rc, out, _ = cli(home, capsys, "order", "buy", "0.1", "BTC/USDT", "--venue", "auto", "--json")
    assert rc == 0 and json.loads(out)["meta"]["venues"] == ["paper"]

    rc, _, err = cli(home, capsys, "venue", "stop", "nowhere")
    assert rc == 2 and err.count("\n") == 1 and "no venue 'nowhere'" in err

    # A resting routed order is one working order for the trader, however many children it has.
    below = str(int(paper["bid"] * 0.95))
    rc, out, err = cli(home, capsys, "order", "buy", "0.1", "BTC/USDT", "--venue", "auto", "--type", "limit",
                       "--price", below, "--json")  # fmt: skip
    assert rc == 0, err
    routed = json.loads(out)["client_order_id"]
    working = json.loads(cli(home, capsys, "orders", "--json")[1])
    assert len(working) >= 2 and {o["meta"].get("route_parent") for o in working} >= {routed}
    status = json.loads(cli(home, capsys, "status", "--json")[1])
    assert status["open_orders"] == 1
