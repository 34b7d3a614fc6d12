"""A loopback OANDA v20 account, written from OANDA's public v20 API reference (developer.oanda.com:
Account, Instrument, Order, Transaction and Pricing endpoints), not from our adapter.

What it does as OANDA documents:
- bearer-token authentication (401 `{"errorMessage": "Insufficient authorization to perform request."}`);
- GET /v3/accounts, /v3/accounts/{id}/summary and /instruments (pipLocation, displayPrecision,
  tradeUnitsPrecision, minimumTradeSize, marginRate as strings);
- POST /v3/accounts/{id}/orders with MARKET (FOK / IOC: filled at the ask for a buy, the bid for a
  sell, else cancelled), LIMIT and STOP (GTC, pending until the price crosses), units signed
  strings, `clientExtensions.id` unique per account (a second order with the same id is rejected
  with CLIENT_ORDER_ID_ALREADY_EXISTS); 201 with orderCreateTransaction and, when filled at once,
  orderFillTransaction (clientOrderID, price, units, commission "0.0000");
- GET orders/@{clientID} (404 ORDER_DOESNT_EXIST), PUT orders/@{clientID}/cancel, GET pendingOrders;
- transactions: sinceid, ?from=&type= answering `pages` of idrange URLs, and the transactions
  stream (one JSON object a line, HEARTBEAT every `heartbeat_s`);
- the pricing stream (PRICE lines with bids/asks and HEARTBEATs);
- GET /v3/instruments/{name}/candles (Instrument endpoint): `granularity` (S5 by default; M1,
  M5, M15, M30, H1 here), `price` (M: `mid` with o/h/l/c strings), `count` (500 by default, at
  most 5000: more is a 400), `from` (the candles from it on, the one it falls in first:
  `includeFirst` true; a time after now is a 400), no `from`: the `count` newest; the
  newest candle is the one still forming, `complete` false; `time` RFC3339, `volume` the
  tick count. A candle exists only for a period with prices: none for `no_prices` (minutes);
- DAILY_FINANCING at the rollover (`rollover()`), with positionFinancings per instrument;
- 429 (120 requests a second per connection; `fail_next("429")` forces one).

Faults: `fail_next(kind)` for the next order POST ("lost": the order is made and the answer
never arrives; "500": made? no, a 500 before anything is made; "429"), `drop_streams()` (every
open stream is cut), `silence(True)` (streams stay open but send nothing, heartbeats included),
`hang(stream)` (the connections of that stream now open stay open and send nothing more, heartbeats
included, while the other stream flows; a connection opened after it is served as usual),
`lose_next_transaction()` (the next transaction is made but never written to the transactions
stream, which heartbeats on naming it as the last one), `candles_down` (every candles request
answered 503, as OANDA's own outage would).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from fakes.serve import serve_loopback

TOKEN = "oanda-test-token-0123456789abcdef"
ACCOUNT = "101-004-1234567-001"
GRANULARITY_S = {"S5": 5, "M1": 60, "M5": 300, "M15": 900, "M30": 1800, "H1": 3600}
INSTRUMENTS = {
    "EUR_USD": {"pipLocation": -4, "displayPrecision": 5, "marginRate": "0.0333", "type": "CURRENCY"},
    "USD_JPY": {"pipLocation": -2, "displayPrecision": 3, "marginRate": "0.04", "type": "CURRENCY"},
    "XAU_USD": {"pipLocation": -2, "displayPrecision": 3, "marginRate": "0.05", "type": "METAL"},
}


def _ts(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


@dataclass
class FakeOanda:
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    balance: Decimal = Decimal("100000")
    heartbeat_s: float = 5.0
    prices: dict[str, tuple[Decimal, Decimal]] = field(
        default_factory=lambda: {
            "EUR_USD": (Decimal("1.08000"), Decimal("1.08010")),
            "USD_JPY": (Decimal("150.000"), Decimal("150.012")),
            "XAU_USD": (Decimal("2350.000"), Decimal("2350.300")),
        }
    )
    transactions: list[dict[str, Any]] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # by order id
    positions: dict[str, Decimal] = field(default_factory=dict)
    posts: list[dict[str, Any]] = field(default_factory=list)  # every order POST received
    token: str = TOKEN  # the account's API token (a new one made at OANDA revokes the old: `token = ...`)
    requests: int = 0
    sinceid_reads: int = 0
    candle_reads: list[dict[str, str]] = field(default_factory=list)  # each candles request's query
    candles_down: bool = False
    no_prices: set[datetime] = field(default_factory=set)  # minutes without a price: no candle
    port: int = 0
    _faults: list[str] = field(default_factory=list)
    _streams: list[tuple[str, asyncio.Queue[dict[str, Any] | None]]] = field(default_factory=list)
    _silent: bool = False
    _hung: set[int] = field(default_factory=set)  # id() of the queues of hung connections
    _lose_tx: int = 0
    _runner: web.AppRunner | None = None

    # -- control (the test's side) -----------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeOanda:
        app = web.Application()
        r = app.router
        r.add_get("/v3/accounts", self._accounts)
        r.add_get("/v3/accounts/{acct}/summary", self._summary)
        r.add_get("/v3/accounts/{acct}/instruments", self._instruments)
        r.add_post("/v3/accounts/{acct}/orders", self._create)
        r.add_get("/v3/accounts/{acct}/orders/{spec}", self._order)
        r.add_put("/v3/accounts/{acct}/orders/{spec}/cancel", self._cancel)
        r.add_get("/v3/accounts/{acct}/pendingOrders", self._pending)
        r.add_get("/v3/accounts/{acct}/transactions", self._tx_pages)
        r.add_get("/v3/accounts/{acct}/transactions/idrange", self._tx_range)
        r.add_get("/v3/accounts/{acct}/transactions/sinceid", self._tx_since)
        r.add_get("/v3/accounts/{acct}/transactions/stream", self._tx_stream)
        r.add_get("/v3/accounts/{acct}/pricing/stream", self._price_stream)
        r.add_get("/v3/instruments/{instrument}/candles", self._candles)
        self._runner, self.port = await serve_loopback(app)
        return self

    async def stop(self) -> None:
        for _, q in self._streams:
            q.put_nowait(None)
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(self, kind: str) -> None:
        self._faults.append(kind)

    def drop_streams(self) -> None:
        for _, q in list(self._streams):
            q.put_nowait(None)

    def silence(self, on: bool) -> None:
        self._silent = on

    def lose_next_transaction(self) -> None:
        self._lose_tx += 1

    def hang(self, stream: str) -> None:
        self._hung.update(id(q) for name, q in self._streams if name == stream)

    def set_price(self, instrument: str, bid: str, ask: str) -> None:
        self.prices[instrument] = (Decimal(bid), Decimal(ask))
        self._publish("pricing", self._price(instrument))
        for order in [o for o in self.orders.values() if o["state"] == "PENDING" and o["instrument"] == instrument]:
            units = Decimal(order["units"])
            price = Decimal(order["price"])
            b, a = self.prices[instrument]
            touch = a if units > 0 else b
            if order["type"] == "LIMIT" and ((units > 0 and a <= price) or (units < 0 and b >= price)):
                self._fill(order, price if (units > 0 and a < price) or (units < 0 and b > price) else touch)
            elif order["type"] == "STOP" and ((units > 0 and a >= price) or (units < 0 and b <= price)):
                self._fill(order, touch)

    def rollover(self) -> dict[str, Any]:
        """17:00 New York: each open position pays or earns a day's financing."""
        parts = [
            {"instrument": i, "financing": str((-abs(u) * Decimal("0.00001")).quantize(Decimal("0.0001"))),
             "baseFinancing": "0", "accountFinancingMode": "DAILY"}
            for i, u in self.positions.items() if u
        ]
        total = sum((Decimal(p["financing"]) for p in parts), Decimal(0))
        self.balance += total
        return self._tx({"type": "DAILY_FINANCING", "financing": str(total), "accountBalance": str(self.balance),
                         "accountFinancingMode": "DAILY", "positionFinancings": parts})

    # -- helpers -------------------------------------------------------------------------------

    def _price(self, instrument: str) -> dict[str, Any]:
        bid, ask = self.prices[instrument]
        return {
            "type": "PRICE", "instrument": instrument, "time": _ts(self.now), "tradeable": True,
            "bids": [{"price": str(bid), "liquidity": 10000000}], "asks": [{"price": str(ask), "liquidity": 10000000}],
            "closeoutBid": str(bid), "closeoutAsk": str(ask),
        }

    def _publish(self, stream: str, msg: dict[str, Any]) -> None:
        for name, q in self._streams:
            if name == stream:
                q.put_nowait(msg)

    def _tx(self, body: dict[str, Any]) -> dict[str, Any]:
        tx = {"id": str(len(self.transactions) + 1), "time": _ts(self.now), "accountID": ACCOUNT, "userID": 1,
              "batchID": str(len(self.transactions) + 1), **body}
        self.transactions.append(tx)
        if self._lose_tx:
            self._lose_tx -= 1
        else:
            self._publish("transactions", tx)
        return tx

    def _fill(self, order: dict[str, Any], price: Decimal) -> dict[str, Any]:
        units = Decimal(order["units"])
        self.positions[order["instrument"]] = self.positions.get(order["instrument"], Decimal(0)) + units
        order["state"] = "FILLED"
        ext = order.get("clientExtensions") or {}
        tx = self._tx({
            "type": "ORDER_FILL", "orderID": order["id"], "clientOrderID": ext.get("id"),
            "instrument": order["instrument"], "units": str(units), "price": str(price),
            "fullVWAP": str(price), "reason": f"{order['type']}_ORDER", "pl": "0.0000", "financing": "0.0000",
            "commission": "0.0000", "accountBalance": str(self.balance),
        })
        order["fillingTransactionID"] = tx["id"]
        return tx

    def _authorised(self, request: web.Request) -> web.Response | None:
        self.requests += 1
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"errorMessage": "Insufficient authorization to perform request."}, status=401)
        if request.match_info.get("acct", ACCOUNT) != ACCOUNT:
            return web.json_response({"errorMessage": "Invalid value specified for 'accountID'"}, status=400)
        return None

    def _find(self, spec: str) -> dict[str, Any] | None:
        if spec.startswith("@"):
            return next((o for o in self.orders.values() if (o.get("clientExtensions") or {}).get("id") == spec[1:]),
                        None)
        return self.orders.get(spec)

    # -- endpoints -----------------------------------------------------------------------------

    async def _candles(self, request: web.Request) -> web.Response:
        denied = self._authorised(request)
        if denied:
            return denied
        q = dict(request.query)
        self.candle_reads.append(q)
        name = request.match_info["instrument"]
        if self.candles_down:
            return web.json_response({"errorMessage": "Service Unavailable"}, status=503)
        step = GRANULARITY_S.get(q.get("granularity", "S5"))
        if name not in INSTRUMENTS or step is None:
            return web.json_response({"errorMessage": "Invalid value specified for 'instrument'"}, status=400)
        count = int(q.get("count", 500))
        if not 0 < count <= 5000:
            return web.json_response({"errorMessage": "Maximum value for 'count' exceeded"}, status=400)
        now_s = int(self.now.timestamp())
        forming = now_s - now_s % step
        if "from" in q:
            start = int(datetime.fromisoformat(q["from"].replace("Z", "+00:00")).timestamp())
            if start > now_s:
                return web.json_response({"errorMessage": "Invalid value specified for 'from'. Time is in the future"},
                                         status=400)  # fmt: skip
            opens = range(start - start % step, forming + 1, step)
        else:
            opens = range(forming - (count - 1) * step, forming + 1, step)
        rows = [self._candle(name, t, step, complete=t < forming) for t in opens]
        rows = [r for r in rows if r is not None]
        rows = rows[:count] if "from" in q else rows[-count:]
        return web.json_response({"instrument": name, "granularity": q.get("granularity", "S5"), "candles": rows})

    def _candle(self, name: str, open_s: int, step: int, *, complete: bool) -> dict[str, Any] | None:
        """A mid candle at `open_s` made from the minutes in it that had prices (none: no candle)."""
        minutes = [datetime.fromtimestamp(t, UTC) for t in range(open_s, open_s + max(step, 60), 60)]
        priced = [m for m in minutes if m not in self.no_prices]
        if not priced:
            return None
        mid = (self.prices[name][0] + self.prices[name][1]) / 2
        wiggle = Decimal(open_s // step % 7) * Decimal("0.0001")
        o, c = mid + wiggle, mid - wiggle
        return {
            "complete": complete, "volume": 10 * len(priced), "time": _ts(datetime.fromtimestamp(open_s, UTC)),
            "mid": {"o": str(o), "h": str(max(o, c) + Decimal("0.0002")), "l": str(min(o, c) - Decimal("0.0002")),
                    "c": str(c)},
        }

    async def _accounts(self, request: web.Request) -> web.Response:
        return self._authorised(request) or web.json_response({"accounts": [{"id": ACCOUNT, "tags": []}]})

    async def _summary(self, request: web.Request) -> web.Response:
        denied = self._authorised(request)
        if denied:
            return denied
        return web.json_response({"account": {
            "id": ACCOUNT, "currency": "USD", "balance": str(self.balance), "NAV": str(self.balance),
            "marginAvailable": str(self.balance), "marginRate": "0.0333",
            "lastTransactionID": str(len(self.transactions)),
        }, "lastTransactionID": str(len(self.transactions))})

    async def _instruments(self, request: web.Request) -> web.Response:
        denied = self._authorised(request)
        if denied:
            return denied
        wanted = request.query.get("instruments")
        names = wanted.split(",") if wanted else list(INSTRUMENTS)
        rows = [
            {"name": n, "displayName": n.replace("_", "/"), "tradeUnitsPrecision": 0, "minimumTradeSize": "1",
             "maximumOrderUnits": "100000000", **INSTRUMENTS[n]}
            for n in names if n in INSTRUMENTS
        ]
        return web.json_response({"instruments": rows, "lastTransactionID": str(len(self.transactions))})

    async def _create(self, request: web.Request) -> web.Response:
        denied = self._authorised(request)
        if denied:
            return denied
        fault = self._faults.pop(0) if self._faults else None
        if fault == "429":
            return web.json_response({"errorMessage": "Requests per second exceeded"}, status=429,
                                     headers={"Retry-After": "0"})
        if fault == "500":
            return web.json_response({"errorMessage": "Internal server error"}, status=500)
        spec = (await request.json())["order"]
        self.posts.append(spec)
        cid = (spec.get("clientExtensions") or {}).get("id")
        kind = spec["type"]
        if cid and self._find(f"@{cid}") is not None:
            reject = self._tx({"type": f"{kind}_ORDER_REJECT", "rejectReason": "CLIENT_ORDER_ID_ALREADY_EXISTS",
                               "instrument": spec["instrument"], "units": spec["units"]})
            return web.json_response({"orderRejectTransaction": reject, "errorCode": "CLIENT_ORDER_ID_ALREADY_EXISTS",
                                      "errorMessage": "Client order ID already exists"}, status=400)
        if spec["instrument"] not in INSTRUMENTS:
            reject = self._tx({"type": f"{kind}_ORDER_REJECT", "rejectReason": "INSTRUMENT_NOT_TRADEABLE"})
            return web.json_response({"orderRejectTransaction": reject, "errorMessage": "Instrument not tradeable"},
                                     status=400)
        create = self._tx({"type": f"{kind}_ORDER", "instrument": spec["instrument"], "units": spec["units"],
                           "timeInForce": spec.get("timeInForce", "FOK"), "price": spec.get("price"),
                           "positionFill": spec.get("positionFill", "DEFAULT"),
                           "clientExtensions": spec.get("clientExtensions"), "reason": "CLIENT_ORDER"})
        order = {"id": create["id"], "createTime": create["time"], "type": kind, "instrument": spec["instrument"],
                 "units": spec["units"], "price": spec.get("price"), "timeInForce": create["timeInForce"],
                 "state": "PENDING", "clientExtensions": spec.get("clientExtensions")}
        self.orders[order["id"]] = order
        answer: dict[str, Any] = {"orderCreateTransaction": create}
        if kind == "MARKET":
            bid, ask = self.prices[spec["instrument"]]
            answer["orderFillTransaction"] = self._fill(order, ask if Decimal(spec["units"]) > 0 else bid)
        else:
            self.set_price(spec["instrument"], *map(str, self.prices[spec["instrument"]]))  # marketable: fills now
            fill_id = order.get("fillingTransactionID")
            if fill_id:
                answer["orderFillTransaction"] = self.transactions[int(fill_id) - 1]
        answer["lastTransactionID"] = str(len(self.transactions))
        if fault == "lost":  # made, and the answer never arrives: the connection is cut
            assert request.transport is not None
            request.transport.close()
            await asyncio.sleep(0.05)
        return web.json_response(answer, status=201)

    async def _order(self, request: web.Request) -> web.Response:
        denied = self._authorised(request)
        if denied:
            return denied
        order = self._find(request.match_info["spec"])
        if order is None:
            return web.json_response({"errorCode": "ORDER_DOESNT_EXIST",
                                      "errorMessage": "The Order specified does not exist"}, status=404)
        return web.json_response({"order": order, "lastTransactionID": str(len(self.transactions))})

    async def _cancel(self, request: web.Request) -> web.Response:
        denied = self._authorised(request)
        if denied:
            return denied
        order = self._find(request.match_info["spec"])
        if order is None or order["state"] != "PENDING":
            tx = self._tx({"type": "ORDER_CANCEL_REJECT", "rejectReason": "ORDER_DOESNT_EXIST"})
            return web.json_response({"orderCancelRejectTransaction": tx, "errorCode": "ORDER_DOESNT_EXIST",
                                      "errorMessage": "The Order specified does not exist"}, status=404)
        order["state"] = "CANCELLED"
        tx = self._tx({"type": "ORDER_CANCEL", "orderID": order["id"], "reason": "CLIENT_REQUEST",
                       "clientOrderID": (order.get("clientExtensions") or {}).get("id")})
        return web.json_response({"orderCancelTransaction": tx, "lastTransactionID": tx["id"]})

    async def _pending(self, request: web.Request) -> web.Response:
        denied = self._authorised(request)
        if denied:
            return denied
        rows = [o for o in self.orders.values() if o["state"] == "PENDING"]
        return web.json_response({"orders": rows, "lastTransactionID": str(len(self.transactions))})

    async def _tx_pages(self, request: web.Request) -> web.Response:
        denied = self._authorised(request)
        if denied:
            return denied
        kind = request.query.get("type", "")
        since = request.query.get("from", "")
        ids = [t["id"] for t in self.transactions if (not kind or t["type"] in kind.split(",")) and t["time"] >= since]
        pages = [] if not ids else [
            f"{self.url}/v3/accounts/{ACCOUNT}/transactions/idrange?from={ids[0]}&to={ids[-1]}&type={kind}"
        ]
        return web.json_response({"from": since, "count": len(ids), "pages": pages,
                                  "lastTransactionID": str(len(self.transactions))})

    async def _tx_range(self, request: web.Request) -> web.Response:
        denied = self._authorised(request)
        if denied:
            return denied
        lo, hi = int(request.query["from"]), int(request.query["to"])
        kind = request.query.get("type", "")
        rows = [t for t in self.transactions[lo - 1: hi] if not kind or t["type"] in kind.split(",")]
        return web.json_response({"transactions": rows, "lastTransactionID": str(len(self.transactions))})

    async def _tx_since(self, request: web.Request) -> web.Response:
        denied = self._authorised(request)
        if denied:
            return denied
        since = int(request.query["id"])
        self.sinceid_reads += 1
        return web.json_response({"transactions": self.transactions[since:],
                                  "lastTransactionID": str(len(self.transactions))})

    async def _stream(self, request: web.Request, name: str, first: list[dict[str, Any]]) -> web.StreamResponse:
        denied = self._authorised(request)
        if denied:
            return denied
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/octet-stream"})
        await resp.prepare(request)
        q: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        entry = (name, q)
        self._streams.append(entry)
        for msg in first:
            q.put_nowait(msg)
        try:
            while True:
                try:
                    msg = await asyncio.wait_for(q.get(), self.heartbeat_s)
                except TimeoutError:
                    msg = {"type": "HEARTBEAT", "time": _ts(self.now), "lastTransactionID": str(len(self.transactions))}
                if msg is None:
                    break
                if self._silent or id(q) in self._hung:
                    continue
                await resp.write((json.dumps(msg) + "\n").encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._streams.remove(entry)
            self._hung.discard(id(q))
        with_transport = request.transport
        if with_transport is not None:
            with_transport.close()  # cut, as a dropped stream is
        return resp

    async def _tx_stream(self, request: web.Request) -> web.StreamResponse:
        return await self._stream(request, "transactions", [])

    async def _price_stream(self, request: web.Request) -> web.StreamResponse:
        names = [n for n in request.query.get("instruments", "").split(",") if n in self.prices]
        return await self._stream(request, "pricing", [self._price(n) for n in names])
