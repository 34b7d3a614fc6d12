"""The paper exchange's journal after a crash mid-write: the torn last line is dropped (and
logged), everything before it is kept, and what is written afterwards is remembered too."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from decimal import Decimal as D
from pathlib import Path

from tui_trader.core import OrderRequest, OrderType, Side
from tui_trader.engine import Engine
from tui_trader.engine.testing import manual_engine, paper_venue, step
from tui_trader.home import Home
from tui_trader.venues.paper.journal import PaperJournal


async def _session(home: Home, **orders: Callable[[Engine], OrderRequest]) -> dict[str, str]:
    eng = manual_engine(home=home)
    await eng.start()
    try:
        await step(eng, 3)
        placed = {name: await eng.place(req(eng)) for name, req in orders.items()}
        assert all(o.status.value in ("filled", "accepted") for o in placed.values()), placed
        return {name: o.client_order_id for name, o in placed.items()}
    finally:
        await eng.stop()


async def test_a_torn_last_line_is_dropped_and_later_records_are_kept(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    home = Home.resolve(tmp_path / "h")
    journal = home.root / "paper_venue.jsonl"
    first = await _session(home, bought=lambda e: OrderRequest("BTC/USDT", Side.BUY, D("0.25")))
    with journal.open("a") as fh:
        fh.write('{"t":"fill","id":"torn-fill","cid":"x","symbol":"BTC/US')  # the crash, mid-write
    caplog.set_level(logging.WARNING, logger="tui_trader.venues.paper")
    second = await _session(
        home,
        sold=lambda e: OrderRequest("ETH/USDT", Side.SELL, D("2")),
        resting=lambda e: OrderRequest(
            "SOL/USDT", Side.BUY, D("5"), OrderType.LIMIT, price=D(str(round(e.mid("SOL/USDT") * 0.97, 2)))
        ),
    )
    warnings = [r.getMessage() for r in caplog.records]
    assert any("torn" in w and "paper_venue.jsonl" in w for w in warnings), warnings
    lines = journal.read_text().splitlines()
    assert all(json.loads(line) for line in lines)  # every line whole again
    assert not any("torn-fill" in line for line in lines)

    eng = manual_engine(home=home)
    await eng.start()
    try:
        venue = paper_venue(eng)
        assert venue.account.positions == {"BTC/USDT": D("0.25"), "ETH/USDT": D("-2")}
        assert [o.client_order_id for o in venue.matching.open_orders()] == [second["resting"]]
        assert {f.client_order_id for f in venue.matching.fills} >= {first["bought"], second["sold"]}
    finally:
        await eng.stop()


def test_a_record_glued_to_a_torn_line_is_recovered(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    """What an older version left behind: the next record written straight after the tear."""
    path = tmp_path / "paper_venue.jsonl"
    good = {"t": "done", "cid": "a", "status": "cancelled"}
    glued = {"t": "done", "cid": "b", "status": "filled"}
    path.write_text(
        json.dumps(good) + "\n" + '{"t":"fill","id":"f' + json.dumps(glued, separators=(",", ":")) + "\n" + '{"t":'
    )
    caplog.set_level(logging.WARNING, logger="tui_trader.venues.paper")
    assert list(PaperJournal(path).records()) == [good, glued]
    assert len([r for r in caplog.records if "torn" in r.getMessage()]) == 2


async def test_an_orders_acceptance_and_fill_are_on_disk_in_one_write_when_the_venue_answers(tmp_path: Path) -> None:
    """A market order's two journal lines (accepted, filled) go out in one write and one flush,
    inside `create_order`: another reader sees both by the time the venue has answered."""
    home = Home.resolve(tmp_path / "h")
    eng = manual_engine(home=home)
    await eng.start()
    try:
        await step(eng, 3)
        venue = paper_venue(eng)
        writes: list[str] = []
        seen_at_answer: list[list[str]] = []
        original = venue.create_order

        async def watched(order):  # type: ignore[no-untyped-def]
            fh = venue.journal._fh
            if fh is not None and not writes:
                raw = fh.write
                fh.write = lambda text: writes.append(text) or raw(text)  # type: ignore[method-assign]
            await original(order)
            seen_at_answer.append(
                [json.loads(line)["t"] for line in (home.root / "paper_venue.jsonl").read_text().splitlines()
                 if order.client_order_id in line]
            )

        venue.create_order = watched  # type: ignore[method-assign]
        await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.1")))  # opens the journal
        placed = await eng.place(OrderRequest("ETH/USDT", Side.BUY, D("1")))
        assert placed.status.value == "filled"
        assert seen_at_answer[-1] == ["order", "fill"]
        assert len(writes) == 1 and writes[0].count("\n") == 2
    finally:
        await eng.stop()
