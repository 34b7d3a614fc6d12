"""Schwab's OAuth: the login that works over SSH, and clients whose tokens live in the keyring.

Schwab's Trader API is OAuth 2 (authorization code): an access token lasting 30 minutes,
refreshed with a refresh token that lasts 7 days, after which the trader logs in again. The
login is schwab-py's "manual flow", without a browser on this machine: we print the authorize
URL, the trader opens it anywhere, logs in, and pastes back the address the browser was sent
to (the callback URL with `?code=...`); we exchange the code for a token. The token (JSON, in
schwab-py's own format) goes to the keyring; every refresh writes it there again, never a file.

`url_override` sends every request meant for api.schwabapi.com (REST and the token endpoint)
to another host instead, for the loopback fake; schwab-py itself always names Schwab's host.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from tui_trader.venues.schwab.imports import quiet_authlib

quiet_authlib()  # before schwab-py (and authlib) are imported below

AUTHORIZE_URL = "https://api.schwabapi.com/v1/oauth/authorize"
TOKEN_URL = "https://api.schwabapi.com/v1/oauth/token"
SCHWAB_HOST = "api.schwabapi.com"
REFRESH_LIFETIME_S = 7 * 24 * 3600  # Schwab: a refresh token lasts 7 days
LEEWAY_S = 60  # refresh this long before the access token expires


def loopback_transport(url_override: str) -> Any:
    """An httpx transport that sends requests for Schwab's host to `url_override` instead."""
    import httpx

    target = urlsplit(url_override)

    class Redirected(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.host == SCHWAB_HOST:
                request.url = request.url.copy_with(scheme=target.scheme, host=target.hostname, port=target.port)
            return await super().handle_async_request(request)

    return Redirected()


def wrapped(token: dict[str, Any], created: int | None = None) -> str:
    """The token as schwab-py keeps it: the OAuth token and when the login happened."""
    return json.dumps({"creation_timestamp": int(created or time.time()), "token": token})


def unwrap(text: str) -> tuple[dict[str, Any], int]:
    raw = json.loads(text)
    if "creation_timestamp" not in raw:
        raise ValueError("not a schwab-py token")
    return raw["token"], int(raw["creation_timestamp"])


def login_left_s(token_text: str) -> float:
    """Seconds a stored login has left before its refresh token ends (7 days from the login;
    below 0: ended). Raises ValueError when the text is not a login `keys set` stored."""
    return unwrap(token_text)[1] + REFRESH_LIFETIME_S - time.time()


def unless_newer_stored(save: Callable[[str], None], stored: Callable[[], str | None]) -> Callable[[str], None]:
    """`save` for a refreshed token, unless the keyring already holds a newer login (`stored`:
    its token text): the trader logged in again with `keys set` while this session ran, and a
    refresh of the old login must not write over it (the next `venue reconnect` or restart would
    have used the old login, days nearer its end, and the new one was lost)."""

    def write(text: str) -> None:
        current = stored()
        if current:
            try:
                newer = unwrap(current)[1] > unwrap(text)[1]
            except ValueError:  # unreadable there: ours replaces it
                newer = False
            if newer:
                return
        save(text)

    return write


def make_client(
    app_key: str,
    app_secret: str,
    token_text: str,
    save: Callable[[str], None],
    *,
    url_override: str = "",
    timeout_s: float = 10.0,
) -> Any:
    """A schwab-py AsyncClient whose session refreshes its token and hands each new one to
    `save` (the keyring); `save` runs in a worker thread (the file keyring is slow by design)."""
    import asyncio

    from authlib.integrations.httpx_client import AsyncOAuth2Client
    from schwab.auth import TokenMetadata
    from schwab.client import AsyncClient

    token, created = unwrap(token_text)
    metadata = TokenMetadata(token, created, lambda wrapped_token, *a, **k: save(json.dumps(wrapped_token)))
    write = metadata.wrapped_token_write_func()

    async def update_token(new: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        await asyncio.to_thread(write, new)

    extra: dict[str, Any] = {"transport": loopback_transport(url_override)} if url_override else {}
    session = AsyncOAuth2Client(
        app_key,
        client_secret=app_secret,
        token=token,
        token_endpoint=TOKEN_URL,
        update_token=update_token,
        leeway=LEEWAY_S,
        **extra,
    )
    client = AsyncClient(app_key, session, token_metadata=metadata, enforce_enums=False)
    client.set_timeout(timeout_s)
    return client


# -- the login (`tui-trader keys set NAME`) -----------------------------------------------------


def authorize_url(app_key: str, callback_url: str) -> tuple[str, str]:
    """(the URL to open in a browser, the OAuth state to check on the way back)."""
    from schwab.auth import get_auth_context

    ctx = get_auth_context(app_key, callback_url)
    return ctx.authorization_url, ctx.state


def exchange_code(
    app_key: str, app_secret: str, callback_url: str, state: str, received_url: str, *, url_override: str = ""
) -> str:
    """Trade the pasted redirect address for a token; returns it wrapped for the keyring.
    Raises ValueError with one line when the address is not the callback or has no code."""
    from authlib.integrations.httpx_client import OAuth2Client

    received = received_url.strip()
    expected = urlsplit(callback_url)
    got = urlsplit(received)
    if (got.scheme, got.hostname, got.port, got.path.rstrip("/")) != (
        expected.scheme, expected.hostname, expected.port, expected.path.rstrip("/"),
    ):  # fmt: skip
        raise ValueError(f"that address is not your callback URL ({callback_url}); paste the whole address "
                         "the browser ended on after you allowed access")  # fmt: skip
    if "code=" not in got.query:
        raise ValueError("that address has no ?code=: Schwab did not grant access (log in and press Allow)")
    import httpx

    transport = None
    if url_override:
        target = urlsplit(url_override)

        class Redirected(httpx.HTTPTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                if request.url.host == SCHWAB_HOST:
                    request.url = request.url.copy_with(scheme=target.scheme, host=target.hostname, port=target.port)
                return super().handle_request(request)

        transport = Redirected()
    extra: dict[str, Any] = {"transport": transport} if transport else {}
    with OAuth2Client(app_key, redirect_uri=callback_url, **extra) as oauth:
        try:
            token = oauth.fetch_token(
                TOKEN_URL, authorization_response=received, client_id=app_key, auth=(app_key, app_secret), state=state
            )
        except Exception as exc:  # authlib's OAuthError, a mismatched state, a refused code
            text = str(getattr(exc, "description", "") or exc).splitlines()[0][:200]
            raise ValueError(f"Schwab refused the login: {text}") from None
    return wrapped(dict(token))
