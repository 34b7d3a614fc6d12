"""The real terminal: `tui-trader` in tmux, keys sent the way a fast typist sends them.

Typing `:buy 0.01 BTC/USDT mkt`, Enter and at once `y` sends nothing: the confirmation shows,
stays, and only ctrl+y (after it has been visible) sends the order. The orders table of the
home's database (orders are written there before they are sent) proves what was sent.
Skipped when tmux is not installed (.ci/run installs it where it can)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"),
]


class Tmux:
    """One detached tmux server of our own (-L), so nothing else's sessions are touched."""

    pid = 0  # the workstation's process (the pane's)

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20)
        if out.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {out.stderr.strip()}")
        return out.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "tui")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "tui", *keys)

    def wait_for(self, what: Callable[[str], bool], timeout: float = 30.0, why: str = "") -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if what(text):
                return text
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {why}; the screen was:\n{text}")


@pytest.fixture
def tui(tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    home = tmp_path / "home"
    exe = Path(sys.executable).with_name("tui-trader")
    tmux = Tmux(f"tui-test-{uuid.uuid4().hex[:8]}")
    env = f"-u COLUMNS -u LINES TUI_TRADER_HOME={home} TERM=xterm-256color"
    tmux.run("new-session", "-d", "-s", "tui", "-x", "120", "-y", "40", f"exec env {env} {exe}")
    pid = tmux.pid = int(tmux.run("display-message", "-p", "-t", "tui", "#{pane_pid}").strip())
    try:
        yield tmux, home
    finally:
        subprocess.run(["tmux", "-L", tmux.socket, "kill-server"], capture_output=True, timeout=20)
        _reap(pid)


def _reap(pid: int, within: float = 15.0) -> bool:
    """The workstation exits on the hang-up; make sure of it (never leave one running).
    True when it ended by itself within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return False


QUOTE = re.compile(r"BTC/USDT\s+([\d,]+\.\d+) /")  # the watchlist's row once prices flow


def orders(home: Path) -> list[tuple[str, str, str]]:
    db = home / "tui_trader.db"
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT symbol, side, status FROM orders").fetchall()


def test_a_y_typed_right_after_enter_sends_nothing(tui: tuple[Tmux, Path]) -> None:
    tmux, home = tui
    tmux.wait_for(lambda s: "PAPER" in s and "connected" in s and QUOTE.search(s) is not None, why="a price")
    sent_at = time.monotonic()
    tmux.keys(":buy 0.01 BTC/USDT mkt", "Enter", "y")  # one burst, as typed
    # the whole dialog, its confirm key too (a capture can catch a frame half written)
    tmux.wait_for(lambda s: "Send BUY 0.01 BTC/USDT" in s and "ctrl+y" in s, timeout=20, why="the confirmation")
    print(f"confirmation visible {1000 * (time.monotonic() - sent_at):.0f} ms after the keys were sent")
    time.sleep(1.5)  # longer than the arming delay: the y must not have counted
    still = tmux.screen()
    assert "Send BUY 0.01 BTC/USDT" in still, still
    assert orders(home) == [], "an order was sent before the dialog was answered"
    tmux.wait_for(lambda s: "Tab to Send" in s, why="the armed confirmation")
    tmux.keys("C-y")
    tmux.wait_for(lambda s: "filled" in s, timeout=20, why="the fill")
    assert orders(home) == [("BTC/USDT", "buy", "filled")]
    tmux.keys("C-q")
    tmux.wait_for(lambda s: "PAPER" not in s, timeout=20, why="the workstation to quit")


def test_ctrl_q_asks_with_an_order_working(tui: tuple[Tmux, Path]) -> None:
    tmux, home = tui
    screen = tmux.wait_for(lambda s: "PAPER" in s and "connected" in s and QUOTE.search(s) is not None, why="a price")
    quote = QUOTE.search(screen)
    assert quote, screen
    below = int(float(quote.group(1).replace(",", "")) * 0.98)  # resting, inside the price band
    tmux.keys(f":buy 0.01 BTC/USDT limit {below}", "Enter")
    armed = "Tab to Send"  # the hint once the arming delay is over (ctrl+y before it is ignored)
    tmux.wait_for(lambda s: "Send BUY 0.01 BTC/USDT" in s and armed in s, why="the armed confirmation")
    tmux.keys("C-y")
    tmux.wait_for(lambda s: "accepted" in s, timeout=20, why="the order accepted")
    tmux.keys("C-q")
    asked = tmux.wait_for(lambda s: "Quit?" in s, why="the quit question")
    assert "working" in asked
    tmux.keys("Escape")
    time.sleep(0.5)
    assert "PAPER" in tmux.screen()
    assert [status for *_, status in orders(home)] == ["accepted"]


def test_the_workstation_ends_when_its_terminal_goes_while_it_quits(tui: tuple[Tmux, Path]) -> None:
    """ctrl+q, and the terminal goes at once (an SSH session dropped, the tmux server killed):
    the process ends by itself within seconds, with its order stored and the home folder free.
    Before, Textual's input thread, left waiting on the dead terminal, kept it alive for ever."""
    from tui_trader.home import Home, HomeLock

    tmux, home = tui
    tmux.wait_for(lambda s: "PAPER" in s and "connected" in s and "BTC/USDT" in s, why="the workstation")
    tmux.keys(":buy 0.01 BTC/USDT mkt", "Enter")
    tmux.wait_for(lambda s: "Tab to Send" in s, why="the armed confirmation")
    tmux.keys("C-y")
    tmux.wait_for(lambda s: "filled" in s, timeout=20, why="the fill")
    tmux.keys("C-q")
    tmux.wait_for(lambda s: "PAPER" not in s, timeout=20, why="the workstation to quit")
    subprocess.run(["tmux", "-L", tmux.socket, "kill-server"], capture_output=True, timeout=20)
    assert _reap(tmux.pid, within=10.0), "the workstation was still running 10 s after its terminal went"
    assert orders(home) == [("BTC/USDT", "buy", "filled")]
    assert HomeLock.holder(Home.resolve(home).lock_path) is None
