"""The Discord source wired into a real SignalService (manual paper engine, file keyring,
a fake gateway client): no network, and a canary token that must leak nowhere."""

from __future__ import annotations

import asyncio
import importlib.util
import io
import logging
import sys
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from async_wait import until

from tui_trader.cli.main import main
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import NoticeEvent
from tui_trader.engine.testing import manual_engine, paper_settings
from tui_trader.home import Home
from tui_trader.secrets import Credentials, CredentialStore, load_credentials
from tui_trader.signals.discord_source import DiscordSignalSource
from tui_trader.signals.settings import load_signals_settings

CANARY = "CANARYDISCORD-9b1e4f77c2d84a10.XyZ"
NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
pytestmark = pytest.mark.filterwarnings("ignore:'audioop' is deprecated:DeprecationWarning")


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):
    """Argon2 at its real cost takes ~1 s a call; tests only need the same code path."""
    from keyrings.cryptfile.cryptfile import ArgonAESEncryption

    monkeypatch.setattr(ArgonAESEncryption, "time_cost", 1)
    monkeypatch.setattr(ArgonAESEncryption, "memory_cost", 1024)


@pytest.fixture
def home(monkeypatch, tmp_path) -> Home:
    monkeypatch.setenv("TUI_TRADER_KEYRING", "file")
    monkeypatch.setenv("TUI_TRADER_KEYRING_PASSWORD", "correct horse battery staple")
    return Home(tmp_path / "home").ensure()


@pytest.fixture
def stored_token(home) -> Home:
    CredentialStore.open(home, prompt=False).set("discord", Credentials(secret=CANARY))
    return home


class FakeGateway:
    """Stands in for discord.Client: records handlers, 'connects' until closed or fails."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.user = SimpleNamespace(name="bot")
        self.handlers: dict = {}
        self.fail = fail
        self.got_canary = False
        self.closed = asyncio.Event()

    def event(self, fn):
        self.handlers[fn.__name__] = fn
        return fn

    async def start(self, token: str) -> None:
        self.got_canary = token == CANARY  # compared, never kept
        if self.fail is not None:
            raise self.fail
        await self.handlers["on_ready"]()
        await self.closed.wait()

    async def close(self) -> None:
        self.closed.set()


class Gateways(list):
    """The fake clients the source built, and the failure the next one raises on start."""

    failure: BaseException | None = None

    def fail_with(self, exc: BaseException) -> None:
        self.failure = exc


@pytest.fixture
def gateways(monkeypatch) -> Gateways:
    made = Gateways()

    def factory(self):
        made.append(FakeGateway(made.failure))
        return made[-1]

    monkeypatch.setattr(DiscordSignalSource, "_discord_client", factory)
    return made


def message(text, channel=111, mid=1):
    return SimpleNamespace(
        content=text,
        channel=SimpleNamespace(id=channel),
        author=SimpleNamespace(name="provider-bot"),
        id=mid,
        created_at=NOW,
    )


def _engine(home, chat: dict | None = None):
    discord = {"enabled": True, "channels": {"111": "alpha", "222": "beta"}}
    signals = {"chat": {"discord": discord, **(chat or {})}}
    return manual_engine(paper_settings().model_copy(update={"signals": signals}), home=home)


def _notices(engine) -> list[NoticeEvent]:
    got: list[NoticeEvent] = []
    engine.bus.on(lambda e: got.append(e), kinds={"notice"}, name="test-notices")
    return got


async def _until(predicate, timeout: float = 5.0) -> None:
    await until(predicate, timeout)


async def test_channel_messages_go_pending_or_auto_execute(stored_token, gateways):
    engine = _engine(stored_token, {"auto_execute": ["alpha"], "min_confidence": 0.7, "min_trades": 0})
    notices = _notices(engine)
    async with engine:
        service = engine.signal_service
        assert service is not None  # Discord alone is enough to start the service
        await _until(lambda: service.discord.state == "connected")
        gw = gateways[0]
        assert gw.got_canary
        status = engine.snapshot().extra["signals"]["discord"]
        assert status["state"] == "connected" and status["channels"] == {"111": "alpha", "222": "beta"}
        assert any(n.level == "info" and "connected" in n.message for n in notices)

        on_message = gw.handlers["on_message"]
        await on_message(message("BTC/USDT LONG entry 64000 SL 63000 TP1 66000", channel=222))
        (item,) = service.chat.pending.values()
        assert (item.provider, item.origin, item.status) == ("beta", "discord", "pending")
        assert not engine.recent_orders  # beta is not an auto provider: it waits for the trader
        assert any(s.source == "chat:beta" for s in engine.signals)

        mid = engine.mid("BTC/USDT")
        await on_message(
            message(f"BTC/USDT long now SL {mid * 0.97:.0f} TP {mid * 1.05:.0f}", mid=2)
        )
        alpha = [p for p in service.chat.pending.values() if p.provider == "alpha"]
        assert len(alpha) == 1 and alpha[0].status == "executed", alpha[0].note
        order = engine.recent_orders[alpha[0].order_id]
        assert order.source == "signal:alpha" and order.meta["stop_loss"]

        await on_message(message("gm frens", mid=3))  # chatter
        await on_message(message("ETH/USDT long 3200 sl 3100 tp 3400", channel=999))  # unwatched
        assert len(service.chat.pending) == 2
        status = engine.snapshot().extra["signals"]["discord"]
        assert (status["parsed"], status["unparsed"]) == (2, 1)
        pending = engine.snapshot().extra["signals"]["pending_chat"]
        assert {p["origin"] for p in pending} == {"discord"}

        await gw.handlers["on_disconnect"]()
        assert service.discord.state == "disconnected"
        assert notices[-1].level == "warning" and "lost" in notices[-1].message
        await gw.handlers["on_resumed"]()
        assert service.discord.state == "connected"
    assert gw.closed.is_set() and service.discord.state == "stopped"


@pytest.mark.parametrize(
    "failure, state, words",
    [
        ("login", "auth_failed", "rejected the bot token"),
        ("intents", "auth_failed", "Message Content intent"),
        ("echo", "error", "RuntimeError"),
    ],
)
async def test_failures_are_notices_and_the_token_leaks_nowhere(
    stored_token, gateways, caplog, capsys, failure, state, words
):
    import discord

    fail = {
        "login": discord.LoginFailure("Improper token has been passed."),
        "intents": discord.PrivilegedIntentsRequired(None),
        "echo": RuntimeError(f"gateway said: bad token {CANARY}"),  # a library echoing it back
    }[failure]
    gateways.fail_with(fail)
    caplog.set_level(logging.DEBUG)
    engine = _engine(stored_token)
    notices = _notices(engine)
    async with engine:
        service = engine.signal_service
        await _until(lambda: service.discord.state == state)
        assert gateways[0].got_canary  # the keyring was read and the token handed on
        assert gateways[0].closed.is_set()  # a failed start releases the client
        status = engine.snapshot().extra["signals"]["discord"]
        assert status["state"] == state and words in status["message"]
        errors = [n for n in notices if n.level == "error"]
        assert len(errors) == 1 and words in errors[0].message
        shown = " ".join(
            [str(engine.snapshot().extra), repr(service.discord), str(vars(service.discord))]
        )
        shown += " ".join(str(vars(service)[k]) for k in vars(service))
    out = capsys.readouterr()
    for text in (caplog.text, out.out, out.err, shown, " ".join(n.message for n in notices)):
        assert CANARY not in text


async def test_no_token_in_the_keyring_says_how_to_add_it(home, gateways):
    engine = _engine(home)
    notices = _notices(engine)
    async with engine:
        service = engine.signal_service
        await _until(lambda: service.discord.state == "no_token")
        assert "tui-trader keys set discord" in notices[-1].message
        assert notices[-1].level == "error"
        assert not gateways[0].got_canary


async def test_without_discord_py_it_says_so_and_paste_still_works(home, gateways, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "discord" else real(name, *a)
    )
    engine = _engine(home)
    notices = _notices(engine)
    async with engine:
        service = engine.signal_service
        assert service.discord is None and not gateways
        (note,) = [n for n in notices if n.source == "signals"]
        assert note.level == "warning" and "discord.py is not installed" in note.message
        assert "\n" not in note.message
        assert engine.snapshot().extra["signals"]["discord"]["state"] == "unavailable"
        item = await service.chat.submit_chat("BTC/USDT LONG entry 64000 SL 63000 TP1 66000", "alpha")
        assert item.status == "pending"


def test_settings_defaults_and_valid_table():
    assert load_signals_settings(None).chat.discord.enabled is False
    cfg = load_signals_settings(
        {"chat": {"discord": {"enabled": True, "channels": {"123456789012345678": "alpha"}}}}
    ).chat.discord
    assert cfg.channels == {"123456789012345678": "alpha"} and cfg.token_key == "discord"


@pytest.mark.parametrize(
    "table, words",
    [
        ({"enabled": True}, "signals.chat.discord.channels: enabled but no channels"),
        ({"channels": {"general": "alpha"}}, "channel 'general' is not a channel id"),
        ({"channels": {"123": "two words"}}, "provider 'two words' for channel 123"),
        ({"token_key": "discord:token"}, "signals.chat.discord.token_key"),
        ({"enable": True}, "signals.chat.discord.enable: unknown setting"),
    ],
)
def test_settings_mistakes_are_one_line(table, words):
    with pytest.raises(ConfigError) as err:
        load_signals_settings({"chat": {"discord": table}})
    assert words in str(err.value) and "\n" not in str(err.value)


def test_keys_set_discord_asks_for_one_bot_token(home, capsys):
    old = sys.stdin
    sys.stdin = io.StringIO(f"{CANARY}\n")
    try:
        assert main(["--home", str(home.root), "keys", "set", "discord"]) == 0
    finally:
        sys.stdin = old
    assert main(["--home", str(home.root), "keys", "list", "--json"]) == 0
    out = capsys.readouterr()
    assert "stored bot token for discord" in out.err
    assert '"discord"' in out.out and CANARY not in out.out + out.err
    creds = load_credentials("discord", home)
    assert creds is not None and creds.secret == CANARY and not creds.api_key
