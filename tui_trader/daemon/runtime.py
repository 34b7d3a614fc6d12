"""The daemon process: lock, logs, engine, control API, notifications, metrics, signals.

SIGTERM/SIGINT stop it cleanly (exit 0, store flushed); SIGHUP re-reads the config, applies
what is safe to change in flight (risk limits, notifications) and says what needs a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core import collector
from tui_trader.core.errors import ConfigError, UserError
from tui_trader.daemon import auth
from tui_trader.daemon.lock import check_private_dir
from tui_trader.daemon.serve_children import ServeChildren
from tui_trader.home import HomeLock

if TYPE_CHECKING:
    from tui_trader.config import Settings
    from tui_trader.daemon.metrics import MetricsServer
    from tui_trader.daemon.notify.dispatcher import Notifier
    from tui_trader.daemon.server import ControlServer
    from tui_trader.engine import Engine
    from tui_trader.home import Home

log = logging.getLogger(__name__)
INFO_FILE = "daemon.json"  # pid, socket and ports of the running daemon (no secrets)
RESTART_SECTIONS = ("engine", "paper", "venues", "daemon")


def run_daemon(home: Home, settings: Settings, config_file: Path, *, live: bool = False) -> int:
    """Everything `tui-trader daemon` does; returns the exit status."""
    from tui_trader.logs import setup_logging

    check_private_dir(home.run_dir)  # before ensure(), which would quietly chmod it
    home.ensure()
    with HomeLock(home.lock_path, "daemon"):
        setup_logging(home.logs_dir, "daemon", level=getattr(logging, settings.daemon.log_level.upper()))
        daemon = Daemon(home, settings, config_file, live=live)
        return asyncio.run(daemon.serve())


def _one_line(exc: BaseException) -> str:
    """A start failure in one line: a venue's own message, else the exception's type and text."""
    text = " ".join(str(exc).split())
    return text if text and type(exc).__name__ == "VenueError" else f"{type(exc).__name__}: {text}"


class Daemon:
    def __init__(
        self, home: Home, settings: Settings, config_file: Path, *, live: bool = False, engine: Engine | None = None
    ) -> None:
        self.home = home
        self.settings = settings
        self.config_file = config_file
        self.live = live
        self._engine = engine
        self.engine: Engine | None = None
        self.server: ControlServer | None = None
        self.notifier: Notifier | None = None
        self.metrics: MetricsServer | None = None
        self.serve_children: ServeChildren | None = None
        self.stopping = asyncio.Event()
        self._settling: asyncio.Task[None] | None = None  # the collector's settles (core/collector.py)

    async def serve(self) -> int:
        loop = asyncio.get_running_loop()
        # Handlers first: a SIGTERM or Ctrl-C while the engine starts (a slow venue, a busy
        # machine) still stops it cleanly, once it has started, instead of killing it mid-write.
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        try:
            await self.start()
        except BaseException as exc:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            if isinstance(exc, UserError):
                log.error("the daemon could not start: %s", exc)
                raise
            if isinstance(exc, Exception):  # a venue down, markets that will not load: one line, exit 1
                log.exception("the daemon could not start")
                raise UserError(f"the daemon could not start: {_one_line(exc)}") from None
            raise
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        assert self.engine is not None and self.server is not None
        where = [f"socket {self.server.socket_path}"]
        if self.server.tcp_port is not None:
            where.append(f"tcp 127.0.0.1:{self.server.tcp_port}")
        if self.metrics is not None:
            where.append(f"metrics http://127.0.0.1:{self.metrics.port}/metrics")
        print(
            f"tui-trader daemon running ({self.engine.mode}) pid {os.getpid()}, home {self.home.root}, "
            + ", ".join(where),
            file=sys.stderr,
            flush=True,
        )
        try:
            await self.stopping.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            await self.stop()
        print("tui-trader daemon stopped cleanly", file=sys.stderr, flush=True)
        return 0

    async def start(self) -> None:
        from tui_trader.daemon.connection import Budgets
        from tui_trader.daemon.metrics import MetricsServer
        from tui_trader.daemon.notify.dispatcher import Notifier
        from tui_trader.daemon.server import ControlServer
        from tui_trader.engine import Engine

        engine = self._engine or Engine(self.settings, self.home)
        engine.live_armed = self.live
        engine.config_file = self.config_file
        engine.reloader = self.reload  # `config.reload` from an attached TUI does what SIGHUP does
        self.engine = engine
        await engine.start()
        try:
            cfg = self.settings.daemon
            needs_token = cfg.tcp_port is not None or cfg.metrics_port is not None
            token = auth.ensure_token(self.home.run_dir) if needs_token else None
            self.server = ControlServer(
                engine,
                self.home.socket_path,
                token=token,
                tcp_port=cfg.tcp_port,
                max_clients=cfg.max_clients,
                max_local_clients=cfg.max_local_clients,
                budgets=Budgets(
                    idle_s=cfg.idle_timeout_s,
                    read_s=cfg.read_timeout_s,
                    auth_s=cfg.auth_timeout_s,
                    max_outbound=int(cfg.max_outbound_mb * 1024 * 1024),
                ),
                on_reload=self.reload,
            )
            await self.server.start()
            self.notifier = Notifier.from_settings(engine.bus, self.settings.notifications, self.home)
            self.notifier.start()
            if cfg.metrics_port is not None:
                assert token is not None
                self.metrics = MetricsServer(engine, token=token, port=cfg.metrics_port)
                await self.metrics.start()
            self._write_info()
            self.serve_children = ServeChildren(self.home, self.settings, self.config_file, engine.notify)
            await self.serve_children.start()  # [serve.web] / [serve.ssh] enabled = true
            await engine.audit("daemon", "start", {"pid": os.getpid(), "live": self.live})
            collector.settle()  # started: what lives on is frozen out of the collector's passes
            self._settling = asyncio.create_task(collector.settle_on_schedule(), name="collector-settle")
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop accepting, tell attached clients, flush notifications, then stop the engine."""
        if self._settling is not None:
            self._settling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._settling
            self._settling = None
            collector.release()
        if self.serve_children is not None:
            await self.serve_children.stop()
        if self.server is not None:
            await self.server.stop()
        if self.notifier is not None:
            await self.notifier.stop()
        if self.metrics is not None:
            await self.metrics.stop()
        if self.engine is not None:
            await self.engine.audit("daemon", "stop", {"pid": os.getpid()})
            await self.engine.stop()
        with contextlib.suppress(FileNotFoundError):
            (self.home.run_dir / INFO_FILE).unlink()
        for handler in logging.getLogger().handlers:
            handler.flush()

    def _write_info(self) -> None:
        assert self.server is not None
        info = {
            "pid": os.getpid(),
            "socket": str(self.server.socket_path),
            "tcp_port": self.server.tcp_port,
            "metrics_port": self.metrics.port if self.metrics else None,
        }
        path = self.home.run_dir / INFO_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(info, fh)

    async def reload(self) -> dict[str, Any]:
        """SIGHUP: re-read the config; apply risk limits and notifications now, list the rest."""
        from tui_trader.config import load_settings
        from tui_trader.engine.commands import available, dispatch

        engine = self.engine
        assert engine is not None
        try:
            new = load_settings(self.config_file)
        except ConfigError as exc:
            log.error("reload refused: %s", exc)
            await engine.audit("daemon", "config_reload_refused", {"error": str(exc)})
            engine.notify("error", f"config reload refused, keeping the running config: {exc}", "daemon")
            return {"reloaded": False, "error": str(exc)}
        old = engine.settings
        applied: list[str] = []
        changed: dict[str, Any] = {}
        if new.risk != old.risk:
            changed = await engine.apply_risk_settings(new.risk, "daemon:reload")
            applied.append("risk")
        if new.notifications != old.notifications:
            if self.notifier is not None:
                await self.notifier.stop()
            from tui_trader.daemon.notify.dispatcher import Notifier

            self.notifier = Notifier.from_settings(engine.bus, new.notifications, self.home)
            self.notifier.start()
            applied.append("notifications")
        restart = [s for s in RESTART_SECTIONS if getattr(new, s) != getattr(old, s)]
        keep = {s: getattr(old, s) for s in RESTART_SECTIONS}
        engine.settings = new.model_copy(update=keep)
        engine.checks.settings = engine.risk.settings = engine.settings.risk  # the very same object
        self.settings = engine.settings
        strategies: Any = "no strategy runner registered"
        if engine.strategies is not None:
            # [strategies.X] tables added start, removed stop, changed restart; edited files reload
            strategies = await engine.strategies.apply_config(new.strategies)
            if any(strategies.values()):
                applied.append("strategies")
        if "reload_strategies" in available():
            try:
                files = await dispatch(engine, "reload_strategies", {}, "daemon")
                strategies = {**strategies, "reloaded": files} if isinstance(strategies, dict) else files
            except Exception as exc:
                log.exception("strategy reload failed")
                strategies = f"failed: {exc}"
        summary = f"config reloaded: applied {', '.join(applied) or 'nothing new'}" + (
            f"; restart the daemon to apply {', '.join(restart)}" if restart else ""
        )
        log.info(summary)
        engine.notify("warning" if restart else "info", summary, "daemon")
        return {
            "reloaded": True,
            "applied": applied,
            "changed": changed,
            "needs_restart": restart,
            "strategies": strategies,
        }
