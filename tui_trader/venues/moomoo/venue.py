"""MoomooVenue: US stocks at moomoo through OpenD, the gateway the trader runs and logs in to,
with moomoo's own client (`moomoo-api`: OpenSecTradeContext, OpenQuoteContext), on the shared
polled-broker rules (`venues.polled`) with OpenD's pushes on top.

- OpenD speaks moomoo's TCP protocol (a 44-byte "FT" header, then protobuf); `moomoo-api` is
  synchronous and threaded: every call runs in a worker thread, and its pushes (order changes,
  deals) are handed to the event loop.
- `paper = true` trades the SIMULATE account (no unlock; limit and market orders, day orders,
  regular hours; moomoo reports no deals for paper accounts, so fills come from each order's
  cumulative filled quantity and average price, as for Webull); `paper = false` the REAL
  account, unlocked with the trade password from the keyring (`passphrase`), whose deals are
  the fills (id: moomoo's deal id).
- Our client order id travels as the order's `remark` (moomoo keeps it on the order): an order
  whose answer was lost is looked for by it among today's orders, never sent again.
- OpenD reconnects by itself (moomoo-api re-unlocks and re-subscribes); while it is away polls
  fail and the venue is `reconnecting`; back, the engine reconciles.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from tui_trader.core.enums import AssetClass, OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import ExecutionReport
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Ticker
from tui_trader.core.orders import Order
from tui_trader.core.positions import Balance
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.base import Emit, VenueError
from tui_trader.venues.broker_order import BrokerOrder, Execution
from tui_trader.venues.idmap import Fingerprint
from tui_trader.venues.polled import ORDERS, PolledVenue

log = logging.getLogger(__name__)

NEW_YORK = ZoneInfo("America/New_York")  # OpenD writes US orders' times in US Eastern time
DEFAULT_PORT = 11111  # OpenD's default API port
OPEN_WORDS = {"UNSUBMITTED", "WAITING_SUBMIT", "SUBMITTING", "SUBMITTED", "FILLED_PART", "CANCELLING_PART",
              "CANCELLING_ALL", "TIMEOUT", "N/A", ""}  # fmt: skip
END_WORDS = {"FILLED_ALL": "filled", "CANCELLED_ALL": "canceled", "CANCELLED_PART": "canceled",
             "DELETED": "canceled", "DISABLED": "canceled", "FAILED": "rejected", "SUBMIT_FAILED": "rejected",
             "FILL_CANCELLED": "canceled"}  # fmt: skip
LOST_WORDS = ("PacketErr", "timeout", "Timeout", "disconnect", "Disconnect")  # the answer may have been lost


def dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "", "N/A") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def et_time(raw: Any) -> datetime | None:
    """OpenD's "2026-12-07 10:31:02.123" (US Eastern for US orders) as UTC."""
    if not raw or raw == "N/A":
        return None
    text = str(raw)
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(text, fmt).replace(tzinfo=NEW_YORK).astimezone(UTC)


class MoomooVenue(PolledVenue):
    kind = "moomoo"
    broker = "moomoo (OpenD)"

    def __init__(self, *args: Any, connect_timeout_s: float = 20.0, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.connect_timeout_s = connect_timeout_s
        self.account_id = 0
        self._trade: Any = None
        self._quote: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deals: dict[str, dict[str, Execution]] = {}  # order id -> deal id -> the deal
        self._rows: dict[str, dict[str, Any]] = {}  # order id -> the last row seen

    @property
    def live(self) -> bool:
        return not self.settings.paper

    @property
    def base_url(self) -> str:
        return f"opend://{self.settings.host}:{self.settings.port or DEFAULT_PORT}"

    def _env(self) -> Any:
        from moomoo import TrdEnv

        return TrdEnv.REAL if self.live else TrdEnv.SIMULATE

    # -- lifecycle ------------------------------------------------------------------------------------

    def _check_credentials(self, keys: Credentials) -> None:
        if self.live and not keys.passphrase:
            raise ConfigError(f"venues.{self.name}: a live moomoo account needs its trade password to unlock "
                              f"trading; run `tui-trader keys set {self.name}`")  # fmt: skip

    @property
    def takes_keys(self) -> bool:  # type: ignore[override]
        """A live account's trade password (`venue reconnect` unlocks trading with it again); a
        paper account has none (the login is OpenD's): reconnected without reading any."""
        return self.live

    async def _same_account(self, keys: Credentials) -> None:
        """Live: OpenD unlocks trading with the trade password read again (refused: trading stays
        as it was). The account is OpenD's login, not the keys': the same whatever they are."""
        if self.live and self._trade is not None:
            ret, msg = await asyncio.to_thread(self._trade.unlock_trade, keys.passphrase)
            if ret != 0:
                why = self._safe(str(msg))
                raise VenueError(f"{self.name}: OpenD refused to unlock trading with the trade password read again "
                                 f"({why}); check it with `tui-trader keys set {self.name}`")  # fmt: skip

    async def connect(self, emit: Emit) -> None:
        self._emit = emit
        self.monitor.emit = emit
        self._check_credentials(self._credentials)
        self.monitor.connecting()
        host, port = self.settings.host, self.settings.port or DEFAULT_PORT
        try:  # moomoo-api retries a refused connection for ever: ask first
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), self.rest_timeout_s)
            writer.close()
        except (OSError, TimeoutError):
            raise ConfigError(f"venues.{self.name}: OpenD is not running at {host}:{port}; start OpenD and log in, "
                              "or set host / port in the venue table") from None  # fmt: skip
        self._loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(asyncio.to_thread(self._open, host, port), self.connect_timeout_s)
        except TimeoutError:
            raise VenueError(f"{self.name}: OpenD at {host}:{port} did not complete the connection in "
                             f"{self.connect_timeout_s:g}s") from None  # fmt: skip
        self.instruments = {s.upper(): self._instrument(s.upper()) for s in self.settings.symbols}
        self.streams.add(ORDERS, private=True)
        self.monitor.connected(f"moomoo {'LIVE' if self.live else 'paper'} via OpenD {host}:{port}")
        self.monitor.message()
        self._polled_at = self.clock.now()
        self._start_polling()
        self._tasks["watchdog"] = asyncio.create_task(self._watchdog(), name=f"{self.name}-watchdog")

    def _open(self, host: str, port: int) -> None:
        """In a worker thread: the contexts, the push handlers, the unlock, the account."""
        from moomoo import OpenQuoteContext, OpenSecTradeContext, SecurityFirm, SysConfig, TrdEnv, TrdMarket
        from moomoo.common.ft_logger import logger as ft_logger

        ft_logger.file_level = logging.ERROR
        ft_logger.console_level = logging.ERROR
        SysConfig.set_all_thread_daemon(True)
        trade = OpenSecTradeContext(filter_trdmarket=TrdMarket.US, host=host, port=port,
                                    security_firm=SecurityFirm.FUTUINC)  # fmt: skip
        trade.set_sync_query_connect_timeout(self.rest_timeout_s)
        trade.reconnect_interval = max(1, int(self.settings.backoff_base_s * 4) or 1)
        self._trade = trade
        trade.set_handler(_orders_handler(self))
        if self.live:
            trade.set_handler(_deals_handler(self))
            ret, msg = trade.unlock_trade(self._credentials.passphrase)
            if ret != 0:
                raise ConfigError(f"venues.{self.name}: OpenD refused to unlock trading ({self._safe(str(msg))}); "
                                  f"check the trade password with `tui-trader keys set {self.name}`")  # fmt: skip
        ret, accounts = trade.get_acc_list()
        if ret != 0:
            raise VenueError(f"{self.name}: OpenD's account list: {self._safe(str(accounts))}")
        env = TrdEnv.REAL if self.live else TrdEnv.SIMULATE
        rows = [r for r in accounts.to_dict("records") if r["trd_env"] == env]
        want = self.settings.account
        if want:
            rows = [r for r in rows if str(r["acc_id"]) == want or str(r.get("card_num")) == want]
        if not rows:
            raise ConfigError(f"venues.{self.name}: OpenD's login has no {'live' if self.live else 'paper'} US "
                              f"account{' ' + want if want else ''}")  # fmt: skip
        self.account_id = int(rows[0]["acc_id"])
        quote = OpenQuoteContext(host=host, port=port)
        quote.set_sync_query_connect_timeout(self.rest_timeout_s)
        self._quote = quote

    async def close(self) -> None:
        self._closing = True
        ctxs = [c for c in (self._trade, self._quote) if c is not None]
        self._trade = self._quote = None
        await super().close()
        for ctx in ctxs:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(ctx.close)

    def _instrument(self, symbol: str) -> Instrument:
        return Instrument(symbol, self.name, symbol, "USD", AssetClass.EQUITY, Decimal("0.01"), Decimal(1),
                          min_qty=Decimal(1), always_open=False, fractional=False)  # fmt: skip

    def market_open(self, symbol: str, now: datetime) -> bool:
        inst = self.instruments.get(symbol)
        if inst is None:
            return True
        state = self.session(inst, now)
        # paper trading takes regular hours only (moomoo's paper trading rules)
        return state.is_open or (self.live and self.settings.extended_hours and state.extended)

    # -- calls into moomoo-api (worker threads) ---------------------------------------------------------

    async def _q(self, what: str, fn: Any, *args: Any, **kw: Any) -> Any:
        if fn is None:
            raise VenueError(f"{self.name}: not connected")
        ret, data = await asyncio.to_thread(fn, *args, **kw)
        if ret != 0:
            raise VenueError(f"{self.name}: {what}: {self._safe(str(data))}")
        return data

    def _records(self, frame: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in frame.to_dict("records")] if frame is not None and len(frame) else []

    async def _orders(self, order_id: str = "") -> list[dict[str, Any]]:
        t = self._trade
        frame = await self._q("orders", t and t.order_list_query, order_id=order_id, trd_env=self._env(),
                              acc_id=self.account_id)  # fmt: skip
        rows = self._records(frame)
        if self.live:
            await self._refresh_deals()
        for r in rows:
            self._rows[str(r.get("order_id"))] = r
        return rows

    async def _refresh_deals(self) -> None:
        t = self._trade
        frame = await self._q("deals", t and t.deal_list_query, trd_env=self._env(), acc_id=self.account_id)
        for r in self._records(frame):
            self._deal(r)

    def _deal(self, r: dict[str, Any]) -> None:
        ts = et_time(r.get("create_time")) or self.clock.now()
        x = Execution(str(r.get("deal_id")), dec(r.get("qty")), dec(r.get("price")), ts)
        self._deals.setdefault(str(r.get("order_id")), {})[x.fill_id] = x

    async def _quotes(self, symbols: Sequence[str]) -> list[Ticker]:
        q = self._quote
        frame = await self._q("snapshot", q and q.get_market_snapshot, [f"US.{s}" for s in symbols])
        now = self.clock.now()
        out = []
        for r in self._records(frame):
            last = float(dec(r.get("last_price")))
            bid, ask = float(dec(r.get("bid_price"))) or last, float(dec(r.get("ask_price"))) or last
            if last > 0:
                out.append(Ticker(self.name, str(r.get("code", "")).removeprefix("US."), now, bid, ask, last))
        return out

    async def fetch_balances(self) -> dict[str, Balance]:
        """The cash and the positions at moomoo's market value (`Balance.valued`: the engine
        takes out the part it holds itself). Stocks held there from before tui_trader are in it;
        the cash alone left them out."""
        return (await self.fetch_account())[0]

    async def fetch_positions(self) -> dict[str, Decimal]:
        """Quantities moomoo holds per symbol (signed); a check on our fill-based positions."""
        return {symbol: qty for symbol, qty, _ in await self._holdings()}

    async def fetch_account(self) -> tuple[dict[str, Balance], dict[str, Decimal]]:
        """The funds and the positions (Trd_GetFunds, Trd_GetPositionList): read once for both."""
        t = self._trade
        frame = await self._q("funds", t and t.accinfo_query, trd_env=self._env(), acc_id=self.account_id,
                              currency="USD")  # fmt: skip
        rows = self._records(frame)
        row = rows[0] if rows else {}
        cash, power = dec(row.get("cash")), dec(row.get("power"))
        held = await self._holdings()
        valued = tuple((symbol, qty, value) for symbol, qty, value in held if qty)
        total = cash + sum((v for _, _, v in valued), Decimal(0))
        balance = Balance("USD", total, min(cash, power) if power else cash, valued=valued)
        return {"USD": balance}, {symbol: qty for symbol, qty, _ in held}

    async def _holdings(self) -> list[tuple[str, Decimal, Decimal]]:
        """(symbol, signed quantity, signed market value) of each of moomoo's positions."""
        t = self._trade
        frame = await self._q("positions", t and t.position_list_query, trd_env=self._env(), acc_id=self.account_id)
        out = []
        for r in self._records(frame):
            sign = -1 if str(r.get("position_side")).upper() == "SHORT" else 1
            qty, value = dec(r.get("qty")) * sign, abs(dec(r.get("market_val"))) * sign
            out.append((str(r.get("code") or "").removeprefix("US."), qty, value))
        return out

    # -- orders as moomoo shows them ------------------------------------------------------------------------

    def _parse(self, raw: dict[str, Any]) -> BrokerOrder:
        vid = str(raw.get("order_id") or "")
        word = str(raw.get("order_status") or "")
        status = END_WORDS.get(word, "open") if word not in OPEN_WORDS else "open"
        filled = dec(raw.get("dealt_qty"))
        kind = str(raw.get("order_type") or "")
        executions = (
            tuple(sorted(self._deals.get(vid, {}).values(), key=lambda x: (x.ts, x.fill_id))) if self.live else ()
        )
        return BrokerOrder(
            venue_order_id=vid,
            broker_client_id=str(raw.get("remark") or ""),
            symbol=str(raw.get("code") or "").removeprefix("US."),
            side=Side.BUY if str(raw.get("trd_side")) == "BUY" else Side.SELL,
            type="market" if kind == "MARKET" else ("stop" if kind == "STOP" else "limit"),
            quantity=dec(raw.get("qty")),
            filled=filled,
            price=dec(raw.get("price")) or None,
            status=status,
            created=et_time(raw.get("create_time")) or self.clock.now(),
            executions=executions,
            reason=f"moomoo: {raw.get('last_err_msg') or word}" if status == "rejected" else "",
            average=None if self.live or filled <= 0 else dec(raw.get("dealt_avg_price")),
            last_fill=et_time(raw.get("updated_time")),
        )

    async def _list_since(self, since: datetime) -> list[dict[str, Any]]:
        return await self._orders()  # OpenD lists today's orders; reconciliation reads the same

    async def _list_open(self) -> list[dict[str, Any]]:
        return [r for r in await self._orders() if self._parse(r).status == "open"]

    async def _get(self, vid: str, order_cid: str) -> dict[str, Any] | None:
        rows = await self._orders(order_id=vid)
        return rows[0] if rows else None

    async def _find(self, broker_cid: str, since: datetime) -> dict[str, Any] | None:
        found = [r for r in await self._orders() if str(r.get("remark")) == broker_cid]
        if len(found) > 1:
            raise VenueError(f"{self.name}: {len(found)} moomoo orders carry remark {broker_cid}")
        return found[0] if found else None

    # -- pushes (called on the event loop) ------------------------------------------------------------------

    def _pushed_order(self, row: dict[str, Any]) -> None:
        if self._closing:
            return
        self.monitor.message()
        self.streams.message(ORDERS)
        self._rows[str(row.get("order_id"))] = row
        self._apply(self._parse(row))

    def _pushed_deal(self, row: dict[str, Any]) -> None:
        if self._closing:
            return
        self._deal(row)
        order = self._rows.get(str(row.get("order_id")))
        if order is not None:
            self._apply(self._parse(order))

    # -- orders ---------------------------------------------------------------------------------------------

    async def create_order(self, order: Order) -> None:
        from moomoo import OrderType as MOrderType
        from moomoo import TimeInForce as MTif
        from moomoo import TrdSide

        cid = order.client_order_id
        kinds = {OrderType.MARKET: MOrderType.MARKET, OrderType.LIMIT: MOrderType.NORMAL}
        if self.live:
            kinds |= {OrderType.STOP: MOrderType.STOP, OrderType.STOP_LIMIT: MOrderType.STOP_LIMIT}
        kind = kinds.get(order.type)
        if kind is None:
            where = "moomoo's paper trading takes market and limit orders only" if not self.live else "moomoo"
            self._reject(cid, f"{order.type.value} orders are emulated by the engine or refused: {where}")
            return
        qty = order.quantity
        if qty <= 0 or qty != qty.to_integral_value():
            self._reject(cid, f"this adapter trades whole shares at moomoo; {order.quantity} is not one")
            return
        if len(cid.encode()) > 64:
            self._reject(cid, "the client order id is longer than moomoo's 64-byte remark")
            return
        tif = MTif.GTC if order.time_in_force is TimeInForce.GTC and self.live else MTif.DAY
        price = float(order.price or 0)
        aux = float(order.stop_price) if order.stop_price is not None else None
        inst = self.instruments.get(order.symbol.upper())
        outside = bool(inst and self.live and not self.session(inst, self.clock.now()).is_open)
        if refusal := await self.rate_gate.admit(self.order_bucket):
            self._reject(cid, refusal)
            return
        sent = self.clock.now()
        fp = Fingerprint.of(order.symbol, order.side.value, qty, order.type.value, order.price, order.stop_price)
        self.ids.intend(cid, fp, sent)  # on disk before the order leaves (its time bounds the lookup)
        side = TrdSide.BUY if order.side is Side.BUY else TrdSide.SELL
        t = self._trade
        if t is None:
            self._reject(cid, f"not sent: {self.name} is not connected to OpenD")
            return
        ret, data = await asyncio.to_thread(
            t.place_order, price, float(qty), f"US.{order.symbol.upper()}", side, kind, trd_env=self._env(),
            acc_id=self.account_id, remark=cid, time_in_force=tif, fill_outside_rth=outside, aux_price=aux,
        )  # fmt: skip
        if ret != 0:
            msg = self._safe(str(data))
            if msg.startswith("Connect timeout") or "closed" in msg.lower():
                self._reject(cid, f"not sent: OpenD is not connected ({msg}); it reconnects by itself")
            elif any(w in msg for w in LOST_WORDS):
                await self._lost(order, sent, msg)
            else:
                self._reject(cid, f"moomoo: {msg}")
            return
        row = self._records(data)[0] if len(data) else {}
        vid = str(row.get("order_id") or "")
        self._vids[cid] = vid
        self._working.setdefault(cid, Decimal(0))
        self._emit(ExecutionReport(self.name, cid, OrderStatus.ACCEPTED, self.clock.now(), vid))
        if row.get("code"):
            self._rows[vid] = row
            self._apply(self._parse(row))

    async def _send_cancel(self, vid: str, order: Order) -> None:
        from moomoo import ModifyOrderOp

        t = self._trade
        await self._q("cancel", t and t.modify_order, ModifyOrderOp.CANCEL, vid, 0, 0, trd_env=self._env(),
                      acc_id=self.account_id)  # fmt: skip


def _handler(venue: MoomooVenue, base: type, on_row: Any) -> Any:
    """A moomoo-api push handler (it runs in moomoo-api's thread) that hands each row of our
    account's pushes to `on_row` on the event loop."""

    class Pushes(base):
        def on_recv_rsp(self, rsp_pb: Any) -> Any:
            ret, frame = super().on_recv_rsp(rsp_pb)
            if ret == 0 and venue._loop is not None and rsp_pb.s2c.header.accID == venue.account_id:
                for row in venue._records(frame):
                    venue._loop.call_soon_threadsafe(on_row, row)
            return ret, frame

    return Pushes()


def _orders_handler(venue: MoomooVenue) -> Any:
    from moomoo import TradeOrderHandlerBase

    return _handler(venue, TradeOrderHandlerBase, venue._pushed_order)


def _deals_handler(venue: MoomooVenue) -> Any:
    from moomoo import TradeDealHandlerBase

    return _handler(venue, TradeDealHandlerBase, venue._pushed_deal)
