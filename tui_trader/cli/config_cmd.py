"""`tui-trader config show|path|init`."""

from __future__ import annotations

import argparse
import os
import sys

from tui_trader.cli.common import add_command, context, print_json
from tui_trader.core.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "config", "show, locate or create the settings file")
    inner = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = add_command(inner, "show", "print the effective settings (file + environment)", _show, json_flag=True)
    show.add_argument("--defaults", action="store_true", help="ignore the file and environment")
    add_command(inner, "path", "print where the config file and home folder are", _path)
    init = add_command(inner, "init", "write a commented config.toml with every default", _init)
    init.add_argument("--force", action="store_true", help="overwrite an existing file")


def _show(args: argparse.Namespace) -> int:
    ctx = context(args, ensure=False)
    data = ctx.settings.model_dump(mode="json", by_alias=True)
    if args.json:
        print_json(data)
        return 0
    from tui_trader.config.toml_text import dumps
    from tui_trader.config.venues import PAPER_ONLY

    for name, venue in ctx.settings.venues.items():  # paper-only keys a live venue refuses when given
        if venue.kind != "paper":
            for key in PAPER_ONLY:
                if key not in venue.model_fields_set:
                    data["venues"][name][key] = None  # printed as `# key = (unset)`
    sys.stdout.write(dumps(data))
    return 0


def _path(args: argparse.Namespace) -> int:
    ctx = context(args, ensure=False)
    print(
        f"config: {ctx.config_file}{'' if ctx.config_file.exists() else ' (not created yet; `tui-trader config init`)'}"
    )
    print(f"home:   {ctx.home.root}")
    print(f"db:     {ctx.home.db_file}")
    print(f"data:   {ctx.home.data_dir}")
    print(f"logs:   {ctx.home.logs_dir}")
    return 0


def _init(args: argparse.Namespace) -> int:
    from tui_trader.config import default_config_text

    ctx = context(args)
    path = ctx.config_file
    if path.exists() and not args.force:
        raise UserError(f"{path} already exists; pass --force to overwrite it")
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(default_config_text(), encoding="utf-8")
    os.replace(tmp, path)
    print(f"wrote {path}", file=sys.stderr if False else sys.stdout)
    return 0
