"""The worker factory: a clean interpreter that imports pandas, NumPy and TA-Lib once, then
forks one worker per strategy on the engine's request.

Started by the engine with a sanitized environment (never forked from it: none of the
engine's memory, keys or sockets), it holds no plugin code itself. A fork costs milliseconds
where a fresh interpreter costs a second, and the workers share the imported libraries'
pages (bench/bench_candle_to_order.py prints the memory). Each worker applies the sandbox
before it imports its strategy.

    python -m tui_trader.strategy.zygote FD      (FD: a SOCK_SEQPACKET socket to the engine)

engine -> zygote  {"op": "spawn"} + a socket (SCM_RIGHTS)  ->  {"op": "spawned", "pid": n}
                  {"op": "kill", "pid": n}                 ->  {"op": "killed", "pid": n, "alive": bool}
zygote -> engine  {"op": "ready"} once, then {"op": "exited", "pid": n, "status": s} as workers end
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import sys
from typing import Any


def _send(ctl: socket.socket, message: dict[str, Any]) -> None:
    ctl.sendall(json.dumps(message).encode())


def _preload() -> None:
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import talib  # noqa: F401

    import tui_trader.indicators
    import tui_trader.strategy.analysis
    import tui_trader.strategy.loader
    import tui_trader.strategy.reload
    import tui_trader.strategy.sandbox
    import tui_trader.strategy.worker  # noqa: F401


def _reap(ctl: socket.socket, children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        children.discard(pid)
        _send(ctl, {"op": "exited", "pid": pid, "status": status})


def main(fd: int) -> int:
    from tui_trader.strategy.sandbox import die_with_parent

    die_with_parent()  # the engine went away: so does the factory (and, in turn, its workers)
    ctl = socket.socket(fileno=fd)
    _preload()
    gc.freeze()  # imported objects stay out of the collector: workers share their pages longer
    children: set[int] = set()
    _send(ctl, {"op": "ready", "pid": os.getpid()})
    while True:
        _reap(ctl, children)
        readable, _, _ = select.select([ctl], [], [], 0.5)
        if not readable:
            continue
        data, fds, _flags, _addr = socket.recv_fds(ctl, 65536, 4)
        if not data:
            break  # the engine closed us
        msg = json.loads(data)
        if msg.get("op") == "spawn" and fds:
            pid = os.fork()
            if pid == 0:
                ctl.close()
                for extra in fds[1:]:
                    os.close(extra)
                die_with_parent()
                from tui_trader.strategy.worker import run

                run(fds[0])
                os._exit(0)
            children.add(pid)
            for f in fds:
                os.close(f)
            _send(ctl, {"op": "spawned", "pid": pid, "id": msg.get("id")})
        elif msg.get("op") == "kill":
            pid = int(msg["pid"])
            alive = pid in children
            if alive:
                os.kill(pid, signal.SIGKILL)
            _send(ctl, {"op": "killed", "pid": pid, "alive": alive, "id": msg.get("id")})
        else:
            for f in fds:
                os.close(f)
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
