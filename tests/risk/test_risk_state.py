"""Risk state across restarts and reloads: breakers, the day's anchor, the losing streak, peak
equity, protection locks and the closed trades they read all come back; `risk.reset` is the only
way out of a halt; a reload applies new limits to every check, breaker and protection at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tui_trader.config import Settings
from tui_trader.config.risk import ProtectionSettings, RiskSettings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.engine.commands import dispatch
from tui_trader.engine.testing import manual_engine
from tui_trader.home import Home

from risk_helpers import SYMBOL, Market, d

GUARD = ProtectionSettings(method="StoplossGuard", lookback_period=600, stop_duration=600, trade_limit=1)


def risk_settings(**overrides: object) -> Settings:
    risk = {"daily_loss_limit": 50.0, "max_consecutive_losses": 2, "protections": [GUARD], **overrides}
    return Settings(risk=RiskSettings(**risk))  # type: ignore[arg-type]


async def boot(home: Home, settings: Settings, clock: FrozenClock) -> tuple[Engine, Market]:
    engine = manual_engine(settings, home=home, clock=clock)
    await engine.start()
    for task in engine._tasks:  # the test drives the risk loop itself
        task.cancel()
    market = Market(engine)
    await market.price(3000.0)
    return engine, market


async def lose_twice(engine: Engine, market: Market) -> None:
    """Two losing round trips, the second stopped out by a bracket's stop-loss."""
    await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
    await market.price(2990.0)
    await engine.place(OrderRequest(SYMBOL, Side.SELL, d(1)))
    await market.price(3000.0)
    await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1), stop_loss=d(2960)))
    await market.price(2950.0)  # the stop-loss fires: a losing stop-out
    assert engine.portfolio.open_positions() == []


def stored_risk_state(home: Home) -> dict[str, object]:
    """What a process killed right now would find (read by another connection)."""
    import json

    conn = sqlite3.connect(home.db_file)
    try:
        row = conn.execute("SELECT state FROM risk_state WHERE key='risk'").fetchone()
        trades = conn.execute("SELECT COUNT(*) FROM closed_trades").fetchone()[0]
    finally:
        conn.close()
    return {"state": json.loads(row[0]) if row else None, "closed": trades}


@pytest.mark.parametrize("clean", [True, False], ids=["clean-restart", "no-stop"])
async def test_tripped_breakers_and_a_lock_survive_a_restart(tmp_path: Path, clean: bool) -> None:
    home, clock = Home(tmp_path), FrozenClock()
    engine, market = await boot(home, risk_settings(), clock)
    await lose_twice(engine, market)
    before = engine.risk_state()
    assert set(before["breakers"]) == {"daily_loss", "consecutive_losses"}
    assert before["consecutive_losses"] == 2 and before["closed_trades"] == 2
    assert [lk["method"] for lk in before["locks"]] == ["StoplossGuard"]
    halt = engine.current_halt()
    assert halt and "daily_loss breaker" in halt and "consecutive_losses breaker" in halt
    if clean:
        await engine.stop()
    else:  # the state is in the database already, as a kill -9 right now would leave it
        await engine.risk_journal.flush()  # type: ignore[union-attr]
        stored = stored_risk_state(home)
        assert stored["closed"] == 2
        assert set(stored["state"]["breakers"]["tripped"]) == {"daily_loss", "consecutive_losses"}  # type: ignore[index]
        await engine.oms.stop()  # type: ignore[union-attr]
        await engine.store.close()  # type: ignore[union-attr]  # no risk-journal close, no final write

    again, market = await boot(home, risk_settings(), clock)
    try:
        after = again.risk_state()
        assert after["breakers"] == before["breakers"]  # same trips, same reasons, same times
        assert after["consecutive_losses"] == 2 and after["closed_trades"] == 2
        assert after["peak_equity"] == pytest.approx(before["peak_equity"])
        assert after["day_pnl"] == pytest.approx(before["day_pnl"], abs=0.02)
        assert [lk["until"] for lk in after["locks"]] == [lk["until"] for lk in before["locks"]]
        assert again.current_halt() == halt
        refused = await again.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
        assert refused.status is OrderStatus.REJECTED and refused.meta["reject_code"] == "halted"
        # The lock is in force for automated entries after the restart too.
        from tui_trader.engine.identity import origin_of

        assert origin_of("strategy:bot").automated
        cleared = await dispatch(again, "risk.reset", {}, "tester")
        assert sorted(cleared["cleared"]) == ["consecutive_losses", "daily_loss"]
        assert again.current_halt() is None
        audit = await again.store.audit_log(20)  # type: ignore[union-attr]
        assert any(a["action"] == "risk_reset" and a["actor"] == "tester" for a in audit)
        filled = await again.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
        assert filled.status is OrderStatus.FILLED
    finally:
        await again.stop()

    # The reset itself survives the next restart.
    third, _ = await boot(home, risk_settings(), clock)
    try:
        assert third.current_halt() is None and third.risk_state()["consecutive_losses"] == 0
    finally:
        await third.stop()


async def test_the_lock_refuses_automated_entries_after_a_restart(tmp_path: Path) -> None:
    home, clock = Home(tmp_path), FrozenClock()
    settings = risk_settings(daily_loss_limit=None, max_consecutive_losses=None)
    engine, market = await boot(home, settings, clock)
    await lose_twice(engine, market)
    assert engine.current_halt() is None
    await engine.stop()
    again, _ = await boot(home, settings, clock)
    try:
        locked = await again.place(OrderRequest(SYMBOL, Side.BUY, d(1)), actor="signal:desk")
        assert locked.status is OrderStatus.REJECTED and locked.meta["reject_code"] == "protection"
        assert "StoplossGuard locks all pairs" in (locked.reason or "")
        manual = await again.place(OrderRequest(SYMBOL, Side.BUY, d(1)))  # protections lock automation only
        assert manual.status is OrderStatus.FILLED
    finally:
        await again.stop()


async def test_a_new_utc_day_clears_only_the_daily_breaker_after_a_restart(tmp_path: Path) -> None:
    home, clock = Home(tmp_path), FrozenClock()
    engine, market = await boot(home, risk_settings(), clock)
    await lose_twice(engine, market)
    await engine.stop()
    clock.advance(24 * 3600)
    again, _ = await boot(home, risk_settings(), clock)
    try:
        assert set(again.risk_state()["breakers"]) == {"consecutive_losses"}
    finally:
        await again.stop()


async def test_reload_applies_new_limits_to_checks_breakers_and_protections_at_once(tmp_path: Path) -> None:
    home, clock = Home(tmp_path), FrozenClock()
    engine, market = await boot(home, Settings(risk=RiskSettings()), clock)
    try:
        ok = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
        assert ok.status is OrderStatus.FILLED
        new = RiskSettings(
            max_order_notional=4000.0,
            max_consecutive_losses=1,
            daily_loss_limit=5.0,
            protections=[GUARD],
        )
        changed = await engine.apply_risk_settings(new, "tester")
        assert changed["max_order_notional"] == {"from": None, "to": 4000.0}
        # The very next check uses the new limit ...
        refused = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(2)))
        assert refused.meta["reject_code"] == "max_order_notional"
        # ... the breakers and protections too, and the risk pane shows them.
        assert engine.risk.breakers.limits.max_consecutive_losses == 1
        assert engine.risk.protections.rules and engine.risk_state()["limits"]["max_order_notional"] == 4000.0
        await market.price(2980.0)
        await engine.place(OrderRequest(SYMBOL, Side.SELL, d(1)))
        assert {"consecutive_losses", "daily_loss"} <= set(engine.risk_state()["breakers"])
        audit = await engine.store.audit_log(20)  # type: ignore[union-attr]
        reload = next(a for a in audit if a["action"] == "risk_reload")
        assert reload["actor"] == "tester" and "max_order_notional" in reload["detail"]["changed"]
    finally:
        await engine.stop()


async def test_config_reload_refuses_an_invalid_file_whole(tmp_path: Path) -> None:
    from tui_trader.core.errors import UserError

    home, clock = Home(tmp_path), FrozenClock()
    engine, _ = await boot(home, Settings(risk=RiskSettings(max_order_notional=5000.0)), clock)
    engine.config_file = tmp_path / "config.toml"
    try:
        # One valid change and one invalid value: nothing of it is applied.
        engine.config_file.write_text("[risk]\nmax_order_notional = 10\nmax_drawdown = 1.5\n")
        with pytest.raises(UserError) as err:
            await dispatch(engine, "config.reload", {}, "tui")
        assert "the running config stays" in str(err.value) and "max_drawdown" in str(err.value)
        assert "\n" not in str(err.value)
        assert engine.checks.settings.max_order_notional == 5000.0
        engine.config_file.write_text("[risk]\nmax_order_notional = 10\n")
        result = await dispatch(engine, "config.reload", {}, "tui")
        assert result["applied"] == ["risk"] and engine.risk_state()["limits"]["max_order_notional"] == 10
        refused = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
        assert refused.meta["reject_code"] == "max_order_notional"
    finally:
        await engine.stop()


async def test_reload_keeps_trips_and_locks(tmp_path: Path) -> None:
    home, clock = Home(tmp_path), FrozenClock()
    engine, market = await boot(home, risk_settings(), clock)
    try:
        await lose_twice(engine, market)
        await engine.apply_risk_settings(RiskSettings(), "tester")  # no limits at all now
        assert set(engine.risk_state()["breakers"]) == {"daily_loss", "consecutive_losses"}
        assert engine.risk_state()["locks"]
        refused = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1), OrderType.MARKET))
        assert refused.meta["reject_code"] == "halted"
    finally:
        await engine.stop()
