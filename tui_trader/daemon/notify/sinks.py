"""Where alerts go: chat webhooks (Discord, Slack, Telegram) over aiohttp, email over SMTP.

Secrets (the Telegram bot token, the SMTP password) come from the keyring through an injected
callable at send time; they never reach logs, and failing sinks log without their URL.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any, Protocol

from tui_trader.config.daemon import EmailSettings, WebhookSettings

log = logging.getLogger(__name__)
SecretFn = Callable[[str], "str | None"]
TELEGRAM_API = "https://api.telegram.org"
LIMITS = {"discord": 2000, "slack": 39_000, "telegram": 4096}


class Sink(Protocol):
    name: str
    events: frozenset[str]

    async def send(self, subject: str, body: str) -> None: ...


class SinkError(Exception):
    """A sink could not deliver (the message names no secret)."""


def webhook_payload(fmt: str, subject: str, body: str, chat_id: str | None = None) -> dict[str, Any]:
    text = f"{subject}\n{body}" if body else subject
    text = text[: LIMITS[fmt]]
    if fmt == "discord":
        return {"username": "tui-trader", "content": text}
    if fmt == "slack":
        return {"text": text}
    return {"chat_id": chat_id, "text": text, "disable_web_page_preview": True}


class WebhookSink:
    def __init__(self, cfg: WebhookSettings, secret: SecretFn) -> None:
        self.cfg = cfg
        self.name = f"{cfg.format} webhook"
        self.events: frozenset[str] = frozenset(cfg.events)
        self._secret = secret

    def _url(self) -> str:
        if self.cfg.format != "telegram":
            assert self.cfg.url is not None
            return self.cfg.url
        token = self._secret(self.cfg.token_key)
        if not token:
            raise SinkError(
                f"no telegram bot token in the keyring under {self.cfg.token_key!r}; "
                f"run `tui-trader keys set {self.cfg.token_key}`"
            )
        return f"{(self.cfg.url or TELEGRAM_API).rstrip('/')}/bot{token}/sendMessage"

    async def send(self, subject: str, body: str) -> None:
        import aiohttp

        payload = webhook_payload(self.cfg.format, subject, body, self.cfg.chat_id)
        timeout = aiohttp.ClientTimeout(total=10)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(self._url(), json=payload) as resp,
            ):
                if resp.status >= 400:
                    raise SinkError(f"{self.name}: HTTP {resp.status}")
        except aiohttp.ClientError as exc:
            raise SinkError(f"{self.name}: {type(exc).__name__}") from None


class EmailSink:
    def __init__(self, cfg: EmailSettings, secret: SecretFn) -> None:
        self.cfg = cfg
        self.name = "email"
        self.events: frozenset[str] = frozenset(cfg.events)
        self._secret = secret

    def _send_blocking(self, msg: EmailMessage) -> None:
        cfg = self.cfg
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if cfg.ssl:
            smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
        with smtp:
            if cfg.starttls and not cfg.ssl:
                smtp.starttls(context=context)
            if cfg.username:
                password = self._secret(cfg.password_key)
                if not password:
                    raise SinkError(f"no SMTP password in the keyring under {cfg.password_key!r}")
                smtp.login(cfg.username, password)
            smtp.send_message(msg)

    async def send(self, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.cfg.sender
        msg["To"] = ", ".join(self.cfg.to)
        msg.set_content(body or subject)
        try:
            await asyncio.to_thread(self._send_blocking, msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise SinkError(f"email via {self.cfg.host}:{self.cfg.port}: {type(exc).__name__}: {exc}") from None


def keyring_secret(home: Any) -> SecretFn:
    """Look a secret up by name: `tui-trader keys set NAME` entries first, then the raw keyring."""

    def get(name: str) -> str | None:
        try:
            from tui_trader.secrets import load_credentials

            creds = load_credentials(name, home)
            if creds is not None and (creds.api_key or creds.secret):
                return creds.api_key or creds.secret
        except Exception as exc:  # no keyring on this host: say which, never what
            log.warning("keyring lookup for %s failed: %s", name, type(exc).__name__)
        try:
            import keyring

            return keyring.get_password("tui-trader", name)
        except Exception:
            return None

    return get
