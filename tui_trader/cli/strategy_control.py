"""`tui-trader strategies enable / disable / reload NAME`: strategy control on the running
daemon, the same engine commands as the socket (`strategies.enable` ...) and the TUI's
strategies pane. `enable` also starts again a strategy that hung, crashed or failed to load."""

from __future__ import annotations

import argparse
from typing import Any

from tui_trader.cli.common import add_command, print_json


def register_actions(actions: argparse._SubParsersAction) -> None:
    for action, help_ in (
        ("enable", "evaluate it again (a hung, crashed or broken one gets a fresh worker)"),
        ("disable", "stop evaluating it (its positions and their stops stay)"),
        ("reload", "re-read its file now (every strategy's without NAME)"),
    ):
        p = add_command(actions, action, f"on the running daemon: {help_}", _control, json_flag=True)
        p.add_argument("name", nargs="?" if action == "reload" else None, metavar="NAME",
                       help="the [strategies.NAME] table")  # fmt: skip
        p.set_defaults(strategy_action=action)


def _control(args: argparse.Namespace) -> int:
    from tui_trader.cli.control_cmd import request

    action = args.strategy_action
    params: dict[str, Any] = {"name": args.name} if args.name else {}
    result = request(args, f"strategies.{action}", **params)
    if args.json:
        print_json(result)
        return 0
    if action == "reload":
        names = result.get("reloaded") or []
        print(f"reloaded: {', '.join(names)}" if names else "nothing reloaded")
        return 0
    state = result.get("state") or ("running" if result.get("enabled") else "off")
    enabled = "enabled" if result.get("enabled") else "disabled"
    error = f" ({result['error']})" if result.get("error") and not result.get("enabled") else ""
    print(f"strategy {result.get('name')} {enabled}, {state}{error}")
    return 0
