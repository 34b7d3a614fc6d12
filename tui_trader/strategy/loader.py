"""Find strategies in plugins/, HOME/strategies and installed packages; load them by name.

A file that fails to import is reported (file, line, message) and skipped; the rest load.
Python files are compiled from source on every load (no stale bytecode on hot reload).
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_trader.core.errors import UserError
from tui_trader.strategy.errors import StrategyError, UnknownStrategy, from_exception
from tui_trader.strategy.interface import IStrategy
from tui_trader.strategy.parameters import detect_parameters
from tui_trader.strategy.timeframes import timeframe_to_seconds

ENTRY_POINT_GROUP = "tui_trader.strategies"
SUFFIXES = (".py", ".toml")


def bundled_dir() -> Path:
    """The repo's plugins/ folder (bundled strategies)."""
    import tui_trader

    return Path(tui_trader.__file__).resolve().parents[1] / "plugins"


@dataclass
class StrategyInfo:
    """One strategy as `strategies list` and the TUI show it; `error` set means disabled."""

    name: str
    source: str  # "plugins", "dir", "package"
    path: str | None = None
    package: str | None = None
    class_name: str | None = None
    kind: str = "python"  # python | rules | entry-point
    timeframe: str | None = None
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    line: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _module_name(path: Path) -> str:
    import hashlib

    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    stem = "".join(c if c.isalnum() else "_" for c in path.stem)
    return f"tui_trader_strategies.{stem}_{digest}"


def load_file(path: str | Path) -> list[type[IStrategy]]:
    """Every strategy class a .py or .toml file defines, freshly imported (StrategyError if not)."""
    path = Path(path).resolve()
    if path.suffix == ".toml":  # rules import nothing: no Freqtrade import paths to serve
        from tui_trader.strategy.rules import compile_rules

        return [compile_rules(path)]
    _install_compat()  # Freqtrade's import paths resolve to ours
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StrategyError(f"cannot read: {exc.strerror}", file=str(path)) from None
    name = _module_name(path)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules.setdefault("tui_trader_strategies", types.ModuleType("tui_trader_strategies"))
    previous = sys.modules.get(name)
    sys.modules[name] = module  # dataclasses and pickling look the module up
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)
    except BaseException as exc:
        if previous is not None:
            sys.modules[name] = previous
        else:
            sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt | SystemExit) and not isinstance(exc, SystemExit):
            raise
        raise from_exception(exc, path, "import") from None
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, IStrategy) and obj.__module__ == name
    ]
    if not classes:
        raise StrategyError("no IStrategy subclass defined in this file", file=str(path))
    for cls in classes:
        check_class(cls, path)
    return classes


def check_class(cls: type[IStrategy], path: str | Path | None = None) -> None:
    """Cheap checks that need no instance: timeframe, stoploss, ROI keys."""
    where = str(path) if path else None
    line = _class_line(cls)
    try:
        timeframe_to_seconds(cls.timeframe)
    except UserError as exc:
        raise StrategyError(f"{cls.__name__}: {exc}", file=where, line=line) from None
    if not isinstance(cls.stoploss, int | float) or not -1 <= cls.stoploss <= 0:
        raise StrategyError(
            f"{cls.__name__}: stoploss must be between -1 and 0, e.g. -0.10", file=where, line=line
        )
    for key in cls.minimal_roi or {}:
        try:
            float(key)
        except ValueError:
            raise StrategyError(
                f"{cls.__name__}: minimal_roi key {key!r} is not a number of minutes",
                file=where,
                line=line,
            ) from None


def _class_line(cls: type) -> int | None:
    try:
        return inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return None


def _strategy_name(cls: type[IStrategy]) -> str:
    return vars(cls).get("name") or cls.__name__


def _info(
    cls: type[IStrategy], source: str, path: Path | None, package: str | None = None
) -> StrategyInfo:
    return StrategyInfo(
        name=_strategy_name(cls),
        source=source,
        path=str(path) if path else None,
        package=package,
        class_name=cls.__name__,
        kind="rules" if path and path.suffix == ".toml" else "python",
        timeframe=cls.timeframe,
        parameters={n: p.describe() for n, p in detect_parameters(cls).items()},
        line=_class_line(cls) if path and path.suffix == ".py" else None,
    )


def strategy_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix in SUFFIXES and p.is_file() and not p.name.startswith(("_", "."))
    )


def _search_dirs(
    strategies_dirs: Iterable[str | Path] | None, include_bundled: bool
) -> list[tuple[Path, str]]:
    dirs = [(bundled_dir(), "plugins")] if include_bundled else []
    for d in strategies_dirs or ():
        path = Path(d).expanduser().resolve()
        if all(path != existing for existing, _ in dirs):
            dirs.append((path, "dir"))
    return dirs


def first_file(
    name: str, strategies_dirs: Iterable[str | Path] | None, *, include_bundled: bool = True
) -> Path | None:
    """The file `locate_strategy(name)` imports first: NAME itself when it is a strategy file,
    else the first file named for it in the search order; None when no file is named for it
    (the loader then imports every file to find the class)."""
    as_path = Path(name).expanduser()
    if as_path.suffix in SUFFIXES and as_path.is_file():
        return as_path.resolve()
    for directory, _ in _search_dirs(strategies_dirs, include_bundled):
        for path in strategy_files(directory):
            if path.stem.lower() == name.lower():
                return path
    return None


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))


def discover(
    strategies_dirs: Iterable[str | Path] | None = None,
    *,
    include_bundled: bool = True,
    import_packages: bool = True,
) -> list[StrategyInfo]:
    """Every strategy found, broken ones included with their error. Entry points are listed by
    name without importing when import_packages is False."""
    found: list[StrategyInfo] = []
    for directory, source in _search_dirs(strategies_dirs, include_bundled):
        for path in strategy_files(directory):
            try:
                found.extend(_info(cls, source, path) for cls in load_file(path))
            except StrategyError as exc:
                found.append(
                    StrategyInfo(
                        name=path.stem,
                        source=source,
                        path=exc.file or str(path),
                        kind="rules" if path.suffix == ".toml" else "python",
                        error=str(exc),
                        line=exc.line,
                    )
                )
    for ep in _entry_points():
        package = f"{ep.dist.name if ep.dist else '?'}:{ep.value}"
        if not import_packages:
            found.append(
                StrategyInfo(name=ep.name, source="package", package=package, kind="entry-point")
            )
            continue
        try:
            for cls in _entry_point_classes(ep):
                info = _info(cls, "package", None, package)
                info.name = ep.name if info.name == cls.__name__ else info.name
                found.append(info)
        except StrategyError as exc:
            found.append(
                StrategyInfo(
                    name=ep.name,
                    source="package",
                    package=package,
                    path=exc.file,
                    error=str(exc),
                    line=exc.line,
                )
            )
    return found


def _install_compat() -> None:
    """Serve Freqtrade's import paths (`strategy.compat`: imported only when a Python strategy
    is loaded, ~5 ms a rule file's backtest does without)."""
    from tui_trader.strategy import compat

    compat.install()


def _entry_point_classes(ep: Any) -> list[type[IStrategy]]:
    _install_compat()
    try:
        obj = ep.load()
    except Exception as exc:
        raise from_exception(exc, None, f"entry point {ep.name}") from None
    if inspect.isclass(obj) and issubclass(obj, IStrategy):
        classes = [obj]
    elif inspect.ismodule(obj):
        classes = [
            c
            for c in vars(obj).values()
            if inspect.isclass(c) and issubclass(c, IStrategy) and c.__module__ == obj.__name__
        ]
    else:
        classes = []
    if not classes:
        raise StrategyError(
            f"entry point {ep.name} ({ep.value}) is not an IStrategy class or module"
        )
    for cls in classes:
        check_class(cls, inspect.getsourcefile(cls))
    return classes


def _matches(name: str, cls: type[IStrategy], path: Path | None, single: bool) -> bool:
    wanted = name.lower()
    names = {_strategy_name(cls).lower(), cls.__name__.lower()}
    if path is not None and single:
        names.add(path.stem.lower())
    return wanted in names


def load_strategy_class(
    name: str, strategies_dirs: Iterable[str | Path] | None = None, *, include_bundled: bool = True
) -> type[IStrategy]:
    """The class for a strategy name (or a .py/.toml path); StrategyError/UserError if not found."""
    return locate_strategy(name, strategies_dirs, include_bundled=include_bundled)[0]


def locate_strategy(
    name: str, strategies_dirs: Iterable[str | Path] | None = None, *, include_bundled: bool = True
) -> tuple[type[IStrategy], Path | None]:
    """The class for a strategy name (or a .py/.toml path) and the file it is defined in (None
    for a package's entry point); StrategyError/UserError if not found."""
    as_path = Path(name).expanduser()
    if as_path.suffix in SUFFIXES and as_path.is_file():
        return load_file(as_path)[0], as_path.resolve()
    broken: StrategyError | None = None
    known: list[str] = []
    files = [
        path
        for directory, _ in _search_dirs(strategies_dirs, include_bundled)
        for path in strategy_files(directory)
    ]
    # a file named for the strategy first: the usual case imports one plugin, not all of them
    named = [path for path in files if path.stem.lower() == name.lower()]
    for path in [*named, *(path for path in files if path not in named)]:
        try:
            classes = load_file(path)
        except StrategyError as exc:
            if path in named:
                broken = broken or exc
            continue
        for cls in classes:
            known.append(_strategy_name(cls))
            if _matches(name, cls, path, len(classes) == 1):
                return cls, path
    for ep in _entry_points():
        if ep.name.lower() == name.lower():
            return _entry_point_classes(ep)[0], None
        known.append(ep.name)
    if broken is not None:
        raise broken
    raise UnknownStrategy(
        f"unknown strategy {name!r}; known: {', '.join(sorted(known)) or 'none'} "
        "(see `tui-trader strategies list`)"
    )


def load_strategy(
    name: str,
    strategies_dirs: Iterable[str | Path] | None = None,
    params: dict[str, Any] | None = None,
    *,
    config: dict[str, Any] | None = None,
    include_bundled: bool = True,
) -> IStrategy:
    """A ready instance with `params` applied (the optimizer's and the engine's entry point)."""
    cls = load_strategy_class(name, strategies_dirs, include_bundled=include_bundled)
    try:
        strategy = cls(config)
    except Exception as exc:
        raise from_exception(exc, inspect.getsourcefile(cls), f"{cls.__name__}()") from None
    if params:
        strategy.set_parameters(params)
    return strategy
