"""Helpers for tests/daemon (a unique module name, so test files import them without clashing
with other folders' modules)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tui_trader.cli.main import main

from process_env import child_env


def cli(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    """`tui-trader ARGV` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def cli_beside(capsys, home: Path, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    """`tui-trader ARGV --home HOME` in a thread of this process, beside a control server on
    this loop: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, [*argv, "--home", str(home)])
    out, err = capsys.readouterr()
    return code, out, err


def daemon_env(**extra: str) -> dict[str, str]:
    """The environment of a daemon or workstation the tests start (process_env.child_env)."""
    return child_env(**extra)
