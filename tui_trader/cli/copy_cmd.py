"""`tui-trader copy status / start / stop`: copy trading on the running daemon (docs/social.md)."""

from __future__ import annotations

import argparse
from typing import Any

from tui_trader.cli.common import add_command, print_json
from tui_trader.core.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    group = add_command(sub, "copy", "copy trading: status, start, stop (per leader)", _usage)
    actions = group.add_subparsers(dest="copy_command", metavar="ACTION", parser_class=type(group))
    p = add_command(actions, "status", "each leader: state, mirrored and skipped fills, slippage, delay, P&L",
                    _status, json_flag=True)  # fmt: skip
    p.add_argument("name", nargs="?", help="one leader (default: all)")
    for action, verb in (("start", "follow"), ("stop", "stop following")):
        p = add_command(actions, action, f"{verb} a leader (kept across restarts)", _toggle, json_flag=True)
        p.add_argument("name", help="the [copy.NAME] leader")


def _usage(args: argparse.Namespace) -> int:
    raise UsageError("copy needs an action: status [NAME], start NAME or stop NAME")


def _status(args: argparse.Namespace) -> int:
    from tui_trader.cli.control_cmd import request

    doc = request(args, "copy.status", **({"name": args.name} if args.name else {}))
    if args.json:
        print_json(doc)
        return 0
    leaders = [doc] if args.name else doc["leaders"]
    if not leaders:
        print("no copy trading configured: add a [copy.NAME] table (docs/social.md)")
    for leader in leaders:
        print(render(leader))
    return 0


def _toggle(args: argparse.Namespace) -> int:
    from tui_trader.cli.control_cmd import request

    doc = request(args, f"copy.{args.copy_command}", name=args.name)
    if args.json:
        print_json(doc)
    else:
        print(f"copy {doc['name']}: {'following since ' + doc['since'][:19] if doc['enabled'] else 'stopped'}")
    return 0


def render(d: dict[str, Any], recent: int = 5) -> str:
    def stat(block: dict[str, Any], unit: str, fmt: str) -> str:
        if block.get("avg") is None:
            return "-"
        parts = [f"{k} {format(block[k], fmt)}{unit}" for k in ("avg", "median", "max")]
        return ", ".join(parts)

    pnl = d["pnl"]
    skipped = ", ".join(f"{k} {v}" for k, v in d["skipped_by"].items()) or "none"
    scale = f"{d['scale']:g}" + (" x equity ratio" if d["scale_by"] == "equity" else "")
    lines = [
        f"{d['name']}: {d['leader']} - {d['state'].upper()}{': ' + d['detail'] if d['detail'] else ''}",
        f"  scale {scale}, max slippage {d['max_slippage_bps']:g} bps, max delay {d['max_delay_s']:g} s, "
        f"exits {'mirrored' if d['mirror_exits'] else 'not mirrored'}",
        f"  {'calls' if str(d.get('kind', '')).startswith('chat:') else 'leader fills'} {d['seen']}: "
        f"mirrored {d['mirrored']}, rejected by risk {d['rejected']}, "
        f"skipped {d['skipped']} ({skipped}), duplicates ignored {d['duplicates']}",
        f"  slippage: {stat(d['slippage_bps'], ' bps', '.1f')}",
        f"  delay: {stat(d['delay_s'], ' s', '.3f')}",
        f"  P&L: mirrored {pnl['mirrored']:+,.2f}, leader at your size {pnl['leader_at_your_size']:+,.2f}, "
        f"difference {pnl['difference']:+,.2f}",
    ]
    if d.get("calls"):  # a chat provider: its calls by kind
        lines.append("  calls by kind: " + ", ".join(f"{k} {v}" for k, v in d["calls"].items()))
    if d.get("positions"):
        lines.append("  copied positions: " + ", ".join(f"{s} {q}" for s, q in d["positions"].items()))
    for m in (d.get("recent") or [])[-recent:]:
        what = f"{m['side']} {m['quantity']} {m['symbol']} @ {m['price']}"
        if m.get("kind") and (m["status"] == "skipped" or m["kind"] in ("update", "cancel")):
            what = f"{m['kind']} call, {m['symbol']}"  # a chat call that sent no order of its own
        if m["status"] == "sent" and m.get("filled"):
            outcome = f"-> {m['filled']} @ {m['fill_price']} ({m['slippage_bps']:+.1f} bps, {m['delay_s']:.3f} s)"
        else:
            outcome = f"-> {m['status']}{': ' + m['reason'] if m['reason'] else ''}"
        lines.append(f"    {str(m['leader_ts'])[11:19]} {what} {outcome}")
    return "\n".join(lines)
