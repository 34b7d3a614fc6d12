"""Runs strategies for the engine, each in its own supervised worker process (see
strategy_worker.py): closed candles in, orders out through risk and the OMS.

The worker decides with the same `analyze` path as the backtester; the host only sizes (the
risk engine's sizer, or the strategy's `custom_stake_amount` in the worker), asks
`confirm_trade_*`, places the order as `strategy:<name>`, feeds fills back and persists each
strategy's state. Strategies never see the engine, a venue or a credential, and a strategy
that never returns cannot stop the engine: past its deadline its worker is killed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.config.strategies import StrategySettings
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.core.events import CandleEvent, Event, PositionEvent
from tui_trader.core.fills import Fill
from tui_trader.core.instrument import quantize
from tui_trader.core.market import Candle
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.core.positions import Position
from tui_trader.engine.candle_holes import WindowHoles
from tui_trader.engine.commands import command
from tui_trader.engine.params import flag, text
from tui_trader.engine.route_state import AUTO
from tui_trader.engine.strategy_worker import StrategyWorker, WorkerConfig
from tui_trader.engine.worker_factory import Zygote
from tui_trader.execution.eager import start_now
from tui_trader.venues.resilience import stop_tasks

if TYPE_CHECKING:
    from tui_trader.engine.ports import EnginePort
    from tui_trader.strategy.runner import Decision

log = logging.getLogger(__name__)
RELOAD_POLL_S = 2.0
START_WAIT_S = 15.0  # engine start waits at most this (and its deadline) for its strategies to load


def strategy_dirs(engine: EnginePort) -> list[Path]:
    """Where strategies are looked up: HOME/strategies (the bundled plugins/ come with it)."""
    from tui_trader.strategy.loader import bundled_dir

    dirs = [engine.home.strategies_dir] if engine.home is not None else []
    return [*dirs, bundled_dir()]


class StrategyHost:
    def __init__(self, engine: EnginePort) -> None:
        self.engine = engine
        self.runners: dict[str, StrategyWorker] = {}
        self.configs: dict[str, StrategySettings] = {}
        self.broken: dict[str, str] = {}
        self.zygote = Zygote()
        self._decisions: asyncio.Queue[tuple[str, Decision, float | None]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        # A decision carried out where it was read (`_on_decision`): `_eager` once it waits for
        # something; `_looping` while the queue's task carries one out.
        self._eager: asyncio.Future[None] | None = None
        self._eager_now = False
        self._looping = False
        self._stopping = False
        self._chores: set[asyncio.Task[Any]] = set()  # state saves and reloads: awaited at stop
        self._watcher: Any = None
        self._saving: set[str] = set()
        self.holes = WindowHoles(engine.notify)  # strategies waiting on a hole in their bars

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        for name, cfg in self.engine.settings.strategies.items():
            await self.add(name, cfg)
        self.engine.bus.on(self._on_event, kinds={"candle", "position"}, name="strategy-host")
        self.engine.oms.fill_listeners.append(self._on_fill)  # type: ignore[union-attr]
        self._tasks.append(asyncio.create_task(self._execute_loop(), name="strategy-decisions"))
        self._start_watching()
        await self.loaded()

    async def loaded(self, timeout: float | None = None) -> None:
        """Until every strategy is imported in its worker (its bars are kept from then on), at
        most its deadline: the engine starts without waiting for warm-up evaluations, and a
        strategy that hangs on import does not hold it up for longer than that."""
        if not self.runners:
            return
        limit = timeout or min(START_WAIT_S, max(r.config.timeout_s for r in self.runners.values()))
        waits = [asyncio.create_task(r.loaded()) for r in self.runners.values()]
        _, pending = await asyncio.wait(waits, timeout=limit)
        for task in pending:
            task.cancel()

    async def started(self, timeout: float = START_WAIT_S) -> None:
        """Until every strategy is running or has failed (tests, benchmarks)."""
        if self.runners:
            waits = [asyncio.create_task(r.started()) for r in self.runners.values()]
            _, pending = await asyncio.wait(waits, timeout=timeout)
            for task in pending:
                task.cancel()

    def _start_watching(self) -> None:
        if self._watcher is not None or not (self.runners or self.broken):
            return
        from tui_trader.strategy.reload import StrategyWatcher

        self._watcher = StrategyWatcher(strategy_dirs(self.engine))
        self._watcher.changed()  # the baseline
        self._tasks.append(asyncio.create_task(self._reload_loop(), name="strategy-reload"))

    async def stop(self) -> None:
        self.engine.bus.off(self._on_event)
        self._stopping = True
        if self._eager is not None and not self._eager.done():
            self._eager.cancel()  # as the queue's task is (a send on the wire finishes on its own)
            await asyncio.wait({self._eager})
        await stop_tasks(*self._tasks)
        await asyncio.gather(*self._chores, return_exceptions=True)  # a save mid-write finishes
        await asyncio.gather(*(r.stop() for r in self.runners.values()), return_exceptions=True)
        for name in self.runners:
            await self._save_state(name)
        await self.zygote.stop()

    async def add(self, name: str, cfg: StrategySettings) -> None:
        """Start a configured strategy in a worker; one that fails to load is reported and
        waits for a fix (reload) or `strategies enable`, the rest run."""
        assert self.engine.store is not None
        state = await self.engine.store.load_strategy_state(name)
        engine = self.engine
        worker = StrategyWorker(
            WorkerConfig(
                name=name,
                strategy=cfg.strategy or name,
                symbols=list(cfg.symbols),
                dirs=strategy_dirs(engine),
                params=dict(cfg.params or {}),
                timeout_s=cfg.timeout_s or engine.settings.engine.strategy_timeout_s,
                atr_period=engine.risk.sizer_for(name).settings.atr_period,
                memory_mb=cfg.memory_mb,
                isolation=cfg.isolation,
            ),
            self.zygote,
            history=lambda subs, bars: self._prefetch(subs, bars, cfg),
            state=state or None,
            enabled=cfg.enabled,
            on_decision=lambda d, atr: self._on_decision(name, d, atr),
            on_state=lambda: self._state_changed(name),
            notify=lambda level, message: engine.notify(level, message, "strategy"),
            on_loaded=self._loaded,
            on_trades=self._trades_changed,
        )
        self.configs[name] = cfg
        self.runners[name] = worker
        self.broken.pop(name, None)
        worker.start()

    def _loaded(self, worker: StrategyWorker) -> None:
        if self.engine.candles is not None:
            self.engine.candles.want(tf for _, tf in worker.subscriptions())
        # The protective stop is the engine's: it reads the declared stoploss once the worker
        # has imported the strategy (the engine never imports it itself).
        if self.engine.stops is not None:
            self.engine.stops.declare(worker.name, worker.stoploss)

    def _trades_changed(self, worker: StrategyWorker) -> None:
        """Hand the stop level each trade holds (trailing, custom_stoploss), as the worker
        reports it, to the engine's protective stop, which only ever tightens."""
        stops = self.engine.stops
        if stops is None or worker.name not in self.configs:
            return
        for symbol, trade in worker.open_trades().items():
            if trade.stop_loss is not None:
                for venue in self._stop_venues(worker.name, symbol):
                    stops.report_level(worker.name, venue, symbol, float(trade.stop_loss), not trade.is_short)

    def _stop_venues(self, name: str, symbol: str) -> list[str]:
        """Where the strategy's protective stops for `symbol` may sit: its venue, or with `venue =
        "auto"` every venue listing the symbol (its fills may be on any of them)."""
        if self.configs[name].venue == AUTO:
            return [v for v in self.engine.venues if self.engine.instrument(v, symbol) is not None]
        return [self.engine.venue_for(symbol, self.configs[name].venue)]

    async def _prefetch(
        self, subs: list[tuple[str, str]], bars: int, cfg: StrategySettings
    ) -> dict[tuple[str, str], list[Candle]]:
        """Warm-up history for `startup_candle_count`, fetched when a worker starts."""
        out: dict[tuple[str, str], list[Candle]] = {}
        for symbol, tf in subs:
            try:
                venue = None if cfg.venue == AUTO else cfg.venue  # auto: the default venue's bars
                out[(symbol, tf)] = await self.engine.fetch_candles(symbol, tf, max(1, bars), venue)
            except Exception as exc:
                log.warning("warm-up history for %s %s failed: %s", symbol, tf, exc)
        return out

    # -- market data and fills -----------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if isinstance(event, CandleEvent) and event.candle.closed:
            c = event.candle
            for name, runner in self.runners.items():
                if event.venue != self._data_venue(name, c.symbol):
                    continue  # another venue's bars of the same symbol: one series per strategy
                runner.on_candle(c.symbol, c.timeframe, c, self._holed(name, runner, event.venue, c))
        elif isinstance(event, PositionEvent) and event.position.is_flat:
            # After the fill listeners ran: a strategy's own exit fill has settled its trade by
            # then; what is left open was closed by someone else (manual close, kill switch).
            asyncio.get_running_loop().call_soon(self._position_closed, event.position)

    def _holed(self, name: str, runner: StrategyWorker, venue: str, c: Candle) -> bool:
        """The bars the strategy reads for this one have a hole the venue could not fill."""
        if c.timeframe != runner.info.get("timeframe"):
            return False
        holes = getattr(self.engine.venues.get(venue), "holes", None) or ()
        if not holes and not self.holes.waiting:
            return False
        before = int(runner.info.get("startup_candle_count") or 0)
        return self.holes.hold(name, c.symbol, c.timeframe, c.open_time, before, holes)

    def _data_venue(self, name: str, symbol: str) -> str:
        """The venue whose bars a strategy reads: its own, or for `venue = "auto"` the default."""
        wanted = self.configs[name].venue
        return self.engine.venue_for(symbol, None if wanted == AUTO else wanted)

    def _position_closed(self, position: Position) -> None:
        for runner in self.runners.values():
            if position.symbol in runner.open_trades():
                runner.on_position_closed(position.symbol, position.mark or None, self.engine.clock.now())

    def _on_fill(self, order: Order, fill: Fill, position: Position, realized: Decimal) -> None:
        runner = self.runners.get(order.strategy or "")
        if runner is None:
            return
        runner.on_fill(fill.symbol, fill.side.value, float(fill.quantity), float(fill.price), fill.ts)

    def _state_changed(self, name: str) -> None:
        if name in self._saving:
            return
        self._saving.add(name)
        self._chore(self._save_state(name), f"strategy-save-{name}")

    def _chore(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        """Work started from a callback: kept until done, its failure logged, awaited at stop."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._chores.add(task)
        task.add_done_callback(self._chore_done)

    def _chore_done(self, task: asyncio.Task[Any]) -> None:
        self._chores.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s failed: %s", task.get_name(), task.exception())

    async def _save_state(self, name: str) -> None:
        self._saving.discard(name)
        runner = self.runners.get(name)
        if runner is not None and runner.state and self.engine.store is not None:
            await self.engine.store.save_strategy_state(name, runner.state, self.engine.clock.now())

    # -- decisions -> orders -------------------------------------------------------------------

    def _on_decision(self, name: str, decision: Decision, atr: float | None) -> None:
        """A decision as the worker's frame is read: carried out there and then when nothing is
        ahead of it and every step up to its first wait is in this process (an in-process venue,
        no routing, no strategy callback to ask), so the order is sent and acknowledged without
        a turn of the event loop; from its first wait on it is a task of its own. Otherwise (a
        network venue may start a timer that would capture the reader's task) it queues for the
        decisions' task. Either way one at a time, in the order they came."""
        busy = self._looping or self._eager_now or (self._eager is not None and not self._eager.done())
        if busy or self._stopping or not self._decisions.empty() or not self._in_process(name, decision):
            self._decisions.put_nowait((name, decision, atr))
            return
        self._eager_now = True
        try:
            carried = start_now(self._carry_out(name, decision, atr), name=f"strategy-order-{name}")
        finally:
            self._eager_now = False
        self._eager = None if carried.done() else carried

    def _in_process(self, name: str, decision: Decision) -> bool:
        cfg, runner = self.configs.get(name), self.runners.get(name)
        if cfg is None or runner is None or cfg.venue == AUTO:
            return False
        hooks = runner.hooks()
        if "custom_stake_amount" in hooks or _hook_for(decision) in hooks:
            return False
        venue = self.engine.venues.get(self.engine.venue_for(decision.symbol, cfg.venue))
        return bool(getattr(venue, "answers_in_call", False))

    async def _carry_out(self, name: str, decision: Decision, atr: float | None) -> None:
        try:
            await self.execute(name, decision, atr)
        except Exception:
            log.exception("strategy %s decision %s failed", name, decision)

    async def _execute_loop(self) -> None:
        while True:
            name, decision, atr = await self._decisions.get()
            self._looping = True
            try:
                if self._eager is not None and not self._eager.done():
                    await asyncio.wait({self._eager})  # the one carried out where it was read goes first
                await self._carry_out(name, decision, atr)
            finally:
                self._looping = False
                self._decisions.task_done()

    async def drain(self) -> None:
        """Wait until every bar and fill fed so far has been evaluated and every decision
        carried out (tests, benchmarks, shutdown)."""
        while True:
            for runner in list(self.runners.values()):
                await runner.idle()
            await self._decisions.join()
            if self._eager is not None and not self._eager.done():
                await asyncio.wait({self._eager})
            await asyncio.sleep(0)
            eager_done = self._eager is None or self._eager.done()
            if eager_done and self._decisions.empty() and all(r.is_idle() for r in self.runners.values()):
                return

    async def execute(self, name: str, decision: Decision, atr: float | None = None) -> Order | None:
        runner = self.runners[name]
        cfg = self.configs[name]
        engine = self.engine
        venue = engine.venue_for(decision.symbol, cfg.venue)
        routed = venue == AUTO  # `venue = "auto"`: the router picks; prices and sizes from the default venue
        if routed:
            venue = engine.venue_for(decision.symbol)
        inst = engine.instrument(venue, decision.symbol)
        if inst is None:
            runner.on_order_failed(decision.symbol)
            engine.notify("warning", f"strategy {name}: {decision.symbol} is not listed on {venue}", "strategy")
            return None
        side = Side(decision.side)
        if decision.is_entry:
            stop = None
            sl = runner.stoploss
            if sl:
                stop = decision.price * (1 + sl) if side is Side.BUY else decision.price * (1 - sl)
            inp = engine.risk.sizing_input(
                decision.symbol, side.sign, decision.price, strategy=name, stop_price=stop, atr=atr, quote=inst.quote,
                venue=None if routed else venue,  # what the venue it goes to holds pays for it
            )
            qty = await self._size(name, runner, decision, inp, inst)
            reduce_only = False
        else:
            trade = runner.open_trades().get(decision.symbol)
            held = _held(engine, decision.symbol, None if routed else venue)
            # The runner keeps amounts as floats: round to the nearest lot, not down, so float
            # drift never leaves a lot of dust that could not be sold.
            want = quantize(Decimal(str(trade.amount)), inst.lot_size) if trade is not None else held
            qty = inst.round_qty(min(want, held))
            reduce_only = True
        if qty <= 0:
            runner.on_order_failed(decision.symbol)
            engine.notify("info", f"strategy {name}: {decision.action} {decision.symbol} skipped (size 0)", "strategy")
            return None
        if _hook_for(decision) in runner.hooks() and not await runner.confirm(decision, float(qty)):
            return None
        stops = engine.stops if not decision.is_entry else None
        where = self._stop_venues(name, decision.symbol) if routed else [venue]
        if stops is not None:  # the strategy exits itself: its protective stops step aside
            for v in where:
                await stops.pause(name, v, decision.symbol)
        try:
            return await self._place(name, runner, decision, side, qty, AUTO if routed else venue, reduce_only)
        finally:
            if stops is not None:
                for v in where:
                    stops.resume(name, v, decision.symbol)

    async def _place(
        self,
        name: str,
        runner: StrategyWorker,
        decision: Decision,
        side: Side,
        qty: Decimal,
        venue: str,
        reduce_only: bool,
    ) -> Order | None:
        engine = self.engine
        try:
            order = await engine.place(
                OrderRequest(
                    decision.symbol,
                    side,
                    qty,
                    OrderType.MARKET,
                    venue=venue,
                    reduce_only=reduce_only,
                    source=f"strategy:{name}",  # what the engine sets from the actor (no copy to make)
                    strategy=name,
                    tag=decision.tag,
                ),
                actor=f"strategy:{name}",  # the engine makes it the strategy's order
            )
        except UserError as exc:  # refused outright (the database cannot be written)
            runner.on_order_failed(decision.symbol)
            engine.notify("warning", f"strategy {name}: {decision.action} {decision.symbol} refused: {exc}", "strategy")
            return None
        if order.status in (OrderStatus.REJECTED, OrderStatus.EXPIRED) or (
            order.status is OrderStatus.CANCELLED and order.filled_quantity == 0
        ):
            runner.on_order_failed(decision.symbol)
        return order

    async def _size(self, name: str, runner: StrategyWorker, decision: Decision, inp: Any, inst: Any) -> Decimal:
        """The risk engine's size; a strategy with its own custom_stake_amount is asked (in its
        worker) with the stake and the maximum the sizer proposes, then sized again with its answer."""
        engine = self.engine
        if "custom_stake_amount" not in runner.hooks():
            return engine.risk.sizer_for(name).order_quantity(inp, inst)
        seen: list[tuple[float, float]] = []

        def probe(stake: float, most: float) -> float:
            seen.append((stake, most))
            return stake

        engine.risk.sizer_for(name, probe).order_quantity(inp, inst)
        if not seen:
            return Decimal(0)
        proposed, most = seen[0]
        answer = await runner.stake_amount(decision, proposed, most)
        return engine.risk.sizer_for(name, lambda stake, most: answer).order_quantity(inp, inst)

    # -- hot reload and control ----------------------------------------------------------------

    async def _reload_loop(self) -> None:
        while True:
            await asyncio.sleep(RELOAD_POLL_S)
            self.reload_changed()

    def reload_changed(self) -> list[str]:
        """Strategies whose file changed are reloaded in their workers (in order with their
        bars); the names, at once. Success or the error follows as a notification."""
        if self._watcher is None:
            return []
        changed = {p.resolve() for p in self._watcher.changed()}
        reloaded = []
        for name, runner in self.runners.items():
            path = runner.info.get("file")
            if path and Path(path).resolve() in changed:
                reloaded.append(name)
                self._chore(self._reload(name, path), f"strategy-reload-{name}")
            elif runner.phase == "error" and changed:  # it never loaded: try the edited files
                reloaded.append(name)
                self._chore(runner.set_enabled(True), f"strategy-enable-{name}")
        return reloaded

    async def _reload(self, name: str, path: str) -> str | None:
        runner = self.runners[name]
        err = await runner.reload(path)
        if err is None:
            self.engine.notify("info", f"strategy {name} reloaded from {Path(path).name}", "strategy")
        else:
            message = f"strategy {name} reload failed, still running the old version: {err}"
            self.engine.notify("error", message, "strategy")
        return err

    async def reload(self, name: str | None = None) -> list[str]:
        """`strategies reload [NAME]`: the named one (or all) re-read from their files now;
        tables added to or removed from [strategies] are started or stopped by the caller."""
        names = [name] if name else list(self.runners)
        done = []
        for n in names:
            runner = self.runner(n)
            path = runner.info.get("file")
            if path and runner.phase == "running":
                if await self._reload(n, path) is None:
                    done.append(n)
            else:
                await runner.set_enabled(True)
                done.append(n)
        return done

    async def apply_config(self, strategies: dict[str, StrategySettings]) -> dict[str, list[str]]:
        """A config reload: new [strategies.X] tables start, removed ones stop, changed ones
        restart with their new settings (their saved state and trades carry over)."""
        started, stopped, restarted = [], [], []
        for name in [n for n in self.runners if n not in strategies]:
            await self._remove(name)
            stopped.append(name)
        for name, cfg in strategies.items():
            if name not in self.runners:
                await self.add(name, cfg)
                started.append(name)
            elif cfg != self.configs[name]:
                await self._remove(name)
                await self.add(name, cfg)
                restarted.append(name)
        self._start_watching()
        return {"started": started, "stopped": stopped, "restarted": restarted}

    async def _remove(self, name: str) -> None:
        runner = self.runners.pop(name)
        await runner.stop()
        if runner.state and self.engine.store is not None:
            await self.engine.store.save_strategy_state(name, runner.state, self.engine.clock.now())
        self.configs.pop(name, None)

    def status(self) -> list[dict[str, Any]]:
        out = [
            {**r.status(), "venue": self.configs[n].venue, "waiting": self.holes.status(n)}
            for n, r in self.runners.items()
        ]
        out += [
            {"name": n, "strategy": n, "enabled": False, "state": "error", "error": e, "symbols": []}
            for n, e in self.broken.items()
        ]
        return out

    def runner(self, name: str) -> StrategyWorker:
        runner = self.runners.get(name)
        if runner is None:
            known = ", ".join(self.runners) or "none configured"
            raise UserError(
                f"no running strategy {name!r} (running: {known}); add it under [strategies.{name}] in config.toml"
            )
        return runner


def _hook_for(decision: Decision) -> str:
    return "confirm_trade_entry" if decision.is_entry else "confirm_trade_exit"


def _host(engine: EnginePort) -> StrategyHost:
    if engine.strategies is None:
        raise UserError("the strategy host is not running")
    return engine.strategies


@command("strategies.status")
async def _status(engine: EnginePort, params: dict[str, Any], actor: str) -> list[dict[str, Any]]:
    return _host(engine).status()


@command("strategies.enable")
async def _enable(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """Enable (or, with enabled=false, disable) a strategy; a hung, crashed or broken one is
    started again in a fresh worker."""
    runner = _host(engine).runner(text(params, "name", required=True, max_len=80) or "")
    on = flag(params, "enabled", True)
    await runner.set_enabled(on)
    await engine.audit(actor, "strategy_enable" if on else "strategy_disable", {"name": runner.name})
    return runner.status()


@command("strategies.disable")
async def _disable(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    return await _enable(engine, {**params, "enabled": False}, actor)


@command("strategies.reload")
async def _reload_one(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """Re-read one strategy's file (params {"name"}), or every strategy's (no name)."""
    host = _host(engine)
    name = text(params, "name", max_len=80)
    await engine.audit(actor, "strategy_reload", {"name": name})
    return {"reloaded": await host.reload(name)}


@command("reload_strategies")
async def _reload(engine: EnginePort, params: dict[str, Any], actor: str) -> list[str]:
    """The files that changed since the last look (the daemon's SIGHUP)."""
    host = _host(engine)
    await engine.audit(actor, "strategy_reload", {})
    return host.reload_changed()


def _held(engine: EnginePort, symbol: str, venue: str | None) -> Decimal:
    """What is held of `symbol` on `venue`, or on every venue (a routed exit closes them all)."""
    return sum(
        (abs(p.quantity) for (v, s), p in engine.portfolio.positions.items() if s == symbol and venue in (None, v)),
        Decimal(0),
    )
