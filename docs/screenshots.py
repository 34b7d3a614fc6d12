"""Regenerate the screenshots in docs/img (SVG, Textual's save_screenshot) from the seeded paper
venue with a frozen clock, the way the snapshot tests drive it:

    .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "ui"), str(ROOT)]


from tui_trader.core.enums import OrderType, Side  # noqa: E402
from tui_trader.core.orders import OrderRequest  # noqa: E402
from ui_helpers import build_rig  # noqa: E402

OUT = ROOT / "docs" / "img"


async def settle(rig, pilot) -> None:  # type: ignore[no-untyped-def]
    await rig.app.workers.wait_for_complete()
    await rig.app.refresh_snapshot()
    await pilot.pause(0.2)
    await rig.app.workers.wait_for_complete()
    await rig.app.refresh_snapshot()
    await pilot.pause()


async def trade(rig) -> None:  # type: ignore[no-untyped-def]
    """A closed round trip, a position and two working orders, so every pane has something."""
    client = rig.app.client
    await client.place(OrderRequest("ETH/USDT", Side.BUY, Decimal("2")))
    rig.clock.advance(240)
    rig.step(4)
    await client.place(OrderRequest("ETH/USDT", Side.SELL, Decimal("2")))
    await client.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.05")))
    mid = rig.engine.mid("BTC/USDT")
    book = rig.engine.book("BTC/USDT")
    await client.place(
        OrderRequest("BTC/USDT", Side.BUY, Decimal("0.25"), OrderType.LIMIT, Decimal(str(book.bids[3][0])))
    )
    await client.place(OrderRequest("BTC/USDT", Side.SELL, Decimal("0.05"), OrderType.LIMIT, Decimal(round(mid * 1.004))))
    await rig.engine.record_equity()


async def shot(name: str, size: tuple[int, int], keys: tuple[str, ...] = (), command: str = "") -> None:
    rig = build_rig()
    async with rig.app.run_test(size=size) as pilot:
        await rig.ready(pilot, steps=5)
        await trade(rig)
        rig.step(3)
        await settle(rig, pilot)
        if command:
            await pilot.press("colon")
            await pilot.pause()
            rig.app.command_line.field.value = command
            await pilot.press("enter")
            await settle(rig, pilot)
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.1)  # not settle(): a dialog's worker waits for its answer
        await rig.app.refresh_snapshot()
        await pilot.pause(0.3)
        rig.app.save_screenshot(f"{name}.svg", str(OUT))
        print(f"wrote {OUT / name}.svg")


async def main() -> None:
    await shot("tui-160x48", (160, 48), ("3", "left", "left", "left"))
    await shot("tui-100x30-chart", (100, 30), ("3", "plus", "left", "left"))
    await shot("tui-80x24", (80, 24))
    await shot("tui-tape", (100, 30), ("9",))
    await shot("tui-performance", (100, 30), ("0",))
    await shot("tui-book-mine", (100, 30), ("2",))
    await shot("tui-search", (100, 30), ("slash", "s", "o"))
    await shot("tui-alerts", (100, 30), ("a",), command="alert BTC/USDT above 70k")
    await shot("tui-keys", (100, 30), ("question_mark",))
    await shot("tui-confirm", (100, 30), ("colon", "b", "u", "y", "space", "0", ".", "1", "space", "E", "T", "H", "enter"))
    await shot("tui-command-line", (100, 30), ("colon", "b", "u", "y", "space", "a", "b", "c", "enter"))


if __name__ == "__main__":
    asyncio.run(main())
