"""Strategy control on a running daemon: `tui-trader strategies enable / disable / reload NAME`
(the same engine commands as the socket and the TUI pane), and a [strategies.X] table added
to config.toml started by SIGHUP, removed ones stopped."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from daemon_helpers import cli

PLUGIN = '''
from pandas import DataFrame
from tui_trader.strategy import IStrategy


class UpBar(IStrategy):
    timeframe = "1m"
    stoploss = -0.5

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe
'''


def strategies(capsys, home: Path) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    code, out, err = cli(capsys, "status", "--json", "--home", str(home))
    assert code == 0, err
    return {s["name"]: s for s in json.loads(out)["strategies"]}


def until(capsys, home: Path, predicate, timeout: float = 60.0) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """Poll status until `predicate(strategies)` (a hang guard, not a speed assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        seen = strategies(capsys, home)
        if predicate(seen) or time.monotonic() > deadline:
            return seen
        time.sleep(0.2)


def test_strategies_are_controlled_from_the_command_line_and_sighup_starts_new_tables(
    tmp_path: Path, spawn_daemon, capsys
) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "h"
    (home / "strategies").mkdir(parents=True)
    (home / "strategies" / "upbar.py").write_text(PLUGIN)
    config = home / "config.toml"
    config.write_text('[strategies.up_eth]\nstrategy = "UpBar"\nsymbols = ["ETH/USDT"]\n')
    d = spawn_daemon(home)
    h = str(home)
    seen = until(capsys, home, lambda s: s.get("up_eth", {}).get("state") == "running")
    assert seen["up_eth"]["enabled"] is True and isinstance(seen["up_eth"]["pid"], int)  # its own worker

    code, out, _ = cli(capsys, "strategies", "disable", "up_eth", "--home", h)
    assert code == 0 and out.strip() == "strategy up_eth disabled, running"
    assert strategies(capsys, home)["up_eth"]["enabled"] is False
    code, out, _ = cli(capsys, "strategies", "enable", "up_eth", "--json", "--home", h)
    assert code == 0 and json.loads(out)["enabled"] is True
    code, out, _ = cli(capsys, "strategies", "reload", "up_eth", "--home", h)
    assert code == 0 and out.strip() == "reloaded: up_eth"
    code, _, err = cli(capsys, "strategies", "enable", "nope", "--home", h)
    assert code == 1 and "no running strategy 'nope'" in err and len(err.strip().splitlines()) == 1

    # A new table, then SIGHUP: it starts; the removed one stops.
    config.write_text('[strategies.up_sol]\nstrategy = "UpBar"\nsymbols = ["SOL/USDT"]\n')
    d.proc.send_signal(signal.SIGHUP)
    seen = until(capsys, home, lambda s: "up_eth" not in s and s.get("up_sol", {}).get("state") == "running")
    assert set(seen) == {"up_sol"} and seen["up_sol"]["state"] == "running"
    assert "config reloaded: applied strategies" in (home / "logs" / "daemon.log").read_text()
    assert d.stop() == 0
