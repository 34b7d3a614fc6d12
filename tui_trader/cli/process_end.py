"""The workstation's process ends when the workstation has closed, even with its terminal gone.

A terminal that goes away while the workstation is quitting (an SSH session dropped, a tmux
server killed, right after ctrl+q) leaves threads behind that no one stops: Textual's input
thread reads the gone terminal in a loop (a core busy) and Python's exit waits for it for ever
(found by tests/ui/test_ui_tmux.py, whose teardown had to kill it). By the time the app returns,
the engine has been closed (orders, journal, database written) and, after the command, the
home folder's lock is let go; if the terminal the workstation started on is gone by then, the
threads left get a moment to finish, and a process still held by them ends at once, saying
which they were. On a terminal still there (or none at all: tests, pipes), nothing changes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

GRACE_S = 2.0

log = logging.getLogger(__name__)


def on_a_terminal() -> bool:
    """Whether stdin and stdout are a terminal now."""
    try:
        return os.isatty(0) and os.isatty(1)
    except OSError:
        return False


def terminal_gone() -> bool:
    """The terminal's file descriptors fail (a hang-up leaves them failing with EIO)."""
    from tui_trader.ui.watchdog import TerminalWatchdog

    return TerminalWatchdog(parent_pid=1).problem() is not None


def end_process_if_held(code: int, *, started_on_terminal: bool, grace_s: float = GRACE_S) -> int:
    """`code`, unless the workstation started on a terminal that is gone now and other
    non-daemon threads still run `grace_s` after this call: then the process exits with
    `code` right here (os._exit: Python's exit would wait for them for ever)."""
    if not started_on_terminal or not terminal_gone():
        return code
    deadline = time.monotonic() + grace_s
    left = []
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            left.append(thread.name)
    if not left:
        return code
    log.warning("the terminal is gone and %s still ran after the workstation closed: the process ends here",
                ", ".join(left))  # fmt: skip
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the terminal is gone
            pass
    os._exit(code)
