"""A provider's chat messages acting on the real daemon, on paper, the way docs/signals.md
says a trader sets it up: `[signals.chat] webhook_port`, `auto_execute`, the token in
HOME/run/signals_webhook.token, messages POSTed to 127.0.0.1. The entry opens a position
through the risk engine; the same provider's exit closes it; another provider's exit does
not touch it. What the daemon holds is read with the CLI (`positions`, `orders`, `fills`),
the audit log from the daemon's database once it stopped. Timings are hang guards."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from daemon_helpers import cli

pytestmark = pytest.mark.slow

SYMBOL = "BTC/USDT"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(cond: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _post(port: int, token: str, text: str, provider: str) -> tuple[int, dict[str, Any]]:
    body = json.dumps({"text": text, "provider": provider}).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/signals/chat",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_a_providers_exit_closes_the_position_its_entry_opened_on_the_daemon(spawn_daemon, capsys, tmp_path: Path):  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    home.mkdir()
    port = _free_port()
    (home / "config.toml").write_text(
        f'[signals.chat]\nwebhook_port = {port}\nauto_execute = ["alpha"]\nmin_trades = 0\n', encoding="utf-8"
    )
    d = spawn_daemon(home)
    h = ("--home", str(home))

    def doc(*argv: str) -> Any:
        code, out, err = cli(capsys, *argv, "--json", *h)
        assert code == 0, err
        return json.loads(out)

    def position() -> Decimal:
        held = [p for p in doc("positions") if p["symbol"] == SYMBOL]
        return sum((Decimal(p["quantity"]) for p in held), Decimal(0))

    token_file = home / "run" / "signals_webhook.token"
    token = _wait(lambda: token_file.exists() and token_file.read_text().strip(), "the webhook token")
    mid = _wait(lambda: (q := doc("quote", SYMBOL)) and q.get("bid") and q.get("ask") and q, "a BTC quote")
    price = (Decimal(str(mid["bid"])) + Decimal(str(mid["ask"]))) / 2
    entry_text = f"Long BTC/USDT now 🚀 SL {price * Decimal('0.97'):.0f} 🎯 {price * Decimal('1.05'):.0f}"
    _wait(lambda: _listening(port), "the webhook's port")
    status, entry = _post(port, token, entry_text, "alpha")
    assert status == 200 and entry["status"] == "executed", entry
    assert entry["signal"]["kind"] == "entry"
    opened = _wait(position, "the entry's fill")
    assert opened > 0

    status, other = _post(port, token, "Closing my BTC long here, +12% 💰", "beta")
    assert status == 200 and other["status"] == "ignored", other
    status, chatter = _post(port, token, "gold closed the week at the highs", "alpha")
    assert status == 422 and "not a trade signal" in str(chatter), chatter  # nothing acts
    assert position() == opened

    status, done = _post(port, token, "Closing my BTC long here, +12% 💰", "alpha")
    assert status == 200 and done["signal"]["kind"] == "exit" and done["status"] == "done", done
    _wait(lambda: position() == 0, "the exit's fill")

    orders = [o for o in doc("orders", "--all") if o.get("tag") == entry["id"]]
    assert orders and all(o["source"] == "signal:alpha" for o in orders)
    assert all(o["status"] != "rejected" for o in orders), orders  # every one passed the risk checks
    market = [o for o in orders if o["type"] == "market"]
    assert [(o["side"], o["status"], o["reduce_only"]) for o in market] == [
        ("buy", "filled", False),
        ("sell", "filled", True),
    ]
    assert not [o for o in doc("orders") if o.get("tag") == entry["id"]]  # its stop and target went too
    sold = [f for f in doc("fills") if f["side"] == "sell" and f["symbol"] == SYMBOL]
    assert sum(Decimal(f["quantity"]) for f in sold) == opened
    assert d.stop() == 0

    with sqlite3.connect(home / "tui_trader.db") as db:
        rows = db.execute("SELECT actor, action, detail FROM audit ORDER BY id").fetchall()
    alpha = [(action, json.loads(detail)) for actor, action, detail in rows if actor == "signal:alpha"]
    messages = [d for action, d in alpha if action == "chat_message"]
    assert [m["kind"] for m in messages] == ["entry", "exit"]
    assert "Long BTC/USDT now" in messages[0]["text"] and "Closing my BTC long" in messages[1]["text"]
    placed = {d["client_order_id"] for action, d in alpha if action == "place"}
    assert {o["client_order_id"] for o in market} <= placed
    exits = [d for action, d in alpha if action == "chat_exit"]
    assert len(exits) == 1 and exits[0]["id"] == done["id"] and "closing all" in str(exits[0]["notes"])
    assert not [a for a in rows if a[0] == "signal:beta" and a[1] in ("place", "cancel")]
