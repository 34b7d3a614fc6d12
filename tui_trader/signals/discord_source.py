"""Chat signals from Discord channels (discord.py, the optional `discord` extra).

Each watched channel belongs to one provider. Messages that ask for something (an entry,
exit, update or cancel; see signals.chat) become ChatSignals
handed to `on_signal`; the rest are counted and ignored (chat is mostly chatter).
The bot token comes from a callable (the keyring lookup) at start and is never kept.
Connection changes go to `on_state(state, message)` so the engine can tell the trader.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tui_trader.core.clock import Clock, utc
from tui_trader.core.errors import UserError
from tui_trader.core.signals import Signal
from tui_trader.signals.chat import ParsedSignal, parse_message

log = logging.getLogger(__name__)

# stopped -> connecting -> connected <-> disconnected; or one of the failures, which end run()
STATES = ("stopped", "connecting", "connected", "disconnected", "no_token", "auth_failed", "error")
FAILURES = frozenset({"no_token", "auth_failed", "error"})

Symbols = Collection[str] | Callable[[], Collection[str] | None] | None


@dataclass(frozen=True, slots=True)
class ChatSignal:
    """A parsed message and where it came from."""

    provider: str
    parsed: ParsedSignal
    at: datetime
    channel: str
    author: str
    message_id: str

    def to_signal(self, *, reliability: float | None = None) -> Signal:
        return self.parsed.to_signal(self.provider, self.at, reliability=reliability)


def describe_failure(exc: BaseException) -> tuple[str, str]:
    """(state, one line for the trader) for an exception that ended the connection.

    Only the exception's type is shown, never its text, so nothing the library echoes
    back (headers, payloads) can carry the token to the screen or the log."""
    try:
        import discord
    except ImportError:  # a test's fake client without the library installed
        discord = None  # type: ignore[assignment]
    if discord is not None:
        if isinstance(exc, discord.LoginFailure):
            return (
                "auth_failed",
                "Discord rejected the bot token; store a new one with `tui-trader keys set discord`",
            )
        if isinstance(exc, discord.PrivilegedIntentsRequired):
            return (
                "auth_failed",
                "Discord refused the Message Content intent; enable it for the bot in the "
                "developer portal (Bot > Privileged Gateway Intents)",
            )
        if isinstance(exc, discord.ConnectionClosed) and exc.code == 4004:
            return (
                "auth_failed",
                "Discord closed the connection: authentication failed; check the bot token",
            )
        if isinstance(exc, discord.HTTPException):
            return "error", f"Discord refused the connection (HTTP {exc.status}); retry later"
    return "error", f"Discord connection failed ({type(exc).__name__}); restart to retry"


class DiscordSignalSource:
    """Watches channels (id -> provider name) and turns their messages into ChatSignals."""

    def __init__(
        self,
        token: Callable[[], str | None],
        *,
        channels: Mapping[int, str] | Mapping[str, str],
        on_signal: Callable[[ChatSignal], Any],
        clock: Clock,
        known_symbols: Symbols = None,
        client_factory: Callable[[], Any] | None = None,
        on_state: Callable[[str, str], Any] | None = None,
    ) -> None:
        self._token = token
        self.channels = {str(k): v for k, v in channels.items()}
        self.on_signal = on_signal
        self.on_state = on_state
        self.clock = clock
        self.known_symbols = known_symbols
        self._client_factory = client_factory or self._discord_client
        self.client: Any = None
        self.parsed = 0
        self.unparsed = 0
        self.state = "stopped"
        self.message = ""  # the last state change, in words
        self._closing = False

    def __repr__(self) -> str:  # never show the token, not even by accident
        return f"DiscordSignalSource(channels={sorted(self.channels)}, state={self.state})"

    def status(self) -> dict[str, Any]:
        """What snapshots show: state, last message, channels and counters (no secrets)."""
        return {
            "state": self.state,
            "message": self.message,
            "channels": dict(self.channels),
            "parsed": self.parsed,
            "unparsed": self.unparsed,
        }

    def _set_state(self, state: str, message: str = "") -> None:
        if (state, message) == (self.state, self.message):
            return
        self.state, self.message = state, message
        if self.on_state is not None:
            try:
                self.on_state(state, message)
            except Exception:
                log.exception("discord state handler failed")

    def _symbols(self) -> Collection[str] | None:
        known = self.known_symbols
        return known() if callable(known) else known

    async def handle(self, message: Any) -> ChatSignal | None:
        """Handle one discord.Message-like object (author, channel.id, content, id, created_at)."""
        provider = self.channels.get(str(getattr(message.channel, "id", "")))
        if provider is None or not (message.content or "").strip():
            return None
        if self.client is not None and message.author == getattr(self.client, "user", None):
            return None
        parsed = parse_message(message.content, known_symbols=self._symbols())
        if not parsed.kind.actionable:  # chatter, commentary, options: counted and ignored
            self.unparsed += 1
            return None
        created = getattr(message, "created_at", None)
        signal = ChatSignal(
            provider=provider,
            parsed=parsed,
            at=utc(created) if isinstance(created, datetime) else self.clock.now(),
            channel=str(message.channel.id),
            author=str(getattr(message.author, "name", message.author)),
            message_id=str(message.id),
        )
        self.parsed += 1
        try:
            result = self.on_signal(signal)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("chat signal handler failed for message %s", signal.message_id)
        return signal

    def _discord_client(self) -> Any:
        import discord

        intents = discord.Intents.default()
        intents.message_content = True  # the bot must also have it enabled in the developer portal
        return discord.Client(intents=intents)

    def build_client(self) -> Any:
        client = self._client_factory()

        async def on_message(message: Any) -> None:
            await self.handle(message)

        async def on_ready() -> None:
            self._set_state("connected", f"Discord connected; watching {len(self.channels)} channel(s)")

        async def on_resumed() -> None:
            self._set_state("connected", "Discord reconnected")

        async def on_disconnect() -> None:
            if not self._closing and self.state == "connected":
                self._set_state("disconnected", "Discord connection lost; reconnecting")

        for handler in (on_message, on_ready, on_resumed, on_disconnect):
            client.event(handler)
        self.client = client
        return client

    async def start(self) -> None:
        """Connect and run until `close()`; the token is read here and passed straight on.
        Raises UserError when there is no token, and the library's errors otherwise."""
        self._closing = False
        client = self.client or self.build_client()
        self._set_state("connecting", "Discord connecting")
        token = await asyncio.to_thread(self._token)  # an encrypted keyring takes ~1 s to open
        if not token:
            raise UserError("no Discord bot token in the keyring; run `tui-trader keys set discord`")
        await client.start(token)

    async def run(self) -> None:
        """`start()` with failures reported through `on_state` instead of raised: the task the
        signal service keeps. The client is closed on the way out so no session leaks."""
        try:
            await self.start()
        except asyncio.CancelledError:
            raise
        except UserError as exc:
            self._set_state("no_token", str(exc))
        except Exception as exc:
            state, message = describe_failure(exc)
            log.warning("%s", message)
            self._set_state(state, message)
        else:
            if not self._closing:
                self._set_state("stopped", "Discord connection closed")
        finally:
            if self.client is not None and not self._closing:
                with contextlib.suppress(Exception):
                    await self.client.close()

    async def close(self) -> None:
        self._closing = True
        if self.client is not None:
            await self.client.close()
        if self.state not in FAILURES:
            self._set_state("stopped", "Discord disconnected")
