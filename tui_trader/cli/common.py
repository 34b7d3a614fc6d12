"""Helpers shared by the command modules: parsers, the home/settings context, JSON output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.home import Home

if TYPE_CHECKING:
    from tui_trader.config import Settings

Handler = Callable[[argparse.Namespace], int]


def add_command(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    help: str,
    handler: Handler | None = None,
    *,
    json_flag: bool = False,
) -> argparse.ArgumentParser:
    """Add a sub-command that accepts the common options and, optionally, `--json`."""
    from tui_trader.cli.main import add_common

    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    add_common(parser)
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print one JSON document and nothing else")
    if handler is not None:
        parser.set_defaults(handler=handler)
    return parser


@dataclass(frozen=True)
class Context:
    home: Home
    settings: Settings
    config_file: Path


def context(args: argparse.Namespace, *, ensure: bool = True) -> Context:
    """Resolve the home folder and load settings (ConfigError -> one clean line)."""
    from tui_trader.config import load_settings

    home = Home.resolve(getattr(args, "home", None))
    if ensure:
        home.ensure()
    explicit = getattr(args, "config", None)
    config_file = Path(explicit).expanduser() if explicit else home.config_file
    settings = load_settings(config_file, require_file=bool(explicit))
    return Context(home, settings, config_file)


def to_jsonable(obj: Any) -> Any:
    """Decimals as strings, datetimes as ISO 8601 UTC, dataclasses and enums flattened."""
    from dataclasses import fields, is_dataclass

    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, datetime):
        return obj.isoformat().replace("+00:00", "Z")
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, Path):
        return str(obj)
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, float) and obj != obj:  # NaN is not JSON
        return None
    return obj


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, sort_keys=False, allow_nan=False) + "\n")
