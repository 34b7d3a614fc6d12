"""Notice a dead terminal (a dropped SSH session) so the app exits instead of spinning.

After a hang-up the tty's file descriptors still exist but every terminal call fails with
EIO, and the process is often re-parented. The app checks this every few seconds and also
exits on SIGHUP.
"""

from __future__ import annotations

import os
import termios
from collections.abc import Sequence


class TerminalWatchdog:
    def __init__(self, fds: Sequence[int] = (0, 1), parent_pid: int | None = None) -> None:
        self.fds = tuple(fds)
        self.parent_pid = os.getppid() if parent_pid is None else parent_pid

    def problem(self) -> str | None:
        """Why the terminal is gone, or None while it is alive."""
        for fd in self.fds:
            try:
                os.fstat(fd)
                termios.tcgetattr(fd)
            except (OSError, termios.error, ValueError) as exc:
                return f"terminal lost (fd {fd}: {exc})"
        if self.parent_pid != 1 and os.getppid() != self.parent_pid:
            return "terminal lost (parent process exited)"
        return None
