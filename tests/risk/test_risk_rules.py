"""Sizing, protections, metrics and the engine's risk wiring (breaker halt, reset, snapshot)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from tui_trader.config import Settings
from tui_trader.config.risk import ProtectionSettings, RiskSettings, SizingSettings
from tui_trader.config.settings import load_settings
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.errors import ConfigError
from tui_trader.core.hours import NYSE
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.risk.metrics import historical_var, parametric_var, value_at_risk
from tui_trader.risk.protections import NS_PER_MINUTE, ClosedTrade, ProtectionSet
from tui_trader.risk.sizing import Sizer, SizingInput, TrackRecord, kelly_fraction

from risk_helpers import SYMBOL, Market, d, start_engine

M = NS_PER_MINUTE


def inp(**kw: object) -> SizingInput:
    base = {"symbol": "X", "price": 100.0, "side": 1, "equity": 10_000.0, "available": 10_000.0}
    return SizingInput(**(base | kw))  # type: ignore[arg-type]


def test_sizing_modes() -> None:
    assert Sizer(SizingSettings(mode="fixed_quantity", quantity=3)).quantity(inp()) == 3
    assert Sizer(SizingSettings(mode="fixed_notional", notional=500)).quantity(inp()) == 5
    assert Sizer(SizingSettings(mode="percent_equity", percent=0.1)).quantity(
        inp()
    ) == pytest.approx(10)
    # 1 % of 10k = 100 at risk over a 5.0 stop distance = 20 units
    assert Sizer(SizingSettings(mode="risk_per_trade", risk_per_trade=0.01)).quantity(
        inp(stop_price=95.0)
    ) == pytest.approx(20)
    assert Sizer(SizingSettings(mode="volatility", target_volatility=0.01)).quantity(
        inp(atr=2.0)
    ) == pytest.approx(50)
    capped = Sizer(SizingSettings(mode="fixed_notional", notional=50_000)).quantity(
        inp(available=2_000)
    )
    assert capped == pytest.approx(20)  # never more than the wallet pays
    custom = Sizer(
        SizingSettings(mode="fixed_notional", notional=500), custom_stake=lambda p, m: p / 2
    )
    assert custom.quantity(inp()) == pytest.approx(2.5)


def test_kelly_is_fractional_and_capped() -> None:
    assert kelly_fraction(0.6, 1.0, 1.0) == pytest.approx(0.2)
    assert kelly_fraction(0.3, 1.0, 1.0) == 0.0
    s = SizingSettings(mode="kelly", kelly_fraction=0.5, kelly_cap=0.05, kelly_min_trades=5)
    track = TrackRecord.from_returns([0.02, 0.02, 0.02, -0.01, 0.02, -0.01])
    qty = Sizer(s).quantity(inp(track=track))
    assert qty == pytest.approx(10_000 * 0.05 / 100)


def test_backtest_seam() -> None:
    from tui_trader.backtest.sizing import StakeRequest

    sizer = Sizer(SizingSettings(mode="percent_equity", percent=0.25))
    req = StakeRequest("X", 0, 100.0, 1, None, 6_000.0, 4_000.0, 1, 3, 0.0)
    assert sizer.stake(req) == pytest.approx(2_500.0)


def trade(
    sym: str, exit_min: int, pnl: float, reason: str = "stop_loss", side: int = 1
) -> ClosedTrade:
    return ClosedTrade(sym, side, 0, exit_min * M, pnl, pnl / 1000, reason)


def test_stoploss_guard_and_cooldown() -> None:
    guard = ProtectionSet(
        [
            ProtectionSettings(
                method="StoplossGuard", lookback_period=60, trade_limit=2, stop_duration=30
            )
        ]
    )
    trades = [trade("A", 10, -5)]
    assert guard.allows_entry("B", 11 * M, 1, trades)
    trades.append(trade("B", 20, -5))
    assert not guard.allows_entry("C", 21 * M, 1, trades)  # global lock
    assert guard.allows_entry("C", 51 * M, 1, trades)  # 20 + 30 min later
    cool = ProtectionSet([ProtectionSettings(method="CooldownPeriod", stop_duration=10)])
    done = [trade("A", 5, 3, "roi")]
    assert not cool.allows_entry("A", 6 * M, 1, done) and cool.allows_entry("B", 6 * M, 1, done)
    assert cool.allows_entry("A", 16 * M, 1, done)


def test_low_profit_and_max_drawdown() -> None:
    low = ProtectionSet(
        [
            ProtectionSettings(
                method="LowProfitPairs",
                lookback_period=60,
                trade_limit=2,
                required_profit=0.0,
                stop_duration=60,
            )
        ]
    )
    trades = [trade("A", 1, -2, "exit_signal"), trade("A", 2, 1, "exit_signal")]
    assert not low.allows_entry("A", 3 * M, 1, trades) and low.allows_entry("B", 3 * M, 1, trades)
    dd = ProtectionSet(
        [
            ProtectionSettings(
                method="MaxDrawdown",
                lookback_period=60,
                trade_limit=2,
                max_allowed_drawdown=0.1,
                stop_duration=60,
            )
        ],
        balance=900,
    )
    assert not dd.allows_entry("Z", 3 * M, 1, [trade("A", 1, -60), trade("B", 2, -60)])


def test_var_figures() -> None:
    rng = np.random.default_rng(1)
    pnl = rng.normal(0, 100, 10_000)
    var95, cvar95 = historical_var(pnl, 0.95)
    assert var95 == pytest.approx(164.5, rel=0.05) and cvar95 > var95
    pvar, pcvar = parametric_var([1.0], [[100.0**2]], 0.99)
    assert pvar == pytest.approx(232.6, rel=0.01) and pcvar > pvar
    rets = {"A": list(rng.normal(0, 0.01, 300)), "B": list(rng.normal(0, 0.02, 300))}
    out = value_at_risk({"A": 1000.0, "B": -500.0}, rets, 250, rets["A"])
    assert (
        out["days"] == 250
        and len(out["correlation"]) == 2
        and out["param_99"] > out["param_95"] > 0
    )


def test_us_equity_hours() -> None:
    assert NYSE.state(datetime(2026, 1, 5, 15, 0, tzinfo=UTC)).is_open  # Monday 10:00 New York
    assert not NYSE.state(datetime(2026, 1, 4, 15, 0, tzinfo=UTC)).is_open  # Sunday
    assert not NYSE.state(datetime(2026, 1, 19, 15, 0, tzinfo=UTC)).is_open  # Martin Luther King Jr. Day


def test_invalid_risk_config_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "config.toml"
    cfg.write_text("[risk]\nmax_drawdown = 1.5\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert "risk.max_drawdown" in str(err.value) and "\n" not in str(err.value)
    cfg.write_text('[risk.sizing]\nmode = "fixed_notional"\n')
    with pytest.raises(ConfigError, match="notional"):
        load_settings(cfg)


async def test_breaker_halts_entries_but_not_exits_and_reset_is_audited(
    market: Market, engine: Engine
) -> None:
    engine.risk.breakers.limits.max_consecutive_losses = 1
    await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
    await market.price(2900)
    await engine.place(OrderRequest(SYMBOL, Side.SELL, d(1)))  # a losing round trip
    assert engine.current_halt() and "consecutive_losses" in engine.current_halt()  # type: ignore[operator]
    refused = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
    assert refused.status is OrderStatus.REJECTED and refused.meta["reject_code"] == "halted"
    snap = engine.snapshot()
    assert snap.halted and "consecutive_losses" in snap.extra["risk"]["breakers"]
    await engine.reset_breakers(actor="tester")
    assert engine.current_halt() is None
    log = await engine.store.audit_log(10)  # type: ignore[union-attr]
    assert any(r["action"] == "risk_reset" and r["actor"] == "tester" for r in log)
    assert any(r["action"] == "reject" and r["detail"]["code"] == "halted" for r in log)


async def test_balance_and_snapshot_metrics() -> None:
    engine = await start_engine(Settings(risk=RiskSettings(price_band_pct=None)))
    market = Market(engine)
    try:
        await market.price(3000)
        big = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(40)))  # 120k > 100k USDT
        assert big.meta.get("reject_code") == "insufficient_balance"
        await engine.place(OrderRequest(SYMBOL, Side.BUY, d(2), stop_loss=d(2900)))
        await engine.risk.refresh(engine._daily_closes, force=True)
        risk = engine.snapshot().extra["risk"]
        assert risk["exposure"][SYMBOL] > 0
        assert risk["heat"] == pytest.approx(2 * (3000 - 2900), rel=0.01)
        assert risk["var"]["hist_95"] is not None and risk["var"]["param_99"] > 0
        assert risk["emulated"] == []  # a lone stop-loss child is native on paper
        trail = await engine.place(
            OrderRequest(SYMBOL, Side.SELL, d(2), OrderType.TRAILING_STOP, trail_percent=d("0.01"))
        )
        held = engine.snapshot().extra["risk"]["emulated"]
        assert [h["client_order_id"] for h in held] == [
            trail.client_order_id
        ] and "trailing" in held[0]["emulated"]
    finally:
        await engine.stop()
