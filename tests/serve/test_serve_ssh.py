"""The SSH endpoint with the OpenSSH client on a pty, its screen read with pyte."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from serve_helpers import Stack, need, wait_until

pytestmark = pytest.mark.slow
COLS, ROWS = 120, 36


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


class SshScreen:
    def __init__(self, key: Path, port: int, *extra: str) -> None:
        pexpect = pytest.importorskip("pexpect")
        import pyte

        self.pexpect = pexpect
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        args = [
            "-i",
            str(key),
            "-p",
            str(port),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            *extra,
            "-tt",
            "localhost",
        ]
        env = {"TERM": "xterm-256color", "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(key.parent)}
        self.child = pexpect.spawn(
            need("ssh", "the SSH tests use the OpenSSH client"), args, dimensions=(ROWS, COLS), env=env
        )
        self.raw = b""

    def pump(self, seconds: float = 0.2) -> bool:
        """Read what arrived; False once the connection has closed."""
        try:
            data = self.child.read_nonblocking(65536, timeout=seconds)
        except self.pexpect.TIMEOUT:
            return True
        except self.pexpect.EOF:
            return False
        self.raw += data
        self.stream.feed(data)
        return True

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, needle: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text:
                return
            if not self.pump():
                break
        raise AssertionError(f"{needle!r} not on the ssh screen:\n{self.text}\nraw tail: {self.raw[-300:]!r}")

    def send(self, keys: str) -> None:
        self.child.send(keys)
        self.pump(0.3)

    def send_order(self) -> None:
        """`:buy 0.01 BTC/USDT`, then ctrl+y once the confirmation has checked and armed."""
        self.send(":")
        self.wait_for("try: buy 0.5")
        self.send("buy 0.01 BTC/USDT\r")
        self.wait_for("Send BUY 0.01 BTC/USDT")
        self.wait_for("passes the engine's risk checks")
        armed = time.monotonic() + 0.6  # the dialog arms after ui.confirm_arm_ms
        while time.monotonic() < armed:
            self.pump(0.1)
        self.send("\x19")  # ctrl+y

    def close(self) -> int | None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.pump():
            pass
        self.child.close()
        return self.child.exitstatus


def test_ssh_opens_the_workstation_and_the_role_is_the_keys(stack: Stack, tmp_path: Path) -> None:
    need("ssh", "the SSH tests use the OpenSSH client")
    trader, viewer, stranger = (keygen(tmp_path / name) for name in ("trader", "viewer", "stranger"))
    ssh_dir = stack.home / "ssh"
    ssh_dir.mkdir(mode=0o700)
    keys = ssh_dir / "authorized_keys"
    keys.write_text(
        f'user="tom" {Path(str(trader) + ".pub").read_text()}'  # role from [serve.users.tom]: trader
        f'role="viewer",user="vera" {Path(str(viewer) + ".pub").read_text()}'
    )
    keys.chmod(0o600)
    stack.daemon()
    port = stack.ssh()
    host_key = ssh_dir / "host_ed25519_key"
    assert host_key.stat().st_mode & 0o777 == 0o600
    first = host_key.read_bytes()

    refused = SshScreen(stranger, port)
    assert refused.close() == 255 and b"Permission denied" in refused.raw

    no_password = subprocess.run(
        [
            "ssh",
            "-p",
            str(port),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "PreferredAuthentications=password,keyboard-interactive",
            "-o",
            "BatchMode=yes",
            "-o",
            "PubkeyAuthentication=no",
            "localhost",
            "true",
        ],
        capture_output=True,
        timeout=30,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
    )
    assert no_password.returncode == 255 and b"publickey" in no_password.stderr

    tom = SshScreen(trader, port)
    tom.wait_for("PAPER")
    tom.wait_for("BTC/USDT")
    tom.wait_for("paper connected")
    tom.wait_for(" TRADER  tom │")  # the role the daemon gave the session, in the status bar
    before = len(stack.orders())
    tom.send_order()
    wait_until(lambda: len(stack.orders()) > before, 20, "the trader's order at the daemon")
    tom.send("q")
    assert tom.close() == 0

    vera = SshScreen(viewer, port)
    vera.wait_for("paper connected")
    vera.wait_for(" VIEWER  vera │")
    placed = len(stack.orders())
    vera.send_order()
    vera.wait_for("refused by the daemon")
    assert len(stack.orders()) == placed
    vera.child.terminate(force=True)  # the client vanishes: the session still ends

    assert stack.audited("tom/trader@ssh", "command", "place")
    assert stack.audited("vera/viewer@ssh", "refused", "place")
    wait_until(lambda: stack.audited("vera/viewer@ssh", "session_end"), 20, "the viewer's session end")

    stack.stop("ssh")
    stack.ssh()
    assert host_key.read_bytes() == first  # the host key is kept across restarts
