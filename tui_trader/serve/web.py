"""`tui-trader serve web`: the workstation in a browser, through textual-serve.

Every browser tab that opens the terminal gets its own `tui-trader attach` process (textual-serve
spawns it and carries its screen over a websocket), attached to the daemon as the logged-in user
with that user's role. Before any of that: a login (argon2-checked), a session cookie (HttpOnly,
SameSite=Strict, Secure over HTTPS), a CSRF token on every form, the Origin checked on every
state-changing request and on the websocket, and (on loopback) the Host checked against DNS
rebinding.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from tui_trader.config.serve import WebServeSettings, is_loopback
from tui_trader.core.errors import UsageError
from tui_trader.serve import pages
from tui_trader.serve.link import STRIPPED_ENV, DaemonLink, OpenSession
from tui_trader.serve.users import Logins, WebUser

log = logging.getLogger(__name__)
COOKIE = "tt_session"
LOGIN_COOKIE = "tt_login"  # the login form's CSRF token (double submit)
STOP_S = 5.0


@dataclass(eq=False)
class WebLogin:
    sid: str
    user: WebUser
    csrf: str
    expires: float
    apps: set[SessionApp] = field(default_factory=set)


class SessionApp(AppService):
    """One browser tab's workstation: `tui-trader attach` with this session's token."""

    def __init__(self, *args: Any, session: OpenSession, link: DaemonLink, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session
        self.link = link

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        env = super()._build_environment(width=width, height=height)
        return self.link.session_env(self.session, {k: v for k, v in env.items() if k not in STRIPPED_ENV})

    async def stop_within(self, seconds: float = STOP_S) -> None:
        """Ask the app to quit; kill it if it has not within `seconds`."""
        try:
            await asyncio.wait_for(self.stop(), seconds)
        except (TimeoutError, ConnectionError, RuntimeError):
            pass
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(process.wait(), seconds)


class WebWorkstation(Server):
    def __init__(self, link: DaemonLink, settings: WebServeSettings, logins: Logins) -> None:
        tls = settings.tls_cert is not None
        scheme = "https" if tls else "http"
        public = settings.public_url or f"{scheme}://{settings.host}:{settings.port}"
        super().__init__(
            link.attach_command(), host=settings.host, port=settings.port, title="tui-trader", public_url=public
        )
        self.link = link
        self.settings = settings
        self.logins = logins
        self.tls = tls
        self.logins_by_sid: dict[str, WebLogin] = {}
        self.apps: set[SessionApp] = set()

    # -- the aiohttp application ------------------------------------------------------------------

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=64 * 1024)
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/login", self.handle_login_form),
                web.post("/login", self.handle_login),
                web.post("/logout", self.handle_logout),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download_checked, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if is_loopback(self.settings.host) and not self.settings.behind_proxy:
            hostname = urlsplit(f"//{request.host}").hostname or ""
            if not is_loopback(hostname):  # DNS rebinding: a name that resolves to us is not us
                return web.Response(status=421, text="wrong Host for a loopback server\n")
        response: web.StreamResponse = await handler(request)
        headers = response.headers
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")  # "no-referrer" makes Origin null
        if request.path in ("/", "/login", "/logout"):
            headers["Cache-Control"] = "no-store"
            ws = self.origin(request).replace("http", "ws", 1)
            headers["Content-Security-Policy"] = (
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                f"connect-src 'self' {ws}; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
            )
        if self.secure(request):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    # -- who is asking ---------------------------------------------------------------------------

    def secure(self, request: web.Request) -> bool:
        if self.tls:
            return True
        if self.settings.behind_proxy:
            return request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        return bool(self.settings.public_url and self.settings.public_url.startswith("https://"))

    def origin(self, request: web.Request) -> str:
        if self.settings.public_url:
            parts = urlsplit(self.settings.public_url)
            return f"{parts.scheme}://{parts.netloc}"
        return f"{'https' if self.secure(request) else 'http'}://{request.host}"

    def same_origin(self, request: web.Request, *, required: bool) -> bool:
        given = request.headers.get("Origin")
        if given is None:
            return not required
        return given == self.origin(request)

    def peer(self, request: web.Request) -> str:
        if self.settings.behind_proxy and request.headers.get("X-Forwarded-For"):
            return request.headers["X-Forwarded-For"].split(",")[-1].strip()[:60]
        return str(request.remote or "?")

    def login_of(self, request: web.Request) -> WebLogin | None:
        sid = request.cookies.get(COOKIE)
        login = self.logins_by_sid.get(sid) if sid else None
        if login is not None and login.expires < time.monotonic():
            self.logins_by_sid.pop(login.sid, None)
            return None
        return login

    def _set_cookie(
        self, request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int | None
    ) -> None:
        response.set_cookie(
            name, value, max_age=max_age, path="/", httponly=True, samesite="Strict", secure=self.secure(request)
        )

    # -- pages -------------------------------------------------------------------------------------

    async def handle_login_form(self, request: web.Request) -> web.StreamResponse:
        return self._login_response(request, "", "", 200)

    def _login_response(self, request: web.Request, message: str, user: str, status: int) -> web.Response:
        csrf = secrets.token_urlsafe(24)
        response = web.Response(text=pages.login_page(csrf, message, user), content_type="text/html", status=status)
        self._set_cookie(request, response, LOGIN_COOKIE, csrf, 600)
        return response

    async def handle_login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        csrf = str(form.get("csrf") or "")
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not self.same_origin(request, required=False) or not expected or not secrets.compare_digest(csrf, expected):
            return web.Response(status=403, text="refused: the login form expired or came from another site\n")
        address = self.peer(request)
        wait = self.logins.retry_after(address)
        if wait > 0:
            return self._login_response(request, f"too many failed logins: wait {wait:g} s", "", 429)
        name, secret = str(form.get("user") or "")[:64], str(form.get("secret") or "")[:1024]
        user = await self.logins.check(address, name, secret)
        if user is None:
            log.warning("failed web login for %r from %s", name, address)
            return self._login_response(request, "wrong user name or password", name, 401)
        login = WebLogin(
            secrets.token_urlsafe(32),
            user,
            secrets.token_urlsafe(24),
            time.monotonic() + self.settings.session_hours * 3600,
        )
        self.logins_by_sid[login.sid] = login
        log.info("web login: %s (%s) from %s", user.name, user.role, address)
        response = web.HTTPSeeOther("/")
        self._set_cookie(request, response, COOKIE, login.sid, int(self.settings.session_hours * 3600))
        response.del_cookie(LOGIN_COOKIE, path="/")
        raise response

    async def handle_logout(self, request: web.Request) -> web.StreamResponse:
        login = self.login_of(request)
        form = await request.post()
        if login is None:
            raise web.HTTPSeeOther("/login")
        if not self.same_origin(request, required=False) or not secrets.compare_digest(
            str(form.get("csrf") or ""), login.csrf
        ):
            return web.Response(status=403, text="refused: the logout form came from another site\n")
        self.logins_by_sid.pop(login.sid, None)
        await asyncio.gather(*(app.stop_within() for app in list(login.apps)), return_exceptions=True)
        response = web.Response(
            text=pages.message_page("Logged out", "Your workstation has ended."), content_type="text/html"
        )
        response.del_cookie(COOKIE, path="/")
        return response

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        login = self.login_of(request)
        if login is None:
            raise web.HTTPSeeOther("/login")
        ws_url = self.origin(request).replace("http", "ws", 1) + "/ws"
        font = max(8, min(32, _int(request.query.get("fontsize"), 16)))
        html = pages.terminal_page(login.user.name, login.user.role, login.csrf, ws_url, font)
        return web.Response(text=html, content_type="text/html")

    async def handle_download_checked(self, request: web.Request) -> web.StreamResponse:
        if self.login_of(request) is None:
            raise web.HTTPForbidden(text="log in first\n")
        return await self.handle_download(request)

    # -- the workstation ---------------------------------------------------------------------------

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        login = self.login_of(request)
        if login is None:
            raise web.HTTPForbidden(text="log in first\n")
        if not self.same_origin(request, required=True):  # cross-site websocket hijacking
            log.warning("refused a websocket for %s from origin %r", login.user.name, request.headers.get("Origin"))
            raise web.HTTPForbidden(text="refused: wrong Origin\n")
        if len(self.apps) >= self.settings.max_sessions:
            raise web.HTTPServiceUnavailable(text=f"{self.settings.max_sessions} workstations already running\n")
        width = max(20, min(500, _int(request.query.get("width"), 80)))
        height = max(8, min(200, _int(request.query.get("height"), 24)))
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=64 * 1024)
        await websocket.prepare(request)
        session = await self.link.open(login.user.name, login.user.role, "web", self.peer(request))
        app = SessionApp(
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
            session=session,
            link=self.link,
        )
        self.apps.add(app)
        login.apps.add(app)
        try:
            await app.start(width, height)
            with contextlib.suppress(ConnectionError, ValueError, TypeError, KeyError, IndexError):
                await self._process_messages(websocket, app)
        finally:
            await app.stop_within()
            self.apps.discard(app)
            login.apps.discard(app)
            await self.link.close(session, "the browser left")
            with contextlib.suppress(Exception):
                await websocket.close()
        return websocket

    async def stop_all(self) -> None:
        await asyncio.gather(*(app.stop_within() for app in list(self.apps)), return_exceptions=True)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def check_exposure(settings: WebServeSettings) -> None:
    """Refuse (UsageError, one line) to listen beyond loopback in the clear."""
    if is_loopback(settings.host) or settings.tls_cert is not None or settings.behind_proxy:
        return
    raise UsageError(
        f"refusing to serve the workstation on {settings.host} without TLS: set [serve.web] tls_cert and tls_key "
        "(or --tls-cert/--tls-key), or pass --behind-proxy when a TLS reverse proxy is in front (docs/serve.md)"
    )


def tls_context(settings: WebServeSettings) -> ssl.SSLContext | None:
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    from tui_trader.serve.files import check_private

    check_private(settings.tls_key, "the TLS key")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot load the TLS certificate {settings.tls_cert} / key: {exc}") from None
    return context


async def serve_web(link: DaemonLink, settings: WebServeSettings, logins: Logins, stop: asyncio.Event) -> None:
    """Serve until `stop` is set. Prints one line with the address once listening."""
    import sys

    check_exposure(settings)
    context = tls_context(settings)
    await link.start()
    server = WebWorkstation(link, settings, logins)
    runner = web.AppRunner(await server._make_app(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, ssl_context=context)
        try:
            await site.start()
        except OSError as exc:
            raise UsageError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from None
        port = runner.addresses[0][1] if runner.addresses else settings.port
        scheme = "https" if context else "http"
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        print(f"tui-trader serve web on {scheme}://{host}:{port}/ (Ctrl+C stops)", file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        await server.stop_all()
        await link.stop()
        await runner.cleanup()
