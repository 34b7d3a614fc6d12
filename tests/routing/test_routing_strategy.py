"""A strategy with `venue = "auto"`: its entries and exits are routed orders, it reads one
venue's bars (not every venue's copy of the symbol), and its exit closes what each venue holds."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tui_trader.config import Settings
from tui_trader.core.enums import OrderStatus
from tui_trader.engine.testing import paper_engine, paper_settings, step
from tui_trader.home import Home

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ for the live strategy helpers
from live.test_live_strategies import T0, bar, write_strategy


async def test_a_strategy_on_auto_enters_and_exits_through_the_router(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home")
    write_strategy(home)
    base = paper_settings().model_dump()
    settings = Settings(
        **{
            **base,
            "strategies": {"UpBar": {"symbols": ["ETH/USDT"], "venue": "auto"}},
            "venues": {"rich": {"kind": "paper", "seed": 11, "basis_bps": 20, "basis_noise_bps": 0}},
        }
    )
    eng = paper_engine(settings, home=home, start=T0)
    await eng.start()
    await eng.strategies.started()  # type: ignore[union-attr]  # loaded: the bars below are its own
    try:
        await step(eng, 2)
        host = eng.strategies
        assert host is not None and "UpBar" in host.runners, host.broken
        other = bar(0, 3400, 3410)  # a rising bar on `rich`: not this strategy's series
        object.__setattr__(other, "venue", "rich")
        eng.bus.publish(other)
        await asyncio.sleep(0)
        await host.drain()
        assert not [o for o in eng.recent_orders.values() if o.strategy == "UpBar"]
        eng.bus.publish(bar(0, 3400, 3410))
        await asyncio.sleep(0)
        await host.drain()
        await eng.emulator.settle()  # type: ignore[union-attr]
        entries = [o for o in eng.recent_orders.values() if o.strategy == "UpBar" and o.venue == "auto"]
        assert len(entries) == 1 and entries[0].status is OrderStatus.FILLED, entries
        assert eng.portfolio.positions[("paper", "ETH/USDT")].quantity > 0  # the cheaper venue
        eng.bus.publish(bar(1, 3410, 3395))
        await asyncio.sleep(0)
        await host.drain()
        await eng.emulator.settle()  # type: ignore[union-attr]
        exits = [o for o in eng.recent_orders.values() if o.strategy == "UpBar" and o.venue == "auto"]
        assert len(exits) == 2 and exits[-1].side.value == "sell" and exits[-1].reduce_only
        assert all(p.quantity == 0 for (v, s), p in eng.portfolio.positions.items() if s == "ETH/USDT")
        assert host.runners["UpBar"].open_trades() == {}
    finally:
        await eng.stop()
