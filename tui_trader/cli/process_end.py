"""The workstation's process ends when the workstation has closed, whatever its terminal did.

A terminal that goes away while the workstation is quitting (an SSH session dropped, a tmux
server killed, right after ctrl+q) leaves threads behind that no one stops: Textual's input
and output threads wait on a terminal that is gone, and Python's exit waits for every such
thread for ever, a process with nothing left to do (found by tests/ui/test_ui_tmux.py, whose
teardown had to kill it). By the time the app returns, the engine has been closed (orders,
journal, database written) and the home folder's lock is let go; the threads left then get a
moment to finish, and a process still held by them ends at once, saying which they were.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

GRACE_S = 2.0

log = logging.getLogger(__name__)


def end_process_if_held(code: int, grace_s: float = GRACE_S) -> int:
    """`code`, once every other non-daemon thread has ended; if some are still running after
    `grace_s`, the process exits with `code` right here (os._exit: Python's exit would wait
    for them for ever)."""
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
    log.warning("the workstation has closed but %s still ran: the process ends here", ", ".join(left))
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the terminal is gone
            pass
    os._exit(code)
