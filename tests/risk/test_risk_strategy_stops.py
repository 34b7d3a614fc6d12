"""Strategy positions get a real protective stop from the strategy's declared stoploss, kept by
the engine when the strategy errors or is disabled; each strategy's part of a symbol is its own."""

from __future__ import annotations

import asyncio
import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tui_trader.config import Settings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.events import CandleEvent
from tui_trader.core.market import Candle
from tui_trader.core.orders import Order
from tui_trader.engine import Engine
from tui_trader.engine.commands import dispatch
from tui_trader.engine.protective_stops import ROLE
from tui_trader.engine.testing import manual_engine, paper_settings
from tui_trader.home import Home

from fakes.venue_harness import wait_for
from risk_helpers import SYMBOL, Market

STRATEGY = textwrap.dedent(
    '''
    """Up-bar follower with a 5 % stop (a test strategy)."""
    from pandas import DataFrame
    from tui_trader.strategy import IStrategy


    class UpBar(IStrategy):
        timeframe = "1m"
        startup_candle_count = 0
        minimal_roi = {"0": 10}
        stoploss = -0.05

        def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            return dataframe

        def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            dataframe.loc[dataframe["close"] > dataframe["open"], "enter_long"] = 1
            return dataframe

        def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            dataframe.loc[dataframe["close"] < dataframe["open"] * 0.999, "exit_long"] = 1
            return dataframe
    '''
)
T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def settings_for(*names: str) -> Settings:
    strategies = {n: {"strategy": "UpBar", "symbols": [SYMBOL]} for n in names}
    return Settings(**{**paper_settings().model_dump(), "strategies": strategies})


CUSTOM = STRATEGY.replace(
    "    stoploss = -0.05\n",
    "    stoploss = -0.05\n    use_custom_stoploss = True\n\n"
    "    def custom_stoploss(self, pair, trade, current_time, current_rate, current_profit, **kwargs):\n"
    "        return -0.01\n",
)
assert "use_custom_stoploss" in CUSTOM


async def boot(home: Home, *names: str, stop_native: bool = True, source: str = STRATEGY) -> tuple[Engine, Market]:
    home.ensure()
    (home.strategies_dir / "upbar.py").write_text(source)
    engine = manual_engine(settings_for(*names), home=home, clock=FrozenClock(T0))
    if not stop_native:
        venue = engine._venues_override["paper"]  # type: ignore[index]
        venue.capabilities = replace(venue.capabilities, stop=False)
    await engine.start()
    # The start waits for the strategies' import at most their deadline (a loaded machine takes
    # longer): a bar published before a strategy has loaded is not fed to it.
    await engine.strategies.started()  # type: ignore[union-attr]
    market = Market(engine)
    await market.price(3400.0)
    return engine, market


def bar(i: int, o: float, c: float) -> CandleEvent:
    return CandleEvent("paper", Candle(SYMBOL, "1m", T0 + timedelta(minutes=i), o, max(o, c), min(o, c), c, 10.0))


async def settle(engine: Engine) -> None:
    for _ in range(3):
        await asyncio.sleep(0)
        await engine.strategies.drain()  # type: ignore[union-attr]
        await engine.emulator.settle()  # type: ignore[union-attr]
        await engine.stops.settle()  # type: ignore[union-attr]
        await engine.emulator.settle()  # type: ignore[union-attr]


async def crash(engine: Engine, strategy: str) -> None:
    """The strategy's worker process dies (kill -9), as a strategy that crashes the interpreter would."""
    import os
    import signal

    worker = engine.strategies.runners[strategy]  # type: ignore[union-attr]
    os.kill(worker.pid, signal.SIGKILL)
    for _ in range(600):
        if worker.phase == "crashed":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{strategy}'s worker was not seen to die")


def stops_of(engine: Engine, strategy: str) -> list:  # type: ignore[type-arg]
    return [o for o in engine.oms.open_orders() if o.meta.get("role") == ROLE and o.strategy == strategy]  # type: ignore[union-attr]


def part(engine: Engine, strategy: str) -> Decimal:
    pos = engine.ledger.positions.get((strategy, "paper", SYMBOL))
    return pos.quantity if pos is not None else Decimal(0)


async def test_each_strategy_gets_its_own_stop_and_part_and_keeps_it_when_it_errors(tmp_path: Path) -> None:
    engine, market = await boot(Home(tmp_path), "alpha", "beta")
    try:
        engine.bus.publish(bar(0, 3390, 3400))
        await settle(engine)
        total = engine.portfolio.positions[("paper", SYMBOL)].quantity
        a, b = part(engine, "alpha"), part(engine, "beta")
        assert a > 0 and b > 0 and a + b == total  # each its own part, never the whole
        for name, qty in (("alpha", a), ("beta", b)):
            (stop,) = stops_of(engine, name)
            avg = engine.ledger.positions[(name, "paper", SYMBOL)].average_price
            assert stop.type is OrderType.STOP and stop.side is Side.SELL and stop.remaining == qty
            assert abs(float(stop.stop_price) - float(avg) * 0.95) <= 0.01  # the declared stoploss
            assert not stop.meta.get("held")  # the paper venue holds native stops
        rows = {r["owner"]: r for r in engine.snapshot().extra["ledger"]}
        assert Decimal(rows["alpha"]["quantity"]) == a and Decimal(rows["beta"]["quantity"]) == b
        assert engine.ledger.owners("paper", SYMBOL) == ["alpha", "beta"]

        # alpha's worker dies (the strategy crashed it), beta is switched off by hand: both
        # stops stay where they are.
        await crash(engine, "alpha")
        await dispatch(engine, "strategies.disable", {"name": "beta"}, "tui")
        await settle(engine)
        assert len(stops_of(engine, "alpha")) == 1 and len(stops_of(engine, "beta")) == 1

        await market.price(3200.0)  # through both stops
        await settle(engine)
        assert engine.portfolio.open_positions() == []
        assert part(engine, "alpha") == 0 and part(engine, "beta") == 0
        assert stops_of(engine, "alpha") == [] and stops_of(engine, "beta") == []
        assert engine.risk.trades.closed[-1].exit_reason == "stop_loss"
    finally:
        await engine.stop()


async def test_the_strategys_own_exit_takes_its_stop_away(tmp_path: Path) -> None:
    engine, _ = await boot(Home(tmp_path), "alpha")
    try:
        engine.bus.publish(bar(0, 3390, 3400))
        await settle(engine)
        assert len(stops_of(engine, "alpha")) == 1
        engine.bus.publish(bar(1, 3400, 3380))  # exit signal
        await settle(engine)
        assert engine.portfolio.open_positions() == [] and stops_of(engine, "alpha") == []
        exits = [o for o in engine.recent_orders.values() if o.strategy == "alpha" and o.side is Side.SELL]
        assert [o.status for o in exits if o.type is OrderType.MARKET] == [OrderStatus.FILLED]
    finally:
        await engine.stop()


async def test_the_stops_cancel_is_committed_with_the_exit_order_not_before_it(tmp_path: Path) -> None:
    """The exit waits for its stop's cancel (never both working at once), but not for a
    commit of the cancel on its own: the stop's final state goes into the transaction that
    writes the exit order's row (written ahead before the exit is sent). Both are in the
    database after the exit."""
    engine, _ = await boot(Home(tmp_path), "alpha")
    try:
        engine.bus.publish(bar(0, 3390, 3400))
        await settle(engine)
        (stop,) = stops_of(engine, "alpha")
        trips: list[list[str]] = [[]]

        def trace(sql: str) -> None:
            if sql.startswith(("BEGIN", "COMMIT")):
                trips.append([])
            elif sql.startswith("INSERT INTO orders"):
                kind = "upsert" if "DO UPDATE" in sql else "insert"
                trips[-1].append(f"{kind} {'stop' if stop.client_order_id in sql else 'other'} "
                                 f"{'cancelled' if chr(39) + 'cancelled' + chr(39) in sql else ''}".strip())

        engine.store._now.set_trace_callback(trace)  # type: ignore[union-attr]
        engine.bus.publish(bar(1, 3400, 3380))  # exit signal
        await settle(engine)
        engine.store._now.set_trace_callback(None)  # type: ignore[union-attr]
        assert stops_of(engine, "alpha") == [] and engine.portfolio.open_positions() == []
        [with_exit] = [t for t in trips if "upsert stop cancelled" in t]  # one transaction ...
        assert with_exit.index("upsert stop cancelled") < with_exit.index("insert other"), trips  # ... with the exit
        stored = {o.client_order_id: o for o in await engine.store.load_orders()}  # type: ignore[union-attr]
        assert stored[stop.client_order_id].status is OrderStatus.CANCELLED
    finally:
        await engine.stop()


async def test_the_stop_is_emulated_where_the_venue_has_none_and_survives_a_restart(tmp_path: Path) -> None:
    home = Home(tmp_path)
    engine, _ = await boot(home, "alpha", stop_native=False)
    try:
        engine.bus.publish(bar(0, 3390, 3400))
        await settle(engine)
        (stop,) = stops_of(engine, "alpha")
        assert stop.meta.get("held") and "emulated" in stop.meta["emulated"]
        # A trailing level from the strategy's trade state tightens it; a looser one never loosens it.
        engine.stops.report_level("alpha", "paper", SYMBOL, 3300.0, True)  # type: ignore[union-attr]
        await settle(engine)
        (tight,) = stops_of(engine, "alpha")
        assert tight.stop_price == Decimal("3300") and tight.client_order_id != stop.client_order_id
        engine.stops.report_level("alpha", "paper", SYMBOL, 3100.0, True)  # type: ignore[union-attr]
        await settle(engine)
        assert [s.client_order_id for s in stops_of(engine, "alpha")] == [tight.client_order_id]
    finally:
        await engine.stop()

    again, market = await boot(home, "alpha", stop_native=False)
    try:
        await settle(again)
        assert [s.client_order_id for s in stops_of(again, "alpha")] == [tight.client_order_id]
        await market.price(3290.0)
        await settle(again)
        assert again.portfolio.open_positions() == [] and part(again, "alpha") == 0
    finally:
        await again.stop()


async def test_a_manual_close_of_a_strategy_position_removes_its_stop(tmp_path: Path) -> None:
    engine, _ = await boot(Home(tmp_path), "alpha")
    try:
        engine.bus.publish(bar(0, 3390, 3400))
        await settle(engine)
        result = await engine.flatten("tui")
        await settle(engine)
        assert result["still_open"] == [] and part(engine, "alpha") == 0
        assert stops_of(engine, "alpha") == []
    finally:
        await engine.stop()


async def test_custom_stoploss_tightens_the_protective_stop_after_a_bar(tmp_path: Path) -> None:
    engine, _ = await boot(Home(tmp_path), "alpha", source=CUSTOM)
    try:
        engine.bus.publish(bar(0, 3390, 3400))
        await settle(engine)
        (first,) = stops_of(engine, "alpha")
        engine.bus.publish(bar(1, 3400, 3420))  # no exit; custom_stoploss puts the stop 1 % under 3420
        await settle(engine)
        (tight,) = stops_of(engine, "alpha")
        assert tight.stop_price is not None and first.stop_price is not None
        assert tight.stop_price > first.stop_price
        assert abs(float(tight.stop_price) - 3420 * 0.99) <= 0.01
        # The strategy then breaks (its worker dies): the tightened stop stays where the engine put it.
        await crash(engine, "alpha")
        engine.bus.publish(bar(2, 3420, 3430))
        await settle(engine)
        assert [s.client_order_id for s in stops_of(engine, "alpha")] == [tight.client_order_id]
    finally:
        await engine.stop()


async def test_pausing_a_stop_does_not_wait_for_another_positions_sync(tmp_path: Path) -> None:
    """The exit of one strategy's position pauses its stop at once, while a sync of another
    strategy's stop is still under way (it never touches this position's stop)."""
    engine, _ = await boot(Home(tmp_path), "alpha", "beta")
    stops = engine.stops
    assert stops is not None
    gate = asyncio.Event()
    original = stops.sync

    beta_waiting = asyncio.Event()

    async def slow_for_beta(key):  # type: ignore[no-untyped-def]
        if key[0] == "beta":
            beta_waiting.set()
            await gate.wait()
        await original(key)

    try:
        engine.bus.publish(bar(0, 3390, 3400))
        await settle(engine)
        (alpha_stop,) = stops_of(engine, "alpha")
        stops.sync = slow_for_beta  # type: ignore[method-assign]
        stops.request(("beta", "paper", SYMBOL))
        await asyncio.wait_for(beta_waiting.wait(), 20)  # beta's sync is under way, waiting
        await asyncio.wait_for(stops.pause("alpha", "paper", SYMBOL), 20)  # beta's never ends by itself
        assert stops_of(engine, "alpha") == []
        assert engine.oms.orders[alpha_stop.client_order_id].status is OrderStatus.CANCELLED  # type: ignore[union-attr]
        gate.set()
        stops.resume("alpha", "paper", SYMBOL)  # the exit did not happen: the stop comes back
        await settle(engine)
        assert len(stops_of(engine, "alpha")) == 1 and len(stops_of(engine, "beta")) == 1
    finally:
        gate.set()
        await engine.stop()


async def test_pausing_waits_for_a_sync_of_the_same_position_and_cancels_the_stop_it_placed(tmp_path: Path) -> None:
    """A sync of the position is under way (it has just replaced the stop at a tighter level):
    the pause waits for it, then cancels the stop it placed. No stop is left working while the
    strategy exits; resuming puts one back."""
    engine, _ = await boot(Home(tmp_path), "alpha")
    stops = engine.stops
    assert stops is not None
    gate = asyncio.Event()
    original = stops.sync

    async def sync_then_linger(key):  # type: ignore[no-untyped-def]
        await original(key)
        await gate.wait()

    try:
        engine.bus.publish(bar(0, 3390, 3400))
        await settle(engine)
        (first,) = stops_of(engine, "alpha")
        stops.sync = sync_then_linger  # type: ignore[method-assign]
        stops.report_level("alpha", "paper", SYMBOL, float(first.stop_price) + 5, True)  # tighter: replaced

        def replaced() -> bool:
            return [s.client_order_id for s in stops_of(engine, "alpha")] not in ([first.client_order_id], [])

        await wait_for(replaced)
        (second,) = stops_of(engine, "alpha")
        assert second.client_order_id != first.client_order_id
        pausing = asyncio.create_task(stops.pause("alpha", "paper", SYMBOL))
        await asyncio.sleep(0.02)
        assert not pausing.done()  # waits for the sync under way
        gate.set()
        await asyncio.wait_for(pausing, 20)
        assert stops_of(engine, "alpha") == []
        assert engine.oms.orders[second.client_order_id].status is OrderStatus.CANCELLED  # type: ignore[union-attr]
        stops.sync = original  # type: ignore[method-assign]
        stops.resume("alpha", "paper", SYMBOL)
        await settle(engine)
        assert len(stops_of(engine, "alpha")) == 1
    finally:
        gate.set()
        await engine.stop()


def _accepted_in(engine: Engine, strategy: str) -> list[str | None]:
    """Which task published each acceptance of the strategy's own (non-stop) orders."""
    seen: list[str | None] = []

    def on_order(event) -> None:  # type: ignore[no-untyped-def]
        order = event.order
        if order.strategy == strategy and order.tag != "stop_loss" and order.status is OrderStatus.ACCEPTED:
            task = asyncio.current_task()
            seen.append(None if task is None else task.get_name())

    engine.bus.on(on_order, kinds={"order"})
    return seen


async def test_a_decision_is_carried_out_where_its_frame_is_read(tmp_path: Path) -> None:
    """On the paper venue, with no callback to ask the strategy, the decision is sized, checked,
    written, sent and acknowledged in the turn that read it, not by the decisions' task."""
    engine, _ = await boot(Home(tmp_path), "alpha")
    try:
        seen = _accepted_in(engine, "alpha")
        engine.bus.publish(bar(0, 3390, 3400))
        await settle(engine)
        assert part(engine, "alpha") > 0 and len(stops_of(engine, "alpha")) == 1
        engine.bus.publish(bar(1, 3400, 3380))  # the exit, its stop paused first
        await settle(engine)
        assert engine.portfolio.open_positions() == [] and stops_of(engine, "alpha") == []
        assert len(seen) == 2 and "strategy-decisions" not in seen
    finally:
        await engine.stop()


async def test_a_strategy_that_must_be_asked_first_queues_its_decisions(tmp_path: Path) -> None:
    """`confirm_trade_entry` is a question to the worker (with a timeout): such a decision is
    carried out by the decisions' task, never in the stack that read the frame."""
    source = STRATEGY.replace(
        "    stoploss = -0.05\n",
        "    stoploss = -0.05\n\n"
        "    def confirm_trade_entry(self, pair, order_type, amount, rate, time_in_force, current_time,\n"
        "                            entry_tag, side, **kwargs):\n"
        "        return True\n",
    )
    engine, _ = await boot(Home(tmp_path), "alpha", source=source)
    try:
        seen = _accepted_in(engine, "alpha")
        engine.bus.publish(bar(0, 3390, 3400))
        await settle(engine)
        assert part(engine, "alpha") > 0
        assert seen == ["strategy-decisions"]
    finally:
        await engine.stop()


async def test_decisions_behind_one_that_waits_are_carried_out_after_it_in_order(tmp_path: Path) -> None:
    """The entry must wait (here its order's write, for a database that is slow to answer),
    so it becomes a task of its own; the exit decided meanwhile waits behind it, and goes after."""
    from tui_trader.strategy.runner import Decision

    home = Home(tmp_path)
    engine, _ = await boot(home, "alpha")
    host = engine.strategies
    assert host is not None and engine.store is not None
    answered = asyncio.Event()
    write = engine.store.insert_order

    async def slow(order: Order, *, new: bool = False) -> None:
        if order.strategy == "alpha":
            await answered.wait()
        await write(order, new=new)

    engine.store.insert_order = slow  # type: ignore[method-assign]
    try:
        created: list[str] = []
        engine.bus.on(
            lambda e: created.append(e.order.side.value)  # type: ignore[attr-defined]
            if e.order.strategy == "alpha" and e.order.status is OrderStatus.NEW and e.order.tag != "stop_loss"  # type: ignore[attr-defined]
            else None,
            kinds={"order"},
        )
        now = engine.clock.now()
        host._on_decision("alpha", Decision("alpha", SYMBOL, "enter_long", None, 3400.0, now, "entry_signal"), None)
        assert host._eager is not None and not host._eager.done()  # waiting for the database
        host._on_decision("alpha", Decision("alpha", SYMBOL, "exit_long", None, 3400.0, now, "exit_signal"), None)
        assert host._decisions.qsize() == 1  # queued behind it
        await asyncio.sleep(0.05)
        assert created == []  # nothing written, nothing sent, while the write waits
        answered.set()
        await asyncio.wait_for(host.drain(), 10)
        await settle(engine)
        assert created == ["buy", "sell"]
        assert engine.portfolio.open_positions() == [] and stops_of(engine, "alpha") == []
    finally:
        await engine.stop()
