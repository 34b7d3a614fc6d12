"""Helpers for tests/daemon (a unique module name, so test files import them without clashing
with other folders' modules)."""

from __future__ import annotations

import os

from tui_trader.cli.main import main
from tui_trader.core.kept_code import ENV_CACHE_DIR


def cli(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    """`tui-trader ARGV` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def daemon_env(**extra: str) -> dict[str, str]:
    """The environment of a process the tests start (a daemon, the workstation): none of our
    variables but the suite's cache folder (tests/conftest.py: TUI_TRADER_CACHE_DIR, in the
    session's tmp dir), so its exchange calendars, stylesheet and kept code are not written to
    the user's ~/.cache/tui-trader (kept_code.cache_root), then `extra`."""
    cache = os.environ.get(ENV_CACHE_DIR)
    assert cache, f"{ENV_CACHE_DIR} is not set: a process started now would write the user's cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUI_TRADER_")}
    env[ENV_CACHE_DIR] = cache
    env.update(extra)
    return env
