"""The engine never imports textual (DESIGN.md: arrows point down only)."""

import subprocess
import sys


def test_engine_import_leaves_textual_out() -> None:
    code = (
        "import sys, tui_trader.engine, tui_trader.engine.client, tui_trader.cli.main; "
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


def import_cycles() -> list[list[str]]:
    """Every set of tui_trader modules that import each other, directly or in a ring (typing-only
    imports included: a cycle that only type checkers see still ties the modules together)."""
    import grimp

    graph = grimp.build_graph("tui_trader", include_external_packages=False)
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(root: str) -> None:  # Tarjan's strongly connected components, iteratively
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycles() -> None:
    assert import_cycles() == []
