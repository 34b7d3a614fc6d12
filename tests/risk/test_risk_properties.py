"""Hypothesis properties: limits hold, breakers trip exactly at their threshold, OCO and
bracket links hold, the kill switch leaves the paper venue empty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tui_trader.config import Settings
from tui_trader.config.risk import RiskSettings
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.risk.breakers import (
    CONSECUTIVE_LOSSES,
    DAILY_LOSS,
    MAX_DRAWDOWN,
    BreakerLimits,
    Breakers,
)

from risk_helpers import SYMBOL, Market, d, start_engine

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)


@FAST
@given(st.lists(st.floats(-5000, 5000), min_size=1, max_size=40), st.floats(100, 3000))
def test_daily_loss_trips_exactly_at_threshold(moves: list[float], limit: float) -> None:
    b = Breakers(BreakerLimits(daily_loss_limit=limit))
    equity = 100_000.0
    b.observe_equity(equity, T0)
    ever = False
    for i, move in enumerate(moves):
        equity += move
        b.observe_equity(equity, T0 + timedelta(minutes=i + 1))
        ever = ever or equity - 100_000.0 <= -limit
        assert (DAILY_LOSS in b.tripped) == ever


@FAST
@given(st.lists(st.floats(-0.2, 0.2), min_size=1, max_size=40), st.floats(0.01, 0.5))
def test_drawdown_trips_exactly_at_threshold(rets: list[float], limit: float) -> None:
    b = Breakers(BreakerLimits(max_drawdown=limit))
    equity, peak, ever = 100_000.0, 100_000.0, False
    b.observe_equity(equity, T0)
    for r in rets:
        equity *= 1 + r
        peak = max(peak, equity)
        ever = ever or (1 - equity / peak) >= limit
        b.observe_equity(equity, T0)
        assert (MAX_DRAWDOWN in b.tripped) == ever
    b.reset("max_drawdown")
    assert MAX_DRAWDOWN not in b.tripped and b.drawdown == 0.0


@FAST
@given(st.lists(st.floats(-100, 100).filter(lambda x: x != 0), max_size=40), st.integers(1, 6))
def test_losing_streak_trips_exactly(pnls: list[float], limit: int) -> None:
    b = Breakers(BreakerLimits(max_consecutive_losses=limit))
    streak, ever = 0, False
    for p in pnls:
        streak = streak + 1 if p < 0 else 0
        ever = ever or streak >= limit
        b.observe_trade(p, T0)
        assert (CONSECUTIVE_LOSSES in b.tripped) == ever


def test_daily_breaker_clears_at_utc_midnight() -> None:
    b = Breakers(BreakerLimits(daily_loss_limit=100))
    b.observe_equity(1000, T0)
    assert b.observe_equity(899, T0)
    assert b.halt_reason()
    b.observe_equity(899, T0 + timedelta(days=1))
    assert b.halt_reason() is None


_order = st.tuples(
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 40),
    st.sampled_from(["market", "limit"]),
    st.floats(-0.03, 0.03),
    st.floats(-0.02, 0.02),
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(_order, min_size=1, max_size=12))
async def test_no_accepted_order_breaches_a_limit(
    orders: list[tuple[Side, int, str, float, float]],
) -> None:
    risk = RiskSettings(
        max_order_notional=20_000,
        max_position_notional=30_000,
        max_gross_exposure=45_000,
        max_open_positions=2,
        price_band_pct=0.05,
    )
    engine = await start_engine(Settings(risk=risk))
    market = Market(engine)
    try:
        price = 3000.0
        await market.price(price)
        await market.price(60_000.0, "BTC/USDT")
        for side, tenths, kind, offset, move in orders:
            qty = d(tenths / 4)
            req = OrderRequest(
                SYMBOL,
                side,
                qty,
                OrderType.LIMIT if kind == "limit" else OrderType.MARKET,
                price=d(round(price * (1 + offset), 2)) if kind == "limit" else None,
            )
            placed = await engine.place(req)
            if placed.status is not OrderStatus.REJECTED:
                ref = float(req.price) if req.price is not None else price
                assert float(qty) * ref <= risk.max_order_notional + 1e-6
                if req.price is not None:
                    assert abs(float(req.price) / price - 1) <= 0.05 + 1e-9
            price = round(price * (1 + move), 2)
            await market.price(price)
            for pos in engine.portfolio.open_positions():
                # marks move after acceptance; limits hold at the prices they were accepted at
                assert (
                    abs(float(pos.quantity)) * float(pos.average_price)
                    <= risk.max_position_notional + 1e-6
                )
            assert len(engine.portfolio.open_positions()) <= 2
    finally:
        await engine.stop()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.floats(-0.06, 0.06), min_size=1, max_size=15))
async def test_oco_never_both_filled_and_bracket_children_follow(moves: list[float]) -> None:
    engine = await start_engine()
    market = Market(engine)
    try:
        price = 3000.0
        await market.price(price)
        entry = await engine.place(
            OrderRequest(SYMBOL, Side.BUY, d(1), stop_loss=d(2900), take_profit=d(3100))
        )
        pending = await engine.place(
            OrderRequest(
                SYMBOL,
                Side.BUY,
                d(1),
                OrderType.LIMIT,
                price=d(2860),
                stop_loss=d(2800),
                take_profit=d(3000),
            )
        )
        for move in moves:
            price = round(price * (1 + move), 2)
            await market.price(price)
        await engine.cancel_all()
        await market.settle()
        for parent in (entry, pending):
            kids = [o for o in engine.oms.orders.values() if o.parent_id == parent.client_order_id]
            assert sum(1 for k in kids if k.filled_quantity > 0) <= 1, "both OCO legs filled"
            final = engine.oms.orders[parent.client_order_id]
            if final.filled_quantity == 0:
                assert all(
                    k.filled_quantity == 0 and k.status is OrderStatus.CANCELLED for k in kids
                )
    finally:
        await engine.stop()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from([SYMBOL, "BTC/USDT", "SOL/USDT"]),
            st.sampled_from([Side.BUY, Side.SELL]),
            st.sampled_from(["market", "limit", "stop", "trail", "bracket"]),
        ),
        min_size=1,
        max_size=10,
    )
)
async def test_kill_switch_leaves_no_order_and_no_position(
    actions: list[tuple[str, Side, str]],
) -> None:
    engine = await start_engine()
    market = Market(engine)
    prices = {SYMBOL: 3000.0, "BTC/USDT": 60_000.0, "SOL/USDT": 150.0}
    try:
        for sym, p in prices.items():
            await market.price(p, sym)
        for sym, side, kind in actions:
            p = prices[sym]
            qty = d("0.01") if sym == "BTC/USDT" else d(1)
            away = -1 if side is Side.BUY else 1
            if kind == "market":
                req = OrderRequest(sym, side, qty)
            elif kind == "limit":
                req = OrderRequest(
                    sym, side, qty, OrderType.LIMIT, price=d(round(p * (1 + 0.02 * away), 2))
                )
            elif kind == "stop":
                req = OrderRequest(
                    sym, side, qty, OrderType.STOP, stop_price=d(round(p * (1 - 0.02 * away), 2))
                )
            elif kind == "trail":
                req = OrderRequest(sym, side, qty, OrderType.TRAILING_STOP, trail_percent=d("0.01"))
            else:
                sl, tp = (0.97, 1.03) if side is Side.BUY else (1.03, 0.97)
                req = OrderRequest(
                    sym, side, qty, stop_loss=d(round(p * sl, 2)), take_profit=d(round(p * tp, 2))
                )
            await engine.place(req)
        result = await engine.flatten()
        assert market.venue.matching.open_orders() == []
        assert market.venue.account.positions == {}
        assert engine.oms.open_orders() == []
        assert result["still_open"] == []
    finally:
        await engine.stop()


_step = st.one_of(
    st.tuples(st.just("order"), st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 12), st.sampled_from(
        ["market", "limit", "bracket", "reduce"])),
    st.tuples(st.just("move"), st.floats(-0.03, 0.03)),
    st.tuples(st.just("restart"), st.booleans()),
    st.tuples(st.just("reload"), st.integers(1, 4), st.floats(5, 200)),
    st.tuples(st.just("reset"),),
)


def _lasting(state: dict) -> dict:  # type: ignore[type-arg]
    """What must survive a restart exactly (equity itself is re-observed from the venue, so the
    peak can only rise and a breaker can trip at the first look: the manual paper venue restarts
    at its own price, not the test's; trips are compared as "none lost")."""
    b = state["breakers"]
    return {
        "consecutive_losses": b["consecutive_losses"],
        "day": b["day"],
        "day_start_equity": round(b["day_start_equity"], 6),
        "locks": state["locks"],
        "open_trades": state["open_trades"],
    }


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(_step, min_size=1, max_size=14))
@example(
    [
        ("reload", 4, 200.0),
        ("order", Side.BUY, 2, "bracket"),
        ("move", -0.02),  # stop-out 1
        ("order", Side.BUY, 2, "bracket"),
        ("move", -0.02),  # stop-out 2: StoplossGuard locks
        ("order", Side.BUY, 2, "market"),
        ("move", -0.02),
        ("order", Side.SELL, 2, "market"),  # a third loss in a row
        ("restart", False),  # as after kill -9
        ("reload", 1, 5.0),  # both breakers trip at the next observation
        ("order", Side.SELL, 8, "limit"),
        ("restart", True),
        ("reset",),
        ("order", Side.BUY, 12, "market"),
    ]
)
async def test_no_limit_breach_and_no_lost_risk_state_across_restarts_and_reloads(
    steps: list[tuple],  # type: ignore[type-arg]
) -> None:
    import tempfile
    from pathlib import Path

    from tui_trader.config.risk import ProtectionSettings
    from tui_trader.core.clock import FrozenClock
    from tui_trader.engine.testing import manual_engine
    from tui_trader.home import Home

    limit = 9_000.0
    guard = ProtectionSettings(method="StoplossGuard", lookback_period=600, stop_duration=600, trade_limit=2)

    def risk_of(streak: int, daily: float) -> RiskSettings:
        return RiskSettings(
            max_position_notional=limit,
            max_consecutive_losses=streak,
            daily_loss_limit=daily,
            protections=[guard],
            check_balance=False,
        )

    clock = FrozenClock(T0)
    with tempfile.TemporaryDirectory() as tmp:
        home = Home(Path(tmp))
        current = risk_of(2, 50.0)

        async def boot(risk: RiskSettings):  # type: ignore[no-untyped-def]
            eng = manual_engine(Settings(risk=risk), home=home, clock=clock)
            await eng.start()
            for task in eng._tasks:
                task.cancel()
            return eng, Market(eng)

        engine, market = await boot(current)
        price = 3000.0
        lowest = price
        await market.price(price)
        try:
            for step in steps:
                kind = step[0]
                if kind == "order":
                    _, side, tenths, how = step
                    qty = d(tenths / 4)
                    away = -1 if side is Side.BUY else 1
                    if how == "market":
                        req = OrderRequest(SYMBOL, side, qty)
                    elif how == "limit":
                        at = d(round(price * (1 + 0.004 * away), 2))
                        req = OrderRequest(SYMBOL, side, qty, OrderType.LIMIT, price=at)
                    elif how == "bracket":
                        req = OrderRequest(
                            SYMBOL, side, qty,
                            stop_loss=d(round(price * (1 + 0.01 * away), 2)),
                            take_profit=d(round(price * (1 - 0.01 * away), 2)),
                        )
                    else:
                        req = OrderRequest(SYMBOL, side, qty, reduce_only=True)
                    await engine.place(req)
                elif kind == "move":
                    price = round(price * (1 + step[1]), 2)
                    clock.advance(30)
                    await market.price(price)
                elif kind == "restart":
                    before = _lasting(engine.risk.export_state())
                    tripped = dict(engine.risk.breakers.tripped)
                    peak = engine.risk.breakers.peak_equity
                    closed = list(engine.risk.trades.closed)
                    fills = len(await engine.store.load_fills())
                    if step[1]:
                        await engine.stop()
                    else:  # as after kill -9: what is in the database, nothing flushed on the way out
                        await engine.risk_journal.flush()
                        await engine.oms.stop()
                        await engine.store.close()
                    engine, market = await boot(current)
                    after = _lasting(engine.risk.export_state())
                    assert engine.risk.breakers.peak_equity >= peak - 1e-6
                    kept = engine.risk.breakers.tripped
                    assert all(kept.get(n) == t for n, t in tripped.items())  # no trip lost, same reason
                    if len(await engine.store.load_fills()) == fills:
                        assert after == before  # nothing filled while down: exactly as it was
                    assert engine.risk.trades.closed[: len(closed)] == closed
                    await market.price(price)
                elif kind == "reload":
                    tripped = set(engine.risk.breakers.tripped)
                    current = risk_of(step[1], step[2])
                    await engine.apply_risk_settings(current, "test")
                    assert tripped <= set(engine.risk.breakers.tripped)  # a reload never clears a halt
                    assert engine.risk.breakers.limits.max_consecutive_losses == step[1]
                else:
                    await engine.reset_breakers(None, "test")
                await market.settle()
                lowest = min(lowest, price)
                pos = engine.portfolio.positions.get(("paper", SYMBOL))
                held = abs(float(pos.quantity)) if pos is not None else 0.0
                assert held * lowest <= limit + 1e-6
        finally:
            await engine.stop()
