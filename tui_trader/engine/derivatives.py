"""Positions on margin: the leverage each symbol trades at, each position's margin figures,
funding and swap payments, and the liquidation guard.

- Leverage and margin mode are settings per (venue, symbol), changed by `set_leverage` (the
  venue is told first; a refusal changes nothing), kept in the database and given to the
  portfolio, which values the positions.
- `figures` computes what a trader needs on screen for each position: mark, notional, initial
  and maintenance margin (the venue's tier table), margin balance and ratio, liquidation price
  and the guard price, funding so far and the next funding time and rate.
- Funding and swap arrive as CashFlowEvents from the venue; each is booked once (cash, the
  position's running total, the database in one transaction) and published again.
- The guard acts before the venue would liquidate: when the mark crosses the guard price
  (`risk.liquidation_buffer` of the way from the liquidation price back to the entry), the
  engine cancels the symbol's working orders and closes the position at market (reduce-only,
  like the kill switch for one position), or halves a cross-margin position when
  `risk.liquidation_action = "reduce"`. It is stateless over marks: after a restart a
  position already past its guard is acted on at the first mark.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.core import margin as M
from tui_trader.core.cashflows import CashFlow
from tui_trader.core.enums import MarginMode, OrderType, Side, TimeInForce
from tui_trader.core.errors import UserError
from tui_trader.core.events import CashFlowEvent, RiskEvent
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.core.positions import Position
from tui_trader.risk.margin import LeverageSetting, MarginFigures, figures, margin_rows
from tui_trader.store.db import Store, StoreWriteError

if TYPE_CHECKING:
    from tui_trader.core.instrument import Instrument
    from tui_trader.core.market import Ticker
    from tui_trader.engine.ports import EnginePort

log = logging.getLogger(__name__)
ZERO = Decimal(0)
STATE_KEY = "leverage"
GUARD_SOURCE = "liquidation_guard"


class Derivatives:
    def __init__(self, engine: EnginePort) -> None:
        self.engine = engine
        self.settings: dict[tuple[str, str], LeverageSetting] = {}
        self._seen_flows: set[tuple[str, str]] = set()
        self._acting: set[tuple[str, str]] = set()  # the guard is closing these
        self._tasks: set[asyncio.Task[None]] = set()
        self.actions: list[dict[str, Any]] = []  # the guard's recent actions (the risk pane)

    # -- settings -------------------------------------------------------------------------------

    async def restore(self) -> None:
        store = self.engine.store
        if store is None:
            return
        for key, value in (await store.load_risk_state(STATE_KEY)).items():
            venue, _, symbol = key.partition("|")
            with contextlib.suppress(Exception):
                self.settings[(venue, symbol)] = LeverageSetting(
                    Decimal(value["leverage"]), MarginMode(value["margin_mode"])
                )
        self._seen_flows = await store.cash_flow_ids()

    def register(self, venue: str, instruments: dict[str, Instrument]) -> None:
        """The venue's markets are loaded: every instrument on margin gets its setting (stored, or
        the default) and the portfolio values its positions accordingly."""
        for inst in instruments.values():
            if not inst.margined:
                continue
            setting = self.setting(venue, inst.symbol, inst)
            self.engine.portfolio.set_instrument(inst, setting.leverage, setting.margin_mode.value)

    def setting(self, venue: str, symbol: str, inst: Instrument | None = None) -> LeverageSetting:
        found = self.settings.get((venue, symbol))
        if found is not None:
            return found
        inst = inst or self.engine.instrument(venue, symbol)
        if inst is None or not inst.margined:
            return LeverageSetting(Decimal(1), MarginMode.CROSS)
        return LeverageSetting(M.default_leverage(inst), inst.default_margin_mode or MarginMode.CROSS)

    def check_leverage(self, inst: Instrument, leverage: Decimal, notional: Decimal = ZERO) -> str | None:
        """Why `leverage` cannot be used on `inst` for a position of `notional`, or None."""
        if not inst.margined:
            return f"{inst.symbol} is spot: leverage applies to perpetuals, futures and FX pairs"
        if leverage < max(inst.min_leverage, Decimal(1)):
            return f"leverage {leverage:g}x is below {inst.symbol}'s minimum of {max(inst.min_leverage, 1):g}x"
        highest = M.max_leverage(inst, notional)
        if leverage > highest:
            where = f" for a position of {notional:,.0f} {inst.settle_currency}" if notional else ""
            return f"leverage {leverage:g}x is above {inst.symbol}'s maximum of {highest:g}x{where}"
        cap = self.engine.settings.risk.max_leverage
        if cap is not None and leverage > Decimal(str(cap)):
            return f"leverage {leverage:g}x is above risk.max_leverage = {cap:g}"
        return None

    async def set_leverage(
        self,
        venue: str,
        symbol: str,
        leverage: Decimal | None,
        margin_mode: MarginMode | None = None,
        actor: str = "user",
        *,
        dry_run: bool = False,
    ) -> LeverageSetting:
        """Trade `symbol` on `venue` at `leverage` (and `margin_mode`). The venue is told first; a
        refusal changes nothing (UserError). Audited and stored."""
        inst = self.engine.instrument(venue, symbol)
        if inst is None:
            raise UserError(f"unknown symbol {symbol} on {venue}")
        current = self.setting(venue, symbol, inst)
        new = LeverageSetting(leverage or current.leverage, margin_mode or current.margin_mode)
        pos = self.engine.portfolio.positions.get((venue, symbol))
        notional = M.settle_notional(inst, pos.quantity, pos.average_price) if pos is not None else ZERO
        reason = self.check_leverage(inst, new.leverage, notional)
        if reason is None and new.margin_mode not in inst.margin_modes:
            modes = ", ".join(m.value for m in inst.margin_modes) or "none"
            reason = f"{symbol} trades {modes} margin, not {new.margin_mode.value}"
        if reason is None and new.margin_mode is not current.margin_mode and pos is not None and not pos.is_flat:
            reason = f"the margin mode of {symbol} cannot change while a position is open (close it first)"
        if reason is not None:
            raise UserError(f"leverage not changed: {reason}")
        if dry_run or (new == current and (venue, symbol) in self.settings):
            return new
        venue_obj = self.engine.venues[venue]
        setter = getattr(venue_obj, "set_leverage", None)
        if setter is not None:
            try:
                await setter(symbol, new.leverage, new.margin_mode)
            except Exception as exc:
                raise UserError(
                    f"{venue} refused leverage {new.leverage:g}x on {symbol}: {exc}; nothing changed"
                ) from None
        self.settings[(venue, symbol)] = new
        self.engine.portfolio.set_instrument(inst, new.leverage, new.margin_mode.value)
        await self._store_settings()
        await self.engine.audit(
            actor,
            "leverage",
            {"venue": venue, "symbol": symbol, "leverage": str(new.leverage), "margin_mode": new.margin_mode.value,
             "was": {"leverage": str(current.leverage), "margin_mode": current.margin_mode.value}},
        )
        self.engine.notify(
            "info", f"{symbol} on {venue} now trades at {new.leverage:g}x, {new.margin_mode.value} margin", "risk"
        )
        return new

    async def _store_settings(self) -> None:
        store = self.engine.store
        if store is None:
            return
        state = {
            f"{v}|{s}": {"leverage": str(x.leverage), "margin_mode": x.margin_mode.value}
            for (v, s), x in self.settings.items()
        }
        await store.write_rows([Store.risk_state_row(state, self.engine.clock.now(), STATE_KEY)])

    # -- figures --------------------------------------------------------------------------------

    def instrument(self, venue: str, symbol: str) -> Instrument | None:
        return self.engine.instrument(venue, symbol)

    @property
    def buffer(self) -> Decimal:
        return Decimal(str(self.engine.settings.risk.liquidation_buffer))

    def figures(self, pos: Position, ticker: Ticker | None = None) -> MarginFigures | None:
        inst = self.engine.instrument(pos.venue, pos.symbol)
        if inst is None or not inst.margined:
            return None
        setting = self.setting(pos.venue, pos.symbol, inst)
        return figures(pos, inst, setting, self.engine.portfolio, self, self.buffer, ticker)

    def rows(self) -> list[dict[str, Any]]:
        """Every open position on margin (the positions pane, `positions --json`)."""
        rows = margin_rows(self.engine.portfolio, self, self.buffer, lambda v, s: self.engine.ticker(s, v))
        out = [fig.as_dict() for fig in rows]
        for row in out:  # the venue's own figures beside ours, where it reports them
            theirs = getattr(self.engine.venues.get(str(row["venue"])), "venue_positions", {}).get(row["symbol"])
            if theirs is not None:
                row["at_venue"] = theirs.as_dict()
        return out

    # -- funding and swap -----------------------------------------------------------------------

    def on_cash_flow(self, flow: CashFlow) -> None:
        """Book a payment once: cash and the position's funding now (in arrival order, like a
        fill), the database right after (payment and position in one transaction); then
        publish it."""
        key = (flow.venue, flow.flow_id)
        if key in self._seen_flows:
            return
        self._seen_flows.add(key)
        pos = self.engine.portfolio.apply_cash_flow(flow.venue, flow.symbol, flow.amount, flow.currency, flow.ts)
        self.engine.bus.publish(CashFlowEvent(flow))
        if self.engine.store is not None:
            self._spawn(self._save(flow, None if pos is None else pos.copy()), f"cash-flow-{flow.flow_id}")

    async def _save(self, flow: CashFlow, pos: Position | None) -> None:
        store = self.engine.store
        assert store is not None
        try:
            await store.save_cash_flow(flow, pos, flow.ts)
        except StoreWriteError as exc:
            log.error("%s payment %s not stored: %s", flow.kind, flow.flow_id, exc)

    async def import_flows(self, name: str) -> None:
        """The payments venue `name` lists since the newest stored, booked once each: at start
        (paid while the engine was away; cash is then read from the venue, which already has
        them) and after each balances read (one it made before the read, not yet heard of, is
        booked before the read is believed: engine/cash_reread.py)."""
        venue = self.engine.venues.get(name)
        fetch = getattr(venue, "fetch_cash_flows", None)
        store = self.engine.store
        if fetch is None or store is None:
            return
        since = await store.newest_cash_flow_ts(name)
        try:
            flows = await fetch(since)
        except Exception as exc:
            log.warning("%s: funding history not read (%s); payments since the last start are not itemised", name, exc)
            return
        for flow in flows:
            self.on_cash_flow(flow)
        await self.settle()

    async def settle(self) -> None:
        """Wait for the payments and guard actions under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the liquidation guard -------------------------------------------------------------------

    def on_mark(self, ticker: Ticker) -> None:
        """A new mark: act on a position past its guard price (once at a time per position)."""
        key = (ticker.venue, ticker.symbol)
        if key in self._acting:
            return
        pos = self.engine.portfolio.positions.get(key)
        if pos is None or pos.is_flat or not pos.margined:
            return
        fig = self.figures(pos, ticker)
        if fig is None or fig.guard_price is None:
            return
        crossed = fig.mark <= fig.guard_price if pos.quantity > 0 else fig.mark >= fig.guard_price
        if not crossed:
            return
        self._acting.add(key)
        self._spawn(self._act(fig), f"liquidation-guard-{ticker.symbol}")

    async def _act(self, fig: MarginFigures) -> None:
        key = (fig.venue, fig.symbol)
        try:
            await self._close(fig)
        except Exception:
            log.exception("liquidation guard failed for %s", fig.symbol)
        finally:
            self._acting.discard(key)

    async def _close(self, fig: MarginFigures) -> None:
        engine = self.engine
        assert engine.oms is not None
        inst = engine.instrument(fig.venue, fig.symbol)
        assert inst is not None
        qty = abs(fig.quantity)
        reduce = engine.settings.risk.liquidation_action == "reduce" and fig.margin_mode == MarginMode.CROSS.value
        if reduce:
            half = inst.round_qty(qty / 2)
            qty = half if half >= max(inst.min_qty, inst.lot_size) else qty
        action = "reduce" if qty < abs(fig.quantity) else "close"
        message = (
            f"{fig.symbol}: mark {fig.mark} crossed the guard {fig.guard_price} before the liquidation price "
            f"{fig.liquidation_price}; {'halving' if action == 'reduce' else 'closing'} the position "
            f"({qty} of {fig.quantity})"
        )
        now = engine.clock.now()
        detail = {k: v for k, v in fig.as_dict().items() if k in ("venue", "symbol", "quantity", "entry", "mark")}
        detail |= {"guard_price": str(fig.guard_price), "liquidation_price": str(fig.liquidation_price)}
        self.actions = [*self.actions[-19:], {"at": now.isoformat(), "action": action, **detail}]
        engine.bus.publish(RiskEvent(now, "breaker:liquidation_guard", message, data=detail))
        engine.notify("warning", message, "risk")
        await engine.audit("risk", "liquidation_guard", {"action": action, **detail})
        if action == "close":
            for order in [o for o in engine.oms.open_orders() if o.venue == fig.venue and o.symbol == fig.symbol]:
                with contextlib.suppress(Exception):
                    await engine.cancel(order.client_order_id, actor="risk")
        side = Side.SELL if fig.quantity > 0 else Side.BUY
        req = OrderRequest(
            fig.symbol,
            side,
            qty,
            OrderType.MARKET,
            venue=fig.venue,
            time_in_force=TimeInForce.IOC,
            reduce_only=True,
            source=GUARD_SOURCE,
        )
        order = Order.from_request(req, engine.new_id(), fig.venue, now)
        await engine.oms.submit(order)
        await engine.oms.flush()

    async def stop(self) -> None:
        await asyncio.gather(*list(self._tasks), return_exceptions=True)  # payments get stored
