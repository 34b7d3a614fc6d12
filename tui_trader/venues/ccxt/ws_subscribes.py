"""Websocket subscribes sent one message per channel, under the venue's message rate limit.

Coinbase Advanced Trade limits the websocket messages a client sends without a JWT (subscribe,
unsubscribe: market data) to 8 a second per IP address ("Advanced Trade WebSocket Rate
Limits"); a subscribe names one channel and a list of product_ids ("Advanced Trade WebSocket
Overview"). What Coinbase does past the limit is not documented (an error answer, or a closed
socket). ccxt.pro's coinbase (4.5.90) sends one subscribe per watch, one per symbol and
channel: 30 at once for 10 symbols, at the start and at every reconnect.

`SubscribeSender` sends them instead: the public subscribes asked for within `WINDOW_S` of each
other go as one message per channel naming every product, and no more than `PER_SECOND`
messages leave in any second (the user channel's, signed, go through it too, to keep the
socket's order of answers). A batch the venue refuses is sent again one product a message
(paced likewise), so that one refused product (a delisting) does not take the others down;
only a subscribe of one product is given its refusal (`ws_refusals`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass
from typing import Any

WINDOW_S = 0.05  # the streams started together ask for their subscribes within this
PER_SECOND = 6  # under Coinbase's 8: its second is measured on arrival, ours on sending


@dataclass(frozen=True)
class Sent:
    """One subscribe message on a socket: each subscription it carries and that one's
    products."""

    channel: str
    parts: tuple[tuple[str, tuple[str, ...]], ...]  # (subscribe hash, product ids)
    signed: dict[str, Any] | None = None  # the user channel's message as ccxt signed it

    @property
    def products(self) -> tuple[str, ...]:
        return tuple(p for _, products in self.parts for p in products)

    def message(self) -> dict[str, Any]:
        return self.signed or {"type": "subscribe", "product_ids": list(self.products), "channel": self.channel}


class SubscribeSender:
    """Per exchange client (one IP): the pace is shared by its sockets, old and new."""

    def __init__(self, per_second: int = PER_SECOND, window_s: float = WINDOW_S) -> None:
        self.per_second = per_second
        self.window_s = window_s
        self._sent_at: deque[float] = deque()

    def add(self, client: Any, channel: str, subscribe_hash: str, products: tuple[str, ...], signed: Any) -> None:
        """A subscribe to send on `client`'s socket: with the others of its channel (public),
        or alone (`signed`: the user channel's)."""
        pending = _pending(client)
        key = f"{channel}|{subscribe_hash}" if signed else channel
        entry = pending.get(key)
        parts = ((subscribe_hash, products),)
        pending[key] = Sent(channel, (entry.parts if entry else ()) + parts, signed or None)
        self._flush_soon(client)

    def resend_alone(self, client: Any, refused: Sent) -> None:
        """A refused batch: each of its subscriptions again, one message each."""
        pending = _pending(client)
        for subscribe_hash, products in refused.parts:
            pending[f"{refused.channel}|{subscribe_hash}"] = Sent(refused.channel, ((subscribe_hash, products),))
        self._flush_soon(client)

    def _flush_soon(self, client: Any) -> None:
        task = getattr(client, "tt_flush", None)
        if task is None or task.done():
            client.tt_flush = asyncio.ensure_future(self._flush(client))

    async def _flush(self, client: Any) -> None:
        with contextlib.suppress(Exception):  # a socket that did not open: ccxt rejects its watches
            await client.connected
            await asyncio.sleep(self.window_s)  # the other streams' subscribes of this moment join
            pending = _pending(client)
            while pending:
                await self._slot()
                if not pending or client.closed():
                    return
                sent = pending.pop(next(iter(pending)))
                unanswered(client).append(sent)
                try:
                    await client.send(sent.message())
                except Exception as exc:  # as ccxt's own send: the socket's error, every watch hears it
                    client.on_error(exc)
                    return

    async def _slot(self) -> None:
        """Wait until one more message keeps every second at `per_second` or fewer."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self._sent_at and now - self._sent_at[0] >= 1.0:
                self._sent_at.popleft()
            if len(self._sent_at) < self.per_second:
                self._sent_at.append(now)
                return
            await asyncio.sleep(1.0 - (now - self._sent_at[0]) + 0.01)


def _pending(client: Any) -> dict[str, Sent]:
    if not hasattr(client, "tt_pending"):
        client.tt_pending = {}
    pending: dict[str, Sent] = client.tt_pending
    return pending


def unanswered(client: Any) -> deque[Sent]:
    """The subscribes sent on `client`'s socket not answered yet, oldest first."""
    if not hasattr(client, "tt_unanswered"):
        client.tt_unanswered = deque()
    queue: deque[Sent] = client.tt_unanswered
    return queue
