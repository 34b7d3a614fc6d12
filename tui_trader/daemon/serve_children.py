"""`tui-trader serve web / ssh` started with the daemon when `[serve.web]` / `[serve.ssh]` say
`enabled = true`: separate processes (the engine never serves a browser or an SSH client itself)
that attach back over the daemon's socket, stopped with the daemon. Their errors go to
HOME/logs/serve-web.err and serve-ssh.err; one that exits is reported, not restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui_trader.config import Settings
    from tui_trader.home import Home

log = logging.getLogger(__name__)
STOP_S = 10.0


class ServeChildren:
    def __init__(self, home: Home, settings: Settings, config_file: Path, notify: Callable[[str, str], None]) -> None:
        self.home = home
        self.settings = settings
        self.config_file = config_file
        self.notify = notify
        self.procs: dict[str, asyncio.subprocess.Process] = {}
        self._watchers: list[asyncio.Task[None]] = []
        self.stopping = False

    def wanted(self) -> list[str]:
        serve = self.settings.serve
        return [kind for kind, on in (("web", serve.web.enabled), ("ssh", serve.ssh.enabled)) if on]

    async def start(self) -> None:
        for kind in self.wanted():
            argv = [sys.executable, "-m", "tui_trader", "--home", str(self.home.root)]
            if self.config_file.exists():
                argv += ["--config", str(self.config_file)]
            err = self.home.logs_dir / f"serve-{kind}.err"
            fd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                proc = await asyncio.create_subprocess_exec(
                    *argv,
                    "serve",
                    kind,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=fd,
                    start_new_session=True,
                )
            finally:
                os.close(fd)
            self.procs[kind] = proc
            self._watchers.append(asyncio.create_task(self._watch(kind, proc, err), name=f"serve-{kind}"))
            log.info("started tui-trader serve %s (pid %d)", kind, proc.pid)

    async def _watch(self, kind: str, proc: asyncio.subprocess.Process, err: Path) -> None:
        code = await proc.wait()
        if self.stopping:
            return
        last = ""
        with contextlib.suppress(OSError):
            lines = err.read_text(errors="replace").strip().splitlines()
            last = lines[-1] if lines else ""
        message = f"tui-trader serve {kind} exited ({code}): {last or f'see {err}'}"
        log.error(message)
        self.notify("error", message)

    async def stop(self) -> None:
        self.stopping = True
        for proc in self.procs.values():
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)  # the serve process and the workstations it runs
        for kind, proc in self.procs.items():
            try:
                await asyncio.wait_for(proc.wait(), STOP_S)
            except TimeoutError:
                log.warning("tui-trader serve %s did not stop in %g s: killed", kind, STOP_S)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        for task in self._watchers:
            task.cancel()
        self.procs.clear()
