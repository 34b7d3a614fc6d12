"""The engine never imports textual (DESIGN.md: arrows point down only)."""

import subprocess
import sys


def test_engine_import_leaves_textual_out() -> None:
    code = "import sys, tui_trader.engine, tui_trader.client, tui_trader.cli.main; print('textual' in sys.modules, 'ccxt' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_core_has_no_io_dependencies() -> None:
    code = "import sys, tui_trader.core; print(sorted(m for m in ('asyncio', 'aiosqlite', 'pandas', 'textual') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
