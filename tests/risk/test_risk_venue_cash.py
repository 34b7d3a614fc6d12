"""The balance check reads the ordering venue's own cash: USDT held on one exchange pays for no
order on another ("two of everything": two venues, cash on one, orders on the other; two orders
on one venue that together need more than it holds), while the totals the status and the panes
show stay the sum over venues."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from decimal import Decimal as D
from pathlib import Path

import pytest

from tui_trader.config import Settings
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.engine.commands import dispatch
from tui_trader.engine.testing import paper_engine, paper_settings, step
from tui_trader.home import Home
from tui_trader.venues.paper import PaperVenue

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ for the live strategy helpers
from live.test_live_strategies import T0, bar, write_strategy


def two_venues(bybit_usdt: float = 0) -> Settings:
    """`paper` holds 10,000 USDT; `bybit` (another paper exchange on the same market)
    `bybit_usdt`, and USD on both."""
    return Settings(
        paper={"balances": {"USDT": 10_000, "USD": 1_000}},
        venues={"bybit": {"kind": "paper", "seed": 11, "balances": {"USDT": bybit_usdt, "USD": 50_000}}},
    )


async def started(settings: Settings) -> Engine:
    eng = paper_engine(settings)
    await eng.start()
    await step(eng, 3)
    return eng


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    eng = await started(two_venues())
    try:
        yield eng
    finally:
        await eng.stop()


def limit_buy(engine: Engine, venue: str, usdt: float) -> OrderRequest:
    """A resting limit buy of BTC/USDT on `venue` worth about `usdt`, 0.5 % below its mid."""
    price = round(engine.mid("BTC/USDT", venue) * 0.995, 2)
    qty = D(str(round(usdt / price, 4)))
    return OrderRequest("BTC/USDT", Side.BUY, qty, OrderType.LIMIT, D(str(price)), venue=venue)


async def check(engine: Engine, req: OrderRequest) -> dict:  # type: ignore[type-arg]
    return await dispatch(engine, "order.check", {"request": req}, "test")


async def test_cash_on_one_venue_pays_for_no_order_on_another(engine: Engine) -> None:
    assert engine.portfolio.cash["USDT"] == D(10_000)  # the total over venues, as status shows it
    refused = await check(engine, limit_buy(engine, "bybit", 5_000))
    assert refused["ok"] is False and refused["code"] == "insufficient_balance", refused
    assert "\n" not in refused["message"]
    assert "bybit has 0.00 USDT free" in refused["message"], refused["message"]

    placed = await engine.place(limit_buy(engine, "bybit", 5_000))
    assert placed.status is OrderStatus.REJECTED and placed.meta["reject_code"] == "insufficient_balance"
    assert await engine.venues["bybit"].fetch_open_orders() == []  # never sent

    # the venue that holds the USDT takes the same order
    assert (await check(engine, limit_buy(engine, "paper", 5_000)))["ok"] is True


async def test_two_orders_on_one_venue_that_together_need_more_than_it_holds() -> None:
    """`bybit` holds 3,000 USDT (`paper` 10,000): a first 2,000 there rests; a second 2,000
    there is refused (3,000 less the first order's 2,000 is free), the other venue's USDT no
    help; the totals the status shows are unchanged by the refusal."""
    engine = await started(two_venues(bybit_usdt=3_000))
    try:
        first = await engine.place(limit_buy(engine, "bybit", 2_000))
        assert first.status is OrderStatus.ACCEPTED, first.reason
        before = engine.snapshot().account
        second = await engine.place(limit_buy(engine, "bybit", 2_000))
        assert second.status is OrderStatus.REJECTED and second.meta["reject_code"] == "insufficient_balance"
        free = D(3_000) - first.quantity * first.price  # type: ignore[operator]
        assert f"bybit has {free:,.2f} USDT free" in (second.reason or ""), second.reason
        snap = engine.snapshot()
        after = snap.account
        cash = {b.currency: b.cash for b in after.balances}
        assert cash["USDT"] == 13_000 and cash["USD"] == 51_000  # both venues', summed
        own = {v.name: v.cash for v in snap.venues}  # each venue's own, as `status --json` gives it
        assert own == {"paper": {"USDT": 10_000, "USD": 1_000}, "bybit": {"USDT": 3_000, "USD": 50_000}}
        assert (after.cash, after.equity) == (before.cash, before.equity)
        assert (await check(engine, limit_buy(engine, "paper", 2_000)))["ok"] is True  # paper's cash is paper's
    finally:
        await engine.stop()


async def test_each_venues_cash_moves_with_its_own_fills_only(engine: Engine) -> None:
    """A fill on `paper` moves paper's USDT; bybit's stays; the total is their sum; each is
    what that venue's own account holds."""
    filled = await engine.place(OrderRequest("BTC/USDT", Side.BUY, D("0.01"), venue="paper"))
    assert filled.status is OrderStatus.FILLED, filled.reason
    shares = engine.portfolio.venue_cash
    for name, venue in engine.venues.items():
        assert isinstance(venue, PaperVenue)
        assert shares[name]["USDT"] == venue.account.cash["USDT"], name
    assert shares["bybit"]["USDT"] == 0 < shares["paper"]["USDT"] < 10_000
    assert engine.portfolio.cash["USDT"] == shares["paper"]["USDT"] + shares["bybit"]["USDT"]


async def test_margin_on_one_venue_backs_no_position_on_another() -> None:
    """On margin alike: a 5x perpetual on `bybit` (no USDT there) is refused for want of margin,
    the 10,000 USDT on `paper` no help; on `paper` the same order passes."""
    settings = two_venues()
    perp = "BTC/USDT:USDT"
    settings.paper.symbols = ["BTC/USDT", perp]
    engine = await started(settings)
    try:
        mid = engine.mid(perp, "bybit")
        order = OrderRequest(perp, Side.BUY, D("0.05"), venue="bybit", leverage=D(5))
        refused = await check(engine, order)
        assert refused["ok"] is False and refused["code"] == "insufficient_margin", refused
        assert "bybit has 0.00 free" in refused["message"], refused["message"]
        assert mid * 0.05 / 5 < 10_000  # paper's cash would have covered it
        assert (await check(engine, order.with_(venue="paper")))["ok"] is True
    finally:
        await engine.stop()



async def test_a_strategy_on_one_venue_sizes_its_entry_to_what_that_venue_holds(tmp_path: Path) -> None:
    """A strategy trading `rich` (1,000 USDT there; 100,000 on `paper`): its entry, 2 % of the
    equity (about 4,000), is sized to the 1,000 `rich` holds, not to the USDT summed over venues
    (which the balance check of `rich` would refuse), and fills there."""
    home = Home.resolve(tmp_path / "home")
    write_strategy(home)
    base = paper_settings().model_dump()
    settings = Settings(**{
        **base,
        "strategies": {"UpBar": {"symbols": ["ETH/USDT"], "venue": "rich"}},
        "venues": {"rich": {"kind": "paper", "seed": 11, "balances": {"USDT": 1_000}}},
    })  # fmt: skip
    eng = paper_engine(settings, home=home, start=T0)
    await eng.start()
    await eng.strategies.started()  # type: ignore[union-attr]  # loaded: the bars below are its own
    try:
        await step(eng, 2)
        host = eng.strategies
        assert host is not None and "UpBar" in host.runners, host.broken
        assert eng.portfolio.equity(eng.clock.now()) * 0.02 > 3_000  # what 2 % of the equity would buy
        mid = eng.mid("ETH/USDT", "rich")
        rising = bar(0, round(mid * 0.997, 2), round(mid, 2))  # at rich's own price
        object.__setattr__(rising, "venue", "rich")
        eng.bus.publish(rising)
        await asyncio.sleep(0)
        await host.drain()
        await eng.emulator.settle()  # type: ignore[union-attr]
        (entry,) = [o for o in eng.recent_orders.values() if o.strategy == "UpBar" and o.side is Side.BUY]
        assert entry.venue == "rich" and entry.status is OrderStatus.FILLED, (entry.status, entry.reason)
        assert 900 < entry.filled_quantity * entry.average_price <= 1_000  # type: ignore[operator]
    finally:
        await eng.stop()
