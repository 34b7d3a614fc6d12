"""`tui-trader quote SYMBOL [--venue V] [--json]`: bid, ask, last and the top of the book.

Through the running daemon when there is one (any venue it has), else straight from the paper
market (a pure function of the seed and the clock, so it is the quote the daemon would show,
less the impact of orders only the daemon's venue knows)."""

from __future__ import annotations

import argparse
from typing import Any

from tui_trader.cli.common import add_command, context
from tui_trader.core.errors import NotRunningError, UsageError, UserError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = add_command(sub, "quote", "bid, ask, last and the top of the book for a symbol", _quote, json_flag=True)
    p.add_argument("symbol", metavar="SYMBOL")
    p.add_argument("--venue", help="venue name (default: where orders for the symbol go)")
    p.add_argument(
        "--all-venues",
        action="store_true",
        help="every venue that lists the symbol: each one's bid and offer, fees and state, and one merged book",
    )


def _quote(args: argparse.Namespace) -> int:
    from tui_trader.cli.control_cmd import daemon_or, show

    symbol = args.symbol.strip().upper()
    if args.all_venues:
        return _all_venues(args, symbol)
    params = {"symbol": symbol, "venue": args.venue}
    doc = daemon_or(args, "market.quote", params, lambda: _paper_quote(args, symbol))
    return show(args, doc, describe)


def _paper_quote(args: argparse.Namespace, symbol: str) -> dict[str, Any]:
    import asyncio

    from tui_trader.core.clock import SystemClock
    from tui_trader.core.quote import quote_document
    from tui_trader.venues.paper import PaperVenue

    ctx = context(args, ensure=False)
    venue_name = args.venue or "paper"
    if venue_name != "paper":
        raise NotRunningError(
            f"no daemon running: quotes from {venue_name} need one (`tui-trader daemon`); "
            "without it only the paper market can be quoted"
        )
    paper = ctx.settings.paper
    if "/" not in symbol and not symbol.isalnum():
        raise UserError(f"{symbol!r} is not a symbol: use e.g. BTC/USDT or AAPL")
    if symbol not in paper.symbols:  # as the daemon answers: no made-up market for it
        raise UsageError(
            f"paper does not list {symbol}; it quotes {', '.join(paper.symbols)} ([paper] symbols in config.toml)"
        )
    venue = PaperVenue(paper, SystemClock(), run_feed=False)

    async def quote() -> dict[str, Any]:
        await venue.connect(lambda event: None)
        try:
            ticker = venue._tickers[symbol]
            now = ticker.ts
            inst = venue.instruments[symbol]
            market = None if inst.always_open else venue.session_state(symbol, now).describe(now)
            return quote_document("paper", ticker, venue._books.get(symbol), market=market)
        finally:
            await venue.close()

    doc = asyncio.run(quote())
    doc["source"] = "paper market (no daemon running)"
    return doc


def _all_venues(args: argparse.Namespace, symbol: str) -> int:
    from tui_trader.cli.control_cmd import daemon_or, show

    if args.venue:
        raise UsageError("--all-venues shows every venue: leave out --venue")
    doc = daemon_or(args, "market.consolidated", {"symbol": symbol}, lambda: _paper_consolidated(args, symbol))
    return show(args, doc, describe_all)


def _paper_consolidated(args: argparse.Namespace, symbol: str) -> dict[str, Any]:
    from tui_trader.cli.paper_markets import SOURCE, paper_markets
    from tui_trader.routing.consolidated import consolidate

    if "/" not in symbol and not symbol.isalnum():
        raise UserError(f"{symbol!r} is not a symbol: use e.g. BTC/USDT or AAPL")
    ctx = context(args, ensure=False)
    markets = [m for m in paper_markets(ctx.settings) if m.instrument is not None and m.instrument.symbol == symbol]
    if not markets:
        raise UserError(f"no paper venue lists {symbol}; quotes from other venues need a daemon (`tui-trader daemon`)")
    doc = consolidate(symbol, markets).document()
    doc["source"] = SOURCE
    return doc


def describe_all(doc: dict[str, Any]) -> str:
    """The consolidated view as text: one line per venue, then the merged book."""
    rows = doc["venues"]
    prices = [r[k] for r in rows for k in ("bid", "ask") if r.get(k)]
    nd = max([_decimals(p) for p in prices] + [2])
    best_bid, best_ask = doc.get("best_bid") or {}, doc.get("best_ask") or {}
    lines = [f"{doc['symbol']} on {len(rows)} venue(s)  [{doc.get('source', '')}]"]
    lines.append(
        f"  {'venue':<12} {'bid':>14} {'size':>10} {'ask':>14} {'size':>10} {'maker':>7} {'taker':>7}  state"
    )
    for r in rows:
        bid = "-" if r["bid"] is None else f"{r['bid']:,.{nd}f}" + ("*" if r["venue"] == best_bid.get("venue") else " ")
        ask = "-" if r["ask"] is None else f"{r['ask']:,.{nd}f}" + ("*" if r["venue"] == best_ask.get("venue") else " ")
        problem = r["problem"] if r["problem"] != r["state"] else ""  # "disconnected", not "disconnected: disconnected"
        state = f"{r['state']}: {problem}" if problem and not r["usable"] else r["state"]
        lines.append(
            f"  {r['venue']:<12} {bid:>14} {_size(r['bid_size']):>10} {ask:>14} {_size(r['ask_size']):>10} "
            f"{r['maker_fee'] * 100:>6.3f}% {r['taker_fee'] * 100:>6.3f}%  {state}"
        )
    lines.append("  * best after the taker fee" + ("; the venues are CROSSED (one bids above another's offer)"
                                                   if doc.get("crossed") else ""))
    bids, asks = doc["book"]["bids"], doc["book"]["asks"]
    if bids or asks:
        lines.append(f"  {'venue':>10} {'size':>10} {'bid':>14}   {'ask':<14} {'size':<10} {'venue':<10}")
        for i in range(max(len(bids), len(asks))):
            b = bids[i] if i < len(bids) else None
            a = asks[i] if i < len(asks) else None
            left = f"{b[2]:>10} {b[1]:>10g} {b[0]:>14,.{nd}f}" if b else " " * 36
            right = f"{a[0]:<14,.{nd}f} {a[1]:<10g} {a[2]:<10}" if a else ""
            lines.append(f"  {left}   {right}".rstrip())
    return "\n".join(lines)


def _size(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"


def describe(doc: dict[str, Any]) -> str:
    nd = max(_decimals(doc["bid"]), _decimals(doc["ask"]), 2)
    bps = f" ({doc['spread_bps']:.1f} bp)" if doc.get("spread_bps") is not None else ""
    lines = [
        f"{doc['symbol']} on {doc['venue']}  {doc['ts'].replace('T', ' ')[:19]} UTC  [{doc['source']}]",
        f"  bid {doc['bid']:,.{nd}f} x {doc['bid_size']:g}   ask {doc['ask']:,.{nd}f} x {doc['ask_size']:g}   "
        f"last {doc['last']:,.{nd}f}   spread {doc['spread']:,.{nd}f}{bps}",
        f"  24h {doc['change_24h'] * 100:+.2f} %   volume {doc['volume_24h']:,.2f}",
    ]
    if doc.get("market"):
        lines.append(f"  market: {doc['market']}")
    bids, asks = doc["book"]["bids"], doc["book"]["asks"]
    if bids or asks:
        lines.append(f"  {'bid size':>14} {'bid':>14}   {'ask':<14} {'ask size':<14}")
        for i in range(max(len(bids), len(asks))):
            b = bids[i] if i < len(bids) else None
            a = asks[i] if i < len(asks) else None
            left = f"{b[1]:>14g} {b[0]:>14,.{nd}f}" if b else " " * 29
            right = f"{a[0]:<14,.{nd}f} {a[1]:<14g}" if a else ""
            lines.append(f"  {left}   {right}".rstrip())
    return "\n".join(lines)


def _decimals(x: float) -> int:
    text = f"{x:.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0
