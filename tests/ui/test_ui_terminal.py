"""A dropped SSH session (the terminal hangs up) makes `tui-trader` exit instead of spinning."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.slow
def test_exits_when_the_terminal_hangs_up(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("tui-trader")
    master, slave = pty.openpty()
    env = {**os.environ, "TUI_TRADER_HOME": str(tmp_path), "TERM": "xterm-256color"}
    child = subprocess.Popen([str(exe)], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                             start_new_session=True)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30  # generous: CI machines are shared
    while b"PAPER" not in seen and time.monotonic() < deadline and child.poll() is None:
        try:
            seen += os.read(master, 65536)
        except OSError:
            break
    assert b"PAPER" in seen, f"no badge drawn (exit {child.poll()}): {seen[-300:]!r}"
    os.close(master)  # hang up
    try:
        code = child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        pytest.fail("tui-trader kept running on a dead terminal")
    assert code == 129, f"exit status {code}"  # 129: terminal lost
