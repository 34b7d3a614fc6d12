"""The daemon's run dir must be private (the Unix socket's safety rests on it). The lock that
makes one engine per home folder is `tui_trader.home.HomeLock`."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tui_trader.core.errors import ConfigError


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
