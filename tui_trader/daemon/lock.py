"""One daemon per home folder: an fcntl lock on HOME/run/daemon.lock, and a private run dir."""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from pathlib import Path

from tui_trader.core.errors import ConfigError, UserError


class AlreadyRunning(UserError):
    """Another daemon holds the lock for this home folder."""


def check_private_dir(path: Path) -> None:
    """Refuse a run dir another user owns or others can enter: the socket's safety rests on it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    if st.st_uid != os.getuid():
        raise ConfigError(
            f"{path} is owned by uid {st.st_uid}, not you (uid {os.getuid()}); remove it or pick another --home"
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path} is accessible by other users (mode {mode:o}); run `chmod 700 {path}`")


class DaemonLock:
    """Held for the daemon's lifetime; the kernel releases it if the process dies (even kill -9)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> DaemonLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            who = f" (pid {pid})" if pid else ""
            raise AlreadyRunning(
                f"a daemon is already running for {self.path.parent.parent}{who}; stop it first or use another --home"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> DaemonLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        os.lseek(fd, 0, os.SEEK_SET)
        return int(os.read(fd, 32).decode().strip() or 0) or None
    return None


def running_pid(lock_path: Path) -> int | None:
    """The pid of the daemon holding the lock, or None when no daemon runs."""
    if not lock_path.exists():
        return None
    fd = os.open(lock_path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
