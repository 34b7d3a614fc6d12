"""The home folder: config, database, data, logs and sockets all live under one place."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from tui_trader.core.errors import UserError

ENV_HOME = "TUI_TRADER_HOME"
LOCK_FILE = "daemon.lock"  # the name from when only the daemon held it


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike[str] | None = None) -> Home:
        """`--home` wins, then TUI_TRADER_HOME, then the platform's user data dir."""
        if explicit:
            root = Path(explicit)
        elif os.environ.get(ENV_HOME):
            root = Path(os.environ[ENV_HOME])
        else:
            from platformdirs import user_data_dir

            root = Path(user_data_dir("tui-trader", appauthor=False))
        return cls(root.expanduser().resolve())

    def ensure(self) -> Home:
        """Create the folder tree (private to the user)."""
        try:
            for path in (self.root, self.data_dir, self.logs_dir, self.run_dir, self.strategies_dir):
                path.mkdir(parents=True, exist_ok=True)
            os.chmod(self.root, 0o700)
            os.chmod(self.run_dir, 0o700)
        except OSError as exc:
            raise UserError(
                f"cannot create home folder {self.root}: {exc.strerror}; pass --home DIR or set {ENV_HOME}"
            ) from None
        return self

    @property
    def config_file(self) -> Path:
        return self.root / "config.toml"

    @property
    def db_file(self) -> Path:
        return self.root / "tui_trader.db"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def run_dir(self) -> Path:
        """Sockets, pid and lock files."""
        return self.root / "run"

    @property
    def strategies_dir(self) -> Path:
        return self.root / "strategies"

    @property
    def themes_dir(self) -> Path:
        return self.root / "themes"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def socket_path(self) -> Path:
        return self.run_dir / "daemon.sock"

    @property
    def lock_path(self) -> Path:
        """The home lock (see HomeLock): held by whichever process runs the engine here."""
        return self.run_dir / LOCK_FILE


class HomeBusy(UserError):
    """Another process runs the engine for this home folder (its database and paper journal)."""

    def __init__(self, message: str, pid: int | None, role: str | None) -> None:
        super().__init__(message)
        self.pid = pid
        self.role = role


class HomeLock:
    """One engine per home folder: an fcntl lock on HOME/run/daemon.lock.

    Every writer of the home's database and paper journal holds it (the daemon, the
    workstation's in-process engine, the store, the journal), so a second process can never
    open a second engine and a second paper exchange on the same files. Within one process it
    is re-entrant (counted); the kernel releases it when the process dies, even by kill -9.
    The file holds "PID ROLE" of the first holder, so a refusal can name it.
    """

    _held: ClassVar[dict[Path, list[int]]] = {}  # lock file -> [fd, holders]
    _lock = threading.Lock()

    def __init__(self, path: Path, role: str) -> None:
        self.path = Path(path).resolve()
        self.role = role
        self._acquired = False

    @classmethod
    def for_file(cls, file: Path, role: str) -> HomeLock:
        """The lock of the home folder `file` lives in (HOME/tui_trader.db, HOME/*.jsonl)."""
        return cls(Path(file).resolve().parent / "run" / LOCK_FILE, role)

    def acquire(self) -> HomeLock:
        with self._lock:
            held = self._held.get(self.path)
            if held is not None:
                held[1] += 1
                self._acquired = True
                return self
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid, role = _holder(fd)
                os.close(fd)
                raise busy(self.path.parent.parent, pid, role) from None
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {self.role}\n".encode())
            self._held[self.path] = [fd, 1]
            self._acquired = True
            return self

    def release(self) -> None:
        with self._lock:
            if not self._acquired:
                return
            self._acquired = False
            held = self._held.get(self.path)
            if held is None:
                return
            held[1] -= 1
            if held[1] > 0:
                return
            del self._held[self.path]
            fd = held[0]
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> HomeLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    @staticmethod
    def holder(path: Path) -> tuple[int | None, str | None] | None:
        """(pid, role) of the process holding the lock at `path`, None when nobody does."""
        if not path.exists():
            return None
        fd = os.open(path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _holder(fd)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)


def busy(root: Path, pid: int | None, role: str | None) -> HomeBusy:
    who = f" (pid {pid})" if pid else ""
    if role == "daemon":
        message = (
            f"a daemon is already running for {root}{who}; `tui-trader attach` uses it, "
            "or stop it first or use another --home"
        )
    else:
        label = {"workstation": "the tui-trader workstation"}.get(role or "", "another tui-trader engine")
        message = f"{label}{who} is already running the engine for {root}; quit it first or use another --home"
    return HomeBusy(message, pid, role)


def _holder(fd: int) -> tuple[int | None, str | None]:
    with contextlib.suppress(OSError, ValueError):
        os.lseek(fd, 0, os.SEEK_SET)
        words = os.read(fd, 64).decode().split()
        return (int(words[0]) if words else None), (words[1] if len(words) > 1 else None)
    return None, None
