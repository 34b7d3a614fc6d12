"""Files the serve commands keep private: the SSH host key, authorized_keys, a TLS key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tui_trader.core.errors import ConfigError


def check_private(path: Path, what: str, *, writable_only: bool = False) -> None:
    """Refuse a file another user could change (or, unless `writable_only`, read)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    mode = stat.S_IMODE(st.st_mode)
    bad = 0o022 if writable_only else 0o077
    if st.st_uid != os.getuid() or mode & bad:
        fix = "chmod go-w" if writable_only else "chmod 600"
        raise ConfigError(f"{what} {path} must be yours and private (mode {mode:o}); run `{fix} {path}`")


def write_private(path: Path, data: bytes) -> None:
    """Create `path` with mode 0600 (never briefly readable by others)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
