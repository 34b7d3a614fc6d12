"""The social layer on real daemons, configured as docs/social.md says: a chat provider's calls
posted to the daemon's chat webhook on loopback are mirrored by `[copy.NAME] leader =
"chat:PROVIDER"`, and a restart does not mirror a re-posted call again; a live league keeps its
board and each sub-account's trades across a daemon killed mid-season. Timings are hang guards."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_daemon_copy import doc, free_port, wait

pytestmark = pytest.mark.slow


def post(home: Path, port: int, text: str, provider: str = "alpha") -> dict[str, Any]:
    token = (home / "run" / "signals_webhook.token").read_text().strip()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/signals/chat",
        data=json.dumps({"text": text, "provider": provider}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_a_chat_providers_calls_on_the_webhook_are_mirrored_once_across_a_restart(
    tmp_path: Path, spawn_daemon: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    home, port = tmp_path / "f", free_port()
    home.mkdir()
    (home / "config.toml").write_text(
        '[copy.alpha_calls]\nleader = "chat:alpha"\nscale = 0.5\n\n'
        '[risk.sizing]\nmode = "fixed_quantity"\nquantity = 0.1\n\n'
        f"[signals.chat]\nwebhook_port = {port}\n"
    )
    daemon = spawn_daemon(home)
    status = lambda: doc(capsys, home, "copy", "status", "alpha_calls")  # noqa: E731
    wait(lambda: status()["state"] == "connected", "the chat leader to be followed")
    quote = doc(capsys, home, "quote", "BTC/USDT")
    mid = round((float(quote["bid"]) + float(quote["ask"])) / 2)
    call = f"BTC/USDT LONG entry {mid - 20}-{mid + 20} SL {round(mid * 0.98)} TP1 {round(mid * 1.03)}"
    assert post(home, port, call)["kind"] == "entry"
    wait(lambda: status()["positions"] == {"BTC/USDT": "0.05000"}, "the mirrored entry", 30)
    post(home, port, "BTC/USDT take 50% profit here")
    wait(lambda: status()["positions"] == {"BTC/USDT": "0.02500"}, "the mirrored partial exit", 30)
    orders = {o["client_order_id"]: o for o in doc(capsys, home, "orders", "--all")}
    copied = [o for o in orders.values() if o["source"] == "copy:alpha_calls"]
    assert {o["type"] for o in copied if o["status"] in ("accepted", "held", "open")} == {"stop", "limit"}
    before = status()
    assert daemon.stop() == 0
    spawn_daemon(home)
    wait(lambda: status()["state"] == "connected", "following again after the restart")
    post(home, port, call)  # the provider's bot retries its post after our restart
    time.sleep(0.5)
    after = status()
    assert after["duplicates"] == 1 and after["mirrored"] == before["mirrored"] == 2
    assert after["positions"] == {"BTC/USDT": "0.02500"} and after["calls"] == {"entry": 1, "exit": 1}


def test_a_live_league_keeps_its_board_and_trades_across_a_daemon_killed_mid_season(
    tmp_path: Path, spawn_daemon: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "h"
    home.mkdir()
    now = datetime.now(UTC)
    start, end = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:00"), (now + timedelta(days=1)).isoformat()
    doc(capsys, home, "league", "season", "add", "s1", "--start", start, "--end", end)
    first = doc(capsys, home, "league", "run", "--live", "--season", "s1", "--strategies",
                "ema_cross,rsi_mean_reversion,macd_trend", "--min-trades", "1")  # fmt: skip
    assert first["live"]["updates"] == 1 and first["accounts"]["ema_cross"]["closed_trades"] > 0
    board = lambda: doc(capsys, home, "league", "show", "--season", "s1")  # noqa: E731
    daemon = spawn_daemon(home)
    seen = wait(lambda: (b := board())["live"]["updates"] >= 2 and b, "the daemon's first update", 60)
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait(10)
    assert board() == seen  # the board file is whole
    spawn_daemon(home)
    later = wait(lambda: (b := board())["live"]["updates"] > seen["live"]["updates"] and b, "an update", 60)
    for name, account in seen["accounts"].items():
        old, new = account["trades"], later["accounts"][name]["trades"]
        assert new[: len(old)] == old, name
    assert not any("earlier trades" in r["note"] for r in later["rows"])
