"""Helpers shared by the command modules: parsers, the home/settings context, JSON output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.encoding import to_jsonable
from tui_trader.home import Home

if TYPE_CHECKING:
    from tui_trader.config import Settings

Handler = Callable[[argparse.Namespace], int]


def add_command(
    sub: argparse._SubParsersAction,
    name: str,
    help: str,
    handler: Handler | None = None,
    *,
    json_flag: bool = False,
) -> argparse.ArgumentParser:
    """Add a sub-command that accepts the common options and, optionally, `--json`."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    add_common(parser)
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print one JSON document and nothing else")
    if handler is not None:
        parser.set_defaults(handler=handler)
    return parser


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options every command accepts (before or after the sub-command)."""
    parser.add_argument(
        "--home",
        default=argparse.SUPPRESS,
        help="home folder (default: TUI_TRADER_HOME or the platform's user data dir)",
    )
    parser.add_argument("--config", default=argparse.SUPPRESS, help="config file (default: HOME/config.toml)")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")


def timeframe_arg(text: str) -> str:
    """argparse type for a bar length such as 1m, 5m, 4h: anything else is a usage error."""
    from tui_trader.core.errors import DataError
    from tui_trader.data.timeframes import timeframe_to_seconds

    try:
        timeframe_to_seconds(text)
    except DataError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def existing_file(name: str | Path, what: str = "file") -> Path:
    """A file named on the command line: missing is a usage error (exit 2) in every command."""
    from tui_trader.core.errors import UsageError

    path = Path(name).expanduser()
    if not path.exists():
        raise UsageError(f"no such {what}: {path}")
    return path


class Context:
    """The home folder and the settings: every section (`settings`, loaded when `context`
    was not given `sections` nor `defer`, else on first use), or one that
    `context(sections=...)` loaded alone (`section`)."""

    def __init__(self, home: Home, config_file: Path, settings: Settings | None = None,
                 sections: dict[str, Any] | None = None, require_file: bool = False,
                 demo: bool = False) -> None:  # fmt: skip
        self.home = home
        self.config_file = config_file
        self._settings = settings
        self._sections = sections or {}
        self.require_file = require_file
        self.demo = demo  # loaded on first use: with the demo preset (--demo)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = _load(self.config_file, self.require_file, self.demo)
        return self._settings

    def section(self, name: str) -> Any:
        found = self._sections.get(name)
        return found if found is not None else getattr(self.settings, name)


def context(
    args: argparse.Namespace, *, ensure: bool = True, sections: tuple[str, ...] = (), defer: bool = False
) -> Context:
    """Resolve the home folder and load settings (ConfigError -> one clean line).

    With `sections` (names of `config.sections.SECTION_MODELS`; `engine` is always read),
    only those are loaded and validated, without pydantic-settings: a command's start is
    ~0.1 s shorter (a backtest reads `[engine]` and `[risk]`). With `defer`, none: they load
    on first use of `settings`, and the caller sets the strategy deadline's variable (the
    workstation: cli/settings_check.py)."""
    import os

    home = Home.resolve(getattr(args, "home", None))
    if ensure:
        home.ensure()
    explicit = getattr(args, "config", None)
    config_file = existing_file(explicit, "config file") if explicit else home.config_file
    demo = bool(getattr(args, "demo", False))
    if defer:
        return Context(home, config_file, require_file=bool(explicit), demo=demo)
    from tui_trader.config.sections import STRATEGY_TIMEOUT_ENV

    found = None
    if sections and not getattr(args, "demo", False):
        from tui_trader.config.sections import load_sections

        found = load_sections(config_file, ("engine", *sections), require_file=bool(explicit))
    if found is not None:
        ctx = Context(home, config_file, sections=found, require_file=bool(explicit))
    else:
        ctx = Context(home, config_file, settings=_load(config_file, bool(explicit), demo))
    # check, backtest, optimize (and their worker processes): no endless strategy (strategy/deadline.py)
    os.environ[STRATEGY_TIMEOUT_ENV] = str(ctx.section("engine").strategy_timeout_s)
    return ctx


def _load(config_file: Path, require_file: bool, demo: bool) -> Settings:
    from tui_trader.config import load_settings

    settings = load_settings(config_file, require_file=require_file)
    if demo:
        from tui_trader.config.demo import with_demo

        settings = with_demo(settings)
    return settings


def print_json(obj: Any) -> None:
    """`--json` output: to_jsonable's meaning (Decimals as strings, UTC as Z, NaN as null),
    written by orjson (a backtest's ~10,000 trades in milliseconds, not seconds) as the UTF-8
    bytes it makes, without decoding them into a str and encoding them again (~7 MB)."""
    import orjson  # here: not in the workstation's start (it brings uuid, platform...)

    options = orjson.OPT_INDENT_2 | orjson.OPT_UTC_Z | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    data = orjson.dumps(obj, default=_jsonable, option=options | orjson.OPT_APPEND_NEWLINE)
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None or (sys.stdout.encoding or "").lower().replace("-", "") != "utf8":
        sys.stdout.write(data.decode())
        return
    sys.stdout.flush()  # anything already written as text goes first
    buffer.write(data)
    buffer.flush()


def _jsonable(obj: Any) -> Any:
    plain = to_jsonable(obj)
    if plain is obj:
        raise TypeError(f"{type(obj).__name__} is not JSON")
    return plain
