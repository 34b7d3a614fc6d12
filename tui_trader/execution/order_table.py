"""The OMS's orders by client order id: every open order, plus the most recent final ones."""

from __future__ import annotations

from tui_trader.core.orders import Order

KEEP_FINAL = 1000


class OrderTable(dict[str, Order]):
    """A dict of orders that keeps an index of the open ones and forgets old final ones.

    Every order is checked against risk limits that look at all open orders, several times
    per order: a scan of the whole history there made each order slower than the last (2 ms
    per order after 7,000 orders). `open()` costs the number of open orders instead. Orders
    change status in place, so the index is cleaned as it is read. Final orders beyond the
    newest `keep_final` are dropped from memory; the database keeps every one.
    """

    def __init__(self, keep_final: int = KEEP_FINAL) -> None:
        super().__init__()
        self.keep_final = keep_final
        self._open: dict[str, Order] = {}
        # final orders by when they were last stored final, oldest first (a dict: an order
        # stored again moves to the end, and nothing here is a scan)
        self._final: dict[str, None] = {}

    def __setitem__(self, client_order_id: str, order: Order) -> None:
        super().__setitem__(client_order_id, order)
        if order.is_open:
            self._open[client_order_id] = order
        else:
            self._open.pop(client_order_id, None)
            self._retire(client_order_id)

    def forget(self, client_order_id: str) -> None:
        """Drop an order whose write failed (it never existed as far as anyone knows)."""
        self._open.pop(client_order_id, None)
        if client_order_id in self:
            super().__delitem__(client_order_id)

    def open(self) -> list[Order]:
        """The open orders, oldest first."""
        out: list[Order] = []
        for cid, order in list(self._open.items()):
            if order.is_open:
                out.append(order)
            else:
                del self._open[cid]
                self._retire(cid)
        return out

    def _retire(self, client_order_id: str) -> None:
        self._final.pop(client_order_id, None)
        self._final[client_order_id] = None
        while len(self._final) > self.keep_final:
            old = next(iter(self._final))
            del self._final[old]
            order = self.get(old)
            if order is not None and not order.is_open:
                super().__delitem__(old)
