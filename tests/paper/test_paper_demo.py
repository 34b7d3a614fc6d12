"""The demo preset: two bundled teaching strategies trade the paper market on 1-minute bars
within the first few minutes: signal -> risk -> order -> fill -> position -> P&L."""

from __future__ import annotations

from datetime import UTC, datetime

from tui_trader.cli.common import context
from tui_trader.cli.main import build_parser
from tui_trader.config.demo import DEMO_STRATEGIES, with_demo
from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderStatus
from tui_trader.engine.testing import manual_engine, paper_settings, step

START = datetime(2026, 3, 11, 17, 42, 13, tzinfo=UTC)


def test_the_demo_flag_adds_the_teaching_strategies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for argv in (["--home", str(tmp_path), "--demo"], ["--home", str(tmp_path), "--demo", "daemon"],
                 ["--home", str(tmp_path), "daemon", "--demo"]):
        args = build_parser().parse_args(argv)
        settings = context(args).settings
        assert set(DEMO_STRATEGIES) <= set(settings.strategies), argv
        assert settings.strategies["demo_trend"].symbols == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    plain = context(build_parser().parse_args(["--home", str(tmp_path), "daemon"])).settings
    assert not set(DEMO_STRATEGIES) & set(plain.strategies)


async def test_demo_strategies_trade_within_the_first_minutes() -> None:
    eng = manual_engine(with_demo(paper_settings()), clock=FrozenClock(START))
    await eng.start()
    try:
        assert eng.strategies is not None and not eng.strategies.broken
        filled_at = None
        for _ in range(4 * 60 * 5):  # five minutes at 250 ms
            await step(eng)
            await eng.strategies.drain()
            await eng.oms.flush()  # type: ignore[union-attr]
            fills = [o for o in eng.recent_orders.values() if o.strategy and o.status is OrderStatus.FILLED]
            if fills:
                filled_at = (eng.clock.now() - START).total_seconds()
                break
        assert filled_at is not None and filled_at < 300
        order = fills[0]
        assert order.strategy in DEMO_STRATEGIES and order.source == f"strategy:{order.strategy}"
        position = eng.portfolio.position("paper", order.symbol)
        assert position.quantity != 0
        await step(eng, 8)
        assert eng.account().unrealized_pnl != 0  # the position is marked to the moving market
    finally:
        await eng.stop()
