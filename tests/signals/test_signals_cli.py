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


def test_chatter_is_read_as_info_and_says_why(capsys):
    assert cli_main.main(["signals", "parse", "gm frens"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("kind        info\n") and "note        no trade call found" in out


@pytest.mark.parametrize(
    ("text", "kind", "field", "value"),
    [
        ("Closing my BTC long here, +12% 💰", "exit", "fraction", "1"),
        ("TSLA puts 🔻 below 240, target 225 stop 248", "unsupported", "symbol", "TSLA"),
        ("BTC: move SL to breakeven", "update", "breakeven", True),
        ("Cancel the ETH limit at 3180, not filling", "cancel", "symbol", "ETH"),
        ("BTC short if it loses 62k, sl 63.5k, tp 58k", "entry", "entry_type", "stop"),
    ],
)
def test_parse_json_prints_the_kind(capsys, text, kind, field, value):
    assert cli_main.main(["signals", "parse", "--json", text]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == kind and doc[field] == value
    for key in ("symbol", "side", "entry", "entry_type", "stop", "targets", "leverage", "fraction"):
        assert key in doc
    assert isinstance(doc["confidence"], float) and isinstance(doc["reasons"], list)


def test_an_empty_message_is_a_usage_error(capsys):
    assert cli_main.main(["signals", "parse", "  "]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1


def test_missing_subcommand_is_usage_error(capsys):
    assert cli_main.main(["signals"]) == 2
    assert "parse" in capsys.readouterr().err
