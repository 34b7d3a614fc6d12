"""The first CLI verbs: --version, config show|path|init, daemon lifecycle, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from tui_trader import __version__
from tui_trader.cli.main import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys) -> None:
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"tui-trader {__version__}"


def test_config_init_show_path_round_trip(tmp_path: Path, capsys) -> None:
    home = str(tmp_path / "h")
    code, out, _ = run(capsys, "config", "init", "--home", home)
    assert code == 0 and (tmp_path / "h" / "config.toml").exists()
    tomllib.loads((tmp_path / "h" / "config.toml").read_text())
    code, out, err = run(capsys, "config", "init", "--home", home)
    assert code == 1 and err.startswith("error: ") and "--force" in err and out == ""
    code, out, _ = run(capsys, "config", "show", "--json", "--home", home)
    doc = json.loads(out)
    assert code == 0 and doc["paper"]["seed"] == 7 and doc["engine"]["default_venue"] == "paper"
    code, out, _ = run(capsys, "config", "path", "--home", home)
    assert str(tmp_path / "h" / "config.toml") in out


def test_environment_overrides_file(tmp_path: Path, capsys, monkeypatch) -> None:
    home = tmp_path / "h"
    home.mkdir()
    (home / "config.toml").write_text("[paper]\nseed = 3\n")
    monkeypatch.setenv("TUI_TRADER_PAPER__SEED", "99")
    _code, out, _ = run(capsys, "config", "show", "--json", "--home", str(home))
    assert json.loads(out)["paper"]["seed"] == 99


def test_invalid_settings_give_one_clear_line(tmp_path: Path, capsys) -> None:
    home = tmp_path / "h"
    home.mkdir()
    bad = {
        "[risk]\nmax_order_notional = -5\n": "risk.max_order_notional",
        "[paper]\nsede = 1\n": "paper.sede: unknown setting",
        "[paper\nseed=1": "not valid TOML",
        "[ui]\nrefresh_hz = 500\n": "ui.refresh_hz",
    }
    for text, expected in bad.items():
        (home / "config.toml").write_text(text)
        code, out, err = run(capsys, "config", "show", "--home", str(home))
        assert code == 1 and out == ""
        assert expected in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert (home / "config.toml").read_text() == text  # never overwritten


def test_bad_usage_exits_2(capsys) -> None:
    code, out, err = run(capsys, "no-such-command")
    assert code == 2 and "invalid choice" in err and out == ""


def test_corrupt_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    db = home / "tui_trader.db"
    db.write_bytes(b"this is not sqlite, but it is the user's file\n")
    proc = subprocess.run(
        [sys.executable, "-m", "tui_trader", "daemon", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "not a tui-trader database" in proc.stderr and "Traceback" not in proc.stderr
    assert db.read_bytes() == b"this is not sqlite, but it is the user's file\n"


def test_daemon_runs_until_sigterm_then_shuts_down_cleanly(tmp_path: Path) -> None:
    home = tmp_path / "h"
    env = {**os.environ, "TUI_TRADER_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_trader", "daemon"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        db = home / "tui_trader.db"
        while time.monotonic() < deadline and not (home / "run" / "daemon.json").exists():
            time.sleep(0.05)  # written once the daemon serves (a busy machine may take seconds)
        assert proc.poll() is None, proc.stderr.read()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert db.exists()
    import sqlite3

    rows = sqlite3.connect(db).execute("SELECT action FROM audit ORDER BY id").fetchall()
    assert [r[0] for r in rows][:1] == ["start"] and rows[-1][0] == "stop"


def test_each_command_registers_from_the_module_the_table_names() -> None:
    """`cli.main.COMMANDS` (a command line builds only its command's module) is what the
    modules register, and a parser built for one command parses as the whole one does."""
    import argparse
    import importlib

    from tui_trader.cli import main as cli_main

    found = {}
    for module in cli_main.COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(sub)
        found.update(dict.fromkeys(sub.choices, module))
    assert found == cli_main.COMMANDS
    argv = ["--home", "/tmp/x", "--debug", "backtest", "--strategy", "s", "--data", "f.csv", "--json"]
    assert cli_main.command_of(argv) == "backtest"
    assert vars(cli_main.build_parser(argv).parse_args(argv)) == vars(cli_main.build_parser().parse_args(argv))
    for top in (["--help"], ["--home", "h"], ["--version", "backtest"], []):
        assert cli_main.command_of(top) is None


def test_a_bare_command_line_builds_no_command_and_parses_as_the_whole_parser() -> None:
    """`tui-trader [options]` (the workstation) registers no command module, for a short start;
    what it parses, and each usage error's line, are the whole parser's."""
    from tui_trader.cli import main as cli_main
    from tui_trader.core.errors import UsageError

    def outcome(parser, argv):
        try:
            return vars(parser.parse_args(argv))
        except UsageError as exc:
            return ("usage", str(exc))

    for argv in ([], ["--demo"], ["--home", "/tmp/x", "--debug"], ["--config", "c.toml"], ["--home"],
                 ["--bogus"], ["--de"], ["--demo=1"], ["-x", "--home", "h"]):
        bare = cli_main.build_parser(argv)
        assert not bare._subparsers._group_actions[0].choices, argv  # type: ignore[union-attr]
        assert outcome(bare, argv) == outcome(cli_main.build_parser(), argv), argv
    for asks in (["--help"], ["-h"], ["--home", "h", "--version"], ["--", "ui"]):
        full = cli_main.build_parser(asks)._subparsers._group_actions[0].choices  # type: ignore[union-attr]
        assert set(full) == set(cli_main.COMMANDS), asks  # help lists every command
