"""The routing commands without a daemon: the paper instances' consolidated quote and spreads
(functions of the seed and the clock), one-line refusals, and `config show` as TOML."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tui_trader.cli import main as cli_main

CONFIG = """
[venues.east]
kind = "paper"
seed = 11
basis_bps = 15
basis_noise_bps = 0

[routing.scanner]
transfer_costs_bps = { BTC = 2.5 }
"""


def run(capsys: pytest.CaptureFixture[str], home: Path, *argv: str) -> tuple[int, str, str]:
    rc = cli_main.main(["--home", str(home), *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "config.toml").write_text(CONFIG)
    return tmp_path


def test_quote_all_venues_without_a_daemon(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, home, "quote", "btc/usdt", "--all-venues", "--json")
    assert rc == 0
    doc = json.loads(out)
    assert "no daemon" in doc["source"] and [v["venue"] for v in doc["venues"]] == ["east", "paper"]
    east, paper = doc["venues"]
    assert east["ask"] / paper["ask"] == pytest.approx(1.0015, abs=5e-5)  # 15 bp dearer, same market
    assert doc["best_ask"]["venue"] == "paper" and doc["best_bid"]["venue"] == "east"
    bids = doc["book"]["bids"]
    asks = doc["book"]["asks"]
    assert bids == sorted(bids, key=lambda lv: -lv[0]) and asks == sorted(asks, key=lambda lv: lv[0])
    # 15 bp apart with levels 0.5 bp apart: the ten best bids are all east's, the ten best offers paper's
    assert {lv[2] for lv in bids} == {"east"} and {lv[2] for lv in asks} == {"paper"}
    rc, out, _ = run(capsys, home, "quote", "BTC/USDT", "--all-venues")
    assert rc == 0 and out.startswith("BTC/USDT on 2 venue(s)") and "CROSSED" in out


def test_scan_spreads_without_a_daemon(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, home, "scan", "spreads", "--json")
    assert rc == 0
    doc = json.loads(out)
    [btc] = [r for r in doc["rows"] if r["symbol"] == "BTC/USDT"]
    assert (btc["buy_venue"], btc["sell_venue"], btc["transfer_bps"]) == ("paper", "east", 2.5)
    expected = (btc["bid"] * (1 - 0.0005) - btc["ask"] * (1 + 0.0005)) / btc["ask"] * 1e4 - 2.5
    assert btc["net_bps"] == pytest.approx(expected, abs=1e-3)
    rows = [r["net_bps"] for r in doc["rows"] if not r["stale"]]
    assert rows == sorted(rows, reverse=True)
    rc, out, _ = run(capsys, home, "scan", "spreads", "--min-bps", "1000")
    assert rc == 0 and "none has the net edge" in out
    rc, out, _ = run(capsys, home, "scan", "spreads", "--triangular")
    assert rc == 0 and "no venue quotes three markets" in out


def test_refusals_are_one_line(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, home, "quote", "BTC/USDT", "--all-venues", "--venue", "east")
    assert rc == 2 and err.count("\n") == 1 and "leave out --venue" in err
    rc, _, err = run(capsys, home, "venue", "stop", "east")
    assert rc == 1 and err.count("\n") == 1 and "no daemon" in err
    rc, _, err = run(capsys, home, "scan")
    assert rc == 2 and err.count("\n") == 1
    rc, _, err = run(capsys, home, "quote", "DOGE/USDT", "--all-venues")
    assert rc == 1 and "no paper venue lists DOGE/USDT" in err


def test_config_show_is_toml_with_the_routing_section(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, home, "config", "show")
    assert rc == 0
    doc = tomllib.loads(out)
    assert doc["routing"]["failover"] == "same_quote"
    assert doc["routing"]["scanner"]["transfer_costs_bps"] == {"BTC": 2.5}
    assert doc["venues"]["east"]["seed"] == 11 and doc["paper"]["balances"]["USDT"] == 100000.0
