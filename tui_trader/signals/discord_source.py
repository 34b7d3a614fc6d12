"""Chat signals from Discord channels (discord.py, the optional `discord` extra).

Each watched channel belongs to one provider. Messages that parse become ChatSignals
handed to `on_signal`; the rest are counted and ignored (chat is mostly chatter).
The bot token comes from a callable (the keyring lookup) at start and is never kept.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tui_trader.core.clock import Clock, utc
from tui_trader.core.signals import Signal
from tui_trader.signals.chat import ParsedSignal, ParseError, parse_signal

log = logging.getLogger(__name__)


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


class DiscordSignalSource:
    """Watches channels (id -> provider name) and turns their messages into ChatSignals."""

    def __init__(
        self,
        token: Callable[[], str],
        *,
        channels: Mapping[int | str, str],
        on_signal: Callable[[ChatSignal], Any],
        clock: Clock,
        known_symbols: Collection[str] | None = None,
        client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self._token = token
        self.channels = {str(k): v for k, v in channels.items()}
        self.on_signal = on_signal
        self.clock = clock
        self.known_symbols = known_symbols
        self._client_factory = client_factory or self._discord_client
        self.client: Any = None
        self.parsed = 0
        self.unparsed = 0

    def __repr__(self) -> str:  # never show the token, not even by accident
        return f"DiscordSignalSource(channels={sorted(self.channels)})"

    async def handle(self, message: Any) -> ChatSignal | None:
        """Handle one discord.Message-like object (author, channel.id, content, id, created_at)."""
        provider = self.channels.get(str(getattr(message.channel, "id", "")))
        if provider is None or not (message.content or "").strip():
            return None
        if self.client is not None and message.author == getattr(self.client, "user", None):
            return None
        try:
            parsed = parse_signal(message.content, known_symbols=self.known_symbols)
        except ParseError:
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

        client.event(on_message)
        self.client = client
        return client

    async def start(self) -> None:
        """Connect and run until `close()`; the token is read here and passed straight on."""
        client = self.client or self.build_client()
        await client.start(self._token())

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
