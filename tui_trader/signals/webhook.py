"""A token-protected chat webhook on 127.0.0.1: bots and scripts POST provider messages here.

    POST /signals/chat   Authorization: Bearer <token>
    {"text": "BTC/USDT LONG entry 64000 SL 63000 TP1 66000", "provider": "alpha"}
    (or a text/plain body with ?provider=alpha)

200 -> {"id", "status": "pending"|"executed"|"rejected", "signal": {...}, "note"}
401 bad or missing token, 400 malformed request, 413 too big, 422 not a trade signal.
The token lives in HOME/run/signals_webhook.token (0600), created on first start.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UserError

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # never another interface: the token is a convenience, not a firewall
PATH = "/signals/chat"
MAX_BODY = 16 * 1024
TOKEN_FILE = "signals_webhook.token"
PROVIDER_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")

Handler = Callable[[str, str], Awaitable[dict[str, Any]]]  # (text, provider) -> response body


def load_or_create_token(run_dir: Path) -> str:
    """The webhook token, created (random, 0600) on first use."""
    path = Path(run_dir) / TOKEN_FILE
    try:
        text = path.read_text(encoding="utf-8").strip()
        if text:
            return text
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    return token


class ChatWebhook:
    """The aiohttp server. `handler` parses, publishes and maybe executes; UserError -> 422."""

    def __init__(self, handler: Handler, token: str, *, port: int = 0) -> None:
        if not token:
            raise ValueError("the chat webhook needs a token")
        self._handler = handler
        self._token = token
        self.port = port
        self._runner: web.AppRunner | None = None
        self.received = 0
        self.refused = 0

    def __repr__(self) -> str:  # never show the token
        return f"ChatWebhook({HOST}:{self.port})"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{PATH}"

    async def start(self) -> int:
        """Bind on 127.0.0.1 and return the port (useful with port 0)."""
        from aiohttp import web

        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(PATH, self._post)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, HOST, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise UserError(
                f"chat webhook: cannot listen on {HOST}:{self.port} ({exc.strerror}); "
                "choose another [signals.chat] webhook_port"
            ) from None
        self._runner = runner
        server = site._server  # aiohttp exposes the bound socket only here
        sockets = getattr(server, "sockets", None)
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        given = given or request.headers.get("X-Webhook-Token", "")
        return bool(given) and hmac.compare_digest(given.encode(), self._token.encode())

    async def _post(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        if not self._authorised(request):
            self.refused += 1
            return web.json_response({"error": "missing or wrong token"}, status=401)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": f"body over {MAX_BODY} bytes"}, status=413)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"error": f"body over {MAX_BODY} bytes"}, status=413)
        provider = request.query.get("provider", "webhook")
        if request.content_type == "application/json":
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return web.json_response({"error": "body is not valid JSON"}, status=400)
            if not isinstance(body, dict) or not isinstance(body.get("text"), str):
                return web.json_response(
                    {"error": 'send {"text": "...", "provider": "name"}'}, status=400
                )
            text = body["text"]
            provider = str(body.get("provider") or provider)
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                return web.json_response({"error": "body is not UTF-8 text"}, status=400)
        if not PROVIDER_RE.match(provider):
            return web.json_response(
                {"error": "provider must be 1-40 letters, digits, '.', '_' or '-'"}, status=400
            )
        if not text.strip():
            return web.json_response({"error": "empty message"}, status=400)
        self.received += 1
        try:
            result = await self._handler(text, provider)
        except UserError as exc:
            return web.json_response({"error": str(exc)}, status=422)
        except Exception:
            log.exception("chat webhook handler failed")
            return web.json_response({"error": "internal error; see the engine log"}, status=500)
        return web.json_response(result, dumps=_dumps)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, default=str)
