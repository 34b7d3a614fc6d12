"""Discord adapter driven through its message handler: no network, no real token."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import Direction
from tui_trader.signals.discord_source import DiscordSignalSource

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
pytestmark = pytest.mark.filterwarnings("ignore:'audioop' is deprecated:DeprecationWarning")


def message(text, channel=111, author="alice", mid=1, created=NOW):
    return SimpleNamespace(
        content=text,
        channel=SimpleNamespace(id=channel),
        author=SimpleNamespace(name=author),
        id=mid,
        created_at=created,
    )


def make(got, **kw):
    return DiscordSignalSource(
        lambda: "secret-token",
        channels={111: "alpha"},
        on_signal=got.append,
        clock=FrozenClock(NOW),
        **kw,
    )


async def test_parses_watched_channel_and_ignores_the_rest():
    got = []
    src = make(got, known_symbols=["BTC/USDT", "ETH/USDT"])
    sig = await src.handle(message("#ETH short 3200 sl 3350 tp 3000/2900 10x", mid=7))
    assert sig is not None and got == [sig]
    assert sig.provider == "alpha" and sig.parsed.symbol == "ETH/USDT" and sig.message_id == "7"
    core = sig.to_signal(reliability=0.5)
    assert core.source == "chat:alpha" and core.direction is Direction.SHORT and core.ts == NOW
    assert await src.handle(message("gm frens, coffee time")) is None  # chatter
    assert (
        await src.handle(message("BTC/USDT long 64000 sl 63000 tp 66000", channel=999)) is None
    )  # not watched
    assert (src.parsed, src.unparsed, len(got)) == (1, 1, 1)


async def test_async_handler_and_failing_handler_do_not_break_the_source():
    seen = []

    async def good(sig):
        seen.append(sig.parsed.symbol)

    src = DiscordSignalSource(
        lambda: "t", channels={"111": "alpha"}, on_signal=good, clock=FrozenClock(NOW)
    )
    await src.handle(message("Buy $AAPL @ 190 stop 185 target 200"))
    assert seen == ["AAPL"]

    def bad(sig):
        raise RuntimeError("boom")

    src2 = DiscordSignalSource(
        lambda: "t", channels={111: "alpha"}, on_signal=bad, clock=FrozenClock(NOW)
    )
    assert await src2.handle(message("Buy $AAPL @ 190 stop 185 target 200")) is not None


async def test_start_reads_the_token_once_and_wires_on_message():
    class FakeClient:
        user = SimpleNamespace(name="bot")

        def __init__(self):
            self.handlers, self.started_with = {}, None

        def event(self, fn):
            self.handlers[fn.__name__] = fn
            return fn

        async def start(self, token):
            self.started_with = token

        async def close(self):
            self.closed = True

    calls = []

    def token():
        calls.append(1)
        return "secret-token"

    got = []
    src = DiscordSignalSource(
        token,
        channels={111: "alpha"},
        on_signal=got.append,
        clock=FrozenClock(NOW),
        client_factory=FakeClient,
    )
    await src.start()
    assert src.client.started_with == "secret-token" and calls == [1]
    assert "secret-token" not in repr(src) and "secret-token" not in str(vars(src))
    await src.client.handlers["on_message"](message("BTC/USDT long 64000 sl 63000 tp 66000"))
    own = message("BTC/USDT long 64000 sl 63000 tp 66000")
    own.author = src.client.user
    await src.client.handlers["on_message"](own)
    assert len(got) == 1
    await src.close()
    assert src.client.closed


async def test_real_discord_client_is_built_with_message_content_intent():
    src = make([])
    client = src.build_client()
    try:
        assert client.intents.message_content
    finally:
        await client.close()
