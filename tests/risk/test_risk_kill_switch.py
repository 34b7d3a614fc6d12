"""The kill switch halts: after `flatten`, new entries (a person's, a strategy's, a chat
signal's) are refused until the breakers are reset, also after a crash right after it; exits
still pass. A breaker's own flatten (`flatten_on_breaker`) leaves the halt to that breaker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_risk_state import boot, stored_risk_state

from tui_trader.config import Settings
from tui_trader.config.risk import RiskSettings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderStatus, Side
from tui_trader.core.errors import UserError
from tui_trader.core.orders import OrderRequest
from tui_trader.engine.commands import dispatch
from tui_trader.home import Home
from tui_trader.risk.breakers import KILL_SWITCH, BreakerLimits, Breakers

from risk_helpers import SYMBOL, d

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


async def test_the_kill_switch_refuses_entries_until_reset_and_a_crash_right_after_keeps_it(tmp_path: Path) -> None:
    home, clock = Home(tmp_path), FrozenClock()
    engine, _ = await boot(home, Settings(), clock)
    await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
    result = await engine.flatten("tester")
    assert len(result["closing_orders"]) == 1 and engine.portfolio.open_positions() == []

    # Stored by the time flatten answers: a kill -9 now finds it.
    assert KILL_SWITCH in stored_risk_state(home)["state"]["breakers"]["tripped"]  # type: ignore[index]
    for actor in ("user", "strategy:bot", "signal:desk"):
        refused = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1)), actor=actor)
        assert refused.status is OrderStatus.REJECTED and refused.meta["reject_code"] == "halted", actor
        assert "kill switch: pressed by tester" in (refused.reason or "")
    await engine.oms.stop()  # type: ignore[union-attr]
    await engine.store.close()  # type: ignore[union-attr]  # no clean stop: as a kill -9 leaves it

    again, _ = await boot(home, Settings(), clock)
    try:
        assert "kill switch" in (again.current_halt() or "")
        refused = await again.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
        assert refused.meta["reject_code"] == "halted"
        with pytest.raises(UserError, match="unknown breaker 'kill'"):
            await dispatch(again, "risk.reset", {"which": "kill"}, "tester")
        assert "kill switch" in (again.current_halt() or "")  # a bad name changed nothing
        cleared = await dispatch(again, "risk.reset", {"which": "kill_switch"}, "tester")
        assert cleared["cleared"] == ["kill_switch"] and again.current_halt() is None
        filled = await again.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
        assert filled.status is OrderStatus.FILLED
        # Exits pass while halted: pressed again, the new position is closed all the same.
        await again.flatten("tester")
        assert again.portfolio.open_positions() == []
    finally:
        await again.stop()


async def test_a_breakers_own_flatten_leaves_the_halt_to_the_breaker(tmp_path: Path) -> None:
    """`flatten_on_breaker`: the daily loss breaker flattens; it clears at the next UTC day as
    always (the kill switch's halt would have lasted until a reset)."""
    home, clock = Home(tmp_path), FrozenClock()
    risk = RiskSettings(daily_loss_limit=5.0, flatten_on_breaker=True)
    engine, market = await boot(home, Settings(risk=risk), clock)
    try:
        await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
        await market.price(2980.0)  # 20 down: the breaker trips and flattens
        engine.risk.observe()
        for _ in range(50):
            if not engine.portfolio.open_positions():
                break
            await asyncio.sleep(0.01)
        assert engine.portfolio.open_positions() == []
        assert set(engine.risk_state()["breakers"]) == {"daily_loss"}
        clock.advance(24 * 3600)
        assert engine.current_halt() is None
    finally:
        await engine.stop()


def test_a_second_press_keeps_the_first_time_and_a_reset_restore_round_trip() -> None:
    b = Breakers(BreakerLimits())
    first = b.kill(T0, "pressed by a")
    assert b.kill(T0.replace(hour=15), "pressed by b") == first
    assert b.halt_reason() == "kill switch: pressed by a"
    again = Breakers(BreakerLimits())
    again.restore(b.to_state())
    assert again.tripped == b.tripped
    assert again.reset() == [KILL_SWITCH] and again.halt_reason() is None
