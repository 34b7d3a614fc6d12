"""The order book's REST snapshot where ccxt.pro signs it: KuCoin with keys set.

ccxt.pro's kucoin caches the level2 stream's first deltas, then loads a REST snapshot and
applies the deltas that follow it (`load_order_book`, through `fetch_rest_order_book_safe`).
With keys set that snapshot is KuCoin's signed full-depth one (GET
/api/v3/market/orderbook/level2), so keys KuCoin refuses (revoked, a wrong passphrase, an IP
not on the key's list: 400003-400007, a frozen user 411100; ccxt's AuthenticationError) used
to stop the order book with the private streams, though the book is market data.

`PublicSnapshot` takes the venue's public snapshot instead (`exchanges.PUBLIC_BOOK_DEPTH`:
GET /api/v1/market/orderbook/level2_100, which ccxt asks for when given that limit) from the
first refusal on, for the rest of the session (good keys stored, a restart takes the full one
again), saying so once. Any other failure (a 5xx, a timeout) is raised as before: retried,
never taken as bad keys.

The stream's deltas cover the whole book, the public snapshot its best 100 levels a side: a
price beyond the snapshot's last level is known only if it changed since. The book is shown
down to that last level only (`known`), never with holes; when the price has moved so far
that fewer than `BOOK_DEPTH` levels a side are known, a new snapshot is taken (ccxt's own resync:
deltas cached again, then the snapshot).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import islice, takewhile
from typing import Any

from tui_trader.venues.ccxt.convert import BOOK_DEPTH
from tui_trader.venues.ccxt.errors import is_auth_error, venue_answer

log = logging.getLogger(__name__)

Edges = tuple[float | None, float | None]  # (last bid, last ask) of a public snapshot; None: whole side


class PublicSnapshot:
    """Wraps `ex.fetch_rest_order_book_safe`: the public snapshot once the keys are refused."""

    def __init__(self, ex: Any, depth: int, refused: Callable[[BaseException], None]) -> None:
        self.depth = depth
        self.public = False  # keys refused: public snapshots from now on
        self._refused = refused
        self._edges: dict[str, Edges] = {}
        self._fetch = ex.fetch_rest_order_book_safe
        ex.fetch_rest_order_book_safe = self.snapshot

    async def snapshot(self, symbol: str, limit: int | None = None, params: dict[str, Any] | None = None) -> Any:
        params = params or {}
        if limit is None and self.public:
            limit = self.depth
        try:
            book = await self._fetch(symbol, limit, params)
        except Exception as exc:
            if limit is not None or not is_auth_error(venue_answer(exc)):
                raise  # not the signed snapshot, or not the keys: retried as ever
            if not self.public:
                self.public = True
                self._refused(exc)
            limit = self.depth
            book = await self._fetch(symbol, limit, params)
        self._edges[symbol] = self._edges_of(book) if self.public else (None, None)
        return book

    def _edges_of(self, book: dict[str, Any]) -> Edges:
        """The last level of each side a full public snapshot gave (a side shorter than its
        depth is the whole side: nothing beyond it)."""
        bids, asks = book.get("bids") or [], book.get("asks") or []
        return (
            float(bids[-1][0]) if len(bids) >= self.depth else None,
            float(asks[-1][0]) if len(asks) >= self.depth else None,
        )

    def known(self, symbol: str, raw: Any) -> Any:
        """`raw` (ccxt's book) down to the public snapshot's last levels: beyond them a level
        that has not changed since is missing. Too few known levels left: a new snapshot."""
        low, high = self._edges.get(symbol, (None, None))
        if low is None and high is None:
            return raw
        bids = _shown(raw.get("bids"), lambda price: low is None or price >= low)
        asks = _shown(raw.get("asks"), lambda price: high is None or price <= high)
        thin = (low is not None and len(bids) < BOOK_DEPTH) or (high is not None and len(asks) < BOOK_DEPTH)
        if thin and hasattr(raw, "cache"):
            # ccxt's resync (as at a resubscribe): deltas are cached again, the snapshot loaded
            # after the first few of them, the book resolved again from there
            log.info("%s: order book beyond the public snapshot's levels: a new snapshot", symbol)
            self._edges[symbol] = (None, None)  # until it is there: no book is resolved meanwhile
            raw["nonce"] = None
            raw.cache = []
        return {"bids": bids, "asks": asks, "timestamp": raw.get("timestamp")}


def _shown(levels: Any, known: Callable[[float], bool]) -> list[Any]:
    """A side's best levels while their price is `known`, as many as a book shows at most (not
    all 100 or more of them, on every update)."""
    return list(islice(takewhile(lambda level: known(level[0]), levels or []), BOOK_DEPTH))
