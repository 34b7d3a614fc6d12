"""CLI output a script can rely on: `config show` is TOML that reads back to the same settings,
and a file named on the command line that does not exist is a usage error (exit 2) everywhere."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tui_trader.cli.main import main
from tui_trader.config.toml_text import dumps


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_config_show_is_toml_that_reads_back_to_the_same_settings(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "h"
    home.mkdir()
    (home / "config.toml").write_text(
        '[venues.binance]\nkind = "ccxt"\nexchange = "binance"\n'
        '[strategies.ema_cross]\nenabled = true\nsymbols = ["BTC/USDT"]\n'
        '[risk]\nmax_order_notional = 25000\n'
    )
    code, out, _ = run(capsys, "config", "show", "--home", str(home))
    assert code == 0
    parsed = tomllib.loads(out)  # the defect: nested tables printed as JSON objects
    assert parsed["venues"]["binance"]["exchange"] == "binance"
    assert parsed["strategies"]["ema_cross"]["symbols"] == ["BTC/USDT"]
    assert "# max_position_notional = (unset)" in out  # TOML has no null: unset is a comment
    again = tmp_path / "again.toml"
    again.write_text(out)
    _, first, _ = run(capsys, "config", "show", "--json", "--home", str(home))
    _, second, _ = run(capsys, "config", "show", "--json", "--home", str(home), "--config", str(again))
    assert json.loads(first) == json.loads(second)


def test_toml_text_quotes_keys_and_escapes_strings() -> None:
    doc = {"a": {"BTC/USDT": 1.5, "q": 'say "hi"\n', "list": [{"x": 1}], "none": None}, "top": {}}
    parsed = tomllib.loads(dumps(doc))
    assert parsed == {"a": {"BTC/USDT": 1.5, "q": 'say "hi"\n', "list": [{"x": 1}]}, "top": {}}


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["data", "import", "{missing}"], "data file"),
        (["backtest", "--strategy", "ema_cross", "--data", "{missing}", "--timeframe", "5m"], "data file"),
        (["strategies", "check", "{missing}"], "strategy file"),
        (["strategies", "install", "{missing}"], "bundle file"),
        (["config", "show", "--config", "{missing}"], "config file"),
    ],
)
def test_a_missing_file_exits_2_in_every_command(tmp_path: Path, capsys, argv: list[str], what: str) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nope.x"
    args = [a.replace("{missing}", str(missing)) for a in argv]
    code, out, err = run(capsys, *args, "--home", str(tmp_path / "h"))
    assert code == 2 and out == ""
    assert err.strip() == f"error: no such {what}: {missing}"
