"""KuCoin's public subscribes, batched and paced under KuCoin's websocket limits.

KuCoin's "Rate Limit" page (Websocket Rate Limit): a connection sends at most 100 messages per
10 seconds, names at most 100 topics in one subscribe, and holds at most 400 topics (spot; older
versions said 300). Its websocket error codes page gives the answers past them: 509 "exceed max
subscription count limitation of 100 per time" (one subscribe), "... of 300 per session" (the
connection), "exceed max permits per second" (listed without saying which limit it answers).
ccxt.pro's kucoin (4.5.90) sends one subscribe per symbol and stream (ticker, book, trades,
each candle timeframe), all at once at the start and at every reconnect, and raises an error
answer out of its receive loop, where no stream hears it and the socket stops reading: 30
symbols with candles (120 messages) was a reconnect loop with no market data at all.

`batch_public_subscribes` sends them through a `SubscribeSender` instead: one message per
channel naming every symbol asked for together (`/market/level2:BTC-USDT,ETH-USDT,...`, at
most 100 topics), at most 90 messages per 10 s on a socket. KuCoin acknowledges a message by
its id: the batch's ack is handed to ccxt as an ack of each subscribe it carried (ccxt readies
each order book at its ack). A batch KuCoin refuses for the pace is sent again whole; for what
it asks (a topic refused), each symbol again alone; a subscribe of one symbol refused is that
stream's `SubscriptionRefused` (it subscribes again on its own backoff), the socket reading on.
The private channel (own orders, on its own socket) is left to ccxt. The 400 topics a socket
holds are checked at the start (`too_many_topics`): ccxt.pro's kucoin opens one public socket
for all (its token, negotiated once), and spreading them over more is not something it does.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from tui_trader.venues.ccxt.ws_refusals import SubscriptionRefused
from tui_trader.venues.ccxt.ws_subscribes import KUCOIN, Sent, SubscribeSender, unanswered

log = logging.getLogger(__name__)

TOPICS_PER_SOCKET = 400  # KuCoin's limit for a spot connection (its "Rate Limit" page)
PACE_REFUSED = "exceed max permits"  # KuCoin's 509 for messages sent too fast (its error codes page)


def too_many_topics(venue: str, symbols: int, per_symbol: int, listed: bool) -> str | None:
    """The line refusing a start that would subscribe more topics than KuCoin's public socket
    holds (`per_symbol`: the streams watched for each symbol; `listed`: the symbols are the
    venue's `symbols`, not every market); None if they fit."""
    if symbols * per_symbol <= TOPICS_PER_SOCKET:
        return None
    which = "" if listed else " (none listed: every market kucoin lists)"
    return (
        f"venues.{venue}.symbols: {symbols} symbols{which} are {symbols * per_symbol} websocket topics "
        f"({per_symbol} a symbol: ticker, book, trades and each candle timeframe); KuCoin takes at most "
        f"{TOPICS_PER_SOCKET} on a connection: list at most {TOPICS_PER_SOCKET // per_symbol} symbols "
        "(or fewer candle timeframes)"
    )


def _by_id(client: Any) -> dict[str, Sent]:
    if not hasattr(client, "tt_batches"):
        client.tt_batches = {}
    batches: dict[str, Sent] = client.tt_batches
    return batches


def _streams(client: Any) -> dict[str, str]:
    """Each subscription (ccxt's subscribe hash, the topic) -> the stream watching it."""
    if not hasattr(client, "tt_streams"):
        client.tt_streams = {}
    streams: dict[str, str] = client.tt_streams
    return streams


def batch_public_subscribes(ex: Any, venue: str) -> None:
    """Hook ccxt's `watch` and `watch_multiple` (public subscribes go through a sender, nothing
    sent by ccxt) and its `handle_message` (KuCoin's answers to our batches)."""
    watch, watch_multiple, handle = ex.watch, ex.watch_multiple, ex.handle_message

    def compose(client: Any, sent: Sent) -> dict[str, Any]:
        request_id = str(ex.request_id())
        _by_id(client)[request_id] = sent
        topic = f"{sent.channel}:{','.join(sent.products)}"
        return {"id": request_id, "type": "subscribe", "topic": topic, "privateChannel": False, "response": True}

    sender = SubscribeSender(KUCOIN, compose)

    def public(message: Any) -> bool:
        return (
            isinstance(message, dict) and message.get("type") == "subscribe" and not message.get("privateChannel")
        )

    def send(client: Any, pairs: list[tuple[str, str]]) -> None:
        for subscribe_hash, message_hash in pairs:
            channel, _, product = subscribe_hash.partition(":")
            _streams(client)[subscribe_hash] = message_hash
            sender.add(client, channel, subscribe_hash, (product,), None)

    def watching(url: str, message_hash: Any, message: Any = None, subscribe_hash: Any = None, *rest: Any) -> Any:
        client = ex.client(url)
        if not public(message) or client.subscriptions.get(subscribe_hash):
            return watch(url, message_hash, message, subscribe_hash, *rest)
        future = watch(url, message_hash, None, subscribe_hash, *rest)  # subscribed, nothing sent
        send(client, [(subscribe_hash, message_hash)])
        return future

    def watching_multiple(url: str, message_hashes: Any, message: Any = None, subscribe_hashes: Any = None,
                          *rest: Any) -> Any:  # fmt: skip
        client = ex.client(url)
        pairs = list(zip(subscribe_hashes or (), message_hashes, strict=False))
        missing = [(s, m) for s, m in pairs if s not in client.subscriptions]
        if not public(message) or not missing:
            return watch_multiple(url, message_hashes, message, subscribe_hashes, *rest)
        future = watch_multiple(url, message_hashes, None, subscribe_hashes, *rest)
        send(client, missing)
        return future

    def refused(client: Any, sent: Sent, answer: str) -> None:
        if PACE_REFUSED in answer:
            log.info("%s refused a subscribe for the pace (%s): sending it again", venue, answer)
            sender.resend(client, sent)
        elif len(sent.parts) > 1:  # one topic of several may be why: each is asked for alone
            log.info("%s refused a subscribe of %d topics (%s): each alone now", venue, len(sent.parts), answer)
            sender.resend_alone(client, sent)
        else:
            subscribe_hash = sent.parts[0][0]
            message_hash = _streams(client).pop(subscribe_hash, subscribe_hash)
            for key in [k for k, v in list(client.subscriptions.items()) if v == subscribe_hash]:
                client.subscriptions.pop(key)  # ccxt's request id for it: no ack to come
            client.subscriptions.pop(subscribe_hash, None)  # so that watching it again subscribes again
            kind, _, symbol = message_hash.partition(":")
            client.reject(SubscriptionRefused(f"the {kind} subscription for {symbol}", answer), message_hash)

    def heard(client: Any, message: Any) -> Any:
        answer = message.get("type") if isinstance(message, dict) else None
        sent = _by_id(client).pop(str(message.get("id")), None) if answer in ("ack", "error") else None
        if sent is None:
            return handle(client, message)
        with contextlib.suppress(ValueError):
            unanswered(client).remove(sent)
        if answer == "error":
            return refused(client, sent, f"{message.get('code')} {message.get('data')}")
        for subscribe_hash, _ in sent.parts:  # ccxt's own request ids for them: each its ack
            for request_id in [k for k, v in list(client.subscriptions.items()) if v == subscribe_hash]:
                handle(client, {"id": request_id, "type": "ack"})
        return None

    ex.watch = watching
    ex.watch_multiple = watching_multiple
    ex.handle_message = heard
