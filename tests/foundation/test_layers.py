"""The engine never imports textual (DESIGN.md: arrows point down only)."""

import subprocess
import sys


def test_engine_import_leaves_textual_out() -> None:
    code = (
        "import sys, tui_trader.engine, tui_trader.client, tui_trader.cli.main; "
        "print('textual' in sys.modules, 'ccxt' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_core_has_no_io_dependencies() -> None:
    code = (
        "import sys, tui_trader.core; print(sorted(m for m in ('asyncio', 'aiosqlite', "
        "'pandas', 'textual') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_import_contracts_hold() -> None:
    """The import-linter contracts in pyproject.toml (textual only under ui/, core depends on nothing)."""
    from pathlib import Path

    lint = Path(sys.executable).with_name("lint-imports")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([str(lint)], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]
