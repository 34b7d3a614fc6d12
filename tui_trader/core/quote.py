"""A quote as one document: bid, ask, last, sizes and the top of the book (`tui-trader quote`)."""

from __future__ import annotations

from typing import Any

from tui_trader.core.market import OrderBook, Ticker


def quote_document(
    venue: str, ticker: Ticker, book: OrderBook | None, depth: int = 5, market: str | None = None
) -> dict[str, Any]:
    mid = ticker.mid
    spread = ticker.ask - ticker.bid
    doc: dict[str, Any] = {
        "venue": venue,
        "symbol": ticker.symbol,
        "ts": ticker.ts.isoformat(),
        "bid": ticker.bid,
        "ask": ticker.ask,
        "last": ticker.last,
        "mid": mid,
        "bid_size": ticker.bid_size,
        "ask_size": ticker.ask_size,
        "spread": round(spread, 10),
        "spread_bps": spread / mid * 1e4 if mid else None,
        "change_24h": ticker.change_pct,  # a fraction: 0.0123 is +1.23 %
        "volume_24h": ticker.volume_24h,
        "book": {
            "bids": [list(level) for level in (book.bids[:depth] if book else ())],
            "asks": [list(level) for level in (book.asks[:depth] if book else ())],
        },
    }
    if market:
        doc["market"] = market
    return doc
