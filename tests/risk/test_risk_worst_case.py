"""Limits value the worst case of every working order together, whatever its kind, and
max_open_orders caps how many work at once; who an order belongs to is the engine's call."""

from __future__ import annotations

import pytest

from tui_trader.config import Settings
from tui_trader.config.risk import RiskLimits, RiskSettings
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.errors import UsageError
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine

from risk_helpers import SYMBOL, Market, d, start_engine

LIMIT = 10_000.0  # max_position_notional: 3.3 ETH at 3000


async def engine_with(**risk: object) -> tuple[Engine, Market]:
    engine = await start_engine(Settings(risk=RiskSettings(**risk)))  # type: ignore[arg-type]
    market = Market(engine)
    await market.price(3000.0)
    return engine, market


def held(engine: Engine) -> float:
    pos = engine.portfolio.positions.get(("paper", SYMBOL))
    return float(pos.quantity) if pos else 0.0


async def test_resting_sells_that_each_reduce_cannot_together_flip_past_the_limit() -> None:
    engine, market = await engine_with(max_position_notional=LIMIT)
    try:
        assert (await engine.place(OrderRequest(SYMBOL, Side.BUY, d(2)))).status is OrderStatus.FILLED
        accepted = []
        for _ in range(6):  # each 1.5 ETH, less than the 2 held
            o = await engine.place(OrderRequest(SYMBOL, Side.SELL, d("1.5"), OrderType.LIMIT, price=d(3010)))
            if o.status is not OrderStatus.REJECTED:
                accepted.append(o)
            else:
                assert o.meta["reject_code"] == "max_position_notional"
                assert "could reach" in (o.reason or "")
        assert len(accepted) == 3  # 2 - 4.5 = -2.5 ETH (7,500); a fourth would make -4 (12,000)
        await market.price(3020.0)  # every resting sell fills
        assert held(engine) == pytest.approx(-2.5)
        assert abs(held(engine)) * 3010 <= LIMIT
    finally:
        await engine.stop()


async def test_an_exit_is_one_only_while_the_working_orders_on_its_side_cannot_pass_flat() -> None:
    engine, market = await engine_with(daily_loss_limit=1.0)
    try:
        await engine.place(OrderRequest(SYMBOL, Side.BUY, d(2)))
        await market.price(2990.0)  # the daily loss breaker trips: entries halted
        assert engine.current_halt()
        first = await engine.place(OrderRequest(SYMBOL, Side.SELL, d("1.5"), OrderType.LIMIT, price=d(3000)))
        assert first.status is OrderStatus.ACCEPTED  # reduces: allowed during the halt
        second = await engine.place(OrderRequest(SYMBOL, Side.SELL, d("1.5"), OrderType.LIMIT, price=d(3000)))
        assert second.meta["reject_code"] == "halted"
        assert "cancel them first, or use flatten" in (second.reason or "")
        only = await engine.place(OrderRequest(SYMBOL, Side.SELL, d("0.5"), reduce_only=True))
        assert only.status is OrderStatus.FILLED  # 1.5 working + 0.5 = the 2 held
        late = await engine.place(OrderRequest(SYMBOL, Side.SELL, d("0.5"), reduce_only=True))
        assert late.meta["reject_code"] == "reduce_only"
    finally:
        await engine.stop()


async def test_bracket_legs_count_towards_the_worst_case() -> None:
    engine, _ = await engine_with(max_position_notional=LIMIT)
    try:
        entry = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(3), stop_loss=d(2900), take_profit=d(3100)))
        assert entry.status is OrderStatus.FILLED  # legs armed: a sell of 3 working (OCO: one leg)
        # 3 held - 3 (the legs) - 1 = -1: allowed; - 2 more = -3 (9,000); - 1 more = -4 (12,000).
        results = [
            await engine.place(OrderRequest(SYMBOL, Side.SELL, d(q), OrderType.LIMIT, price=d(3050)))
            for q in (1, 2, 1)
        ]
        assert [r.status for r in results[:2]] == [OrderStatus.ACCEPTED, OrderStatus.ACCEPTED]
        assert results[2].meta["reject_code"] == "max_position_notional"
    finally:
        await engine.stop()


async def test_link_fields_and_strategy_in_a_request_are_refused() -> None:
    engine, _ = await engine_with(max_position_notional=LIMIT)
    try:
        await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1)))
        for bad, match in (
            ({"parent_id": "x1"}, "parent_id is set by the engine"),
            ({"oco_id": "g1"}, "oco_id is set by the engine"),
            ({"strategy": "bigbot"}, "cannot claim strategy 'bigbot'"),
        ):
            with pytest.raises(UsageError, match=match):
                await engine.place(OrderRequest(SYMBOL, Side.SELL, d(5), **bad))  # type: ignore[arg-type]
        assert engine.oms.open_orders() == [] and held(engine) == 1  # type: ignore[union-attr]
    finally:
        await engine.stop()


async def test_identity_comes_from_the_caller_not_the_request() -> None:
    loose = RiskLimits(max_order_notional=1e9)
    engine, _ = await engine_with(max_order_notional=1000.0, strategies={"bigbot": loose})
    try:
        # A person cannot borrow a strategy's looser limits, nor its lot rounding by naming its source.
        manual = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1), source="strategy:bigbot"))
        assert manual.meta["reject_code"] == "max_order_notional" and manual.source == "manual"
        off_lot = await engine.place(OrderRequest(SYMBOL, Side.BUY, d("0.00001"), source="strategy:bigbot"))
        assert off_lot.meta["reject_code"] in ("off_lot", "below_min_qty")
        # A socket client cannot name itself into a strategy either.
        spoof = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1)), actor="strategy:bigbot@unix")
        assert spoof.meta["reject_code"] == "max_order_notional" and spoof.strategy is None
        # The strategy host's own orders are the strategy's.
        bot = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(1)), actor="strategy:bigbot")
        assert bot.status is OrderStatus.FILLED and bot.strategy == "bigbot" and bot.source == "strategy:bigbot"
    finally:
        await engine.stop()


async def test_max_open_orders_total_and_per_symbol() -> None:
    engine, market = await engine_with(max_open_orders=4, max_open_orders_per_symbol=2)
    await market.price(60_000.0, "BTC/USDT")
    try:
        def bid(symbol: str, price: float, qty: str = "0.01") -> OrderRequest:
            return OrderRequest(symbol, Side.BUY, d(qty), OrderType.LIMIT, price=d(price))

        assert (await engine.place(bid(SYMBOL, 2950))).status is OrderStatus.ACCEPTED
        assert (await engine.place(bid(SYMBOL, 2940))).status is OrderStatus.ACCEPTED
        third = await engine.place(bid(SYMBOL, 2930))
        assert third.meta["reject_code"] == "max_open_orders_per_symbol"
        # A bracket is three orders: too many for BTC's two, though BTC has none yet.
        bracket = await engine.place(
            OrderRequest("BTC/USDT", Side.BUY, d("0.01"), OrderType.LIMIT, price=d(59000), stop_loss=d(58000))
        )
        assert bracket.status is OrderStatus.ACCEPTED  # entry + stop-loss: two
        await market.price(145.0, "SOL/USDT")  # the paper market's own SOL price is wherever the clock puts it
        fifth = await engine.place(bid("SOL/USDT", 140, "1"))
        assert fifth.meta["reject_code"] == "max_open_orders"
        assert "max_open_orders = 4" in (fifth.reason or "")
    finally:
        await engine.stop()


async def test_two_strategy_orders_that_together_break_a_limit_are_refused_and_limits_apply_at_once() -> None:
    """A strategy without limits of its own is checked against the settings themselves (not a
    copy made per order): two orders each within max_position_notional that together pass it,
    the second is refused; a limit changed in place (the config reloaded) binds the next order."""
    engine, _ = await engine_with(max_position_notional=LIMIT, strategies={"other": RiskLimits(max_order_notional=1e9)})
    try:
        first = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(2)), actor="strategy:bot")  # 6,000
        assert first.status is OrderStatus.FILLED and first.strategy == "bot"
        second = await engine.place(OrderRequest(SYMBOL, Side.BUY, d(2)), actor="strategy:bot")  # 12,000 together
        assert second.meta["reject_code"] == "max_position_notional"
        resting = await engine.place(
            OrderRequest(SYMBOL, Side.BUY, d(1), OrderType.LIMIT, price=d(2900)), actor="strategy:bot"
        )
        assert resting.status is OrderStatus.ACCEPTED  # 9,000 if it fills: within
        third = await engine.place(
            OrderRequest(SYMBOL, Side.BUY, d("0.5"), OrderType.LIMIT, price=d(2900)), actor="strategy:bot"
        )
        assert third.meta["reject_code"] == "max_position_notional"  # with the resting one: 10,500
        engine.settings.risk.max_order_notional = 100.0
        small = await engine.place(OrderRequest(SYMBOL, Side.SELL, d("0.1")), actor="strategy:bot")
        assert small.meta["reject_code"] == "max_order_notional"
    finally:
        await engine.stop()
