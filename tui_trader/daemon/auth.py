"""Who may talk to the daemon: the same user on the Unix socket, a token holder over TCP.

The token comes from TUI_TRADER_TOKEN or a 0600 file the daemon generates under HOME/run;
it never appears in argv or logs.
"""

from __future__ import annotations

import hmac
import os
import secrets
import socket
import stat
import struct
from pathlib import Path

from tui_trader.core.errors import ConfigError

ENV_TOKEN = "TUI_TRADER_TOKEN"
TOKEN_FILE = "daemon.token"


def token_path(run_dir: Path) -> Path:
    return run_dir / TOKEN_FILE


def read_token(run_dir: Path) -> str | None:
    """The client's token: TUI_TRADER_TOKEN, else the daemon's token file (if readable and private)."""
    if os.environ.get(ENV_TOKEN):
        return os.environ[ENV_TOKEN]
    path = token_path(run_dir)
    if not path.exists():
        return None
    _check_private_file(path)
    return path.read_text(encoding="utf-8").strip() or None


def ensure_token(run_dir: Path) -> str:
    """The daemon's token: TUI_TRADER_TOKEN, else the token file, created (0600) on first use."""
    existing = read_token(run_dir)
    if existing:
        return existing
    path = token_path(run_dir)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    return token


def _check_private_file(path: Path) -> None:
    st = path.stat()
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid != os.getuid() or mode & 0o077:
        raise ConfigError(f"{path} must be yours and private (mode {mode:o}); run `chmod 600 {path}` or delete it")


def token_matches(expected: str, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())


def peer_uid(sock: socket.socket | None) -> int | None:
    """The uid of the process at the other end of a Unix socket (None where the OS cannot say)."""
    if sock is None:
        return None
    if hasattr(socket, "SO_PEERCRED"):  # Linux
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", raw)
        return int(uid)
    getpeereid = getattr(os, "getpeereid", None)  # BSD / macOS (Python 3.13+ exposes it on some builds)
    if getpeereid is not None:
        return int(getpeereid(sock.fileno())[0])
    return None
