"""The chat webhook: loopback only, token required, messages become pending chat signals."""

from __future__ import annotations

import stat

import aiohttp
import pytest

from tui_trader.core.errors import UserError
from tui_trader.engine.testing import manual_engine, paper_settings
from tui_trader.home import Home
from tui_trader.signals.webhook import TOKEN_FILE, ChatWebhook, load_or_create_token


@pytest.fixture
async def server():
    seen: list[tuple[str, str]] = []

    async def handler(text: str, provider: str) -> dict:
        if "gm" in text:
            raise UserError("no symbol found")
        seen.append((text, provider))
        return {"status": "pending", "provider": provider}

    hook = ChatWebhook(handler, "s3cret", port=0)
    await hook.start()
    yield hook, seen
    await hook.stop()


async def test_requires_the_token(server):
    hook, seen = server
    assert hook.url.startswith("http://127.0.0.1:") and hook.port > 0
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            async with http.post(hook.url, json={"text": "BTC long"}, headers=headers) as resp:
                assert resp.status == 401
    assert seen == [] and hook.refused == 3
    assert "s3cret" not in repr(hook)


async def test_json_text_and_errors(server):
    hook, seen = server
    auth = {"Authorization": "Bearer s3cret"}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            hook.url, json={"text": "ETH short", "provider": "alpha"}, headers=auth
        ) as r:
            assert r.status == 200 and (await r.json())["provider"] == "alpha"
        async with http.post(hook.url + "?provider=beta", data="SOL long", headers=auth) as r:
            assert r.status == 200
        async with http.post(hook.url, json={"text": "gm frens"}, headers=auth) as r:
            assert r.status == 422 and "no symbol" in (await r.json())["error"]
        async with http.post(
            hook.url, data="{oops", headers={**auth, "Content-Type": "application/json"}
        ) as r:
            assert r.status == 400
        async with http.post(hook.url, json={"text": "x", "provider": "../etc"}, headers=auth) as r:
            assert r.status == 400
        async with http.post(hook.url, data="x" * 20_000, headers=auth) as r:
            assert r.status == 413
    assert seen == [("ETH short", "alpha"), ("SOL long", "beta")]


def test_token_file_is_private_and_stable(tmp_path):
    token = load_or_create_token(tmp_path)
    assert len(token) >= 32 and load_or_create_token(tmp_path) == token
    assert stat.S_IMODE((tmp_path / TOKEN_FILE).stat().st_mode) == 0o600


async def test_engine_webhook_end_to_end(tmp_path):
    home = Home(tmp_path / "home").ensure()
    settings = paper_settings().model_copy(update={"signals": {"chat": {"webhook_port": 0}}})
    engine = manual_engine(settings, home=home)
    async with engine:
        service = engine.signal_service
        assert service is not None and service.webhook is not None
        token = (home.run_dir / TOKEN_FILE).read_text().strip()
        text = "Buy $AAPL @ 190 stop 185 target 200"
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                service.webhook.url,
                json={"text": text, "provider": "desk"},
                headers={"Authorization": f"Bearer {token}"},
            ) as r,
        ):
            body = await r.json()
            assert r.status == 200, body
        assert body["status"] == "pending" and body["signal"]["symbol"] == "AAPL"
        assert service.chat.pending[body["id"]].origin == "webhook"
        assert engine.snapshot().extra["signals"]["pending_chat"][0]["provider"] == "desk"
        url = service.webhook.url
    async with aiohttp.ClientSession() as http:  # stopped with the engine
        with pytest.raises(aiohttp.ClientConnectionError):
            async with http.post(url, data="x"):
                pass
