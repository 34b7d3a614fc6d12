"""The signal service inside a real engine (paper venue, frozen clock, tmp_path home)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from async_wait import until

from tui_trader.core.enums import OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.core.events import CandleEvent
from tui_trader.core.market import Candle
from tui_trader.engine.chat_desk import STATE_KEY
from tui_trader.engine.commands import dispatch
from tui_trader.engine.testing import manual_engine, paper_settings
from tui_trader.home import Home
from tui_trader.signals.ml.model import TrainConfig, train
from tui_trader.signals.ml.registry import ModelRegistry
from tui_trader.strategy.synthetic import synthetic_ohlcv

FEEDS = Path(__file__).parent / "feeds"


def _settings(signals: dict | None = None):
    return paper_settings().model_copy(update={"signals": signals or {}})


async def _until(predicate, timeout: float = 10.0) -> None:
    await until(predicate, timeout)


@pytest.fixture
def home(tmp_path) -> Home:
    return Home(tmp_path / "home").ensure()


async def test_off_by_default_and_start_stays_light(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        assert engine.signal_service is None
        assert "recommendations" not in engine.snapshot().extra
        assert await dispatch(engine, "signals.recommendations", {}, "test") == []


async def test_closed_candles_give_model_and_regime_signals(home):
    df = synthetic_ohlcv(900, "1h", seed=2)
    result = train(df, "1h", TrainConfig(horizon=2, folds=3, max_iter=20, min_train=200))
    info = ModelRegistry(home.models_dir).save(
        result.model,
        symbol="BTC/USDT",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        data_range={"rows": len(df)},
        report=result.report.as_dict(),
    )
    engine = manual_engine(_settings(), home=home)
    async with engine:
        service = engine.signal_service
        assert service is not None  # a model exists, so the service started on its own
        history = await engine.fetch_candles("BTC/USDT", "1h", limit=1)
        last = history[-1]
        forming = Candle(
            "BTC/USDT",
            "1h",
            last.open_time + timedelta(hours=1),
            last.close,
            last.close * 1.01,
            last.close * 0.99,
            last.close * 1.005,
            10.0,
            closed=False,
        )
        engine.bus.publish(CandleEvent("paper", forming))
        closed = Candle(
            "BTC/USDT",
            "1h",
            forming.open_time,
            last.close,
            last.close * 1.01,
            last.close * 0.99,
            last.close * 1.005,
            10.0,
            closed=True,
        )
        engine.bus.publish(CandleEvent("paper", closed))
        await _until(lambda: any(s.source == "ml" for s in engine.signals))
        ml = next(s for s in engine.signals if s.source == "ml")
        assert ml.symbol == "BTC/USDT" and ml.timeframe == "1h" and ml.meta["model"] == info.id
        assert "no out-of-sample edge" in ml.reason or ml.meta["edge"]
        assert len(service.inference_ms) == 1  # the forming candle was ignored
        await _until(lambda: bool(service.recommendations()))
        recs = engine.snapshot().extra["recommendations"]
        assert recs[0]["symbol"] == "BTC/USDT"
        assert {"score", "direction", "confidence", "top_reasons", "sources"} <= set(recs[0])
        assert any(src["source"] == "ml" for src in recs[0]["sources"])
        assert engine.snapshot().extra["signals"]["models"] == ["BTC/USDT 1h"]


async def test_pasted_chat_signal_waits_for_confirmation(home):
    engine = manual_engine(_settings(), home=home)
    async with engine:
        pending = await dispatch(
            engine,
            "signals.parse_chat",
            {"text": "BTC/USDT LONG entry 64000 SL 63000 TP1 66000 TP2 68000", "provider": "alpha"},
            "test",
        )
        assert pending["status"] == "pending" and pending["signal"]["symbol"] == "BTC/USDT"
        assert engine.oms.open_orders() == [] and not engine.recent_orders  # nothing was placed
        await _until(lambda: any(s.source == "chat:alpha" for s in engine.signals))
        ticket = await dispatch(
            engine, "signals.confirm", {"id": pending["id"], "quantity": "0.01"}, "test"
        )
        req = ticket["request"]
        assert (req.side, req.type, req.quantity) == (Side.BUY, OrderType.LIMIT, Decimal("0.01"))
        assert (req.price, req.stop_loss, req.take_profit) == (
            Decimal(64000),
            Decimal(63000),
            Decimal(66000),
        )
        assert req.source == "signal:alpha"
        assert engine.oms.open_orders() == []  # the ticket places it, after the trader confirms
        with pytest.raises(UserError, match="already confirmed"):
            await dispatch(engine, "signals.confirm", {"id": pending["id"]}, "test")
        with pytest.raises(UserError, match="not a trade signal"):
            await dispatch(engine, "signals.parse_chat", {"text": "gm frens"}, "test")


async def test_auto_execute_goes_through_engine_place_and_scores_the_provider(home):
    settings = _settings({"chat": {"auto_execute": ["alpha"], "min_confidence": 0.7, "min_trades": 0}})
    engine = manual_engine(settings, home=home)
    async with engine:
        mid = engine.mid("BTC/USDT")
        assert mid > 0
        text = f"BTC/USDT long now SL {mid * 0.97:.0f} TP {mid * 1.05:.0f}"
        item = await dispatch(
            engine, "signals.parse_chat", {"text": text, "provider": "alpha"}, "test"
        )
        assert item["status"] == "executed", item["note"]
        order = engine.recent_orders[item["order_id"]]
        assert order.source == "signal:alpha" and order.meta["stop_loss"]
        # another provider's call is only a signal
        other = await dispatch(
            engine, "signals.parse_chat", {"text": text, "provider": "beta"}, "test"
        )
        assert other["status"] == "pending"
        await engine.flatten("test")
        service = engine.signal_service
        await _until(lambda: service.chat.providers.stats("alpha").count == 1)
        stats = service.chat.providers.stats("alpha")
        assert abs(stats.total_r) < 0.5  # closed straight away: a small fraction of the risk
        state = await engine.store.load_strategy_state(STATE_KEY)
        assert state["providers"]["providers"]["alpha"]["count"] == 1

    again = manual_engine(_settings({"enabled": True}), home=home)
    async with again:
        assert again.signal_service.chat.providers.stats("alpha").count == 1  # persisted


async def test_low_confidence_is_not_auto_executed(home):
    settings = _settings({"chat": {"auto_execute": ["alpha"], "min_confidence": 0.95}})
    engine = manual_engine(settings, home=home)
    async with engine:
        item = await dispatch(
            engine,
            "signals.parse_chat",
            {"text": "BTC/USDT LONG entry 64000 SL 63000", "provider": "alpha"},
            "test",
        )
        assert item["status"] == "pending" and "below 0.95" in item["note"]
        assert not engine.recent_orders


async def test_news_feeds_become_signals(home):
    feeds = [str(FEEDS / "markets.rss"), str(FEEDS / "crypto.atom")]
    engine = manual_engine(_settings({"news": {"feeds": feeds, "interval_s": 3600}}), home=home)
    async with engine:
        assert engine.signal_service is not None
        await _until(lambda: any(s.source == "news" for s in engine.signals))
        assert engine.signal_service.poller.errors == {}
