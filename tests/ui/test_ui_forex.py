"""Forex and perpetuals from the workstation's `:` command line (Pilot, a paper venue held still,
a frozen clock): a bracket in lots and pips, and a perpetual at a leverage."""

from __future__ import annotations

from decimal import Decimal

from tui_trader.config import Settings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.engine import Engine
from tui_trader.engine.client import InProcessClient
from tui_trader.ui.app import WorkstationApp

from ui_helpers import START, HeldSource, Rig, answer, open_line

SIZE = (100, 40)


def fx_rig() -> Rig:
    settings = Settings(
        ui={"flash_ms": 0, "confirm_arm_ms": 100},
        paper={"symbols": ["BTC/USDT", "BTC/USDT:USDT", "EUR/USD", "USDT/USD"]},
    )
    clock = FrozenClock(START)
    from tui_trader.venues.registry import build_venues

    venues = build_venues(settings, clock, None)
    venues["paper"].source = HeldSource(venues["paper"].source)  # type: ignore[attr-defined]
    engine = Engine(settings, None, clock=clock, venues=venues, in_memory=True)
    return Rig(WorkstationApp(InProcessClient(engine), settings, None), engine, clock)


async def command(rig: Rig, pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    line = await open_line(rig, pilot)
    line.field.value = text
    await pilot.press("enter")
    await pilot.pause()
    await answer(rig, pilot, "ctrl+y")
    await rig.app.workers.wait_for_complete()
    await pilot.pause()


async def test_a_bracket_in_lots_and_pips_from_the_command_line() -> None:
    rig = fx_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        ticker = rig.engine.ticker("EUR/USD", "paper")
        assert ticker is not None
        ask = Decimal(repr(ticker.ask))
        await command(rig, pilot, "buy 0.1 lot EUR/USD sl 20p tp 40p")
        [entry] = [o for o in rig.engine.recent_orders.values() if o.parent_id is None]
        assert (entry.symbol, entry.side, entry.quantity, entry.status) == (
            "EUR/USD", Side.BUY, Decimal(10_000), OrderStatus.FILLED
        )
        legs = {o.type: o for o in rig.engine.recent_orders.values() if o.parent_id == entry.client_order_id}
        assert legs[OrderType.STOP].stop_price == ask - Decimal("0.0020")
        assert legs[OrderType.LIMIT].price == ask + Decimal("0.0040")


async def test_a_perpetual_at_a_leverage_from_the_command_line() -> None:
    rig = fx_rig()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        await command(rig, pilot, "buy 0.5 BTC/USDT:USDT lev 5")
        [order] = list(rig.engine.recent_orders.values())
        assert order.status is OrderStatus.FILLED, order.reason
        [row] = rig.engine.derivatives.rows()
        assert row["leverage"] == "5" and row["liquidation_price"] is not None
