"""The environment of a process a test starts (a daemon, the workstation, a command): none of
our variables but the suite's cache folder (tests/conftest.py sets TUI_TRADER_CACHE_DIR in the
session's tmp dir) and its switch for candle files' kept columns (TUI_TRADER_KEEP_COLUMNS), so
its exchange calendars, stylesheet and kept code are not written to the user's
~/.cache/tui-trader (kept_code.cache_root). Importable from every test folder (pytest
puts the folder of tests/conftest.py on the path)."""

from __future__ import annotations

import os

from tui_trader.core.kept_code import ENV_CACHE_DIR
from tui_trader.data.kept_columns import ENV_SWITCH as KEEP_COLUMNS


def child_env(*, drop: tuple[str, ...] = (), **extra: str) -> dict[str, str]:
    """This process's environment less our variables (and `drop`), with the suite's cache
    folder and kept-columns switch, then `extra`."""
    cache = os.environ.get(ENV_CACHE_DIR)
    assert cache, f"{ENV_CACHE_DIR} is not set: a process started now would write the user's cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUI_TRADER_") and k not in drop}
    env[ENV_CACHE_DIR] = cache
    if KEEP_COLUMNS in os.environ:
        env[KEEP_COLUMNS] = os.environ[KEEP_COLUMNS]
    env.update(extra)
    return env
