"""The backtest command's dataclasses take their methods' code from the cache folder
(`core.dataclass_code`): the same methods as compiling them, to the code object; a later
process reads what an earlier one compiled; a damaged, foreign or unwritable file changes
nothing but the time."""

from __future__ import annotations

import dataclasses
import marshal
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tui_trader.core import dataclass_code
from tui_trader.core.dataclass_code import DataclassCode

SOURCE = '''
from __future__ import annotations
import dataclasses
from dataclasses import dataclass, field

@dataclass(frozen=True, slots=True)
class Frozen:
    a: int
    b: str = "x"
    c: tuple[int, ...] = field(default_factory=tuple)

@dataclass(order=True)
class Plain:
    x: float
    y: float = 0.0
    z: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
'''
METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__lt__", "__ge__")


def make(kept: DataclassCode | None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The classes of SOURCE, made with `kept`'s exec (None: the builtin)."""
    module = types.ModuleType("made")
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "made", module)  # string annotations are looked up there
        if kept is not None:
            m.setattr(dataclasses, "exec", kept.exec, raising=False)
        exec(compile(SOURCE, "made.py", "exec"), module.__dict__)
    return module.__dict__


def same_methods(a: type, b: type) -> None:
    for name in METHODS:
        fa, fb = a.__dict__.get(name), b.__dict__.get(name)
        assert (fa is None) == (fb is None), name
        if fa is not None and hasattr(fa, "__code__"):
            assert fa.__code__ == fb.__code__, name
            assert fa.__annotations__ == fb.__annotations__, name
            assert fa.__defaults__ == fb.__defaults__ and fa.__kwdefaults__ == fb.__kwdefaults__, name


def test_kept_code_makes_the_same_classes_and_a_later_run_reads_it(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    plain = make(None, monkeypatch)
    first = DataclassCode(tmp_path / "code.marshal")
    assert first.load() == 0
    made = make(first, monkeypatch)
    compiled = first.compiled
    assert compiled >= 6 and first.save()
    second = DataclassCode(tmp_path / "code.marshal")
    assert second.load() == compiled
    again = make(second, monkeypatch)
    assert second.compiled == 0 and len(second.used) == compiled  # every method from the file
    assert not second.save()  # nothing new: the file is left as it is
    for ns in (made, again):
        for name in ("Frozen", "Plain"):
            same_methods(ns[name], plain[name])
        f = ns["Frozen"](1)
        assert f == ns["Frozen"](1, "x", ()) and hash(f) == hash(ns["Frozen"](1))
        assert repr(f) == "Frozen(a=1, b='x', c=())"
        with pytest.raises(dataclasses.FrozenInstanceError):
            f.a = 2  # type: ignore[misc]
        assert ns["Plain"](1.0) < ns["Plain"](2.0) and repr(ns["Plain"](1.0, z={"a": 1})) == "Plain(x=1.0, y=0.0)"


@pytest.mark.parametrize("content", [b"not marshal", marshal.dumps({"key": "another python", "codes": {}}), b""])
def test_a_damaged_or_foreign_file_is_compiled_over(tmp_path: Path, content: bytes,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    path = tmp_path / "code.marshal"
    path.write_bytes(content)
    kept = DataclassCode(path)
    assert kept.load() == 0
    ns = make(kept, monkeypatch)
    compiled = kept.compiled
    assert compiled >= 6 and ns["Frozen"](3).a == 3
    assert kept.save() and DataclassCode(path).load() == compiled


def test_an_unwritable_cache_folder_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    kept = DataclassCode(blocker / "code.marshal")  # its folder is a file
    ns = make(kept, monkeypatch)
    assert ns["Plain"](2.0).x == 2.0 and not kept.save()


def test_past_the_limit_the_file_keeps_only_this_runs_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = DataclassCode(tmp_path / "code.marshal")
    kept.codes = {f"# stale {i}": compile("", "<string>", "exec") for i in range(3)}
    monkeypatch.setattr(dataclass_code, "LIMIT", 2)
    make(kept, monkeypatch)
    assert kept.save()
    again = DataclassCode(tmp_path / "code.marshal")
    assert again.load() == len(kept.used) and not any(s.startswith("# stale") for s in again.codes)


def test_the_backtest_command_keeps_its_dataclasses_and_patterns_code(tmp_path: Path) -> None:
    """A `tui-trader backtest --json` process installs both before its modules are imported
    and writes its own two files in the platform's cache folder (on Linux without importing
    platformdirs); the next one compiles none of them."""
    import numpy as np
    import pandas as pd

    close = 100 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.003, 3000)))
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=3000, freq="1min", tz="UTC"), "open": close,
                  "high": close * 1.001, "low": close * 0.999, "close": close, "volume": 1.0},
                 ).to_parquet(tmp_path / "BTC_USDT-1m.parquet")  # fmt: skip
    script = (
        "import sys, atexit\n"
        "from tui_trader.cli.main import main\n"
        "from tui_trader.core import dataclass_code, regex_code\n"
        "code = main(['--home', sys.argv[1], 'backtest', '--strategy', 'ema_cross', '--data', sys.argv[2],\n"
        "             '--timeframe', '1m', '--json'])\n"
        "kept, patterns = dataclass_code.installed(), regex_code.installed()\n"
        "# atexit runs this before the saves (last in, first out)\n"
        "atexit.register(lambda: print(kept.read, kept.compiled, patterns.read, patterns.compiled,\n"
        "                              'platformdirs' in sys.modules, file=sys.stderr))\n"
    )
    # Both read the candle file afresh, as the suite's conftest has it: columns are kept only from
    # a file 2 s old (data/kept_columns.py), so the first run kept none when it was quick and the
    # second, kept them, compiling its folder's glob. Read afresh, a pattern tokenize builds from
    # a set is compiled: the same in both only with the same hash seed.
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin", "TUI_TRADER_KEEP_COLUMNS": "0",
           "PYTHONHASHSEED": "0"}  # fmt: skip
    argv = [sys.executable, "-c", script, str(tmp_path / "home"), str(tmp_path / "BTC_USDT-1m.parquet")]
    runs = [subprocess.run(argv, env=env, capture_output=True, text=True, check=True, timeout=60) for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout and '"trades"' in runs[0].stdout
    (read1, compiled1, rx_read1, rx_compiled1, _), (read2, compiled2, rx_read2, rx_compiled2, platformdirs) = (
        run.stderr.split()[-5:] for run in runs
    )
    assert int(read1) == 0 and int(compiled1) > 0 and int(rx_read1) == 0 and int(rx_compiled1) > 0
    assert int(read2) >= int(compiled1) and int(compiled2) == 0
    assert int(rx_read2) >= int(rx_compiled1) and int(rx_compiled2) == 0
    files = sorted(p.name.rsplit("-", 1)[0] for p in (tmp_path / "cache" / "tui-trader").glob("*.marshal"))
    assert files == ["dataclass-code-backtest", "regex-code-backtest"]  # its own files
    assert platformdirs == str(not sys.platform.startswith("linux"))


@pytest.mark.parametrize("xdg", [None, "", "  ", "/somewhere/cache"])
def test_the_cache_folder_is_the_platforms(xdg: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder platformdirs gives the other caches, found without importing it on Linux."""
    import platformdirs

    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert dataclass_code.user_cache_dir() == platformdirs.user_cache_dir("tui-trader")
    monkeypatch.delenv("TUI_TRADER_CACHE_DIR", raising=False)
    assert dataclass_code.cache_file().parent == Path(platformdirs.user_cache_dir("tui-trader"))
