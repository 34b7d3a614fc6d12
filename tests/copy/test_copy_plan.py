"""What one leader fill becomes: the order (scaled, lot-rounded, a limit IOC at the slippage
bound) or the reason it is skipped; exits close the same share of the copy, never more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui_trader.config.copy import CopySettings
from tui_trader.core.enums import OrderType, Side, TimeInForce
from tui_trader.engine.copy.leaders import LeaderFill
from tui_trader.engine.copy.plan import Plan, Situation, Skip, plan
from tui_trader.venues.paper.instruments import paper_instrument

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
BTC = paper_instrument("BTC/USDT")


def cfg(**kw: object) -> CopySettings:
    return CopySettings(**{"leader": "daemon", "port": 7011, "user": "bob", **kw})  # type: ignore[arg-type]


def fill(side: Side = Side.BUY, qty: str = "0.1", price: str = "60000", age_s: float = 0.5) -> LeaderFill:
    return LeaderFill("paper:f1", "BTC/USDT", side, Decimal(qty), Decimal(price), NOW - timedelta(seconds=age_s))


def at(held: str = "0", bid: float = 59_999.0, ask: float = 60_001.0, ratio: float | None = 0.5) -> Situation:
    return Situation(NOW, "paper", BTC, bid, ask, Decimal(held), ratio)


def test_an_entry_is_scaled_and_bounded_by_the_slippage_limit() -> None:
    p = plan(fill(), cfg(scale=0.5, max_slippage_bps=20), at(), "lead")
    assert isinstance(p, Plan) and not p.exit
    r = p.request
    assert r.quantity == Decimal("0.05") and r.side is Side.BUY and r.type is OrderType.LIMIT
    assert r.time_in_force is TimeInForce.IOC and r.price == Decimal("60120.00") and not r.reduce_only
    assert r.venue == "paper" and r.client_order_id is None and r.strategy is None
    assert p.slippage_bps == pytest.approx(1 / 60_000 * 10_000)


def test_a_sell_bound_rounds_up_so_the_fill_is_never_worse_than_the_limit() -> None:
    p = plan(fill(Side.SELL, price="60000.013"), cfg(max_slippage_bps=10), at(held="0.2"), "lead")
    assert isinstance(p, Plan) and p.exit and p.request.reduce_only
    assert p.request.price == Decimal("59940.02")  # 59940.012987 rounded up to the tick, never below the bound


@pytest.mark.parametrize(
    ("settings", "leader_fill", "situation", "code"),
    [
        (cfg(max_delay_s=5), fill(age_s=5.5), at(), "late"),
        (cfg(symbols=["ETH/USDT"]), fill(), at(), "symbol"),
        (cfg(deny=["BTC/USDT"]), fill(), at(), "symbol"),
        (cfg(), fill(), Situation(NOW, "paper", None, 1.0, 1.0, Decimal(0), 1.0), "symbol"),
        (cfg(mirror_exits=False), fill(Side.SELL), at(held="0.05"), "exit"),
        (cfg(), fill(Side.SELL), at(held="0"), "short"),
        (cfg(scale=0.0001), fill(qty="0.1"), at(ratio=0.0001), "size"),
        (cfg(max_slippage_bps=5), fill(price="60000"), at(ask=60_040.0), "slippage"),
        (cfg(max_slippage_bps=5), fill(Side.SELL, price="60000"), at(held="1", bid=59_960.0), "slippage"),
        (cfg(), fill(), at(ask=0.0), "no_quote"),
        (cfg(max_order_notional=1000), fill(), at(), "notional"),
        (cfg(scale_by="equity"), fill(), at(ratio=None), "equity"),
    ],
)
def test_fills_that_cannot_be_mirrored_are_skipped_with_a_reason(
    settings: CopySettings, leader_fill: LeaderFill, situation: Situation, code: str
) -> None:
    result = plan(leader_fill, settings, situation, "lead")
    assert isinstance(result, Skip) and result.code == code and result.reason


def test_shorts_are_mirrored_only_when_asked() -> None:
    p = plan(fill(Side.SELL), cfg(shorts=True), at(held="0"), "lead")
    assert isinstance(p, Plan) and not p.exit and not p.request.reduce_only and p.request.side is Side.SELL


def test_a_better_price_is_not_slippage() -> None:
    p = plan(fill(price="60000"), cfg(max_slippage_bps=1), at(ask=59_000.0), "lead")
    assert isinstance(p, Plan) and p.slippage_bps < 0


@given(
    held=st.decimals("0.0001", "5", places=4),
    leader_qty=st.decimals("0.0001", "10", places=4),
    ratio=st.floats(0.01, 3.0),
)
def test_an_exit_never_closes_more_than_the_copy(held: Decimal, leader_qty: Decimal, ratio: float) -> None:
    p = plan(fill(Side.SELL, qty=str(leader_qty)), cfg(), at(held=str(held), ratio=ratio), "lead")
    if isinstance(p, Plan):
        assert p.exit and p.request.reduce_only and 0 < p.request.quantity <= held
        assert BTC.on_lot(p.request.quantity)
    else:
        assert p.code == "size"
