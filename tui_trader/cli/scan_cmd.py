"""`tui-trader scan spreads [--triangular] [--min-bps X] [--json]`: cross-venue spreads for
every symbol two or more venues list (or triangles within one venue), net of taker fees and
the transfer-cost placeholder; best net edge first.

Through the running daemon when there is one (its live venues, the scanner that alerts), else
from the paper instances alone (their quotes are a function of the seed and the clock)."""

from __future__ import annotations

import argparse
from typing import Any

from tui_trader.cli.common import add_command, context
from tui_trader.core.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = add_command(sub, "scan", "scan markets across venues: scan spreads")
    scans = p.add_subparsers(dest="scan", metavar="WHAT", required=True, parser_class=type(p))
    s = add_command(scans, "spreads", "cross-venue (or triangular) spreads, net of fees, best first", _spreads,
                    json_flag=True)
    s.add_argument("--triangular", action="store_true", help="triangles of three markets within one venue")
    s.add_argument("--min-bps", type=float, default=None, help="only spreads with at least this net edge (bp)")


def _spreads(args: argparse.Namespace) -> int:
    from tui_trader.cli.control_cmd import daemon_or, show

    params: dict[str, Any] = {"triangular": args.triangular}
    if args.min_bps is not None:
        if args.min_bps != args.min_bps or abs(args.min_bps) > 1e6:
            raise UsageError("--min-bps must be a number of basis points, e.g. 5")
        params["min_bps"] = str(args.min_bps)
    return show(args, daemon_or(args, "scan.spreads", params, lambda: _offline(args)), describe)


def _offline(args: argparse.Namespace) -> dict[str, Any]:
    from datetime import UTC, datetime

    from tui_trader.cli.paper_markets import SOURCE, paper_markets
    from tui_trader.engine.scanner import SIMULATED_NOTE
    from tui_trader.routing.market import VenueMarket
    from tui_trader.routing.spreads import cross_venue, triangular

    settings = context(args, ensure=False).settings
    cfg = settings.routing.scanner
    markets = paper_markets(settings)
    note = ""
    if args.triangular:  # without a daemon every market here is the simulated paper market's
        rows = [t.document() for t in triangular(m for m in markets if m.kind != "paper")]
        note = SIMULATED_NOTE
    else:
        by_symbol: dict[str, list[VenueMarket]] = {}
        for m in markets:
            if m.instrument is not None:
                by_symbol.setdefault(m.instrument.symbol, []).append(m)

        def transfer(symbol: str) -> float:
            return cfg.transfer_costs_bps.get(symbol.split("/", 1)[0], cfg.transfer_cost_bps)

        rows = [s.document() for s in cross_venue({k: v for k, v in by_symbol.items() if len(v) > 1}, transfer)]
    if args.min_bps is not None:
        rows = [r for r in rows if r["net_bps"] >= args.min_bps]
    return {
        "mode": "triangular" if args.triangular else "cross_venue",
        "scanned_at": datetime.now(UTC).isoformat(),
        "alert_bps": cfg.alert_bps,
        "transfer_cost_bps": cfg.transfer_cost_bps,
        "rows": rows,
        "source": SOURCE,
        **({"note": note} if note else {}),
    }


def describe(doc: dict[str, Any]) -> str:
    rows = doc["rows"]
    when = (doc["scanned_at"] or "")[:19].replace("T", " ")
    lines = [f"{'triangles' if doc['mode'] == 'triangular' else 'spreads'} at {when} UTC  [{doc.get('source', '')}]"]
    if doc.get("note"):
        lines.append(f"  ({doc['note']})")
    if not rows:
        if doc["mode"] == "triangular":
            lines.append("  no venue quotes three markets that make a triangle")
        else:
            lines.append("  no symbol is quoted on two or more venues (or none has the net edge asked for)")
        return "\n".join(lines)
    if doc["mode"] == "triangular":
        lines.append(f"  {'venue':<12} {'path':<28} {'gross bp':>9} {'fees bp':>8} {'net bp':>8}")
        for r in rows:
            flag = "  (stale)" if r["stale"] else ""
            lines.append(
                f"  {r['venue']:<12} {' > '.join(r['path']):<28} {r['gross_bps']:>9.2f} {r['fees_bps']:>8.2f} "
                f"{r['net_bps']:>+8.2f}{flag}"
            )
        return "\n".join(lines)
    lines.append(
        f"  {'symbol':<12} {'buy on':<10} {'ask':>14} {'sell on':<10} {'bid':>14} {'gross bp':>9} {'fees bp':>8} "
        f"{'xfer bp':>8} {'net bp':>8} {'size':>10}"
    )
    for r in rows:
        flag = "  (stale: not tradable now)" if r["stale"] else ""
        lines.append(
            f"  {r['symbol']:<12} {r['buy_venue']:<10} {r['ask']:>14,.8g} {r['sell_venue']:<10} {r['bid']:>14,.8g} "
            f"{r['gross_bps']:>9.2f} {r['fees_bps']:>8.2f} {r['transfer_bps']:>8.2f} {r['net_bps']:>+8.2f} "
            f"{r['size']:>10g}{flag}"
        )
    return "\n".join(lines)
