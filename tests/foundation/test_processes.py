"""Process pools whose workers end with the process that made them (tui_trader/processes.py):
the owner killed with SIGKILL leaves no worker, fork server or resource tracker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

OWNER = textwrap.dedent(
    """
    import os, sys, time
    from tui_trader.processes import process_pool
    if __name__ == "__main__":
        pool = process_pool(1, start_method=sys.argv[1])
        print(pool.submit(os.getpid).result(), flush=True)
        time.sleep(120)
    """
)


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_a_pools_workers_leave_when_its_owner_is_killed(tmp_path, method: str) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "owner.py"
    script.write_text(OWNER)
    owner = subprocess.Popen([sys.executable, str(script), method], stdout=subprocess.PIPE, text=True,
                             start_new_session=True)  # fmt: skip
    try:
        assert owner.stdout is not None
        worker = int(owner.stdout.readline())
        left = [p.pid for p in psutil.Process(owner.pid).children(recursive=True)]
        assert worker in left and not gone(worker)
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(10)
        for _ in range(300):  # a hang guard, not a speed assertion
            if all(gone(pid) for pid in left):
                break
            time.sleep(0.05)
        assert [pid for pid in left if not gone(pid)] == []  # the worker, the fork server, the tracker
    finally:
        if owner.poll() is None:
            owner.kill()
