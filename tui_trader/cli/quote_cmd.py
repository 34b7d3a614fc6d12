"""`tui-trader quote SYMBOL [--venue V] [--json]`: bid, ask, last and the top of the book.

Through the running daemon when there is one (any venue it has), else straight from the paper
market (a pure function of the seed and the clock, so it is the quote the daemon would show,
less the impact of orders only the daemon's venue knows)."""

from __future__ import annotations

import argparse
from typing import Any

from tui_trader.cli.common import add_command, context, print_json
from tui_trader.core.errors import NotRunningError, UserError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = add_command(sub, "quote", "bid, ask, last and the top of the book for a symbol", _quote, json_flag=True)
    p.add_argument("symbol", metavar="SYMBOL")
    p.add_argument("--venue", help="venue name (default: where orders for the symbol go)")


def _quote(args: argparse.Namespace) -> int:
    from tui_trader.cli.control_cmd import request

    symbol = args.symbol.strip().upper()
    params = {"symbol": symbol, "venue": args.venue}
    try:
        doc = request(args, "call", command="market.quote", params=params)
        doc["source"] = "daemon"
    except NotRunningError:
        doc = _paper_quote(args, symbol)
    if args.json:
        print_json(doc)
    else:
        print(describe(doc))
    return 0


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
    symbols = paper.symbols if symbol in paper.symbols else [*paper.symbols, symbol]
    if "/" not in symbol and not symbol.isalnum():
        raise UserError(f"{symbol!r} is not a symbol: use e.g. BTC/USDT or AAPL")
    venue = PaperVenue(paper.model_copy(update={"symbols": symbols}), SystemClock(), run_feed=False)

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
