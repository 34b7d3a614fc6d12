"""Websocket subscribes sent in batches, under the venue's limits on the messages a client sends.

Coinbase Advanced Trade limits the websocket messages a client sends without a JWT (subscribe,
unsubscribe: market data) to 8 a second per IP address ("Advanced Trade WebSocket Rate
Limits"); a subscribe names one channel and a list of product_ids ("Advanced Trade WebSocket
Overview"). What Coinbase does past the limit is not documented (an error answer, or a closed
socket). ccxt.pro's coinbase (4.5.90) sends one subscribe per watch, one per symbol and
channel: 30 at once for 10 symbols, at the start and at every reconnect.

KuCoin (its "Rate Limit" page, Websocket Rate Limit) takes 100 messages per 10 seconds from a
connection, at most 100 topics in one subscribe (`/market/snapshot:BTC-USDT,ETH-USDT` is two)
and 400 topics on a (spot) connection; past them it answers 509 errors (its websocket error
codes page). ccxt.pro's kucoin (4.5.90) sends one subscribe per watch, one per symbol and
stream: 120 at once for 30 symbols with candles, at the start and at every reconnect
(`kucoin_ws` sends them through here).

`SubscribeSender` sends them instead: the public subscribes asked for within `WINDOW_S` of each
other go as one message per channel naming every product (at most `Limits.topics_per_message`
a message), and no more than `Limits.messages` leave in any `Limits.window_s` (per client, one
IP, or per socket where the venue counts per connection). Coinbase's user channel's, signed, go
through it too, to keep the socket's order of answers. A batch the venue refuses is sent again
one product a message (paced likewise), so that one refused product (a delisting) does not
take the others down; only a subscribe of one product is given its refusal (`ws_refusals`,
`kucoin_ws`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

WINDOW_S = 0.05  # the streams started together ask for their subscribes within this


@dataclass(frozen=True)
class Limits:
    """What a venue takes: `messages` in any `window_s`, counted per client (one IP) or per
    socket; at most `topics_per_message` products in one subscribe (0: no such limit)."""

    messages: int
    window_s: float
    per_socket: bool = False
    topics_per_message: int = 0


COINBASE = Limits(6, 1.0)  # under Coinbase's 8 a second: its second is measured on arrival, ours on sending
KUCOIN = Limits(90, 10.0, per_socket=True, topics_per_message=100)  # 100 per 10 s: room for pings


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


def coinbase_message(client: Any, sent: Sent) -> dict[str, Any]:
    return sent.signed or {"type": "subscribe", "product_ids": list(sent.products), "channel": sent.channel}


class SubscribeSender:
    """Per exchange client: the pace is shared by its sockets, old and new (`Limits.per_socket`:
    each socket has its own). `compose` writes a batch's message in the venue's words."""

    def __init__(
        self,
        limits: Limits = COINBASE,
        compose: Callable[[Any, Sent], dict[str, Any]] = coinbase_message,
        window_s: float = WINDOW_S,
    ) -> None:
        self.limits = limits
        self.compose = compose
        self.window_s = window_s
        self._sent_at: deque[float] = deque()

    def add(self, client: Any, channel: str, subscribe_hash: str, products: tuple[str, ...], signed: Any) -> None:
        """A subscribe to send on `client`'s socket: with the others of its channel (public),
        or alone (`signed`: the user channel's)."""
        pending = _pending(client)
        key = f"{channel}|{subscribe_hash}" if signed else self._batch(pending, channel, len(products))
        entry = pending.get(key)
        parts = ((subscribe_hash, products),)
        pending[key] = Sent(channel, (entry.parts if entry else ()) + parts, signed or None)
        self._flush_soon(client)

    def _batch(self, pending: dict[str, Sent], channel: str, more: int) -> str:
        """The key of the batch of `channel` with room for `more` products."""
        n, cap = 0, self.limits.topics_per_message
        while cap and (entry := pending.get(f"{channel}#{n}")) and len(entry.products) + more > cap:
            n += 1
        return f"{channel}#{n}"

    def resend(self, client: Any, sent: Sent) -> None:
        """A batch refused for the pace (not for what it asks): again, whole."""
        _pending(client)[f"{sent.channel}|{sent.parts[0][0]}"] = sent
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
                await self._slot(client)
                if not pending or client.closed():
                    return
                sent = pending.pop(next(iter(pending)))
                unanswered(client).append(sent)
                try:
                    await client.send(self.compose(client, sent))
                except Exception as exc:  # as ccxt's own send: the socket's error, every watch hears it
                    client.on_error(exc)
                    return

    async def _slot(self, client: Any) -> None:
        """Wait until one more message keeps every window at `limits.messages` or fewer."""
        loop = asyncio.get_running_loop()
        limits = self.limits
        sent_at = _deque(client, "tt_sent_at") if limits.per_socket else self._sent_at
        while True:
            now = loop.time()
            while sent_at and now - sent_at[0] >= limits.window_s:
                sent_at.popleft()
            if len(sent_at) < limits.messages:
                sent_at.append(now)
                return
            await asyncio.sleep(limits.window_s - (now - sent_at[0]) + 0.01)


def _pending(client: Any) -> dict[str, Sent]:
    if not hasattr(client, "tt_pending"):
        client.tt_pending = {}
    pending: dict[str, Sent] = client.tt_pending
    return pending


def _deque(client: Any, name: str) -> deque[Any]:
    if not hasattr(client, name):
        setattr(client, name, deque())
    queue: deque[Any] = getattr(client, name)
    return queue


def unanswered(client: Any) -> deque[Sent]:
    """The subscribes sent on `client`'s socket not answered yet, oldest first."""
    return _deque(client, "tt_unanswered")
