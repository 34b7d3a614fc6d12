"""The ccxt adapter on perpetuals (Binance USDⓈ-M as ccxt's `binanceusdm`): what a position on
margin needs from the venue beyond spot trading.

- Instruments: swap markets carry the venue's tier table (`fetch_leverage_tiers`: Binance's
  /fapi/v1/leverageBracket), which bounds the leverage and gives the maintenance margin.
- Leverage and margin mode: `set_leverage` tells the venue (/fapi/v1/marginType, then
  /fapi/v1/leverage); the engine changes its own setting only when both are accepted.
- Mark, index and funding rate: polled (/fapi/v1/premiumIndex) and put on every ticker.
- The venue's own figures for each position: polled (/fapi/v3/positionRisk) with the above and
  shown beside the engine's (`at_venue` in the margin rows).
- Funding paid and received: polled from the venue's income history (/fapi/v1/income,
  FUNDING_FEE) every poll interval and at once when the user stream says a funding happened
  (ACCOUNT_UPDATE reason FUNDING_FEE); each payment is a CashFlowEvent, booked once by its id.
- Orders the venue makes itself - a liquidation ("autoclose-..."), an auto-deleverage
  ("adl_autoclose") - and margin calls are read from the user stream as they come: the order is
  handed to the engine with its first report (the OMS takes it in, its fills then apply), and a
  risk event says what happened. A liquidation missed while the stream was down is found by
  the reconcile's fills (its order is looked up by id and recognised by its client id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tui_trader.config.venues import VenueSettings
from tui_trader.core.cashflows import FUNDING, CashFlow
from tui_trader.core.clock import Clock
from tui_trader.core.contracts import MarginTier
from tui_trader.core.enums import MarginMode, OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import CashFlowEvent, ExecutionReport, NoticeEvent, RiskEvent
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Ticker
from tui_trader.core.orders import Order
from tui_trader.venues.base import Emit, VenueError
from tui_trader.venues.ccxt import convert, exchanges

log = logging.getLogger(__name__)

# Client order ids Binance gives the orders it makes itself (USDⓈ-M user data stream docs).
FORCED_PREFIXES = (("adl_autoclose", "adl"), ("autoclose-", "liquidation"), ("settlement_autoclose-", "settlement"))
FUNDING_PAGE = 1000  # /fapi/v1/income: at most 1000 rows a call


# Bybit's createType of the orders it makes itself (v5 enums: createType).
FORCED_CREATE_TYPES = {
    "CreateByLiq": "liquidation",
    "CreateByAdl_PassThroughTrade": "adl",
    "CreateByTakeOver_PassThroughTrade": "liquidation",
}


def forced_kind(
    client_order_id: str | None, order_type: str | None = None, create_type: str | None = None
) -> str | None:
    """ "liquidation", "adl" or "settlement" for an order the venue made itself, else None."""
    for prefix, kind in FORCED_PREFIXES:
        if client_order_id and client_order_id.startswith(prefix):
            return kind
    if create_type in FORCED_CREATE_TYPES:
        return FORCED_CREATE_TYPES[create_type]
    return "liquidation" if (order_type or "").upper() == "LIQUIDATION" else None


@dataclass(frozen=True, slots=True)
class VenuePosition:
    """A position as the venue reports it (its own mark, liquidation price and margin)."""

    symbol: str
    quantity: Decimal  # signed contracts
    entry: Decimal
    mark: Decimal
    liquidation_price: Decimal | None
    initial_margin: Decimal
    maintenance_margin: Decimal
    unrealized_pnl: Decimal
    margin_mode: str | None
    ts: datetime

    def as_dict(self) -> dict[str, str | None]:
        return {
            "quantity": str(self.quantity),
            "entry": str(self.entry),
            "mark": str(self.mark),
            "liquidation_price": None if self.liquidation_price is None else str(self.liquidation_price),
            "initial_margin": str(self.initial_margin),
            "maintenance_margin": str(self.maintenance_margin),
            "unrealized_pnl": str(self.unrealized_pnl),
            "margin_mode": self.margin_mode,
            "at": self.ts.isoformat(),
        }


def tiers(rows: list[dict[str, Any]]) -> tuple[MarginTier, ...]:
    """ccxt's leverage tiers as ours; Binance's "cum" (in the raw bracket) keeps the
    maintenance margin continuous across brackets."""
    out = []
    for row in rows:
        info = row.get("info") or {}
        out.append(
            MarginTier(
                convert.dec(row.get("minNotional")),
                convert.dec(row.get("maxNotional"), "1e30"),
                convert.dec(row.get("maxLeverage"), "1"),
                convert.dec(row.get("maintenanceMarginRate")),
                convert.dec(info.get("cum")),
            )
        )
    return tuple(out)


class CcxtDerivatives:
    """Mixed into CcxtVenue, whose client, REST helper and emit it uses."""

    name: str
    exchange_id: str
    is_live: bool
    settings: VenueSettings
    clock: Clock
    instruments: dict[str, Instrument]
    _ex: Any
    _emit: Emit
    _closing: bool
    _tasks: dict[str, asyncio.Task[None]]
    _cid_by_vid: dict[str, str]

    def _init_derivatives(self) -> None:
        self.venue_positions: dict[str, VenuePosition] = {}
        self._funding: dict[str, dict[str, Any]] = {}  # per symbol: the last premiumIndex read
        self._flows_seen: set[str] = set()
        self._flows_since: int | None = None
        self._flows_due = asyncio.Event()
        self._forced: dict[str, Order] = {}
        self._last_ticker: dict[str, Ticker] = {}

    async def _rest(
        self, fn: Callable[..., Awaitable[Any]], *args: Any, what: str, attempts: int = 5, **kw: Any
    ) -> Any:
        raise NotImplementedError

    def _safe(self, exc: BaseException) -> str:
        raise NotImplementedError

    def _check_derivatives(self) -> None:
        """A live venue trades perpetuals only where this adapter was verified on them."""
        if self.exchange_id in exchanges.DERIVATIVES_VERIFIED or not self.is_live or not self._margined:
            return
        raise ConfigError(
            f"venues.{self.name}: perpetuals on {self.exchange_id} ({', '.join(self._margined)}) are not verified "
            f"in this version (docs/futures.md); trade them on its testnet (sandbox = true) or use binanceusdm"
        )

    @property
    def _funding_verified(self) -> bool:
        return self.exchange_id in exchanges.DERIVATIVES_VERIFIED

    @property
    def _margined(self) -> list[str]:
        return [s for s in self.settings.symbols if (inst := self.instruments.get(s)) is not None and inst.margined]

    # -- instruments -----------------------------------------------------------------------------

    async def _load_tiers(self) -> None:
        """Each perpetual's tier table and leverage bound, from the venue (signed requests);
        an account in hedge mode is refused (one-way positions only)."""
        symbols = self._margined
        if not symbols:
            return
        if self._ex.has.get("fetchPositionMode"):
            mode = await self._rest(self._ex.fetch_position_mode, symbols[0], what="read the position mode")
            if mode.get("hedged"):
                raise ConfigError(
                    f"venues.{self.name}: the {self.exchange_id} account is in hedge mode (long and short "
                    "positions apart); tui-trader trades one-way mode: switch it in the exchange's "
                    "futures preferences (with no position open)"
                )
        if not self._ex.has.get("fetchLeverageTiers"):
            return
        table = await self._rest(self._ex.fetch_leverage_tiers, symbols, what="load leverage tiers")
        for symbol in symbols:
            found = tiers(table.get(symbol) or [])
            if found:
                inst = self.instruments[symbol]
                self.instruments[symbol] = _with_tiers(inst, found)

    # -- leverage and margin mode ----------------------------------------------------------------

    async def set_leverage(self, symbol: str, leverage: Decimal, margin_mode: MarginMode | None = None) -> None:
        """The venue's margin mode (when given), then its leverage, for `symbol`. Raises
        VenueError with the venue's reason when either is refused (the engine then changes
        nothing). Setting the mode it has already is not a refusal (Binance -4046)."""
        if leverage != leverage.to_integral_value():
            raise VenueError(f"{self.exchange_id} takes whole leverages only, not {leverage:g}")
        if margin_mode is not None:
            await self._rest(self._set_margin_mode, margin_mode.value, symbol, what="set margin mode", attempts=2)
        await self._rest(self._set_venue_leverage, int(leverage), symbol, what="set leverage", attempts=2)

    async def _set_venue_leverage(self, leverage: int, symbol: str) -> None:
        import ccxt

        try:
            await self._ex.set_leverage(leverage, symbol)
        except ccxt.BaseError as exc:  # Bybit 110043 "Set leverage not modified": it is set
            if not any(code in str(exc) for code in exchanges.LEVERAGE_UNCHANGED):
                raise

    async def _set_margin_mode(self, mode: str, symbol: str) -> None:
        import ccxt

        try:
            await self._ex.set_margin_mode(mode, symbol)
        except ccxt.MarginModeAlreadySet:  # Binance -4046 "No need to change margin type."
            pass

    # -- positions as the venue sees them --------------------------------------------------------

    async def fetch_venue_positions(self) -> dict[str, VenuePosition]:
        """Open positions with the venue's own mark, liquidation price and margin."""
        raw = await self._rest(self._ex.fetch_positions, self._margined or None, what="fetch positions")
        out: dict[str, VenuePosition] = {}
        for p in raw:
            contracts = convert.dec(p.get("contracts"))
            if not contracts:
                continue
            qty = -contracts if p.get("side") == "short" else contracts
            liq = p.get("liquidationPrice")
            out[p["symbol"]] = VenuePosition(
                p["symbol"],
                qty,
                convert.dec(p.get("entryPrice")),
                convert.dec(p.get("markPrice")),
                None if not liq else convert.dec(liq),
                convert.dec(p.get("initialMargin")),
                convert.dec(p.get("maintenanceMargin")),
                convert.dec(p.get("unrealizedPnl")),
                p.get("marginMode"),
                convert.ms_to_dt(p.get("timestamp")) if p.get("timestamp") else self.clock.now(),
            )
        self.venue_positions = out
        return out

    # -- funding -----------------------------------------------------------------------------------

    async def fetch_cash_flows(self, since: datetime | None = None) -> list[CashFlow]:
        """Funding paid and received from `since` (venue time; None: what the venue keeps),
        oldest first, page by page."""
        if not self._margined:
            return []
        if not self._funding_verified:  # a wrong sign would book payments as receipts
            log.warning("%s: funding history of %s is not verified here: not itemised", self.name, self.exchange_id)
            return []
        cursor = None if since is None else int(since.timestamp() * 1000)
        flows: dict[str, CashFlow] = {}
        while True:
            page = await self._rest(
                self._ex.fetch_funding_history, None, cursor, FUNDING_PAGE, what="fetch funding history"
            )
            fresh = [r for r in page if str(r.get("id")) not in flows]
            for row in fresh:
                flow = self._cash_flow(row)
                if flow is not None:
                    flows[flow.flow_id] = flow
            if len(page) < FUNDING_PAGE or not fresh:
                break
            cursor = max(int(r.get("timestamp") or 0) for r in page)
        return sorted(flows.values(), key=lambda f: f.ts)

    def _cash_flow(self, row: dict[str, Any]) -> CashFlow | None:
        if row.get("id") is None or row.get("amount") is None or not row.get("symbol"):
            return None
        return CashFlow(
            str(row["id"]),
            self.name,
            row["symbol"],
            FUNDING,
            convert.dec(row["amount"]) * exchanges.FUNDING_SIGN.get(self.exchange_id, 1),
            row.get("code") or "",
            convert.ms_to_dt(row.get("timestamp")),
        )

    async def _poll_funding(self) -> None:
        """Every poll interval (at once after the stream says a funding happened): the mark,
        index and funding rate of each perpetual, and the payments since the newest seen."""
        while not self._closing:
            try:
                await self._read_premium()
                await self._read_flows()
                await self.fetch_venue_positions()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the next poll tries again; reconcile at start imports the gap
                log.warning("%s: funding poll: %s", self.name, self._safe(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flows_due.wait(), self.settings.poll_interval_s)
            self._flows_due.clear()

    async def _read_premium(self) -> None:
        if not self._ex.has.get("fetchFundingRate"):
            return  # the tickers' own mark (where ccxt gives one) stands
        for symbol in self._margined:
            rate = await self._rest(self._ex.fetch_funding_rate, symbol, what="fetch funding rate")
            self._funding[symbol] = rate
            last = self._last_ticker.get(symbol)
            if last is not None:  # the new mark values positions now, not at the next ticker
                from tui_trader.core.events import TickerEvent

                self._emit(TickerEvent(self._with_mark(last)))

    async def _read_flows(self) -> None:
        # the first read takes what the venue gives without a start (Binance: the last 7 days);
        # payments already booked are known by their ids
        since = None if self._flows_since is None else convert.ms_to_dt(self._flows_since - 60_000)
        for flow in await self.fetch_cash_flows(since):
            self._flows_since = max(self._flows_since or 0, int(flow.ts.timestamp() * 1000))
            if flow.flow_id in self._flows_seen:
                continue
            self._flows_seen.add(flow.flow_id)
            self._emit(CashFlowEvent(flow))

    def _with_mark(self, t: Ticker) -> Ticker:
        """A ticker with the venue's mark, index and funding rate (premiumIndex)."""
        import dataclasses

        self._last_ticker[t.symbol] = t
        rate = self._funding.get(t.symbol)
        if not rate:
            return t
        nxt = rate.get("fundingTimestamp") or rate.get("nextFundingTimestamp")
        return dataclasses.replace(
            t,
            mark_price=float(rate.get("markPrice") or 0.0),
            index_price=float(rate.get("indexPrice") or 0.0),
            funding_rate=None if rate.get("fundingRate") is None else float(rate["fundingRate"]),
            next_funding=convert.ms_to_dt(nxt) if nxt else None,
        )

    # -- what the venue does on its own: liquidation, ADL, margin calls ----------------------------

    def _watch_raw(self, ex: Any) -> None:
        """See the user stream's messages before ccxt.pro parses them (it has no margin call and
        does not say an order was the venue's own)."""
        handle = ex.handle_message

        def seen(client: Any, message: Any) -> Any:
            if isinstance(message, dict) and (isinstance(message.get("e"), str) or message.get("topic") == "order"):
                try:
                    self._on_raw(message)
                except Exception as exc:  # never lose the stream over our reading of it
                    log.warning("%s: user stream message not read: %s", self.name, self._safe(exc))
            return handle(client, message)

        ex.handle_message = seen

    def _on_raw(self, message: dict[str, Any]) -> None:
        if message.get("topic") == "order":  # Bybit: orders it made carry a createType
            for o in message.get("data") or []:
                kind = forced_kind(o.get("orderLinkId"), None, o.get("createType"))
                vid = str(o.get("orderId") or "")
                if kind is not None and vid and vid not in self._cid_by_vid:
                    side = Side.BUY if o.get("side") == "Buy" else Side.SELL
                    self._forced_order(kind, f"{kind}-{vid}", self._symbol(o.get("symbol")), side,
                                       convert.dec(o.get("qty")), vid, int(o.get("createdTime") or 0))  # fmt: skip
            return
        event = message["e"]
        if event == "ORDER_TRADE_UPDATE":
            o = message.get("o") or {}
            kind = forced_kind(o.get("c"), o.get("o"))
            if kind is not None and o.get("x") in ("NEW", "TRADE") and o.get("c") not in self._forced:
                side = Side.BUY if o.get("S") == "BUY" else Side.SELL
                order_id = None if o.get("i") is None else str(o["i"])
                self._forced_order(kind, str(o["c"]), self._symbol(o.get("s")), side, convert.dec(o.get("q")),
                                   order_id, int(message.get("E") or 0))  # fmt: skip
        elif event == "ACCOUNT_UPDATE" and (message.get("a") or {}).get("m") == "FUNDING_FEE":
            self._flows_due.set()
        elif event == "MARGIN_CALL":
            for p in message.get("p") or []:
                symbol = self._symbol(p.get("s"))
                text = (
                    f"{self.name}: margin call on {symbol}: position {p.get('pa')}, mark {p.get('mp')}, "
                    f"maintenance margin {p.get('mm')} (unrealised {p.get('up')}); the venue may liquidate it"
                )
                self._risk(
                    "venue:margin_call",
                    text,
                    {"symbol": symbol, **{k: p.get(k) for k in ("pa", "mp", "mm", "up", "mt")}},
                )

    def _forced_order(
        self, kind: str, cid: str, symbol: str, side: Side, quantity: Decimal, vid: str | None, at_ms: int
    ) -> None:
        """An order the venue made (Bybit's carry no client id: ours is KIND-ORDERID)."""
        now = self.clock.now()
        order = Order(
            client_order_id=cid,
            venue=self.name,
            symbol=symbol,
            side=side,
            type=OrderType.MARKET,
            quantity=quantity,
            price=None,
            stop_price=None,
            time_in_force=TimeInForce.IOC,
            created_at=convert.ms_to_dt(at_ms) if at_ms else now,
            updated_at=now,
            status=OrderStatus.ACCEPTED,
            venue_order_id=vid,
            source="venue",
            reduce_only=True,
            meta={"external": True, "forced": kind},
        )
        self._adopt(order)
        what = {"liquidation": "liquidated", "adl": "auto-deleveraged (ADL)", "settlement": "settled"}[kind]
        self._risk(
            f"venue:{kind}",
            f"{self.name} {what} {order.quantity} {symbol} ({order.side.value}, order {cid})",
            {"symbol": symbol, "client_order_id": cid, "quantity": str(order.quantity), "side": order.side.value},
        )

    def _adopt(self, order: Order) -> None:
        """Hand a venue-made order to the engine ahead of its fills."""
        self._forced[order.client_order_id] = order
        if order.venue_order_id:
            self._cid_by_vid[order.venue_order_id] = order.client_order_id
        self._emit(
            ExecutionReport(
                self.name,
                order.client_order_id,
                OrderStatus.ACCEPTED,
                self.clock.now(),
                order.venue_order_id,
                f"made by {self.name}: {order.meta['forced']}",
                order=order,
            )
        )

    def venue_made_order(self, client_order_id: str) -> Order | None:
        """An order the venue made itself (liquidation, ADL) seen on the stream or in the fills
        history, for the reconcile to take in with its fills."""
        return self._forced.get(client_order_id)

    def _remember_forced(self, raw: dict[str, Any]) -> None:
        """An order looked up by id (the reconcile's fills): keep it if the venue made it."""
        info = raw.get("info") or {}
        cid = raw.get("clientOrderId") or info.get("clientOrderId") or info.get("orderLinkId")
        kind = forced_kind(cid, info.get("type") or info.get("origType"), info.get("createType"))
        vid = None if raw.get("id") is None else str(raw["id"])
        if kind is None or (vid and vid in self._cid_by_vid) or (cid and cid in self._forced):
            return
        side = Side.BUY if raw.get("side") == "buy" else Side.SELL
        self._forced_order(kind, cid or f"{kind}-{vid}", raw["symbol"], side, convert.dec(raw.get("amount")), vid,
                           int(raw.get("timestamp") or 0))  # fmt: skip

    def _risk(self, code: str, text: str, data: dict[str, Any]) -> None:
        now = self.clock.now()
        log.warning("%s", text)
        self._emit(RiskEvent(now, code, text, data={"venue": self.name, **data}))
        self._emit(NoticeEvent(now, "warning", text, self.name))

    def _symbol(self, exchange_symbol: Any) -> str:
        market = (self._ex.markets_by_id or {}).get(exchange_symbol) if self._ex is not None else None
        if isinstance(market, list):
            market = next((m for m in market if m.get("swap")), market[0] if market else None)
        return str(market["symbol"]) if market else str(exchange_symbol)


def _with_tiers(inst: Instrument, found: tuple[MarginTier, ...]) -> Instrument:
    import dataclasses

    return dataclasses.replace(inst, tiers=found, max_leverage=max(t.max_leverage for t in found))
