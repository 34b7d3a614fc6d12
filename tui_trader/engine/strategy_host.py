"""Runs strategies inside the engine: closed candles in, orders out through risk and the OMS.

The same `analyze` path as the backtester decides; the host only sizes (the risk engine's
sizer, or the strategy's `custom_stake_amount`), asks `confirm_trade_*`, places the order as
`strategy:<name>`, feeds fills back and persists each strategy's state. Strategies never see
the engine, a venue or a credential.
"""

from __future__ import annotations

import asyncio
import logging
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
from tui_trader.engine.commands import command
from tui_trader.engine.params import flag

if TYPE_CHECKING:
    from tui_trader.engine.ports import EnginePort
    from tui_trader.strategy.runner import Decision, StrategyRunner

log = logging.getLogger(__name__)
RELOAD_POLL_S = 2.0


def strategy_dirs(engine: EnginePort) -> list[Path]:
    """Where strategies are looked up: HOME/strategies (the bundled plugins/ come with it)."""
    return [engine.home.strategies_dir] if engine.home is not None else []


class StrategyHost:
    def __init__(self, engine: EnginePort) -> None:
        self.engine = engine
        self.runners: dict[str, StrategyRunner] = {}
        self.configs: dict[str, StrategySettings] = {}
        self.broken: dict[str, str] = {}
        self._decisions: asyncio.Queue[tuple[str, Decision]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._watcher: Any = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        for name, cfg in self.engine.settings.strategies.items():
            await self.add(name, cfg)
        self.engine.bus.on(self._on_event, kinds={"candle", "position"}, name="strategy-host")
        self.engine.oms.fill_listeners.append(self._on_fill)  # type: ignore[union-attr]
        self._tasks.append(asyncio.create_task(self._execute_loop(), name="strategy-decisions"))
        if self.runners or self.broken:
            from tui_trader.strategy.reload import StrategyWatcher

            self._watcher = StrategyWatcher(self._watched_dirs())
            self._watcher.changed()  # the baseline
            self._tasks.append(asyncio.create_task(self._reload_loop(), name="strategy-reload"))

    async def stop(self) -> None:
        self.engine.bus.off(self._on_event)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        for name in self.runners:
            await self._save_state(name)

    def _watched_dirs(self) -> list[Path]:
        from tui_trader.strategy.loader import bundled_dir

        return [bundled_dir(), *strategy_dirs(self.engine)]

    async def add(self, name: str, cfg: StrategySettings) -> None:
        """Load a configured strategy; a broken one is reported and skipped, the rest run."""
        from tui_trader.strategy.errors import StrategyError
        from tui_trader.strategy.loader import load_strategy
        from tui_trader.strategy.runner import StrategyRunner

        self.configs[name] = cfg
        try:
            strategy = load_strategy(cfg.strategy or name, strategy_dirs(self.engine), cfg.params or None)
        except (StrategyError, UserError) as exc:
            self.broken[name] = str(exc)
            self.engine.notify("error", f"strategy {name} not started: {exc}", "strategy")
            return
        history = await self._prefetch(strategy, cfg)
        assert self.engine.store is not None
        state = await self.engine.store.load_strategy_state(name)
        runner = StrategyRunner(
            strategy,
            cfg.symbols,
            on_decision=lambda d: self._decisions.put_nowait((name, d)),
            history=lambda symbol, tf, limit: history.get((symbol, tf), [])[-limit:],
            state=state or None,
            on_error=lambda err: self.engine.notify("error", f"strategy {name}: {err}", "strategy"),
        )
        runner.enabled = cfg.enabled
        self.runners[name] = runner
        # The protective stop is the engine's: it reads the declared stoploss once, here.
        if self.engine.stops is not None:
            self.engine.stops.declare(name, getattr(strategy, "stoploss", None))
        self.broken.pop(name, None)
        if self.engine.candles is not None:
            self.engine.candles.want(tf for _, tf in runner.subscriptions())

    async def _prefetch(self, strategy: Any, cfg: StrategySettings) -> dict[tuple[str, str], list[Candle]]:
        """Warm-up history for `startup_candle_count`, fetched once at start."""
        out: dict[tuple[str, str], list[Candle]] = {}
        from tui_trader.strategy.runner import WINDOW_MARGIN

        limit = strategy.startup_candle_count + WINDOW_MARGIN
        pairs = [(s, strategy.timeframe) for s in cfg.symbols]
        try:
            pairs += [(p, tf) for p, tf in strategy.informative_pairs()]
        except Exception:
            pass
        for symbol, tf in pairs:
            try:
                out[(symbol, tf)] = await self.engine.fetch_candles(symbol, tf, limit, cfg.venue)
            except Exception as exc:
                log.warning("warm-up history for %s %s failed: %s", symbol, tf, exc)
        return out

    # -- market data and fills -----------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if isinstance(event, CandleEvent) and event.candle.closed:
            c = event.candle
            for name, runner in self.runners.items():
                runner.on_candle(c.symbol, c.timeframe, c)
                self._report_stop(name, runner, c.symbol)
        elif isinstance(event, PositionEvent) and event.position.is_flat:
            # After the fill listeners ran: a strategy's own exit fill has settled its trade by
            # then; what is left open was closed by someone else (manual close, kill switch).
            asyncio.get_running_loop().call_soon(self._position_closed, event.position)

    def _report_stop(self, name: str, runner: StrategyRunner, symbol: str) -> None:
        """Hand the stop level the strategy's trade state holds (trailing, custom_stoploss) to
        the engine's protective stop, which only ever tightens."""
        trade = runner.open_trades().get(symbol)
        stops = self.engine.stops
        if trade is None or stops is None or trade.stop_loss is None:
            return
        venue = self.engine.venue_for(symbol, self.configs[name].venue)
        stops.report_level(name, venue, symbol, float(trade.stop_loss), not trade.is_short)

    def _position_closed(self, position: Position) -> None:
        for runner in self.runners.values():
            if position.symbol in runner.open_trades():
                runner.on_position_closed(position.symbol, position.mark or None, self.engine.clock.now())

    def _on_fill(self, order: Order, fill: Fill, position: Position, realized: Decimal) -> None:
        runner = self.runners.get(order.strategy or "")
        if runner is None:
            return
        runner.on_fill(fill.symbol, fill.side.value, float(fill.quantity), float(fill.price), fill.ts)
        asyncio.get_running_loop().create_task(self._save_state(order.strategy or ""))

    async def _save_state(self, name: str) -> None:
        runner = self.runners.get(name)
        if runner is not None and self.engine.store is not None:
            await self.engine.store.save_strategy_state(name, runner.state, self.engine.clock.now())

    # -- decisions -> orders -------------------------------------------------------------------

    async def _execute_loop(self) -> None:
        while True:
            name, decision = await self._decisions.get()
            try:
                await self.execute(name, decision)
            except Exception:
                log.exception("strategy %s decision %s failed", name, decision)
            finally:
                self._decisions.task_done()

    async def drain(self) -> None:
        """Wait until every decision so far has been carried out (tests, shutdown)."""
        await self._decisions.join()

    async def execute(self, name: str, decision: Decision) -> Order | None:
        runner = self.runners[name]
        cfg = self.configs[name]
        engine = self.engine
        venue = engine.venue_for(decision.symbol, cfg.venue)
        inst = engine.instrument(venue, decision.symbol)
        if inst is None:
            runner.on_order_failed(decision.symbol)
            engine.notify("warning", f"strategy {name}: {decision.symbol} is not listed on {venue}", "strategy")
            return None
        side = Side(decision.side)
        if decision.is_entry:
            stop = None
            sl = runner.strategy.stoploss
            if sl:
                stop = decision.price * (1 + sl) if side is Side.BUY else decision.price * (1 - sl)
            sizer = engine.risk.sizer_for(
                name, lambda proposed, max_stake: runner.stake_amount(decision, proposed, None, max_stake)
            )
            atr = runner.atr(decision.symbol, sizer.settings.atr_period)
            qty = sizer.order_quantity(
                engine.risk.sizing_input(
                    decision.symbol,
                    side.sign,
                    decision.price,
                    strategy=name,
                    stop_price=stop,
                    atr=atr,
                    quote=inst.quote,
                ),
                inst,
            )
            reduce_only = False
        else:
            trade = runner.open_trades().get(decision.symbol)
            pos = engine.portfolio.positions.get((venue, decision.symbol))
            held = abs(pos.quantity) if pos is not None else Decimal(0)
            # The runner keeps amounts as floats: round to the nearest lot, not down, so float
            # drift never leaves a lot of dust that could not be sold.
            want = quantize(Decimal(str(trade.amount)), inst.lot_size) if trade is not None else held
            qty = inst.round_qty(min(want, held))
            reduce_only = True
        if qty <= 0:
            runner.on_order_failed(decision.symbol)
            engine.notify("info", f"strategy {name}: {decision.action} {decision.symbol} skipped (size 0)", "strategy")
            return None
        if not runner.confirm(decision, float(qty)):
            return None
        stops = engine.stops if not decision.is_entry else None
        if stops is not None:  # the strategy exits itself: its protective stop steps aside
            await stops.pause(name, venue, decision.symbol)
        try:
            return await self._place(name, runner, decision, side, qty, venue, reduce_only)
        finally:
            if stops is not None:
                stops.resume(name, venue, decision.symbol)

    async def _place(
        self,
        name: str,
        runner: StrategyRunner,
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

    # -- hot reload and control ----------------------------------------------------------------

    async def _reload_loop(self) -> None:
        while True:
            await asyncio.sleep(RELOAD_POLL_S)
            self.reload_changed()

    def reload_changed(self) -> list[str]:
        from tui_trader.strategy.analysis import strategy_file
        from tui_trader.strategy.reload import reload_runner

        if self._watcher is None:
            return []
        changed = {p.resolve() for p in self._watcher.changed()}
        reloaded = []
        for name, runner in self.runners.items():
            path = strategy_file(runner.strategy)
            if path and Path(path).resolve() in changed:
                err = reload_runner(runner, path)
                if err is None:
                    reloaded.append(name)
                    self.engine.notify("info", f"strategy {name} reloaded from {Path(path).name}", "strategy")
                else:
                    self.engine.notify(
                        "error", f"strategy {name} reload failed, still running the old version: {err}", "strategy"
                    )
        return reloaded

    def status(self) -> list[dict[str, Any]]:
        out = [{**r.status(), "name": n, "venue": self.configs[n].venue} for n, r in self.runners.items()]
        out += [
            {"name": n, "strategy": n, "enabled": False, "error": e, "symbols": self.configs[n].symbols}
            for n, e in self.broken.items()
        ]
        return out

    def runner(self, name: str) -> StrategyRunner:
        runner = self.runners.get(name)
        if runner is None:
            known = ", ".join(self.runners) or "none configured"
            raise UserError(
                f"no running strategy {name!r} (running: {known}); add it under [strategies.{name}] in config.toml"
            )
        return runner


def _host(engine: EnginePort) -> StrategyHost:
    if engine.strategies is None:
        raise UserError("the strategy host is not running")
    return engine.strategies


@command("strategies.status")
async def _status(engine: EnginePort, params: dict[str, Any], actor: str) -> list[dict[str, Any]]:
    return _host(engine).status()


@command("strategies.enable")
async def _enable(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    runner = _host(engine).runner(str(params.get("name", "")))
    runner.enabled = flag(params, "enabled", True)
    runner.error = None
    await engine.audit(actor, "strategy_enable" if runner.enabled else "strategy_disable", {"name": runner.name})
    return runner.status()


@command("strategies.disable")
async def _disable(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    return await _enable(engine, {**params, "enabled": False}, actor)


@command("reload_strategies")
async def _reload(engine: EnginePort, params: dict[str, Any], actor: str) -> list[str]:
    host = _host(engine)
    await engine.audit(actor, "strategy_reload", {})
    return host.reload_changed()
