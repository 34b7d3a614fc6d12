"""A loopback OpenD (moomoo's gateway), written from moomoo's OpenAPI documentation (the
protocol introduction: a 44-byte header "FT", protocol id, format, version, serial number, body
length, SHA-1 of the body, 8 reserved bytes, then a protobuf body; and the .proto files the
documentation publishes, which ship compiled in the moomoo-api package), not from our adapter.

What it does as documented:
- InitConnect (1001) answers the connection id, the login user id, the AES key (unused: no
  encryption here) and the keep-alive interval; KeepAlive (1004) answers the time;
- Trd_GetAccList (2001): one paper (SIMULATE) and one live (REAL) US account; Trd_UnlockTrade
  (2005) checks the MD5 of the trade password (paper trading needs no unlock; a live order
  before it is refused); Trd_SubAccPush (2008) subscribes the connection to its accounts'
  pushes;
- Trd_PlaceOrder (2202): `packetID` (connID + serialNo) makes a write idempotent: the same
  packet again answers the order it made; remark up to 64 bytes; paper trading takes limit
  (NORMAL) and market orders only, day orders only; answers the order id and pushes
  Trd_UpdateOrder (2208) on every change, and, for live accounts, Trd_UpdateOrderFill (2218)
  for each deal;
- Trd_ModifyOrder (2205) with op Cancel; Trd_GetOrderList (2201, filter by id) and
  Trd_GetOrderFillList (2211: live accounts only — "paper trading does not support deals");
  Trd_GetFunds (2101: total assets are the cash and the positions' market value);
  Trd_GetPositionList (2102);
- Qot_GetSecuritySnapshot (3203): the current price, bid and ask.
Order times are written in US Eastern time ("yyyy-MM-dd HH:mm:ss.fff"), as OpenD writes US
orders' times.

Matching is the fake's own: a market order fills at once at the price, in two deals; a limit
rests until `set_price` reaches it; `fill(order, qty, price)` fills part.

Faults: `lose_next_answer()` (the next order is made, the connection cut before the answer),
`drop_connections()`, `mute_pushes(True)` (no pushes: a silent gateway), `refuse_next(msg)`.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

HEAD = "<1s1sI2B2I20s8s"
HEAD_LEN = struct.calcsize(HEAD)
NEW_YORK = ZoneInfo("America/New_York")
SIM, REAL = 0, 1  # Trd_Common.TrdEnv
US = 2  # Trd_Common.TrdMarket / TrdSecMarket
SUBMITTED, PART, FILLED, CANCELLED, FAILED = 5, 10, 11, 15, 21  # Trd_Common.OrderStatus
NORMAL, MARKET = 1, 2  # Trd_Common.OrderType (NORMAL is a limit order)


def _pb(name: str) -> Any:
    import importlib

    return importlib.import_module(f"moomoo.common.pb.{name}_pb2")


def _et(ts: datetime) -> str:
    return ts.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@dataclass
class FakeOrder:
    order_id: int
    acc_id: int
    env: int
    code: str
    side: int
    type: int
    qty: Decimal
    price: Decimal
    remark: str
    created: datetime
    status: int = SUBMITTED
    deals: list[tuple[int, Decimal, Decimal, datetime]] = field(default_factory=list)  # id, qty, price, time
    updated: datetime | None = None

    @property
    def filled(self) -> Decimal:
        return sum((q for _, q, _, _ in self.deals), Decimal(0))

    @property
    def avg(self) -> Decimal:
        f = self.filled
        return sum((q * p for _, q, p, _ in self.deals), Decimal(0)) / f if f else Decimal(0)

    @property
    def is_open(self) -> bool:
        return self.status in (SUBMITTED, PART)


class _Conn:
    def __init__(self, conn_id: int, writer: asyncio.StreamWriter) -> None:
        self.conn_id = conn_id
        self.writer = writer
        self.accounts: set[int] = set()
        self.unlocked = False


class FakeOpenD:
    def __init__(self, trade_password: str = "135790") -> None:
        self.sim_acc, self.real_acc = 1001234, 2005678
        self.pwd_md5 = hashlib.md5(trade_password.encode()).hexdigest()
        self.prices: dict[str, Decimal] = {"AAPL": Decimal("190.00"), "MSFT": Decimal("410.00")}
        self.orders: dict[int, FakeOrder] = {}
        self.held_before: dict[tuple[int, str], Decimal] = {}  # (env, code) -> shares held before any order here
        self.requests: list[int] = []  # protocol ids received
        self.places: list[tuple[int, int]] = []  # (connID, serialNo) of every PlaceOrder packet
        self.port = 0
        self._ids = itertools.count(9_000_000_001)
        self._deal_ids = itertools.count(7_000_000_001)
        self._conn_ids = itertools.count(6_000_001)
        self._conns: dict[int, _Conn] = {}
        self._packets: dict[tuple[int, int], int] = {}  # packetID -> order id
        self._lose_next = 0
        self._muted = False
        self._refuse: list[str] = []
        self._server: asyncio.AbstractServer | None = None

    # -- the test's side ----------------------------------------------------------------------------

    async def start(self) -> FakeOpenD:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        await self.drop_connections()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def drop_connections(self) -> None:
        for c in list(self._conns.values()):
            c.writer.close()
        self._conns.clear()
        await asyncio.sleep(0.05)

    def lose_next_answer(self) -> None:
        self._lose_next += 1

    def mute_pushes(self, on: bool = True) -> None:
        self._muted = on

    def refuse_next(self, message: str) -> None:
        self._refuse.append(message)

    def placed(self) -> int:
        return sum(1 for p in self.requests if p == 2202)

    def set_price(self, symbol: str, price: str) -> None:
        self.prices[symbol] = Decimal(price)
        for o in [o for o in self.orders.values() if o.is_open and o.code == symbol]:
            self._match(o)

    def fill(self, order: FakeOrder, qty: Decimal, price: Decimal) -> None:
        now = datetime.now(UTC)
        deal = (next(self._deal_ids), qty, price, now)
        order.deals.append(deal)
        order.status = FILLED if order.filled >= order.qty else PART
        order.updated = now
        self._push_order(order)
        if order.env == REAL:
            self._push_deal(order, deal)

    def holdings(self, env: int) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {code: qty for (e, code), qty in self.held_before.items() if e == env}
        for o in self.orders.values():
            if o.env == env and o.filled:
                out[o.code] = out.get(o.code, Decimal(0)) + (o.filled if o.side == 1 else -o.filled)
        return out

    # -- the wire -------------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(next(self._conn_ids), writer)
        try:
            while True:
                head = await reader.readexactly(HEAD_LEN)
                _, _, proto, _fmt, _ver, serial, length, sha, _ = struct.unpack(HEAD, head)
                body = await reader.readexactly(length)
                if hashlib.sha1(body).digest() != sha:
                    break  # a corrupt packet: OpenD drops the connection
                self.requests.append(proto)
                await self._dispatch(conn, proto, serial, body)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._conns.pop(conn.conn_id, None)
            writer.close()

    def _send(self, conn: _Conn, proto: int, serial: int, rsp: Any) -> None:
        body = rsp.SerializeToString()
        head = struct.pack(HEAD, b"F", b"T", proto, 0, 0, serial, len(body), hashlib.sha1(body).digest(), b"\0" * 8)
        if not conn.writer.is_closing():
            conn.writer.write(head + body)

    async def _dispatch(self, conn: _Conn, proto: int, serial: int, body: bytes) -> None:
        handlers = {1001: ("InitConnect", self._init), 1004: ("KeepAlive", self._keepalive),
                    2001: ("Trd_GetAccList", self._accounts), 2005: ("Trd_UnlockTrade", self._unlock),
                    2008: ("Trd_SubAccPush", self._sub), 2101: ("Trd_GetFunds", self._funds),
                    2102: ("Trd_GetPositionList", self._positions),
                    2201: ("Trd_GetOrderList", self._order_list), 2202: ("Trd_PlaceOrder", self._place),
                    2205: ("Trd_ModifyOrder", self._modify), 2211: ("Trd_GetOrderFillList", self._fills),
                    3203: ("Qot_GetSecuritySnapshot", self._snapshot)}  # fmt: skip
        if proto not in handlers:
            return
        name, handler = handlers[proto]
        mod = _pb(name)
        req = mod.Request()
        req.ParseFromString(body)
        rsp = mod.Response()
        rsp.retType = 0
        lost = await handler(conn, req, rsp)
        if lost:
            conn.writer.close()  # made, and the answer never arrives
            return
        self._send(conn, proto, serial, rsp)

    @staticmethod
    def _fail(rsp: Any, message: str) -> None:
        rsp.retType = -1
        rsp.retMsg = message
        rsp.errCode = 1

    # -- handlers ---------------------------------------------------------------------------------------

    async def _init(self, conn: _Conn, req: Any, rsp: Any) -> None:
        self._conns[conn.conn_id] = conn
        s2c = rsp.s2c
        s2c.serverVer, s2c.loginUserID, s2c.connID = 1011, 12345678, conn.conn_id
        s2c.connAESKey, s2c.keepAliveInterval = "0123456789abcdef", 10

    async def _keepalive(self, conn: _Conn, req: Any, rsp: Any) -> None:
        rsp.s2c.time = int(datetime.now(UTC).timestamp())

    async def _accounts(self, conn: _Conn, req: Any, rsp: Any) -> None:
        for env, acc in ((SIM, self.sim_acc), (REAL, self.real_acc)):
            a = rsp.s2c.accList.add()
            a.trdEnv, a.accID, a.accType, a.securityFirm = env, acc, 2, 2  # margin, moomoo US (FutuInc)
            a.trdMarketAuthList.append(US)
            if env == SIM:
                a.simAccType = 1  # stock

    async def _unlock(self, conn: _Conn, req: Any, rsp: Any) -> None:
        if req.c2s.unlock and req.c2s.pwdMD5 != self.pwd_md5:
            self._fail(rsp, "Unlock failed: the trade password is incorrect")
            return
        conn.unlocked = bool(req.c2s.unlock)

    async def _sub(self, conn: _Conn, req: Any, rsp: Any) -> None:
        conn.accounts = set(req.c2s.accIDList)

    def _header(self, req_header: Any, out: Any) -> None:
        out.trdEnv, out.accID, out.trdMarket = req_header.trdEnv, req_header.accID, req_header.trdMarket

    async def _funds(self, conn: _Conn, req: Any, rsp: Any) -> None:
        self._header(req.c2s.header, rsp.s2c.header)
        f = rsp.s2c.funds
        env = c2s_env = req.c2s.header.trdEnv
        spent = sum((o.filled * o.avg * (1 if o.side == 1 else -1) for o in self.orders.values() if o.env == env),
                    Decimal(0))  # fmt: skip
        cash = float(Decimal(100000) - spent) if c2s_env in (SIM, REAL) else 0.0
        value = float(sum((q * self.prices[c] for c, q in self.holdings(env).items()), Decimal(0)))
        f.power, f.totalAssets, f.cash, f.marketVal, f.frozenCash, f.debtCash, f.avlWithdrawalCash = (
            cash,
            cash + value,  # "total assets": the cash and the positions' market value
            cash,
            value,
            0.0,
            0.0,
            cash,
        )
        f.currency = 2  # USD

    async def _positions(self, conn: _Conn, req: Any, rsp: Any) -> None:
        """Trd_GetPositionList: each holding with its market price and value (`val`), its
        quantity unsigned beside its side (Trd_Common.PositionSide: 0 long, 1 short)."""
        self._header(req.c2s.header, rsp.s2c.header)
        for i, (code, qty) in enumerate(sorted(self.holdings(req.c2s.header.trdEnv).items())):
            if not qty:
                continue
            p = rsp.s2c.positionList.add()
            price = self.prices[code]
            p.positionID, p.positionSide, p.code, p.name = 8_000_000_001 + i, 0 if qty > 0 else 1, code, code
            p.qty = p.canSellQty = float(abs(qty))
            p.price, p.val, p.plVal = float(price), float(abs(qty) * price), 0.0
            p.secMarket, p.trdMarket, p.currency = US, US, 2

    async def _place(self, conn: _Conn, req: Any, rsp: Any) -> bool:
        c2s = req.c2s
        self._header(c2s.header, rsp.s2c.header)
        packet = (c2s.packetID.connID, c2s.packetID.serialNo)
        self.places.append(packet)
        if packet in self._packets:  # the same write again: the order it already made
            rsp.s2c.orderID, rsp.s2c.orderIDEx = self._packets[packet], f"EX{self._packets[packet]}"
            return False
        if self._refuse:
            self._fail(rsp, self._refuse.pop(0))
            return False
        env, acc = c2s.header.trdEnv, c2s.header.accID
        if acc not in (self.sim_acc, self.real_acc) or (env == SIM) != (acc == self.sim_acc):
            self._fail(rsp, "Nonexisting acc_id")
            return False
        if env == REAL and not conn.unlocked:
            self._fail(rsp, "Please unlock trade first")
            return False
        if c2s.code not in self.prices:
            self._fail(rsp, "Unknown stock code")
            return False
        if env == SIM and c2s.orderType not in (NORMAL, MARKET):
            self._fail(rsp, "Paper trading supports limit and market orders only")
            return False
        if len(c2s.remark.encode()) > 64:
            self._fail(rsp, "remark is longer than 64 bytes")
            return False
        order = FakeOrder(next(self._ids), acc, env, c2s.code, c2s.trdSide, c2s.orderType,
                          Decimal(str(c2s.qty)), Decimal(str(c2s.price)), c2s.remark, datetime.now(UTC))  # fmt: skip
        self.orders[order.order_id] = order
        self._packets[packet] = order.order_id
        rsp.s2c.orderID, rsp.s2c.orderIDEx = order.order_id, f"EX{order.order_id}"
        self._push_order(order)
        self._match(order)
        if self._lose_next:
            self._lose_next -= 1
            return True
        return False

    async def _modify(self, conn: _Conn, req: Any, rsp: Any) -> None:
        c2s = req.c2s
        self._header(c2s.header, rsp.s2c.header)
        order = self._by_ex(c2s.orderIDEx) if c2s.orderIDEx else self.orders.get(c2s.orderID)
        rsp.s2c.orderID = order.order_id if order else c2s.orderID
        if order is not None:
            rsp.s2c.orderIDEx = f"EX{order.order_id}"
        if order is None:
            self._fail(rsp, "Order not found")
            return
        if c2s.modifyOrderOp != 2:
            self._fail(rsp, "Only cancel is supported by this OpenD")
            return
        if not order.is_open:
            self._fail(rsp, "This order cannot be cancelled in its status")
            return
        order.status = CANCELLED
        order.updated = datetime.now(UTC)
        self._push_order(order)

    async def _order_list(self, conn: _Conn, req: Any, rsp: Any) -> None:
        c2s = req.c2s
        self._header(c2s.header, rsp.s2c.header)
        cond = c2s.filterConditions if c2s.HasField("filterConditions") else None
        ids = set(cond.idList) | {int(x[2:]) for x in cond.orderIDExList if x.startswith("EX")} if cond else set()
        for o in self.orders.values():
            if o.acc_id == c2s.header.accID and (not ids or o.order_id in ids):
                self._order_pb(o, rsp.s2c.orderList.add())

    async def _fills(self, conn: _Conn, req: Any, rsp: Any) -> None:
        c2s = req.c2s
        self._header(c2s.header, rsp.s2c.header)
        if c2s.header.trdEnv == SIM:
            self._fail(rsp, "Paper trading does not support deals")
            return
        for o in self.orders.values():
            if o.acc_id == c2s.header.accID:
                for deal in o.deals:
                    self._deal_pb(o, deal, rsp.s2c.orderFillList.add())

    async def _snapshot(self, conn: _Conn, req: Any, rsp: Any) -> None:
        now = datetime.now(UTC)
        for sec in req.c2s.securityList:
            price = self.prices.get(sec.code)
            if price is None:
                continue
            b = rsp.s2c.snapshotList.add().basic
            b.security.market, b.security.code = sec.market, sec.code
            b.type, b.isSuspend, b.listTime, b.lotSize, b.priceSpread = 3, False, "1980-12-12", 1, 0.01
            b.updateTime = _et(now)
            p = float(price)
            b.highPrice = b.openPrice = b.lowPrice = b.lastClosePrice = b.curPrice = p
            b.volume, b.turnover, b.turnoverRate = 1000, p * 1000, 0.0
            b.bidPrice, b.askPrice = p - 0.01, p + 0.01

    def _by_ex(self, ex: str) -> FakeOrder | None:
        return self.orders.get(int(ex[2:])) if ex.startswith("EX") and ex[2:].isdigit() else None

    # -- orders and pushes ----------------------------------------------------------------------------

    def _order_pb(self, o: FakeOrder, out: Any) -> None:
        out.trdSide, out.orderType, out.orderStatus = o.side, o.type, o.status
        out.orderID, out.orderIDEx, out.code, out.name = o.order_id, f"EX{o.order_id}", o.code, o.code
        out.qty, out.price = float(o.qty), float(o.price)
        out.createTime = _et(o.created)
        out.updateTime = _et(o.updated or o.created)
        out.createTimestamp = o.created.timestamp()
        out.updateTimestamp = (o.updated or o.created).timestamp()
        out.fillQty, out.fillAvgPrice = float(o.filled), float(o.avg)
        out.secMarket, out.trdMarket, out.remark, out.timeInForce = US, US, o.remark, 0

    def _deal_pb(self, o: FakeOrder, deal: tuple[int, Decimal, Decimal, datetime], out: Any) -> None:
        deal_id, qty, price, ts = deal
        out.trdSide, out.fillID, out.fillIDEx, out.orderID = o.side, deal_id, f"FX{deal_id}", o.order_id
        out.orderIDEx, out.code, out.name, out.qty, out.price = (
            f"EX{o.order_id}",
            o.code,
            o.code,
            float(qty),
            float(price),
        )
        out.createTime, out.createTimestamp, out.secMarket, out.trdMarket = _et(ts), ts.timestamp(), US, US

    def _push(self, acc: int, proto: int, name: str, fill_in: Any) -> None:
        if self._muted:
            return
        mod = _pb(name)
        for conn in list(self._conns.values()):
            if acc in conn.accounts:
                rsp = mod.Response()
                rsp.retType = 0
                fill_in(rsp.s2c)
                self._send(conn, proto, 0, rsp)

    def _push_order(self, o: FakeOrder) -> None:
        def fill_in(s2c: Any) -> None:
            s2c.header.trdEnv, s2c.header.accID, s2c.header.trdMarket = o.env, o.acc_id, US
            self._order_pb(o, s2c.order)

        self._push(o.acc_id, 2208, "Trd_UpdateOrder", fill_in)

    def _push_deal(self, o: FakeOrder, deal: tuple[int, Decimal, Decimal, datetime]) -> None:
        def fill_in(s2c: Any) -> None:
            s2c.header.trdEnv, s2c.header.accID, s2c.header.trdMarket = o.env, o.acc_id, US
            self._deal_pb(o, deal, s2c.orderFill)

        self._push(o.acc_id, 2218, "Trd_UpdateOrderFill", fill_in)

    def _match(self, o: FakeOrder) -> None:
        if not o.is_open:
            return
        price = self.prices[o.code]
        if o.type == MARKET:
            first = (o.qty / 2).to_integral_value() or o.qty
            self.fill(o, first, price)
            if o.qty - first > 0:
                self.fill(o, o.qty - first, price)
            return
        if (price <= o.price) if o.side == 1 else (price >= o.price):
            self.fill(o, o.qty - o.filled, o.price)
