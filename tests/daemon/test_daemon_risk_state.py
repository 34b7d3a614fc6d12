"""The real daemon in a subprocess: tripped breakers and a StoplossGuard lock stay in force after
kill -9 and after a clean restart, `status --json` says why; SIGHUP applies new limits to the
next check and refuses an invalid file whole."""

from __future__ import annotations

import argparse
import json
import signal
import time
from pathlib import Path
from typing import Any

from tui_trader.cli.control_cmd import request

from daemon_helpers import cli

# A 1 % taker fee makes every immediate round trip a loss (about 6.8 on 0.1 ETH), whatever the
# random walk does in the few milliseconds between the two orders: the second one reaches the
# daily loss limit of 12.
CONFIG = """
[paper]
taker_fee = 0.01

[risk]
daily_loss_limit = 12
max_consecutive_losses = 2

[[risk.protections]]
method = "StoplossGuard"
lookback_period = 600
stop_duration = 600
trade_limit = 1
"""


def send(home: Path, cmd: str, **params: Any) -> Any:
    """One request over the daemon's socket, as the CLI sends it."""
    return request(argparse.Namespace(home=str(home)), cmd, **params)


def status(capsys, home: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    code, out, _ = cli(capsys, "status", "--json", "--home", str(home))
    assert code == 0
    return json.loads(out)


def halt_of(st: dict[str, Any]) -> tuple[Any, ...]:
    halt = st["halt"]
    return (
        st["halted"],
        halt["breakers"],
        [(lk["method"], lk["until"]) for lk in halt["locks"]],
    )


def test_breakers_and_a_lock_stay_in_force_after_kill_9_and_a_clean_restart(spawn_daemon, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG)
    d = spawn_daemon(home)
    for _ in range(2):  # two losing stop-outs
        buy = send(home, "place", symbol="ETH/USDT", side="buy", quantity="0.1")
        assert buy["status"] == "filled", (buy["reason"], buy["meta"])
        sell = send(home, "place", symbol="ETH/USDT", side="sell", quantity="0.1", tag="stop_loss")
        assert sell["status"] == "filled", (sell["reason"], sell["meta"])
    st = status(capsys, home)
    assert set(st["halt"]["breakers"]) == {"daily_loss", "consecutive_losses"}
    assert "daily_loss breaker" in st["halted"] and "consecutive_losses breaker" in st["halted"]
    assert [lk["method"] for lk in st["halt"]["locks"]] == ["StoplossGuard"]
    before = halt_of(st)

    d.proc.kill()  # kill -9: no clean shutdown, nothing flushed on the way out
    d.proc.wait(10)
    again = spawn_daemon(home)
    st = status(capsys, home)
    assert halt_of(st) == before
    code, out, err = cli(capsys, "order", "buy", "0.1", "ETH/USDT", "--home", str(home))
    assert code == 1 and "trading is halted" in out + err
    state = send(home, "call", command="risk.state", params={})
    assert state["consecutive_losses"] == 2 and state["closed_trades"] == 2

    assert again.stop(signal.SIGTERM) == 0  # a clean restart keeps it too
    third = spawn_daemon(home)
    st = status(capsys, home)
    assert halt_of(st) == before
    cleared = send(home, "call", command="risk.reset", params={})
    assert sorted(cleared["cleared"]) == ["consecutive_losses", "daily_loss"]
    st = status(capsys, home)
    assert st["halted"] is None and st["halt"]["locks"]  # the lock runs out by itself, not by reset
    code, out, _ = cli(capsys, "order", "buy", "0.1", "ETH/USDT", "--json", "--home", str(home))
    assert code == 0 and json.loads(out)["status"] == "filled"
    assert third.stop(signal.SIGTERM) == 0


def wait_log(log: Path, text: str, after: int = 0) -> str:
    for _ in range(300):
        content = log.read_text()[after:]
        if text in content:
            return content
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not logged: {log.read_text()[after:][-2000:]}")


def test_sighup_applies_new_limits_to_the_next_check_and_refuses_a_bad_file_whole(  # type: ignore[no-untyped-def]
    spawn_daemon, capsys, tmp_path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = home / "config.toml"
    config.write_text("[risk]\nmax_position_notional = 100000\n")
    d = spawn_daemon(home)
    log = home / "logs" / "daemon.log"
    code, out, _ = cli(capsys, "order", "buy", "1", "ETH/USDT", "--json", "--home", str(home))
    assert code == 0 and json.loads(out)["status"] == "filled"

    config.write_text("[risk]\nmax_position_notional = 1000\nmax_consecutive_losses = 3\n")
    mark = len(log.read_text())
    d.proc.send_signal(signal.SIGHUP)
    wait_log(log, "config reloaded", mark)
    code, out, err = cli(capsys, "order", "buy", "0.1", "ETH/USDT", "--home", str(home))
    assert code == 1 and "max_position_notional" in out + err
    limits = send(home, "call", command="risk.state", params={})["limits"]
    assert limits["max_position_notional"] == 1000 and limits["max_consecutive_losses"] == 3

    # A file with one good and one bad value: refused whole, in one line; the old limits stay.
    config.write_text("[risk]\nmax_position_notional = 999999\nmax_drawdown = 7\n")
    mark = len(log.read_text())
    d.proc.send_signal(signal.SIGHUP)
    wait_log(log, "reload refused", mark)
    assert send(home, "call", command="risk.state", params={})["limits"]["max_position_notional"] == 1000
    code, out, err = cli(capsys, "order", "buy", "0.1", "ETH/USDT", "--home", str(home))
    assert code == 1 and "max_position_notional" in out + err
    assert d.stop() == 0


def test_the_kill_switch_halts_after_kill_9_until_risk_reset(spawn_daemon, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    d = spawn_daemon(home)
    code, out, _ = cli(capsys, "order", "buy", "0.1", "ETH/USDT", "--home", str(home))
    assert code == 0 and "filled" in out
    code, out, _ = cli(capsys, "flatten", "--yes", "--home", str(home))
    assert code == 0 and "sent 1 closing order(s)" in out
    code, out, err = cli(capsys, "order", "buy", "0.1", "ETH/USDT", "--home", str(home))
    assert code == 1 and "kill switch: pressed by" in out + err

    d.proc.kill()  # kill -9 right after
    d.proc.wait(10)
    again = spawn_daemon(home)
    st = status(capsys, home)
    assert "kill switch" in st["halted"] and list(st["halt"]["breakers"]) == ["kill_switch"]
    code, out, err = cli(capsys, "risk", "reset", "kill", "--yes", "--home", str(home))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "unknown breaker 'kill'" in err
    assert status(capsys, home)["halted"]  # a bad name changed nothing
    code, out, _ = cli(capsys, "risk", "reset", "kill_switch", "--yes", "--home", str(home))
    assert code == 0 and out.strip() == "reset: kill_switch"
    code, out, _ = cli(capsys, "risk", "reset", "--yes", "--home", str(home))
    assert code == 0 and out.strip() == "reset: none was tripped"
    code, out, _ = cli(capsys, "order", "buy", "0.1", "ETH/USDT", "--json", "--home", str(home))
    assert code == 0 and json.loads(out)["status"] == "filled"
    assert again.stop(signal.SIGTERM) == 0


def test_a_flatten_with_its_venue_down_says_what_it_could_not_close(spawn_daemon, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The closing order refused (the venue not running): exit 1, the position and why in one
    line each, and what to do; the halt stays, and a flatten once it is back closes it."""
    home = tmp_path / "home"
    d = spawn_daemon(home)
    code, out, _ = cli(capsys, "order", "buy", "0.1", "ETH/USDT", "--home", str(home))
    assert code == 0 and "filled" in out
    assert cli(capsys, "venue", "stop", "paper", "--home", str(home))[0] == 0
    code, out, _ = cli(capsys, "flatten", "--yes", "--home", str(home))
    assert code == 1, out
    assert "still open: ETH/USDT" in out and "refused: ETH/USDT: paper is not running" in out
    assert "run `tui-trader flatten --yes` again" in out
    assert cli(capsys, "venue", "start", "paper", "--home", str(home))[0] == 0
    code, out, _ = cli(capsys, "flatten", "--yes", "--home", str(home))
    assert code == 0 and "still open" not in out, out
    assert "kill switch" in status(capsys, home)["halted"]
    assert d.stop(signal.SIGTERM) == 0
