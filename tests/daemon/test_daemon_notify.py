"""Notifications against a loopback HTTP server (Discord, Slack, Telegram) and a tiny SMTP server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from email import message_from_bytes

import pytest
from aiohttp import web

from tui_trader.config.daemon import NotificationSettings
from tui_trader.core.enums import ConnectionState, Liquidity, Side
from tui_trader.core.events import ConnectionEvent, FillEvent, NoticeEvent, RiskEvent, TickerEvent
from tui_trader.core.fills import Fill
from tui_trader.core.market import Ticker
from tui_trader.daemon.notify import Notifier
from tui_trader.engine.bus import EventBus

from fakes.venue_harness import wait_for

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def fill(i: int) -> FillEvent:
    return FillEvent(
        Fill(
            f"F{i}",
            f"tt-{i}",
            "paper",
            "BTC/USDT",
            Side.BUY,
            Decimal("0.01"),
            Decimal("65000"),
            Decimal("0.3"),
            "USDT",
            Liquidity.TAKER,
            T0,
        )
    )


@pytest.fixture
async def hooks():  # type: ignore[no-untyped-def]
    received: list[tuple[str, dict]] = []

    async def handle(request: web.Request) -> web.Response:
        received.append((request.path, await request.json()))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", received
    await runner.cleanup()


async def test_a_fill_storm_is_one_message_per_sink_in_each_format(hooks) -> None:  # type: ignore[no-untyped-def]
    base, received = hooks
    settings = NotificationSettings(
        batch_window_s=0.05,
        min_interval_s=0.3,
        max_lines=5,
        webhooks=[
            {"format": "discord", "url": f"{base}/discord"},
            {"format": "slack", "url": f"{base}/slack", "events": ["breaker", "disconnect"]},
            {"format": "telegram", "url": base, "chat_id": "42"},
        ],
    )
    bus = EventBus()
    notifier = Notifier.from_settings(bus, settings, secret=lambda name: "BOTTOKEN" if name == "telegram" else None)
    notifier.start()
    for i in range(30):
        bus.publish(fill(i))
    bus.publish(TickerEvent(Ticker("paper", "BTC/USDT", T0, 1, 2, 1.5)))  # never an alert
    bus.publish(RiskEvent(T0, "breaker:daily_loss", "daily loss limit 2000 reached"))
    await wait_for(lambda: len(received) >= 3)
    first_sent = [box.last_sent for box in notifier.outboxes]
    paths = sorted(p for p, _ in received)
    assert paths == ["/botBOTTOKEN/sendMessage", "/discord", "/slack"]
    by_path = dict(received)
    discord = by_path["/discord"]["content"]
    assert discord.startswith("tui-trader: 30 fills, 1 breaker\n") and "... and 26 more" in discord
    assert by_path["/slack"]["text"].startswith("tui-trader: 1 breaker\n")  # fills filtered out
    assert by_path["/botBOTTOKEN/sendMessage"]["chat_id"] == "42"
    # Rate limit: more alerts inside min_interval_s wait and go out together, one message a
    # sink, sent no sooner than min_interval_s after the sink's last (measured on the notifier's
    # own clock: a loaded machine delays a send, never hurries one).
    bus.publish(ConnectionEvent("paper", ConnectionState.RECONNECTING, T0, "socket closed", 1))
    bus.publish(NoticeEvent(T0, "error", "strategy ema_cross raised ZeroDivisionError", "strategy:ema_cross"))
    await wait_for(lambda: len(received) >= 6)
    await notifier.stop()
    later = [body for p, body in received[3:] if p == "/slack"]
    assert later == [{"text": "tui-trader: 1 disconnect\n14:30:00 paper reconnecting: socket closed"}]
    gaps = [box.last_sent - first for box, first in zip(notifier.outboxes, first_sent, strict=True)]
    assert min(gaps) >= settings.min_interval_s - 1e-3, gaps  # (the event loop's clock resolution)
    (together,) = [body["content"] for p, body in received[3:] if p == "/discord"]
    assert together.startswith("tui-trader: 1 disconnect, 1 strategy error\n") and len(received) == 6


async def test_stop_flushes_what_is_waiting(hooks) -> None:  # type: ignore[no-untyped-def]
    base, received = hooks
    settings = NotificationSettings(batch_window_s=60, webhooks=[{"format": "slack", "url": f"{base}/s"}])
    bus = EventBus()
    notifier = Notifier.from_settings(bus, settings, secret=lambda name: None)
    notifier.start()
    bus.publish(RiskEvent(T0, "max_order_notional", "order notional 90000 above 25000", "tt-9"))
    await asyncio.sleep(0.01)
    assert received == []
    await notifier.stop()
    assert received == [
        ("/s", {"text": "tui-trader: 1 reject\n14:30:00 rejected tt-9: order notional 90000 above 25000"})
    ]


class SMTPServer:
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 localhost test SMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-localhost\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                body = bytearray()
                while (data := await reader.readline()) != b".\r\n":
                    body += data
                self.messages.append(bytes(body))
                writer.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


async def test_email_over_smtp() -> None:
    smtp = SMTPServer()
    server = await asyncio.start_server(smtp.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = NotificationSettings(
        batch_window_s=0.01,
        email={
            "host": "127.0.0.1",
            "port": port,
            "sender": "bot@example.org",
            "to": ["me@example.org"],
            "starttls": False,
        },
    )
    bus = EventBus()
    notifier = Notifier.from_settings(bus, settings, secret=lambda name: None)
    notifier.start()
    bus.publish(fill(1))
    await wait_for(lambda: bool(smtp.messages))
    await notifier.stop()
    server.close()
    (raw,) = smtp.messages
    msg = message_from_bytes(raw)
    assert msg["Subject"] == "tui-trader: 1 fill" and msg["To"] == "me@example.org"
    assert "fill buy 0.01 BTC/USDT @ 65000 on paper (order tt-1)" in msg.get_payload()


def test_bad_notification_config_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.config import load_settings
    from tui_trader.core.errors import ConfigError

    cfg = tmp_path / "c.toml"
    cfg.write_text('[[notifications.webhooks]]\nformat = "telegram"\n')
    expected = "notifications.webhooks.0: Value error, a telegram webhook needs `chat_id`"
    with pytest.raises(ConfigError, match=expected):
        load_settings(cfg)
