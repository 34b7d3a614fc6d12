"""What our account did, asked over REST: open orders, one order by our id, fill history.

Reconciliation (at start, after every reconnect) and the fills poll of exchanges without a
fills stream use these. Each exchange pages its history its own way (`exchanges.FILLS_PAGING`)
and finds orders by our id its own way (`exchanges.CLIENT_ID_PARAMS`, `FIND_BY_CLIENT_ID`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from tui_trader.config.venues import VenueSettings
from tui_trader.core.fills import Fill
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.base import VenueError, VenueOrder
from tui_trader.venues.ccxt import convert, exchanges

log = logging.getLogger(__name__)

FILLS_PAGE = 1000  # trades per fetch_my_trades call where the exchange takes that many (Binance)


class AccountHistory:
    """Mixed into CcxtVenue, whose connection, REST retry and id maps it uses."""

    name: str
    exchange_id: str
    settings: VenueSettings
    _ex: Any
    _credentials: Credentials
    _cid_by_vid: dict[str, str]
    _symbol_by_cid: dict[str, str]
    _fills_due: asyncio.Event
    _fills_since: dict[str, int]
    _fills_polled: set[str]

    # provided by CcxtVenue
    async def _rest(
        self, fn: Callable[..., Awaitable[Any]], *args: Any, what: str, attempts: int = 5, **kw: Any
    ) -> Any:
        raise NotImplementedError

    def _safe(self, exc: BaseException) -> str:
        raise NotImplementedError

    def _make_exchange(self) -> Any:
        raise NotImplementedError

    def _remember_forced(self, raw: dict[str, Any]) -> None:
        raise NotImplementedError

    # -- another account's trades (a copy-trading leader, read-only) --------------------------------

    async def open_account(self) -> None:
        """Load the exchange and its markets to read the account only: no streams, no orders."""
        self._ex = self._make_exchange()
        await self._rest(self._ex.load_markets, what="load markets")

    async def fetch_account_trades(self, symbol: str, since: datetime) -> list[Fill]:
        """Every trade of the account in `symbol` from `since`, whoever placed it (a leader's
        account read with a read-only key): the fills name the venue's order id, not ours."""
        trades = await self._my_trades(symbol, int(since.timestamp() * 1000))
        out = [convert.fill(self.name, t, str(t.get("order") or t["id"])) for t in trades.values()]
        return sorted(out, key=lambda f: f.ts)

    async def _poll_fills(self) -> list[dict[str, Any]]:
        """Our new trades over REST, for exchanges with an order stream but no fills stream:
        at once after an order update, else every poll interval. Returns only when there are
        new ones (an empty poll is no sign of life for the stall watchdog)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._fills_due.wait(), self.settings.poll_interval_s)
            self._fills_due.clear()
            fresh: list[dict[str, Any]] = []
            for symbol in dict.fromkeys([*self.settings.symbols, *self._symbol_by_cid.values()]):
                since = self._fills_since.get(symbol)
                try:
                    page = await self._rest(
                        self._ex.fetch_my_trades, symbol, since, FILLS_PAGE, what="poll fills"
                    )
                except VenueError as exc:  # the next poll, or reconciliation, catches up
                    log.warning("%s: %s", self.name, exc)
                    continue
                new = [t for t in page if str(t["id"]) not in self._fills_polled]
                self._fills_polled.update(str(t["id"]) for t in new)
                stamps = [int(t.get("timestamp") or 0) for t in page]
                if stamps:  # venue timestamps are not strictly increasing: keep a minute back
                    self._fills_since[symbol] = max(since or 0, max(stamps) - 60_000)
                fresh += new
            if fresh:
                return fresh

    async def fetch_open_orders(self) -> list[VenueOrder]:
        import ccxt

        if not self._credentials.api_key:
            return []
        try:
            raw = await self._rest(self._ex.fetch_open_orders, what="fetch open orders")
        except VenueError as exc:
            if "ArgumentsRequired" not in str(exc) and "symbol" not in str(exc):
                raise
            raw = []
            for symbol in self.settings.symbols:
                raw += await self._rest(
                    self._ex.fetch_open_orders, symbol, what="fetch open orders"
                )
        except ccxt.BaseError as exc:  # pragma: no cover
            raise VenueError(self._safe(exc)) from None
        out = [convert.venue_order(o) for o in raw]
        for vo in out:
            if vo.venue_order_id:
                self._cid_by_vid[vo.venue_order_id] = vo.client_order_id
            self._symbol_by_cid[vo.client_order_id] = vo.symbol
        return out

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrder | None:
        import ccxt

        _, param = exchanges.client_id_params(self.exchange_id)
        if not param or self.exchange_id in exchanges.FIND_BY_CLIENT_ID:
            return await self._find_in_recent_orders(client_order_id, symbol)
        try:
            raw = await self._ex.fetch_order("", symbol, {param: client_order_id})
        except ccxt.OrderNotFound:
            return None
        except ccxt.BaseError as exc:
            if "does not exist" in str(exc) or "-2013" in str(exc):
                return None
            raise VenueError(f"{self.name}: fetch order: {self._safe(exc)}") from None
        return convert.venue_order(raw)

    async def _find_in_recent_orders(self, client_order_id: str, symbol: str) -> VenueOrder | None:
        """Exchanges that look orders up by their own id only (coinbase): our order among the
        symbol's most recent ones, open or done (a just-sent order is always among them)."""
        listings = exchanges.FIND_BY_CLIENT_ID.get(self.exchange_id)
        for method in listings or ("fetch_orders",):
            params = {"clientOrderId": client_order_id} if listings else {}
            raw = await self._rest(
                getattr(self._ex, method), symbol, None, None, params, what="find order"
            )
            for o in raw:
                if o.get("clientOrderId") == client_order_id:
                    return convert.venue_order(o)
        return None

    async def fetch_fills(self, since: datetime | None = None) -> list[Fill]:
        """Every fill from `since` (venue time; None: the whole history), page by page.

        Pages walk forward by timestamp from `since`; with no `since` the newest page is asked
        for too, in case the exchange limits how far back a start time may reach.
        """
        if not self._credentials.api_key:
            return []
        symbols = dict.fromkeys([*self.settings.symbols, *self._symbol_by_cid.values()])
        out: list[Fill] = []
        for symbol in symbols:
            since_ms = 0 if since is None else int(since.timestamp() * 1000)
            trades = await self._my_trades(symbol, since_ms)
            for exec_type in exchanges.FORCED_EXEC_TYPES.get(self.exchange_id, ()):
                # the venue's own fills (liquidation, ADL) that ccxt's trade history leaves out
                trades.update(await self._my_trades(symbol, since_ms, {"execType": exec_type}))
            if since is None:
                newest = await self._rest(
                    self._ex.fetch_my_trades,
                    symbol,
                    None,
                    exchanges.fills_paging(self.exchange_id)[0],
                    what="fetch fills",
                )
                trades.update({str(t["id"]): t for t in newest})
            for t in trades.values():
                cid = await self._client_id_of(t, symbol)
                if cid:
                    out.append(convert.fill(self.name, t, cid))
        return sorted(out, key=lambda f: f.ts)

    async def _my_trades(
        self, symbol: str, since_ms: int, extra: dict[str, Any] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Our trades in `symbol` from `since_ms` on, by trade id, paginating forward (`extra`:
        the venue's own request parameters)."""
        page_size, older = exchanges.fills_paging(self.exchange_id)
        if older is not None:
            return await self._my_trades_newest_first(symbol, since_ms, page_size, *older, extra=extra)
        trades: dict[str, dict[str, Any]] = {}
        cursor = since_ms
        while True:
            page = await self._rest(
                self._ex.fetch_my_trades, symbol, cursor, page_size, what="fetch fills"
            )
            fresh = [t for t in page if str(t["id"]) not in trades]
            trades.update({str(t["id"]): t for t in fresh})
            if len(page) < page_size:
                return trades
            last = max(int(t.get("timestamp") or 0) for t in page)
            if not fresh or last <= cursor:  # a page of one millisecond: cannot move on by time
                log.warning(
                    "%s: more than %d fills of %s at one timestamp; fills paged from %d",
                    self.name, page_size, symbol, since_ms,
                )
                return trades
            cursor = last  # the same millisecond again: ids dedupe what we already have

    async def _my_trades_newest_first(
        self, symbol: str, since_ms: int, page_size: int, param: str, key: str, extra: dict[str, Any] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Exchanges that answer the newest page from `since` (okx): walk to older trades with
        their cursor (`param` = the smallest `info[key]` of the page) until a short page."""
        trades: dict[str, dict[str, Any]] = {}
        params: dict[str, Any] = dict(extra or {})
        offset = 0
        while True:
            page = await self._rest(
                # since 0 (all history) asks for the newest page: bybit reads startTime=0 as
                # the 7 days after 1970
                self._ex.fetch_my_trades, symbol, since_ms or None, None, params,
                what="fetch fills",
            )
            fresh = [t for t in page if str(t["id"]) not in trades]
            trades.update({str(t["id"]): t for t in fresh})
            # bybit (via ccxt) puts its page cursor on the first trade only
            cursors = [c for t in page if (c := str((t.get("info") or {}).get(key) or ""))]
            if not key:  # kraken: no cursor; `param` is an offset into the newest-first list
                offset += len(page)
                cursors = [str(offset)]
            if len(page) < page_size or not fresh or not cursors:
                return trades
            params = {**(extra or {}), param: min(cursors, key=lambda c: (len(c), c))}  # numeric strings

    async def _client_id_of(self, trade: dict[str, Any], symbol: str) -> str | None:
        """Trades name the venue order id only; an unknown one is looked up (errors propagate:
        the reconcile is then incomplete and runs again after the next reconnect)."""
        vid = None if trade.get("order") is None else str(trade["order"])
        if not vid:
            return None
        cid = self._cid_by_vid.get(vid) or (trade.get("info") or {}).get(
            exchanges.client_id_params(self.exchange_id)[1]  # okx trades carry clOrdId
        )
        if not cid:  # bybit's trades say orderLinkId "" for orders without one
            raw = await self._rest(self._ex.fetch_order, vid, symbol, what="fetch order")
            self._remember_forced(raw)  # a liquidation or ADL the stream did not deliver
            cid = raw.get("clientOrderId") or self._cid_by_vid.get(vid) or None
            if cid:
                self._cid_by_vid[vid] = cid
        return cid
