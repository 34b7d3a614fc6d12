"""Process pools whose workers end with the process that made them.

A ProcessPoolExecutor's workers started by a fork server outlive a parent killed with SIGKILL
(`kill -9` of the daemon or the workstation): each worker holds the write end of its own task
queue and of the fork server's "alive" pipe, so none of them ever reads an end of file, and
the worker, the fork server and the resource tracker stay behind for good. `process_pool`
makes an executor whose workers watch the process that made it and leave (`os._exit`) the
moment it is gone (a pidfd on Linux 5.3+, else a check every second); with the workers gone
the fork server and the resource tracker see their pipes close and leave too.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

POLL_S = 1.0  # without a pidfd: how often a worker looks for its parent


def process_pool(
    max_workers: int,
    *,
    start_method: str | None = None,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """A ProcessPoolExecutor (forkserver where there is one: safe from a threaded caller, the
    TUI) whose workers leave when this process is gone."""
    import multiprocessing as mp

    method = start_method or ("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    return ProcessPoolExecutor(
        max_workers,
        mp_context=mp.get_context(method),
        initializer=_watched,
        initargs=(os.getpid(), initializer, initargs),
    )


def _watched(parent: int, initializer: Callable[..., object] | None, initargs: tuple[Any, ...]) -> None:
    threading.Thread(target=_leave_with, args=(parent,), daemon=True, name="parent-watch").start()
    if initializer is not None:
        initializer(*initargs)


def _leave_with(parent: int) -> None:
    """Return never: `os._exit` once `parent` has ended (its pidfd readable, or it is gone)."""
    try:
        fd = os.pidfd_open(parent)
    except (AttributeError, OSError):  # no pidfd here, or the parent has already gone
        fd = -1
    if fd >= 0:
        select.select([fd], [], [])
        os._exit(0)
    while True:
        try:
            os.kill(parent, 0)
        except (ProcessLookupError, PermissionError):  # gone (or its number is someone else's now)
            os._exit(0)
        time.sleep(POLL_S)
