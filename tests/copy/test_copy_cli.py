"""`[copy.NAME]` mistakes (found when the config is read) and `tui-trader copy` without a daemon:
one line each, exit 1 or 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_trader.cli.main import main


@pytest.mark.parametrize(
    ("table", "text"),
    [
        ('leader = "daemon"\nuser = "bob"\n', "needs `port`"),
        ('leader = "daemon"\nport = 7011\n', "needs `port` (its [daemon] tcp_port) and `user`"),
        ('leader = "chat"\n', "copy.lead.leader"),
        ('leader = "chat:a b"\n', "the provider is 1-40 letters"),
        ('leader = "exchange"\n', "[copy.NAME.exchange]"),
        ('leader = "daemon"\nport = 7011\nuser = "bob"\nscale = 0\n', "copy.lead.scale"),
        ('leader = "daemon"\nport = 7011\nuser = "bob"\nsymbols = ["A/B"]\ndeny = ["A/B"]\n', "both"),
        ('leader = "daemon"\nport = 7011\nuser = "bob"\nscael = 1\n', "unknown setting"),
    ],
)
def test_bad_copy_tables_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, text: str
) -> None:
    home = tmp_path / "h"
    home.mkdir()
    (home / "config.toml").write_text("[copy.lead]\n" + table)
    code = main(["config", "show", "--home", str(home)])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and text in err and err.count("\n") == 1


def test_copy_commands_need_a_running_daemon(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["copy", "status"], ["copy", "stop", "lead"]):
        code = main([*argv, "--home", str(tmp_path / "h")])
        out, err = capsys.readouterr()
        assert code == 1 and out == "" and "no daemon running" in err and err.count("\n") == 1
    code = main(["copy", "--home", str(tmp_path / "h")])
    assert code == 2 and "needs an action" in capsys.readouterr().err
