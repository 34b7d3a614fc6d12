"""A loopback fake IB Gateway / TWS speaking the TWS API socket protocol.

Written from Interactive Brokers' published TWS API: the wire protocol as IB's own client
source defines it (EClient's requests, EDecoder / EOrderDecoder's messages, server version
176) and its documentation of message codes (errors 103, 201, 202, 399, 1100-1102, 10147,
100). Not from our adapter: ib_async talks to it as it talks to IB Gateway on port 4002.

Handshake  "API\\0" + length-prefixed "v<min>..<max>": answered with the server version and
           the connection time; START_API (71) is answered with NEXT_VALID_ID (9) and
           MANAGED_ACCTS (15); a client id already connected gets error 326 and is closed.
Requests   PLACE_ORDER (3), CANCEL_ORDER (4), REQ_OPEN_ORDERS (5), REQ_ACCT_DATA (6),
           REQ_EXECUTIONS (7), REQ_IDS (8), REQ_MKT_DATA (1), REQ_CURRENT_TIME (49),
           REQ_POSITIONS (61), REQ_COMPLETED_ORDERS (99); others are ignored.
Messages   OPEN_ORDER (5) + ORDER_STATUS (3) for every change of an order, EXECUTION_DATA (11)
           + COMMISSION_REPORT (59) for every execution, ERR_MSG (4), TICK_PRICE (1) and
           TICK_SIZE (2), ACCT_VALUE (6), POSITION_DATA (61), COMPLETED_ORDER (101) and the
           *_END messages.

IB keeps our order reference (`orderRef`) on the order and on each execution, and numbers
orders per API client (`orderId`, with a `permId` of its own). Orders outside regular hours
are accepted and held (PreSubmitted, warning 399) until the market opens. Faults: FakeMarket's
switches (stall: no ticks; stall_private: order and execution messages lost on the wire;
duplicate_fills: each execution sent twice; reject_next) plus `drop_connections`, `hang`
(the Gateway frozen: sockets stay open, nothing is answered or sent; what is written to it
meanwhile waits in its socket and is done when it resumes, `hang(False)`, even for a socket
its client has closed since, as TCP delivers data sent before a close), `restart` (the
Gateway restarted, mid-hang too: every socket closed, what it had not read lost),
`hang_orders` (order requests alone wait: placing, cancelling, open and completed orders,
executions; the time, quotes and the rest are answered), `lose_connectivity` / `restore_connectivity`
(errors 1100 / 1101 / 1102: the Gateway lost IB's servers; a client connecting meanwhile is
told nothing of it, not even its farm's 2104), `pace_next` (error 100 for the
next order, made or not), and `swallow_next_order` (made, but no answer at all: the socket
is cut right after the order arrives).

REQ_HISTORICAL_DATA (20) is answered with HISTORICAL_DATA (17): the bars of the duration asked
(`N S`, `N D`, `N W`) ending at endDateTime ("yyyymmdd hh:mm:ss UTC"; empty: now), each bar's
date as epoch seconds (formatDate 2), the forming bar not among them, "now" being `bar_clock()` (the wall clock unless
a test freezes it); `history_error = (code, text)` answers every such request with that error
instead (IB's 162 "Historical Market Data Service error message: ..." for a farm that fails),
and `no_bars` lists the bar opens (epoch seconds) with no trade: no bar (a closed market); a
duration with no bar at all is answered as IB does, error 162 "Historical Market Data Service
error message:HMDS query returned no data: <symbol>@SMART Trades".

REQ_CURRENT_TIME asked within a second of the previous one on a connection is not answered
(TWS / IB Gateway 10.16 and later, as reported in ib_insync #479 and #604).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fakes.fake_market import FakeMarket, FakeOrder, FakeTrade

SERVER_VERSION = 176
ORDER_REQUESTS = frozenset({"3", "4", "5", "7", "99"})  # place, cancel, open orders, executions, completed
ACCOUNT = "DU1234567"  # IB paper accounts start with D
UNSET = ""  # an empty field: the decoder's default

# IB's order status words for the fake's states.
IB_STATUS = {"new": "Submitted", "accepted": "PreSubmitted", "partially_filled": "Submitted",
             "filled": "Filled", "canceled": "Cancelled", "rejected": "Inactive"}  # fmt: skip


def ib_time(ms: int) -> str:
    """Execution times as TWS sends them: 'yyyyMMdd HH:mm:ss' and the time zone."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y%m%d %H:%M:%S") + " UTC"


@dataclass
class IBOrder(FakeOrder):
    ib_id: int = 0  # the API client's orderId
    perm_id: int = 0
    api_client: int = 0
    ib_type: str = "MKT"
    stop_price: Decimal | None = None
    outside_rth: bool = False
    triggered: bool = False
    held_reason: str = ""
    executions: list[FakeTrade] = field(default_factory=list)


@dataclass(eq=False)
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    client_id: int = -1
    ticks: dict[int, str] = field(default_factory=dict)  # reqId -> symbol
    time_asked: float = float("-inf")  # the last REQ_CURRENT_TIME (monotonic)
    account_updates: bool = False  # subscribed with REQ_ACCT_DATA


class FakeIBGateway(FakeMarket):
    """FakeMarket's prices and matching behind a TWS API socket."""

    def __init__(self, *, symbols: tuple[str, ...] = ("AAPL", "MSFT"), seed: int = 7) -> None:
        super().__init__(symbols, seed=seed)
        self.prices = {s: Decimal("190.00") + 200 * i for i, s in enumerate(symbols)}
        self.cash = Decimal("100000")
        self.market_is_open = True
        self.extended_open = False
        self.connected_ids: list[int] = []  # api client ids, in connection order
        self.messages: list[tuple[int, list[str]]] = []  # (client id, fields) of each request received
        self.connectivity = True
        self._conns: set[_Conn] = set()
        self._server: asyncio.base_events.Server | None = None
        self._perm_ids = itertools.count(900_001)
        self._exec_ids = itertools.count(1)
        self._next_id = 1
        self._pace_next = 0
        self._swallow_next = 0
        self._hung = False
        self._orders_hung = False
        self._held: list[tuple[_Conn, list[str]]] = []  # requests read while frozen, done on resume
        self.bar_clock: Callable[[], float] = time.time
        self.history_error: tuple[int, str] | None = None
        self.no_bars: set[int] = set()
        self.history_requests: list[tuple[str, str, str]] = []  # (end, bar size, duration) of each

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, *, tick_interval_s: float = 0.05) -> FakeIBGateway:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1]
        self.tick_interval_s = tick_interval_s
        self._pump = asyncio.create_task(self._market_pump(), name="fake-ib-pump")
        return self

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        await self.drop_connections()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)

    @property
    def port(self) -> int:
        return self._port

    def venue_settings(self, **extra: Any) -> Any:
        from tui_trader.config.venues import VenueSettings

        return VenueSettings(
            kind="ib", symbols=extra.pop("symbols", list(self.symbols)), host="127.0.0.1", port=self._port,
            stall_after_s=extra.pop("stall_after_s", 0.6), backoff_base_s=0.05, backoff_cap_s=0.2, **extra,
        )  # fmt: skip

    # -- faults ------------------------------------------------------------------------------

    async def drop_connections(self) -> None:
        """Close every API socket (the Gateway restarting, as it does daily)."""
        self.faults_injected.append("drop")
        for conn in list(self._conns):
            self._close(conn)

    def hang(self, on: bool = True) -> None:
        """Frozen: the sockets stay open, nothing is answered or sent; `hang(False)` resumes and
        does, in order, what was asked meanwhile (its answers late, or lost with a closed socket)."""
        self.faults_injected.append("hang")
        self._hung = on
        if not on:
            self._release()

    def hang_orders(self, on: bool = True) -> None:
        """Order requests wait (placing, cancelling, open / completed orders, executions); the
        time, quotes and the rest are answered. Off: they are done, in order, late."""
        self.faults_injected.append("hang_orders")
        self._orders_hung = on
        if not on:
            self._release()

    async def restart(self) -> None:
        """The Gateway restarted (mid-hang too): every socket closed; requests it had not done
        are lost. Orders at IB stay as they are."""
        self.faults_injected.append("restart")
        self._held.clear()
        self._hung = self._orders_hung = False
        await self.drop_connections()

    def _release(self) -> None:
        held, self._held = self._held, []
        for conn, fields in held:
            if fields[0] == "71" and conn not in self._conns:
                continue  # a client that gave up before its session began
            self._handle(conn, fields)

    def lose_connectivity(self) -> None:
        """Error 1100: the Gateway lost IB's servers; orders are not accepted until it is back."""
        self.faults_injected.append("connectivity_lost")
        self.connectivity = False
        self._broadcast(self._error(-1, 1100, "Connectivity between IBKR and Trader Workstation has been lost."))

    def restore_connectivity(self, data_lost: bool = False) -> None:
        self.connectivity = True
        code, text = (1101, "data lost") if data_lost else (1102, "data maintained")
        self._broadcast(self._error(-1, code, f"Connectivity between IBKR and Trader Workstation has been "
                                              f"restored - {text}."))  # fmt: skip

    def break_link(self) -> None:
        """Warning 2110: the Gateway's link to IB's servers is broken and will be restored by
        itself (IB documents no message for its end)."""
        self.faults_injected.append("link_broken")
        self._broadcast(self._error(-1, 2110, "Connectivity between Trader Workstation and server is broken. It will "
                                              "be restored automatically."))  # fmt: skip

    def pace_next(self, count: int = 1, *, made: bool = False) -> None:
        """Error 100 (max rate of messages exceeded) for the next order(s); `made`: the order
        was made all the same (its messages are lost), so only a lookup can tell."""
        self.faults_injected.append("pacing")
        self._pace_next = count if not made else -count

    def swallow_next_order(self, count: int = 1) -> None:
        """The next order is made, then the socket is cut before any answer is written."""
        self._swallow_next += count

    def set_market(self, is_open: bool, *, extended: bool = False) -> None:
        self.market_is_open = is_open
        self.extended_open = extended
        if is_open:
            for order in list(self.orders.values()):
                if isinstance(order, IBOrder) and order.is_open and order.held_reason:
                    order.held_reason = ""
                    order.status = "new"
                    self.publish_order(order, None)
                    if order.type == "market":
                        self._execute_market(order)
            for symbol in self.symbols:
                self._cross(symbol)

    # -- the socket --------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(reader, writer)
        self._conns.add(conn)
        try:
            head = await reader.readexactly(4)
            if head != b"API\0":
                return
            await self._read_frame(reader)  # "v157..178": we answer with our version
            while self._hung:  # frozen: the handshake waits too
                await asyncio.sleep(0.01)
            self._write(conn, [str(SERVER_VERSION), datetime.now(UTC).strftime("%Y%m%d %H:%M:%S UTC")])
            while True:
                fields = await self._read_frame(reader)
                self.messages.append((conn.client_id, fields))
                if self._hung or (self._orders_hung and fields[0] in ORDER_REQUESTS):
                    self._held.append((conn, fields))
                    continue
                self._handle(conn, fields)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self._close(conn)

    @staticmethod
    async def _read_frame(reader: asyncio.StreamReader) -> list[str]:
        size = struct.unpack(">I", await reader.readexactly(4))[0]
        return (await reader.readexactly(size)).decode().split("\0")[:-1]

    def _write(self, conn: _Conn, fields: list[Any]) -> None:
        if self._hung or conn.writer.is_closing():
            return
        body = "".join(f"{f}\0" for f in fields).encode()
        conn.writer.write(struct.pack(">I", len(body)) + body)

    def _close(self, conn: _Conn) -> None:
        self._conns.discard(conn)
        if conn.client_id in self.connected_ids:
            self.connected_ids.remove(conn.client_id)
        with contextlib.suppress(Exception):
            conn.writer.close()

    def _broadcast(self, fields: list[Any], *, private: bool = False, client: int | None = None) -> None:
        if private and (self._stalled or self._private_stalled):
            return  # lost on the wire: only a request (open orders, executions) can tell
        for conn in list(self._conns):
            if conn.client_id >= 0 and client in (None, conn.client_id):
                self._write(conn, fields)
                if private and self._duplicate_fills and int(fields[0]) == 11:
                    self._write(conn, fields)

    # -- requests ----------------------------------------------------------------------------

    def _handle(self, conn: _Conn, f: list[str]) -> None:
        msg = int(f[0])
        if msg == 71:  # START_API: version, clientId, optional capabilities
            cid = int(f[2])
            if cid in self.connected_ids:
                self._write(conn, self._error(-1, 326, "Unable to connect as the client id is already in use. "
                                                       "Retry with a unique client id."))  # fmt: skip
                self._close(conn)
                return
            conn.client_id = cid
            self.connected_ids.append(cid)
            self._write(conn, [9, 1, self._next_id])
            self._write(conn, [15, 1, ACCOUNT])
            if self.connectivity:  # IB documents no message to a new client while IB is lost: none
                self._write(conn, self._error(-1, 2104, "Market data farm connection is OK:usfarm"))
        elif msg == 8:  # REQ_IDS
            self._write(conn, [9, 1, self._next_id])
        elif msg == 49:  # REQ_CURRENT_TIME: none asked within a second of the previous is answered
            now = time.monotonic()
            if now - conn.time_asked >= 1.0:
                self._write(conn, [49, 1, int(time.time())])
            conn.time_asked = now
        elif msg == 3:
            self._place(conn, f)
        elif msg == 4:
            self._cancel(conn, int(f[2]))
        elif msg == 5:  # REQ_OPEN_ORDERS: this client's open orders
            for order in self._ib_orders():
                if order.is_open and order.api_client == conn.client_id:
                    self._write(conn, self._open_order(order))
                    self._write(conn, self._order_status(order))
            self._write(conn, [53, 1])
        elif msg == 99:  # REQ_COMPLETED_ORDERS
            for order in self._ib_orders():
                if not order.is_open:
                    self._write(conn, self._completed_order(order))
            self._write(conn, [102])
        elif msg == 7:  # REQ_EXECUTIONS: reqId, then the filter (clientId, acct, time, symbol ...)
            req_id, client, symbol = int(f[2]), int(f[3] or 0), f[6]
            for order in self._ib_orders():
                if (client and order.api_client != client) or (symbol and order.symbol != symbol):
                    continue
                for trade in order.executions:
                    self._write(conn, self._execution(req_id, order, trade))
                    self._write(conn, self._commission(trade))
            self._write(conn, [55, 1, req_id])
        elif msg == 61:  # REQ_POSITIONS
            for symbol in self.symbols:
                qty = self.position(symbol)
                if qty:
                    self._write(conn, [61, 3, ACCOUNT, *self._contract(symbol)[:11], qty, "190.0"])
            self._write(conn, [62, 1])
        elif msg == 6:  # REQ_ACCT_DATA: subscribe, account
            conn.account_updates = f[2] == "1"
            if conn.account_updates:
                self._send_account(conn)
                self._write(conn, [54, 1, ACCOUNT])
        elif msg == 76:  # REQ_ACCOUNT_UPDATES_MULTI: reqId, account, modelCode, ledgerAndNLV
            req_id = int(f[2])
            for key, value in self._account_values():
                self._write(conn, [73, 1, req_id, ACCOUNT, UNSET, key, value, "USD"])
            self._write(conn, [74, 1, req_id])
        elif msg == 9:  # REQ_CONTRACT_DATA: version, reqId, the contract (conId, symbol, ...)
            req_id, symbol = int(f[2]), f[4]
            if symbol not in self.prices:
                self._write(conn, self._error(req_id, 200, "No security definition has been found for the request"))
            else:
                self._write(conn, self._contract_details(req_id, symbol))
                self._write(conn, [52, 1, req_id])
        elif msg == 20:  # REQ_HISTORICAL_DATA: reqId, contract, includeExpired, end, bar size, duration ...
            self.history_requests.append((f[15], f[16], f[17]))
            if self.history_error is not None:
                self._write(conn, self._error(int(f[1]), *self.history_error))
            else:
                self._write(conn, self._bars(int(f[1]), f[3], f[15], f[16], f[17]))
        elif msg == 1:  # REQ_MKT_DATA: version, reqId, the contract ...
            conn.ticks[int(f[2])] = f[4]

    def _place(self, conn: _Conn, f: list[str]) -> None:
        """PLACE_ORDER as EClient writes it: orderId, the contract (12 fields), secIdType,
        secId, action, totalQuantity, orderType, lmtPrice, auxPrice, tif, ocaGroup, account,
        openClose, origin, orderRef, transmit, parentId, blockOrder, sweepToFill,
        displaySize, triggerMethod, outsideRth, hidden ..."""
        ib_id, symbol = int(f[1]), f[3]
        action, qty, ib_type = f[16], Decimal(f[17]), f[18]
        lmt, aux, tif, ref, outside = f[19], f[20], f[21], f[26], f[33] == "1"
        if any(isinstance(o, IBOrder) and o.ib_id == ib_id and o.api_client == conn.client_id
               for o in self.orders.values()):  # fmt: skip
            self._write(conn, self._error(ib_id, 103, "Duplicate order id"))
            return
        self._next_id = max(self._next_id, ib_id + 1)
        if self._pace_next > 0:
            self._pace_next -= 1
            self._write(conn, self._error(ib_id, 100, "Max rate of messages per second has been exceeded."))
            return
        if not self.connectivity:
            self._write(conn, self._error(ib_id, 1100, "Connectivity between IBKR and Trader Workstation has "
                                                       "been lost."))  # fmt: skip
            return
        if symbol not in self.prices:
            self._write(conn, self._error(ib_id, 200, "No security definition has been found for the request"))
            return
        if self._reject_next:
            self._reject_next -= 1
            self._write(conn, self._error(ib_id, 201, "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN "
                                                      "ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY WITH LOAN "
                                                      "VALUE [0.00 USD] MUST EXCEED THE INITIAL MARGIN"))  # fmt: skip
            return
        lost = self._pace_next < 0
        if lost:
            self._pace_next += 1
        swallow = self._swallow_next > 0
        if swallow:
            self._swallow_next -= 1
        type_ = {"MKT": "market", "LMT": "limit", "STP": "market", "STP LMT": "limit"}[ib_type]
        price = Decimal(lmt) if ib_type in ("LMT", "STP LMT") else None
        stop = Decimal(aux) if ib_type in ("STP", "STP LMT") else None
        order = IBOrder(next(self._order_ids), ref, symbol, "buy" if action == "BUY" else "sell", type_, qty, price,
                        self.stamp(), tif=tif or "DAY", ib_id=ib_id, perm_id=next(self._perm_ids),
                        api_client=conn.client_id, ib_type=ib_type, stop_price=stop, outside_rth=outside)  # fmt: skip
        key = f"{conn.client_id}:{ib_id}"
        self.orders[key] = order
        if swallow or lost:  # made, and its answer is lost
            saved = self._private_stalled
            self._private_stalled = True
            try:
                self._start(order)
            finally:
                self._private_stalled = saved
            if lost:
                self._write(conn, self._error(ib_id, 100, "Max rate of messages per second has been exceeded."))
            else:
                self._close(conn)
            return
        self._start(order)

    def _start(self, order: IBOrder) -> None:
        if not self.market_is_open and not (order.outside_rth and order.type == "limit" and self.extended_open):
            order.status = "accepted"
            order.held_reason = "market closed"
            self.publish_order(order, None)
            self._broadcast(self._error(order.ib_id, 399, "Order Message:\nBUY/SELL order will not be placed at "
                                                          "the exchange until the market opens."),
                            client=order.api_client)  # fmt: skip
            return
        self.publish_order(order, None)
        if order.type == "market" and order.stop_price is None:
            self._execute_market(order)
        else:
            self._cross(order.symbol)

    def _execute_market(self, order: IBOrder) -> None:
        price = self.execution_price(order)
        assert price is not None
        half = (order.remaining / 2).quantize(Decimal(1))
        for qty in [half, order.remaining - half] if half > 0 else [order.remaining]:
            self._execute(order, qty, price)

    def _cancel(self, conn: _Conn, ib_id: int) -> None:
        order = self.orders.get(f"{conn.client_id}:{ib_id}")
        if not isinstance(order, IBOrder) or not order.is_open:
            self._write(conn, self._error(ib_id, 10147, f"OrderId {ib_id} that needs to be cancelled is not found."))
            return
        self.cancel(order)
        self._broadcast(self._error(ib_id, 202, "Order Canceled - reason:"), client=order.api_client, private=True)

    def _ib_orders(self) -> list[IBOrder]:
        return [o for o in self.orders.values() if isinstance(o, IBOrder)]

    # -- IB's rules (FakeMarket's hooks) ------------------------------------------------------

    def stamp(self) -> int:
        return int(time.time() * 1000)

    def quote(self, symbol: str) -> tuple[Decimal, Decimal]:
        p = self.prices[symbol]
        return p - Decimal("0.01"), p + Decimal("0.01")

    def fee(self, order: FakeOrder, qty: Decimal, price: Decimal) -> Decimal:
        return max(Decimal("1.00"), qty * Decimal("0.005"))  # IBKR Pro fixed: $0.005 a share, $1 least

    def execution_price(self, order: FakeOrder) -> Decimal | None:
        bid, ask = self.quote(order.symbol)
        return ask if order.side == "buy" else bid

    def crosses(self, order: FakeOrder) -> bool:
        assert isinstance(order, IBOrder) and order.price is not None
        if order.held_reason or (order.stop_price is not None and not order.triggered):
            return False
        bid, ask = self.quote(order.symbol)
        return order.price >= ask if order.side == "buy" else order.price <= bid

    def _cross(self, symbol: str) -> None:
        """Stops trigger on the quote, then trade at market (STP) or rest as a limit (STP LMT)."""
        if self.market_is_open:
            bid, ask = self.quote(symbol)
            for order in self._ib_orders():
                if order.symbol != symbol or not order.is_open or order.stop_price is None or order.triggered:
                    continue
                if ask >= order.stop_price if order.side == "buy" else bid <= order.stop_price:
                    order.triggered = True
                    if order.price is None:
                        self._execute(order, order.remaining, ask if order.side == "buy" else bid)
        super()._cross(symbol)

    def make_trade(self, order: FakeOrder, qty: Decimal, price: Decimal, time_ms: int) -> FakeTrade:
        exec_id = f"0000e0d5.{next(self._exec_ids):08x}.01.01"
        trade = FakeTrade(exec_id, order, qty, price, time_ms, self.fee(order, qty, price))
        assert isinstance(order, IBOrder)
        order.executions.append(trade)
        return trade

    def settle(self, trade: FakeTrade) -> None:
        sign = 1 if trade.order.side == "buy" else -1
        self.cash -= sign * trade.qty * trade.price + trade.commission
        for conn in list(self._conns):  # "unless there is a position change", every three minutes
            if conn.account_updates:
                self._send_account(conn, trade.order.symbol)

    def _account_values(self) -> list[tuple[str, Decimal]]:
        """IB's account tags as TWS documents them: NetLiquidation is the account's liquidation
        value, the cash and the positions' market value; TotalCashValue the cash alone."""
        held = sum((self.position(s) * self.prices[s] for s in self.symbols), Decimal(0))
        return [("NetLiquidation", self.cash + held), ("TotalCashValue", self.cash), ("AvailableFunds", self.cash)]

    def _send_account(self, conn: _Conn, symbol: str | None = None) -> None:
        """ACCT_VALUE rows, then PORTFOLIO_VALUE for each position held (one `symbol`'s, zero
        included, on its change): contract, position, marketPrice, marketValue, averageCost,
        unrealizedPNL, realizedPNL, account."""
        for key, value in self._account_values():
            self._write(conn, [6, 2, key, value, "USD", ACCOUNT])
        for s in self.symbols if symbol is None else (symbol,):
            qty, price = self.position(s), self.prices[s]
            if qty or symbol is not None:
                self._write(conn, [7, 8, *self._contract(s), qty, price, qty * price, price, 0, 0, ACCOUNT])

    def position(self, symbol: str) -> Decimal:
        return sum((t.qty if t.order.side == "buy" else -t.qty for t in self.trades if t.order.symbol == symbol),
                   Decimal(0))  # fmt: skip

    def publish_order(self, order: FakeOrder, trade: FakeTrade | None) -> None:
        assert isinstance(order, IBOrder)
        if trade is not None:  # the execution, its commission, then the order's new status
            self._broadcast(self._execution(-1, order, trade), private=True)
            self._broadcast(self._commission(trade), private=True)
        self._broadcast(self._open_order(order), private=True, client=order.api_client)
        self._broadcast(self._order_status(order), private=True, client=order.api_client)

    async def publish_tick(self, prints: dict[str, dict[str, Any]]) -> None:
        for conn in list(self._conns):
            for req_id, symbol in conn.ticks.items():
                if symbol not in self.prices:
                    continue
                bid, ask = self.quote(symbol)
                for tick, price in ((1, bid), (2, ask), (4, self.prices[symbol])):
                    self._write(conn, [1, 6, req_id, tick, price, 100, 0])
            with contextlib.suppress(Exception):
                await conn.writer.drain()

    # -- messages (EDecoder's field order at server version 176) -------------------------------

    def _contract(self, symbol: str) -> list[Any]:
        """conId, symbol, secType, lastTradeDate, strike, right, multiplier, exchange, currency,
        localSymbol, tradingClass."""
        con_id = 265598 + self.symbols.index(symbol) if symbol in self.symbols else 0
        return [con_id, symbol, "STK", UNSET, "0", UNSET, UNSET, "SMART", "USD", symbol, "NMS"]

    def _contract_details(self, req_id: int, symbol: str) -> list[Any]:
        """CONTRACT_DATA at server version >= 164: the hours are IB's
        'yyyyMMdd:HHmm-yyyyMMdd:HHmm;...' (or 'yyyyMMdd:CLOSED') in the contract's time zone."""
        con_id = self._contract(symbol)[0]
        return [10, req_id, symbol, "STK", UNSET, 0, UNSET, "SMART", "USD", symbol, "NMS", "NMS", con_id, "0.01",
                UNSET, "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,LMT,MKT,STP,STPLMT,TRAIL", "SMART,ISLAND,NYSE", 1, 0,
                f"{symbol} INC", "NASDAQ", UNSET, "Technology", "Computers", "Computers", "US/Eastern",
                self._hours(extended=True), self._hours(extended=False), UNSET, UNSET, 0,
                1, UNSET, UNSET, "26,26", UNSET, "COMMON", "0.0001", "0.0001", "100"]  # fmt: skip

    def _hours(self, *, extended: bool) -> str:
        """Today's session around now (open) or none (closed), and tomorrow's, in US/Eastern
        ("now" is `bar_clock()`'s)."""
        from datetime import timedelta
        from zoneinfo import ZoneInfo

        now = datetime.fromtimestamp(self.bar_clock(), ZoneInfo("US/Eastern"))
        day, nxt = now.strftime("%Y%m%d"), (now + timedelta(days=1)).strftime("%Y%m%d")
        if self.market_is_open or (extended and self.extended_open):
            start, end = now - timedelta(hours=1), now + timedelta(hours=3)
            today = f"{start:%Y%m%d:%H%M}-{end:%Y%m%d:%H%M}"
        else:
            today = f"{day}:CLOSED"
        return f"{today};{nxt}:{'0400' if extended else '0930'}-{nxt}:{'2000' if extended else '1600'}"

    def _bars(self, req_id: int, symbol: str, end: str, bar_size: str, duration: str) -> list[Any]:
        """HISTORICAL_DATA: the closed bars of `duration` ending at `end` (or now), dates as
        epoch seconds (formatDate 2)."""
        n, unit = bar_size.split()[:2]
        step = int(n) * {"sec": 1, "secs": 1, "min": 60, "mins": 60, "hour": 3600, "hours": 3600, "day": 86400}[unit]
        now = int(self.bar_clock())
        until = int(datetime.strptime(end, "%Y%m%d %H:%M:%S UTC").replace(tzinfo=UTC).timestamp()) if end else now
        count, per = duration.split()
        span = int(count) * {"S": 1, "D": 86400, "W": 7 * 86400}[per]
        first = -(-(until - span) // step) * step  # the first bar that opens within the duration
        price = self.prices.get(symbol, Decimal(100))
        rows: list[Any] = []
        opens = [t for t in range(first, min(until, now // step * step), step) if t not in self.no_bars]
        if not opens:
            return self._error(req_id, 162, "Historical Market Data Service error message:HMDS query returned no "
                                            f"data: {symbol}@SMART Trades")  # fmt: skip
        for t in opens:
            o = price + Decimal(t // step % 3) / 100
            rows += [t, o, o + Decimal("0.05"), o - Decimal("0.05"), price, 1000, price, 10]
        return [17, req_id, UNSET, UNSET, len(opens), *rows]

    @staticmethod
    def _error(req_id: int, code: int, text: str) -> list[Any]:
        return [4, 2, req_id, code, text, UNSET]  # advancedOrderRejectJson (server >= 166)

    def _order_status(self, order: IBOrder) -> list[Any]:
        last = order.executions[-1].price if order.executions else 0
        return [3, order.ib_id, IB_STATUS[order.status], order.executed, order.remaining,
                order.average if order.executed else 0, order.perm_id, 0, last, order.api_client,
                "", 0]  # fmt: skip

    def _order_head(self, order: IBOrder) -> list[Any]:
        return ["BUY" if order.side == "buy" else "SELL", order.quantity, order.ib_type,
                order.price if order.price is not None else UNSET,
                order.stop_price if order.stop_price is not None else UNSET,
                order.tif, UNSET, ACCOUNT, "O", 0, order.client_order_id]  # fmt: skip

    def _open_order(self, order: IBOrder) -> list[Any]:
        f: list[Any] = [5, order.ib_id, *self._contract(order.symbol), *self._order_head(order),
                        order.api_client, order.perm_id, int(order.outside_rth), 0, 0, UNSET, UNSET,
                        UNSET, UNSET, UNSET]  # fmt: skip
        f += [UNSET]  # faProfile (server < 177)
        f += [UNSET] * 29  # modelCode .. deltaNeutralAuxPrice (no delta-neutral order type)
        f += [UNSET] * 7  # continuousUpdate .. comboLegsDescrip
        f += [0, 0, 0]  # combo legs, order combo legs, smart combo routing params
        f += [UNSET, UNSET, UNSET]  # scale init / subs level sizes, price increment (unset)
        f += [UNSET]  # hedgeType
        f += [0, UNSET, UNSET, 0, 0]  # optOutSmartRouting, clearing account / intent, notHeld, no DN contract
        f += [UNSET]  # algoStrategy
        f += [0, 0, IB_STATUS[order.status]] + [UNSET] * 14 + [0, 0]  # solicited, whatIf, the state ...
        f += [0]  # conditions
        f += [UNSET] * 16  # adjusted order fields .. usePriceMgmtAlgo
        f += [UNSET, UNSET, UNSET]  # duration (159), postToAts (160), autoCancelParent (162)
        f += [UNSET] * 5  # minTradeQty .. midOffsetAtHalf (170)
        return f

    def _completed_order(self, order: IBOrder) -> list[Any]:
        head = self._order_head(order)
        f: list[Any] = [101, *self._contract(order.symbol), *head, order.perm_id, int(order.outside_rth), 0, 0,
                        UNSET, UNSET, UNSET, UNSET]  # fmt: skip
        f += [UNSET]  # faProfile (server < 177)
        f += [UNSET] * 23  # modelCode .. deltaNeutralAuxPrice, as COMPLETED_ORDER has them
        f += [UNSET] * 5  # continuousUpdate, referencePriceType, trailStopPrice, trailingPercent, legs text
        f += [0, 0, 0]  # combo legs, order combo legs, smart combo routing params
        f += [UNSET, UNSET, UNSET]  # scale fields
        f += [UNSET]  # hedgeType
        f += [UNSET, UNSET, 0, 0]  # clearing account / intent, notHeld, no delta-neutral contract
        f += [UNSET]  # algoStrategy
        f += [0, IB_STATUS[order.status], 0, 0]  # solicited, status, randomize size / price
        f += [0]  # conditions
        f += [UNSET, UNSET, UNSET, 0, 0, UNSET, order.executed, 0, 0, UNSET, 0, 0, 0,
              ib_time(order.update_ms), IB_STATUS[order.status]]  # fmt: skip
        f += [UNSET] * 5
        return f

    def _execution(self, req_id: int, order: IBOrder, trade: FakeTrade) -> list[Any]:
        cum = sum((t.qty for t in order.executions[: order.executions.index(trade) + 1]), Decimal(0))
        return [11, req_id, order.ib_id, *self._contract(order.symbol), trade.trade_id, ib_time(trade.time_ms),
                ACCOUNT, "ISLAND", "BOT" if order.side == "buy" else "SLD", trade.qty, trade.price,
                order.perm_id, order.api_client, 0, cum, trade.price, order.client_order_id, UNSET, UNSET,
                UNSET, 2 if order.type == "market" else 1]  # lastLiquidity: 1 added, 2 removed  # fmt: skip

    @staticmethod
    def _commission(trade: FakeTrade) -> list[Any]:
        return [59, 1, trade.trade_id, trade.commission, "USD", UNSET, UNSET, UNSET]
