"""`tui-trader venue stop|start NAME`: take a paper venue down and bring it back on the running
daemon, to rehearse an outage (routing goes elsewhere and says so; docs/routing.md).
`tui-trader venue reconnect NAME`: a live venue reconnected with its keys read again from the
keyring by the daemon (after `keys set NAME`), the daemon and its other venues running on.
`tui-trader venue adopt NAME SYMBOL`: the broker's position in SYMBOL taken as the daemon's
(engine/position_adopt.py)."""

from __future__ import annotations

import argparse

from tui_trader.cli.common import add_command, print_json

ANSWER_MARGIN_S = 45.0  # beyond `--wait`: the new client lists the markets, then the reconcile


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = add_command(
        sub, "venue", "a venue of the running daemon: stop / start a paper one, reconnect a live one, adopt a position"
    )
    verbs = p.add_subparsers(dest="verb", metavar="stop|start|reconnect|adopt", required=True, parser_class=type(p))
    for verb, what in (("stop", "stop a paper venue: no quotes, orders refused"), ("start", "start it again")):
        s = add_command(verbs, verb, what, _run, json_flag=True)
        s.add_argument("name", metavar="NAME")
    s = add_command(
        verbs, "reconnect", "reconnect a live venue with its keys read again from the keyring (after keys set)",
        _reconnect, json_flag=True,
    )  # fmt: skip
    s.add_argument("name", metavar="NAME")
    s.add_argument("--wait", type=int, default=15, metavar="SECONDS",
                   help="how long to wait for the venue to be back (default 15)")  # fmt: skip
    s = add_command(
        verbs, "adopt", "take a broker's position in SYMBOL as the daemon's (after positions disagree)",
        _adopt, json_flag=True,
    )  # fmt: skip
    s.add_argument("name", metavar="NAME")
    s.add_argument("symbol", metavar="SYMBOL")


def _run(args: argparse.Namespace) -> int:
    from tui_trader.cli.control_cmd import request

    doc = request(args, "call", command=f"venue.{args.verb}", params={"name": args.name})
    if args.json:
        print_json(doc)
    else:
        print(f"{doc['venue']}: {doc['state']}")
    return 0


def _reconnect(args: argparse.Namespace) -> int:
    """One line: "kucoin: connected" (with "; cash re-read: USDT 0 -> 1,000" if the balances read
    again moved it), or "kucoin: degraded: WHY" and exit 1."""
    from tui_trader.cli.control_cmd import request
    from tui_trader.engine.venue_answers import reconnected_line

    params = {"name": args.name, "wait_s": args.wait}
    doc = request(args, "call", command="venue.reconnect", params=params, timeout_s=args.wait + ANSWER_MARGIN_S)
    if args.json:
        print_json(doc)
    else:
        print(reconnected_line(doc))
    return 0 if doc["state"] == "connected" else 1


def _adopt(args: argparse.Namespace) -> int:
    """One line: "ib: AAPL 3 -> 1 (the broker's), booked at 187.2; cash re-read: ..."."""
    from tui_trader.cli.control_cmd import request
    from tui_trader.engine.venue_answers import adopted_line

    doc = request(args, "call", command="venue.adopt", params={"name": args.name, "symbol": args.symbol},
                  timeout_s=ANSWER_MARGIN_S)  # fmt: skip
    if args.json:
        print_json(doc)
    else:
        print(adopted_line(doc))
    return 0
