"""What our Schwab account did, read over REST: orders, their executions, and our ids for them.

Schwab's order (GET .../orders/{id}) is the truth for its status and executions; the account
activity stream only tells us *that* something happened (`streams.py`), and we read the order.
Every execution is a fill whose id is `<order id>:<n>` (n counts the order's execution legs
in Schwab's order), so a fill read after a stream message and again by reconciliation counts
once. Reconciliation lists orders entered in the last 60 days (Schwab's limit for the list).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.core.clock import Clock
from tui_trader.core.enums import OrderStatus
from tui_trader.core.events import ExecutionReport
from tui_trader.core.fills import Fill
from tui_trader.venues.base import Emit, VenueError, VenueOrder
from tui_trader.venues.idmap import OrderIdMap
from tui_trader.venues.schwab import convert
from tui_trader.venues.seen import SeenIds
from tui_trader.venues.streams import StreamBoard

log = logging.getLogger(__name__)

LIST_WINDOW = timedelta(days=60)  # how far back Schwab lists orders
END_STATUS = {"filled": None, "canceled": OrderStatus.CANCELLED, "rejected": OrderStatus.REJECTED,
              "expired": OrderStatus.EXPIRED}  # fmt: skip


class SchwabHistory:
    """Mixed into SchwabVenue, whose REST helpers and id map it uses."""

    name: str
    clock: Clock
    ids: OrderIdMap
    account_hash: str
    streams: StreamBoard
    counters: dict[str, int]
    _client: Any
    _emit: Emit
    _orders: dict[str, dict[str, Any]]
    _working: dict[str, Decimal]
    _seen: SeenIds

    if TYPE_CHECKING:  # provided by SchwabVenue

        async def _call(self, fn: Any, *args: Any, what: str, attempts: int = 4) -> Any: ...

        async def _json(self, fn: Any, *args: Any, what: str) -> Any: ...

    # -- reading --------------------------------------------------------------------------------

    async def _list(self, since: datetime, status: str | None = None) -> list[dict[str, Any]]:
        now = self.clock.now()
        start = max(since, now - LIST_WINDOW + timedelta(minutes=1))
        params = {"fromEnteredTime": convert.iso(start), "toEnteredTime": convert.iso(now + timedelta(minutes=1))}
        if status:
            params["status"] = status
        rows = await self._json(self._client._get_request, f"/trader/v1/accounts/{self.account_hash}/orders",
                                params, what="list orders")  # fmt: skip
        out = [o for o in rows or [] if isinstance(o, dict)]
        for o in out:
            self._orders[convert.order_id(o)] = o
        return out

    async def _order_json(self, vid: str) -> dict[str, Any] | None:
        """One order by Schwab's id; None when Schwab answers 404 (a failure raises)."""
        resp = await self._call(self._client.get_order, vid, self.account_hash, what="get order")
        if resp.status_code == 404:
            return None
        if resp.status_code >= 400:
            raise VenueError(f"{self.name}: get order {vid}: HTTP {resp.status_code}")
        o = resp.json()
        self._orders[vid] = o
        return o

    def _cid(self, vid: str) -> str:
        return self.ids.cid_for(vid, self.name)

    # -- Venue protocol: reconciliation -----------------------------------------------------------

    async def fetch_open_orders(self) -> list[VenueOrder]:
        rows = await self._list(self.clock.now() - LIST_WINDOW)
        return [
            convert.venue_order(o, self._cid(convert.order_id(o))) for o in rows if convert.status_word(o) == "open"
        ]

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrder | None:
        """Our order at Schwab: by the id it was bound to, else (an answer lost) by matching its
        intent among the orders entered around the time it was sent. None: not found; an
        ambiguous match raises (the order stays unknown)."""
        vid = self.ids.vid_for(client_order_id) or self.ids.external_vid(client_order_id, self.name)
        if vid is None:
            intent = self.ids.intent(client_order_id)
            if intent is None:
                return None  # never sent from here (the engine settles it as never sent)
            rows = await self._list(intent.sent_at - timedelta(minutes=2))
            found = self.ids.match(intent, (convert.candidate(o) for o in rows))
            if len(found) > 1:
                raise VenueError(
                    f"{self.name}: {len(found)} orders at Schwab look like {client_order_id} (same symbol, side, "
                    "quantity, type and price, entered within seconds): it stays unknown; cancel the extra "
                    "ones at Schwab or here"
                )
            if not found:
                return None
            vid = found[0].venue_order_id
            self.ids.bind(client_order_id, vid)
            log.info("%s: %s found at Schwab as order %s (matched by what it is and when)",
                     self.name, client_order_id, vid)  # fmt: skip
        o = await self._order_json(vid)
        return None if o is None else convert.venue_order(o, client_order_id)

    async def fetch_fills(self, since: datetime | None = None) -> list[Fill]:
        """Executions of the orders Schwab lists (entered in the last 60 days), from `since`."""
        rows = await self._list(self.clock.now() - LIST_WINDOW)
        out: list[Fill] = []
        for o in rows:
            cid = self._cid(convert.order_id(o))
            out += [f for f in convert.fills(self.name, o, cid) if since is None or f.ts >= since]
        return out

    # -- applying what an order shows -------------------------------------------------------------

    def _apply(self, o: dict[str, Any]) -> None:
        """Report what is new about this order: fills never seen, and its end."""
        vid = convert.order_id(o)
        cid = self._cid(vid)
        self.streams.arrived("account", cid)
        for fill in convert.fills(self.name, o, cid):
            if not self._first_sighting(fill.fill_id):
                continue
            if cid in self._working:
                self._working[cid] += fill.quantity
            self._emit(ExecutionReport(self.name, cid, None, fill.ts, vid, None, fill))
        word = convert.status_word(o)
        if word == "open":
            if self.ids.is_ours(vid):
                self._working.setdefault(cid, convert.dec(o.get("filledQuantity")))
            return
        self._working.pop(cid, None)
        status = END_STATUS.get(word)
        if status is not None:
            reason = str(o.get("statusDescription") or f"schwab: {o.get('status')}")
            self._emit(ExecutionReport(self.name, cid, status, self.clock.now(), vid, reason))

    def _first_sighting(self, fill_id: str) -> bool:
        if self._seen.first(fill_id):
            return True
        self.counters["duplicate_fills"] += 1
        return False
