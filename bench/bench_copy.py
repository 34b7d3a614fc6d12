"""Copy trading delay: a leader daemon and a follower daemon on loopback (subprocesses, set up
as docs/social.md says), N leader market orders, and the time from each leader fill to the
follower's fill of its mirrored order (both stamped by the same machine clock).

    .venv/bin/python bench/bench_copy.py [N]
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from tui_trader.cli.main import main as cli
from tui_trader.core.enums import Side
from tui_trader.core.orders import OrderRequest
from tui_trader.daemon.remote_client import RemoteClient
from tui_trader.home import Home

KEYRING = {"TUI_TRADER_KEYRING": "file", "TUI_TRADER_KEYRING_PASSWORD": "bench keyring password"}


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup(root: Path) -> tuple[Path, Path]:
    leader, follower = root / "leader", root / "follower"
    leader.mkdir()
    follower.mkdir()
    port = free_port()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert cli(["serve", "passwd", "bob", "--role", "viewer", "--token", "--home", str(leader)]) == 0
    token = err.getvalue().strip().rsplit(": ", 1)[1]
    (leader / "config.toml").write_text(f"[daemon]\ntcp_port = {port}\n\n{out.getvalue()}")
    (follower / "config.toml").write_text(
        f'[copy.lead]\nleader = "daemon"\nport = {port}\nuser = "bob"\nscale = 0.5\n'
    )
    os.environ.update(KEYRING)
    stdin = sys.stdin
    sys.stdin = io.StringIO(token + "\n")
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            assert cli(["keys", "set", "copy.lead", "--home", str(follower)]) == 0
    finally:
        sys.stdin = stdin
    return leader, follower


def spawn(home: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUI_TRADER_")} | KEYRING
    log = open(home / "daemon.err", "wb")  # noqa: SIM115  (kept open for the process's life)
    proc = subprocess.Popen([sys.executable, "-m", "tui_trader.cli.main", "daemon", "--home", str(home)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, env=env)  # fmt: skip
    deadline = time.monotonic() + 120
    while b"daemon running" not in (home / "daemon.err").read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"daemon in {home} did not start: {(home / 'daemon.err').read_text()}")
        time.sleep(0.1)
    return proc


async def run(leader: Path, follower: Path, n: int) -> None:
    lead = RemoteClient.for_home(Home(leader), mirror=False, client="bench")
    follow = RemoteClient.for_home(Home(follower), mirror=False, client="bench")
    await lead.connect()
    await follow.connect()
    while (await follow.request("copy.status", name="lead"))["state"] != "connected":
        await asyncio.sleep(0.1)
    for i in range(n):
        await lead.place(OrderRequest("BTC/USDT", Side.BUY if i % 2 == 0 else Side.SELL, Decimal("0.1")))
        want = i + 1
        while (await follow.request("copy.status", name="lead"))["mirrored"] < want:
            await asyncio.sleep(0.005)
    await lead.close()
    await follow.close()


def delays(follower: Path) -> tuple[list[float], list[float]]:
    db = sqlite3.connect(follower / "tui_trader.db")
    rows = db.execute(
        "SELECT m.leader_ts, MIN(f.ts), m.price, SUM(f.quantity * f.price) / SUM(f.quantity), m.side "
        "FROM copy_mirrors m JOIN fills f ON f.client_order_id = m.client_order_id GROUP BY m.fill_key"
    ).fetchall()
    out, slips = [], []
    for leader_ts, first, price, avg, side in rows:
        out.append((datetime.fromisoformat(first) - datetime.fromisoformat(leader_ts)).total_seconds())
        sign = 1 if side == "buy" else -1
        slips.append((float(avg) - float(price)) / float(price) * 10_000 * sign)
    return out, slips


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory() as tmp:
        leader, follower = setup(Path(tmp))
        procs = [spawn(leader), spawn(follower)]
        try:
            t = time.perf_counter()
            asyncio.run(run(leader, follower, n))
            wall = time.perf_counter() - t
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(30)
        d, s = delays(follower)
    ms = [x * 1000 for x in d]
    load = os.getloadavg()
    print(f"copy trading, {len(d)} leader fills mirrored (0.1 BTC/USDT at scale 0.5), {wall:.1f} s in all")
    print(f"leader fill -> follower fill: p50 {pct(ms, .5):.1f} ms  p99 {pct(ms, .99):.1f} ms  max {max(ms):.1f} ms")
    print(f"slippage vs the leader's price: median {pct(s, .5):+.2f} bps, worst {max(s):+.2f} bps")
    print(f"load average while measuring: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
