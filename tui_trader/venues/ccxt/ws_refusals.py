"""A venue's refusal of a websocket subscription, heard by the subscription it refuses, where
ccxt.pro loses it.

Coinbase (`hear_shared_socket_refusals`; its subscribes are sent by `ws_subscribes`, one
message per channel, under its message rate limit): ccxt.pro's coinbase (4.5.90) raises every
{"type": "error", "message": ...} Coinbase sends out of its receive loop
(`coinbase.handle_message`), where no stream hears it and the socket stops reading: its one
socket carries every channel (market data of every symbol and the user channel), so one refused
subscription made the whole venue deaf, until our watchdog reconnected it whole, into the same
refusal. Coinbase documents the error's shape, not its words, and it names neither channel nor
product. We take it that Coinbase answers a socket's subscribes in the order they came (a
"subscriptions" message for each one taken, an error for one refused: not documented, reported
by others who watched its socket). So an error belongs to the oldest subscribe still unanswered
on its socket (or to the one whose product the error names), and is given to that subscription
alone, as a `SubscriptionRefused`: the stream is subscribed again on its own backoff, the rest
of the socket flowing on. A refused message of several products is sent again one product a
message first: only a refused product's own subscribe is its refusal.
"Authentication failure" on the user channel stays the keys' (every private stream refused).

Kraken (`hear_refusals_by_request_id`): ccxt.pro's kraken (4.5.90) rejects a refused
subscribe by its `req_id`, a future nobody awaits; the watches on the subscription wait for ever.
On the private socket ("ESession:Invalid session" for a token Kraken no longer takes) our orders
and fills looked subscribed while nothing would ever come: every watch on that socket gets the
refusal (they wait on its one `executions` subscription). On the public socket ("Currency pair
not supported ETH/USDT" for a pair delisted since the markets were read) that stream went
silent, and the watchdog reconnected the venue for ever into the same refusal: the watch that
sent the request gets a `SubscriptionRefused`, and is subscribed again alone, as on Coinbase.
"""

from __future__ import annotations

import logging
from typing import Any

from tui_trader.venues.ccxt import exchanges
from tui_trader.venues.ccxt.errors import is_auth_error
from tui_trader.venues.ccxt.ws_subscribes import SubscribeSender, unanswered

log = logging.getLogger(__name__)


class SubscriptionRefused(Exception):
    """The venue refused one subscription (`what`: "the ticker subscription for ETH/USD") on a
    socket it shares with others, saying `answer`."""

    def __init__(self, what: str, answer: str) -> None:
        super().__init__(f"{what}: {answer}")
        self.what = what
        self.answer = answer


def _what(message_hash: str) -> str:
    """ "ticker::ETH/USD" (coinbase), "ticker@ETH/USDT" (kraken): the ticker subscription for ..."""
    for separator in ("::", "@"):
        channel, found, symbol = message_hash.partition(separator)
        if found:
            return f"the {channel} subscription for {symbol}"
    return f"the {message_hash} subscription"


def hear_shared_socket_refusals(ex: Any, venue: str) -> None:
    """Hook ccxt's `watch` (to send each subscribe through a `SubscribeSender`, which notes
    them, in order, per socket) and its `handle_message` (to give an error answer to the
    subscription it refuses)."""
    watch = ex.watch
    handle = ex.handle_message
    private = exchanges.WS_REFUSAL_RAISED.get(ex.id, ())
    sender = SubscribeSender()

    def watching(url: str, message_hash: Any, message: Any = None, subscribe_hash: Any = None, *rest: Any) -> Any:
        client = ex.client(url)
        subscribing = isinstance(message, dict) and message.get("type") == "subscribe"
        if not subscribing or client.subscriptions.get(subscribe_hash):
            return watch(url, message_hash, message, subscribe_hash, *rest)
        future = watch(url, message_hash, None, subscribe_hash, *rest)  # subscribed, nothing sent
        products = tuple(message.get("product_ids") or ())
        signed = message if "jwt" in message else None
        sender.add(client, str(message.get("channel")), subscribe_hash, products, signed)
        return future

    def heard(client: Any, message: Any) -> Any:
        if isinstance(message, dict) and message.get("type") == "error":
            refused(client, message)
            return None
        if isinstance(message, dict) and message.get("channel") == "subscriptions" and unanswered(client):
            unanswered(client).popleft()
        return handle(client, message)

    def refused(client: Any, message: dict[str, Any]) -> None:
        import ccxt

        answer = " ".join(str(message[k]) for k in ("message", "reason") if message.get(k)) or "unknown error"
        queue = unanswered(client)
        exc = ccxt.ExchangeError(answer)  # what ccxt raises, for ccxt's reading of the words
        if is_auth_error(exc):  # the user channel's keys: every private stream hears it
            for sent in [s for s in queue if s.channel in private]:
                queue.remove(sent)
            for message_hash in [h for h in client.futures if h.split("::")[0] in private]:
                client.reject(exc, message_hash)
            return
        named = [s for s in queue if any(p and p in answer for p in s.products)]
        if not (named or queue):
            log.warning("%s said %r on its socket, answering none of our subscriptions: carrying on", venue, answer)
            return
        sent = (named or queue)[0]
        queue.remove(sent)
        if len(sent.parts) > 1:  # one product of several may be why: each is asked for alone
            log.info("%s refused a subscribe of %d products (%s): each alone now", venue, len(sent.parts), answer)
            sender.resend_alone(client, sent)
            return
        subscribe_hash, _ = sent.parts[0]
        client.subscriptions.pop(subscribe_hash, None)  # so that watching it again subscribes again
        client.reject(SubscriptionRefused(_what(subscribe_hash), answer), subscribe_hash)

    ex.watch = watching
    ex.handle_message = heard


def hear_refusals_by_request_id(ex: Any) -> None:
    """Hook ccxt's `watch` and `watch_multiple` (to note which watches each request id
    subscribes) and its `handle_error_message` (to give a refusal to them)."""
    watch, watch_multiple, handle_error = ex.watch, ex.watch_multiple, ex.handle_error_message
    private = exchanges.PRIVATE_WS[ex.id]

    def requests(client: Any) -> dict[str, list[str]]:
        if not hasattr(client, "tt_requests"):
            client.tt_requests = {}
        sent: dict[str, list[str]] = client.tt_requests
        return sent

    def note(url: str, message_hashes: list[str], message: Any) -> None:
        if isinstance(message, dict) and message.get("req_id") is not None:
            requests(ex.client(url))[str(message["req_id"])] = message_hashes

    def watching(url: str, message_hash: Any, message: Any = None, *rest: Any) -> Any:
        note(url, [message_hash], message)
        return watch(url, message_hash, message, *rest)

    def watching_multiple(url: str, message_hashes: Any, message: Any = None, *rest: Any) -> Any:
        note(url, list(message_hashes), message)
        return watch_multiple(url, message_hashes, message, *rest)

    def heard(client: Any, message: Any) -> Any:
        result = handle_error(client, message)
        request_id = message.get("req_id", message.get("reqid")) if isinstance(message, dict) else None
        refusal = None if request_id is None else client.rejections.pop(str(request_id), None)
        hashes = requests(client).pop(str(request_id), [])
        if refusal is None:
            return result
        if private(client.url, ex.urls):
            client.reject(refusal)  # every future on this socket: they wait on its one subscription
            return result
        for message_hash in hashes:
            client.subscriptions.pop(message_hash, None)  # so that watching it again subscribes again
            client.reject(SubscriptionRefused(_what(message_hash), str(refusal)), message_hash)
        return result

    ex.watch = watching
    ex.watch_multiple = watching_multiple
    ex.handle_error_message = heard
