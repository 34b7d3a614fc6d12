"""`tui-trader venue stop|start NAME`: take a paper venue down and bring it back on the running
daemon, to rehearse an outage (routing goes elsewhere and says so; docs/routing.md)."""

from __future__ import annotations

import argparse

from tui_trader.cli.common import add_command, print_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = add_command(sub, "venue", "stop or start a paper venue on the running daemon (an outage rehearsal)")
    verbs = p.add_subparsers(dest="verb", metavar="stop|start", required=True, parser_class=type(p))
    for verb, what in (("stop", "stop a paper venue: no quotes, orders refused"), ("start", "start it again")):
        s = add_command(verbs, verb, what, _run, json_flag=True)
        s.add_argument("name", metavar="NAME")


def _run(args: argparse.Namespace) -> int:
    from tui_trader.cli.control_cmd import request

    doc = request(args, "call", command=f"venue.{args.verb}", params={"name": args.name})
    if args.json:
        print_json(doc)
    else:
        print(f"{doc['venue']}: {doc['state']}")
    return 0
