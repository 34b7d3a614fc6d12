"""`tui-trader daemon` in a subprocess: lock, permissions, CLI, signals, kill -9 recovery."""

from __future__ import annotations

import json
import os
import signal
import time
from decimal import Decimal

import pytest

from daemon_helpers import cli


def test_daemon_serves_the_cli_and_survives_kill_9(spawn_daemon, capsys) -> None:  # type: ignore[no-untyped-def]
    d = spawn_daemon()
    home = str(d.home)
    assert oct(os.stat(d.home / "run" / "daemon.sock").st_mode & 0o777) == "0o600"

    code, out, _ = cli(capsys, "status", "--json", "--home", home)
    status = json.loads(out)
    assert code == 0 and status["mode"] == "paper" and status["pid"] == d.proc.pid
    assert status["venues"][0]["name"] == "paper" and status["venues"][0]["state"] == "connected"
    code, out, _ = cli(capsys, "status", "--home", home)
    assert code == 0 and f"daemon pid {d.proc.pid}, PAPER" in out

    code, out, _ = cli(capsys, "order", "buy", "0.25", "BTC/USDT", "--json", "--home", home)
    filled = json.loads(out)
    assert code == 0 and filled["status"] == "filled" and filled["filled_quantity"] == "0.25"
    code, out, _ = cli(capsys, "order", "sell", "2", "ETH/USDT", "--type", "limit", "--price", "999999", "--home", home)
    assert code == 1 and "rejected" in out

    code, out, _ = cli(capsys, "positions", "--json", "--home", home)
    (pos,) = json.loads(out)
    assert pos["symbol"] == "BTC/USDT" and pos["quantity"] == "0.25"
    code, out, _ = cli(capsys, "positions", "--home", home)
    shown = out.splitlines()[1].split()[3]  # the table's average price: rounded for reading, JSON keeps all
    digits = shown.replace(",", "").replace(".", "").lstrip("0")
    assert code == 0 and len(digits) <= 8
    assert abs(Decimal(shown.replace(",", "")) - Decimal(pos["average_price"])) < Decimal("0.001")
    below = int(float(pos["mark"]) * 0.95)  # resting, inside the price band
    code, out, _ = cli(
        capsys, "order", "buy", "0.1", "BTC/USDT", "--type", "limit", "--price", str(below), "--home", home
    )
    assert code == 0 and " accepted: buy 0.1 BTC/USDT limit" in out
    working_id = out.split()[0]
    code, out, _ = cli(capsys, "fills", "--home", home)
    assert code == 0 and filled["client_order_id"] in out

    # Second daemon on the same home: refused in one line naming the pid.
    second = spawn_daemon(d.home, ready=False)
    assert second.proc.wait(20) == 1
    assert f"already running for {d.home} (pid {d.proc.pid})" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1

    # kill -9, then a new daemon finds the working order and the position where they were.
    d.proc.kill()
    d.proc.wait(10)
    code, _, err = cli(capsys, "orders", "--home", home)
    assert code == 1 and err.strip() == f"error: no daemon running for {d.home}; start one with `tui-trader daemon`"
    again = spawn_daemon(d.home)
    orders = json.loads(cli(capsys, "orders", "--json", "--home", home)[1])
    assert [o["client_order_id"] for o in orders] == [working_id]
    (pos,) = json.loads(cli(capsys, "positions", "--json", "--home", home)[1])
    assert pos["quantity"] == "0.25"

    code, _, err = cli(capsys, "modify", working_id, "--home", home)
    assert code == 2 and "give --price, --qty or both" in err
    code, out, _ = cli(capsys, "modify", working_id, "--price", str(below - 1), "--json", "--home", home)
    replacement = json.loads(out)  # the paper venue cannot amend: cancelled and replaced
    assert code == 0 and replacement["meta"]["replaces"] == working_id and replacement["price"] == str(below - 1)
    working_id = replacement["client_order_id"]
    code, out, _ = cli(capsys, "cancel", working_id, "--home", home)
    assert code == 0 and working_id in out
    code, out, _ = cli(capsys, "flatten", "--yes", "--json", "--home", home)
    assert code == 0 and json.loads(out)["still_open"] == []
    assert again.stop(signal.SIGTERM) == 0
    assert "stopped cleanly" in again.stderr
    assert not (d.home / "run" / "daemon.sock").exists()
    log_lines = [json.loads(line) for line in (d.home / "logs" / "daemon.log").read_text().splitlines()]
    assert {"ts", "level", "logger", "msg"} <= set(log_lines[-1])


def test_sighup_reloads_risk_and_names_what_needs_a_restart(spawn_daemon, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text("[risk]\nprice_band_pct = 0.10\n")
    d = spawn_daemon(home)
    code, out, _ = cli(capsys, "order", "buy", "1", "ETH/USDT", "--json", "--home", str(home))
    assert json.loads(out)["status"] == "filled"
    assert code == 0
    (home / "config.toml").write_text("[risk]\nprice_band_pct = 0.10\nmax_order_notional = 10\n\n[paper]\nseed = 8\n")
    d.proc.send_signal(signal.SIGHUP)
    log = home / "logs" / "daemon.log"
    for _ in range(200):
        if "config reloaded" in log.read_text():
            break
        time.sleep(0.05)
    expected = "config reloaded: applied risk; restart the daemon to apply paper"
    assert expected in log.read_text()
    code, _, err = cli(capsys, "order", "buy", "1", "ETH/USDT", "--home", str(home))
    assert code == 1 and "max_order_notional" in err
    assert d.stop() == 0


def test_group_readable_run_dir_is_refused(spawn_daemon, tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True)
    os.chmod(home / "run", 0o750)
    d = spawn_daemon(home, ready=False)
    assert d.proc.wait(20) == 1
    assert "accessible by other users (mode 750); run `chmod 700" in d.stderr
    assert not (home / "run" / "daemon.sock").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["status"],
        ["positions"],
        ["orders", "--json"],
        ["fills"],
        ["order", "buy", "1", "BTC/USDT"],
        ["cancel", "all"],
        ["flatten", "--yes"],
    ],
)
def test_commands_without_a_daemon_say_so(argv, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli(capsys, *argv, "--home", str(tmp_path / "h"))
    assert code == 1 and out == ""
    assert err == f"error: no daemon running for {tmp_path / 'h'}; start one with `tui-trader daemon`\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["order", "buy", "abc", "BTC/USDT"], "QTY must be a number"),
        (["order", "buy", "-1", "BTC/USDT"], "QTY must be greater than zero"),
        (["order", "buy", "1", "BTC/USDT", "--type", "limit"], "a limit order needs --price"),
        (["order", "buy", "1", "BTC/USDT", "--type", "stop-limit", "--price", "5"], "needs --stop"),
        (["order", "hold", "1", "BTC/USDT"], "invalid choice"),
        (["flatten"], "pass --yes"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv, message, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli(capsys, *argv, "--home", str(tmp_path / "h"))
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_cli_orders_calls_bracket_legs_held_like_the_workstation(spawn_daemon, capsys) -> None:  # type: ignore[no-untyped-def]
    """A resting bracket entry: `orders` lists it `accepted` and its stop-loss and take-profit
    `held` (the engine keeps them back until the entry fills), the word the TUI shows."""
    d = spawn_daemon()
    home = str(d.home)
    mark = float(json.loads(cli(capsys, "quote", "BTC/USDT", "--json", "--home", home)[1])["last"])
    entry, sl, tp = int(mark * 0.95), int(mark * 0.93), int(mark * 1.02)
    code, out, err = cli(capsys, "order", "buy", "0.1", "BTC/USDT", "--type", "limit", "--price", str(entry),
                         "--sl", str(sl), "--tp", str(tp), "--home", home)  # fmt: skip
    assert code == 0, err
    code, out, _ = cli(capsys, "orders", "--home", home)
    rows = [line.split() for line in out.strip().splitlines()[1:]]
    states = sorted(row[-1] for row in rows)
    assert code == 0 and states == ["accepted", "held", "held"], out
    by_json = json.loads(cli(capsys, "orders", "--json", "--home", home)[1])
    assert sorted(o["status"] for o in by_json) == ["accepted", "accepted", "accepted"]  # --json: the raw status
    assert sum(bool(o["meta"].get("held")) for o in by_json) == 2


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("43125.123456789012345", "43,125.123"),  # a volume-weighted average: ~8 significant digits
        ("0.000012345678", "0.00001235"),  # under 1: eight decimals
        ("2500.5", "2,500.50"),  # cents kept
        ("-3.1000000", "-3.10"),
        (None, "-"),
    ],
)
def test_average_prices_are_rounded_for_reading(raw, shown) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.cli.control_cmd import _px

    assert _px(raw) == shown
