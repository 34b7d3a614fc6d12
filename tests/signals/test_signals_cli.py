"""`tui-trader signals parse` through the real entry point (only our command module loaded)."""

from __future__ import annotations

import json

import pytest

from tui_trader.cli import main as cli_main


@pytest.fixture(autouse=True)
def only_signals(monkeypatch):
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("tui_trader.cli.signals_cmd",))


def test_parse_prints_fields(capsys):
    assert cli_main.main(["signals", "parse", "#ETH short 3200 sl 3350 tp 3000/2900 10x"]) == 0
    out = capsys.readouterr().out
    assert "symbol      ETH" in out
    assert "side        sell (short)" in out
    assert "targets     3000, 2900" in out
    assert "leverage    10x" in out


def test_parse_json_is_one_document(capsys):
    code = cli_main.main(
        [
            "signals",
            "parse",
            "--json",
            "BTC/USDT LONG entry 64000-64500 SL 63000 TP1 66000 TP2 68000",
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["symbol"] == "BTC/USDT" and doc["entry"] == ["64000", "64500"]
    assert doc["entry_price"] == "64250" and doc["confidence"] == 1.0


def test_parse_words_and_known_symbols(capsys):
    assert (
        cli_main.main(
            [
                "signals",
                "parse",
                "--symbols",
                "ETH/USDT,BTC/USDT",
                "--json",
                "#ETH",
                "short",
                "3200",
                "sl",
                "3350",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["symbol"] == "ETH/USDT"
    assert "no target given" in doc["reasons"]


def test_unparseable_exits_1_with_one_line(capsys):
    assert cli_main.main(["signals", "parse", "gm frens"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1


def test_missing_subcommand_is_usage_error(capsys):
    assert cli_main.main(["signals"]) == 2
    assert "parse" in capsys.readouterr().err
