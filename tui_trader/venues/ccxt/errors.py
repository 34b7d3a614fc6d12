"""What a ccxt exception means for an order we sent, decided once, deliberately.

ccxt turns each exchange's answers into one exception hierarchy (ccxt/base/errors.py). For an
order submission the question is not "what went wrong" but "could the order exist now?":

ccxt raises -> what it means here -> the order:

- `DuplicateOrderId`, or `InvalidOrder` "Duplicate order sent." (Binance -2010) or
  "ClientOrderId is duplicated." (USDⓈ-M -4116) or "OrderLinkedID is duplicate" (Bybit 110072):
  our client id is on an order there -> it exists: look it up.
- `InvalidNonce` (-1021 "Timestamp ... outside of the recvWindow"): refused before matching
  -> not made: correct the clock, send once more.
- `DDoSProtection` / `RateLimitExceeded` (HTTP 418 / 429, -1003): refused by the limiter
  -> not made: wait for Retry-After.
- `AuthenticationError`, `PermissionDenied` (-2015, 401) -> not made (`auth_refusal`: what
  the trader is told).
- -2015 after the keys worked (ccxt: a `DDoSProtection`, "a temporary ban"): revoked keys or a
  ban, we cannot tell -> not made (`KEYS_REFUSED`), saying both.
- `InvalidOrder`, `InsufficientFunds`, `BadRequest`, `BadSymbol`, `OperationRejected` ...: the
  exchange refused it (-2010 insufficient balance, filter failures) -> not made.
- `RequestTimeout` (a timeout, 504, -1007 "execution status unknown") -> **unknown**.
- `ExchangeNotAvailable` (5xx, a reset connection, 400/403/404 without a JSON body). Binance:
  "do NOT treat 5XX as a failure, the execution status is UNKNOWN" -> **unknown**.
- `OperationFailed` / `BadResponse` (-1000, -1001, -1006 "execution status unknown")
  -> **unknown**.
- a plain `ExchangeError` (a code ccxt does not map, an aiohttp payload error) -> **unknown**.
- anything that is not a ccxt error -> **unknown**.

Streams are classified the same way, on the venue's own answer (`venue_answer`): ccxt.pro can
lose it to an error of its own raised while handling it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from enum import Enum
from typing import Any

from tui_trader.venues.ccxt import exchanges

CLOCK_WARN_MS = 1000  # a clock this far from the venue's is worth saying (and correcting)


class Outcome(Enum):
    EXISTS = "exists"  # the venue has an order with our client id
    CLOCK = "clock"  # refused for its timestamp: nothing was made
    RATE_LIMITED = "rate_limited"  # refused by the rate limiter: nothing was made
    AUTH = "auth"  # refused: bad keys or permissions
    KEYS_REFUSED = "keys_refused"  # refused for keys that worked before (revoked, or a ban)
    REFUSED = "refused"  # refused for the order itself: nothing was made
    UNKNOWN = "unknown"  # it may or may not exist


def submit_outcome(exc: BaseException) -> Outcome:
    """What an exception from `create_order` says about the order."""
    import ccxt

    if is_duplicate(exc):
        return Outcome.EXISTS
    if is_clock_error(exc):
        return Outcome.CLOCK
    if is_keys_refused(exc):
        return Outcome.KEYS_REFUSED
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return Outcome.RATE_LIMITED
    if is_auth_error(exc):
        return Outcome.AUTH
    if isinstance(exc, ccxt.ExchangeError) and type(exc) is not ccxt.ExchangeError:
        return Outcome.REFUSED  # a specific refusal ccxt mapped from the exchange's own code
    return Outcome.UNKNOWN


def is_duplicate(exc: BaseException) -> bool:
    import ccxt

    text = str(exc).lower()
    # Binance spot -2010 "Duplicate order sent."; USDⓈ-M -4116 "ClientOrderId is duplicated."
    # (ccxt maps the latter to a plain InvalidOrder: it is not a refusal of a new order)
    # Bybit 110072 "OrderLinkedID is duplicate" (ccxt: InvalidOrder), spot and linear alike
    return isinstance(exc, ccxt.DuplicateOrderId) or any(
        words in text for words in ("duplicate order", "clientorderid is duplicated", "orderlinkedid is duplicate")
    )


def is_auth_error(exc: BaseException) -> bool:
    import ccxt

    if is_session_refused(exc):
        return False
    return isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied) or any(
        text in str(exc) for text in exchanges.AUTH_ERROR_TEXTS
    )


def is_session_refused(exc: BaseException) -> bool:
    """The venue refused the websocket token it gave us (`exchanges.SESSION_REFUSED_TEXTS`):
    not the keys (ccxt reads it as bad keys); a new token is asked for."""
    return any(text in str(exc) for text in exchanges.SESSION_REFUSED_TEXTS)


def auth_refusal(venue: str, exchange_id: str, exc: BaseException, *, running: bool = False) -> str:
    """What a trader is told of a refusal `is_auth_error` reads as the keys': the venue's own
    line where its answer says more (`exchanges.AUTH_REFUSALS`), else `keys set`. On a
    `running` venue (a stream, an order), how it takes the fix: `venue reconnect`; else (the
    start failed) by starting again."""
    said = venue_refusal(venue, exchange_id, exc, running=running)
    if said is not None:
        return said
    then = f", then `tui-trader venue reconnect {venue}`" if running else ""
    return f"authentication failed; run `tui-trader keys set {venue}`{then}"


def venue_refusal(venue: str, exchange_id: str, exc: BaseException, *, running: bool = False) -> str | None:
    """The venue's own line for a refusal whose answer says more than "wrong keys"
    (`exchanges.AUTH_REFUSALS`: KuCoin's missing permission, its frozen account), or None."""
    again = f"run `tui-trader venue reconnect {venue}`" if running else "start tui-trader again"
    for pattern, line in exchanges.AUTH_REFUSALS.get(exchange_id, ()):
        if re.search(pattern, str(exc)):
            return line.format(venue=venue, again=again)
    return None


def is_keys_refused(exc: BaseException) -> bool:
    """The venue refused keys that had worked (`exchanges.KEYS_REFUSED_CODES`): revoked, or
    a temporary ban as ccxt reads it. Not `is_auth_error`: nothing says they are wrong for good."""
    text = str(exc)
    return not is_auth_error(exc) and any(
        re.search(rf'"code":\s*{code}\b', text) for code in exchanges.KEYS_REFUSED_CODES
    )


def keys_refused(venue: str) -> str:
    """What a trader is told when `is_keys_refused` (short enough for a stream's state)."""
    return (
        f"{venue} refused our keys (-2015) after they had worked: revoked, an IP not allowed, or "
        f"a ban; if it lasts: `tui-trader keys set {venue}`, `tui-trader venue reconnect {venue}`"
    )


def is_network_error(exc: BaseException) -> bool:
    import ccxt

    return isinstance(exc, ccxt.NetworkError)


def is_clock_error(exc: BaseException) -> bool:
    import ccxt

    if isinstance(exc, ccxt.ChecksumError):  # an order book checksum, not a clock
        return False
    return isinstance(exc, ccxt.InvalidNonce) or "recvWindow" in str(exc) or "-1021" in str(exc)


def venue_answer(exc: BaseException) -> BaseException:
    """The venue's answer behind an error ccxt raised while handling it; else `exc` itself.

    ccxt.pro's binance (4.5.90) loses its answer to a refused user-data subscribe
    (`userDataStream.subscribe.signature`): `handle_ws_error` deletes
    `client.subscriptions['spot']` (ccxt/pro/binance.py:5271), then the subscribe's own
    clean-up deletes it again (`ensure_user_data_stream_ws_subscribe_signature`, :2679) and
    raises `KeyError: 'spot'`, the venue's refusal (-2015 bad keys, -1021 clock) only its
    `__context__`. Only a ccxt error in that chain counts: anything else stays what it was."""
    import ccxt

    seen: BaseException | None = exc
    for _ in range(4):  # a chain is short; a cycle must not loop
        if seen is None:
            break
        if isinstance(seen, ccxt.BaseError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


def quiet_abandoned_futures(loop: asyncio.AbstractEventLoop) -> None:
    """ccxt rejects some futures nobody awaits: binance's marker for a user data stream
    subscribe in progress (`authenticate:signature:spot`), rejected when that subscribe fails
    (refused keys, a dropped socket). asyncio then logs each at ERROR, "Future exception was
    never retrieved", for a failure the stream's loop already handled and said. Those of ccxt's
    futures go to debug; anything else unhandled reaches the loop's handler as before."""
    previous = loop.get_exception_handler()
    if getattr(previous, "quiets_ccxt", False):
        return
    from ccxt.async_support.base.ws.future import Future as CcxtFuture

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if isinstance(context.get("future"), CcxtFuture) and context.get("exception") is not None:
            logging.getLogger(__name__).debug("ccxt future nobody awaited: %s", context.get("exception"))
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler.quiets_ccxt = True  # type: ignore[attr-defined]
    loop.set_exception_handler(handler)

