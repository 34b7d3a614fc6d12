"""What our Alpaca account did, asked over REST: open orders, one order by our id, fills.

Reconciliation (at start, after every reconnect, and while an order's outcome is unknown) and
the private stream's probe use these. Fill ids are the trade update's execution id (and the
same id inside a FILL activity), so a fill seen on the stream and again here counts once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tui_trader.core.clock import Clock
from tui_trader.core.fills import Fill
from tui_trader.venues.alpaca import convert
from tui_trader.venues.base import VenueError, VenueOrder

FILL_LOOKBACK = timedelta(days=7)  # reconciliation with no `since`: fills this far back


class AlpacaHistory:
    """Mixed into AlpacaVenue, whose REST wrapper and id maps it uses."""

    name: str
    clock: Clock
    _trading: Any
    _cid_by_vid: dict[str, str]
    _crypto_ids: dict[str, str]

    if TYPE_CHECKING:  # provided by AlpacaVenue

        async def _rest(self, fn: Any, *args: Any, what: str, attempts: int = 5) -> Any: ...

    async def fetch_open_orders(self) -> list[VenueOrder]:
        from alpaca.trading.enums import QueryOrderStatus
        from alpaca.trading.requests import GetOrdersRequest

        rows = await self._rest(self._trading.get_orders,
                                GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500),
                                what="fetch open orders")
        out = [convert.venue_order(o, self._crypto_ids) for o in rows]
        for vo in out:
            if vo.venue_order_id:
                self._cid_by_vid[vo.venue_order_id] = vo.client_order_id
        return out

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrder | None:
        """The order with our client id; None only when Alpaca answers 404 (a failed request
        raises: it is not a "not found")."""
        try:
            o = await self._rest(self._trading.get_order_by_client_id, client_order_id, what="fetch order")
        except VenueError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise
        return convert.venue_order(o, self._crypto_ids)

    async def fetch_fills(self, since: datetime | None = None) -> list[Fill]:
        """FILL activities (each carries the execution id our stream fills use)."""
        after = since or self.clock.now() - FILL_LOOKBACK
        rows: list[dict[str, Any]] = []
        params: dict[str, Any] = {"after": after.isoformat(), "direction": "asc", "page_size": 100}
        for _ in range(50):
            page = await self._rest(self._trading.get, "/account/activities/FILL", params, what="fetch fills")
            rows += page or []
            if not page or len(page) < params["page_size"]:
                break
            params["page_token"] = page[-1]["id"]
        unknown = {str(a.get("order_id")) for a in rows} - set(self._cid_by_vid)
        if unknown:
            await self._map_orders(after)
        out = []
        for a in rows:
            cid = self._cid_by_vid.get(str(a.get("order_id")))
            if cid:
                out.append(convert.fill_from_activity(self.name, a, cid, self._crypto_ids))
        return out

    async def _map_orders(self, after: datetime) -> None:
        """Activities name the venue order id only: learn client ids from the order list."""
        from alpaca.trading.enums import QueryOrderStatus
        from alpaca.trading.requests import GetOrdersRequest

        req = GetOrdersRequest(status=QueryOrderStatus.ALL, limit=500, after=after - timedelta(days=1))
        for o in await self._rest(self._trading.get_orders, req, what="fetch orders"):
            self._cid_by_vid[str(o.id)] = o.client_order_id
