"""A loopback fake of Binance USDⓈ-M futures (REST /fapi + websockets) for ccxt.pro's binanceusdm.

Written from Binance's public USDⓈ-M futures API reference (developers.binance.com, "Derivatives
Trading USDS Futures": General Info, Market Data, Trade, Account, User Data Streams), and the
response examples ccxt quotes from it. It reuses the spot fake's wire helpers (signed-request
timing, rate-limit answers, order faults) over the same `FakeMarket` matching, and adds what a
perpetual has: one-way positions with entry, mark, liquidation price and margin, leverage and
margin type per symbol, funding, liquidation and ADL.

REST  /fapi/v1/exchangeInfo, /time, /ping, /klines, /depth, /ticker/24hr, /trades,
      /fapi/v1/order (POST, GET, DELETE), /openOrders, /userTrades, /leverage (POST),
      /marginType (POST), /leverageBracket, /positionSide/dual, /income, /fundingRate, /premiumIndex,
      /listenKey (POST, PUT, DELETE), /fapi/v2/balance, /fapi/v3/positionRisk
WS    /public/ws, /market/ws   SUBSCRIBE to <sym>@ticker, @depth, @trade, @kline_<tf>
      /private/ws?listenKey=K  ORDER_TRADE_UPDATE, ACCOUNT_UPDATE, MARGIN_CALL

Binance's rules kept: one-way mode (positionSide BOTH); reduceOnly refused with -2022 when it
would not reduce; a client order id unique among open orders (-4116 "ClientOrderId is
duplicated." otherwise); leverage 1..the first bracket's initialLeverage (-4028); changing the
margin type to the one set answers -4046 "No need to change margin type.", with a position
open -4048; liquidation orders carry client ids "autoclose-<n>", ADL ones "adl_autoclose",
order type LIQUIDATION; funding appears in /income as FUNDING_FEE and on the stream as an
ACCOUNT_UPDATE with reason FUNDING_FEE.
"""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from fakes.binance_exchange import BAD_KEY, STATUS, FakeBinanceExchange, _error
from fakes.fake_market import FakeOrder, FakeTrade, OrderRefused
from fakes.perpetuals import OneWayPositions

ZERO = Decimal(0)
FEE_RATE = Decimal("0.0004")  # taker, USDⓈ-M's base tier (0.02 % maker)
# BTCUSDT's first leverage brackets as /fapi/v1/leverageBracket lists them (notional in USDT).
BRACKETS = [
    {
        "bracket": 1,
        "initialLeverage": 125,
        "notionalCap": 50000,
        "notionalFloor": 0,
        "maintMarginRatio": 0.004,
        "cum": 0.0,
    },
    {
        "bracket": 2,
        "initialLeverage": 100,
        "notionalCap": 600000,
        "notionalFloor": 50000,
        "maintMarginRatio": 0.005,
        "cum": 50.0,
    },
    {
        "bracket": 3,
        "initialLeverage": 75,
        "notionalCap": 3000000,
        "notionalFloor": 600000,
        "maintMarginRatio": 0.0065,
        "cum": 950.0,
    },
    {
        "bracket": 4,
        "initialLeverage": 50,
        "notionalCap": 12000000,
        "notionalFloor": 3000000,
        "maintMarginRatio": 0.01,
        "cum": 11450.0,
    },
]


def linear_error_table() -> dict[str, Any]:
    """ccxt picks Binance's error table by the request's host (fapi.binance.com: USDⓈ-M's own
    codes, e.g. -2022 ReduceOnly rejected is an InvalidOrder). A loopback host matches none, so
    the fake's clients get USDⓈ-M's table as their default, as on Binance's own host."""
    import ccxt

    table = ccxt.binanceusdm().exceptions
    linear = table.get("linear") or {}
    return {
        "exact": {**table.get("exact", {}), **linear.get("exact", {})},
        "broad": {**table.get("broad", {}), **linear.get("broad", {})},
    }


class FakeBinanceFutures(OneWayPositions, FakeBinanceExchange):
    """Binance USDⓈ-M on loopback: symbols are unified perpetuals ("BTC/USDT:USDT")."""

    def __init__(
        self,
        symbols: tuple[str, ...] = ("BTC/USDT:USDT", "ETH/USDT:USDT"),
        *,
        api_key: str = "test-key",
        seed: int = 7,
        start_ms: int | None = None,
    ) -> None:
        spot = tuple(s.split(":")[0] for s in symbols)
        super().__init__(spot, api_key=api_key, seed=seed, start_ms=start_ms)
        # FakeMarket keys everything by symbol: use the unified perpetual's
        self.symbols = list(symbols)
        self.prices = {s: Decimal("100.00") * (i + 1) for i, s in enumerate(self.symbols)}
        self.public_trades = {s: [] for s in self.symbols}
        self.ids = {s: s.split(":")[0].replace("/", "") for s in self.symbols}
        self.depth_update = {s: 1 for s in self.symbols}
        self._init_positions(self.symbols)
        self.funding_rate: dict[str, Decimal] = {s: Decimal("0.0001") for s in self.symbols}
        self.income: list[dict[str, Any]] = []  # /fapi/v1/income rows
        self.listen_keys: set[str] = set()
        self.leverage_requests: list[dict[str, str]] = []
        self.margin_type_requests: list[dict[str, str]] = []
        self.hedge_mode = False  # dualSidePosition: the account's position mode
        self.refuse_leverage: str | None = None  # the next /leverage answers this -4028 message
        self._tran_ids = itertools.count(9_000_000_000)
        self._autoclose = itertools.count(1)
        self._listen_keys = itertools.count(1)
        self._private_by_key: dict[web.WebSocketResponse, str] = {}
        self._reduce_only: dict[str, bool] = {}

    def ccxt_options(self) -> dict[str, Any]:
        """The `options` table a `[venues.X]` config uses to point ccxt's binanceusdm here."""
        v1, v2, v3 = (self.url + f"/fapi/v{n}" for n in (1, 2, 3))
        return {
            "urls": {
                "api": {
                    "fapiPublic": v1,
                    "fapiPublicV2": v2,
                    "fapiPublicV3": v3,
                    "fapiPrivate": v1,
                    "fapiPrivateV2": v2,
                    "fapiPrivateV3": v3,
                    "fapiData": self.url + "/futures/data",
                    "public": self.url + "/api/v3",
                    "private": self.url + "/api/v3",
                    "sapi": self.url + "/sapi/v1",
                    "ws": {"linear": self.ws_url + "/ws"},
                }
            },
            "options": {"fetchCurrencies": False, "fetchMargins": False, "warnOnFetchOpenOrdersWithoutSymbol": False},
            "exceptions": linear_error_table(),
            "timeout": 3000,
        }

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/fapi/{version}/{tail:.*}", self._fapi)
        app.router.add_get("/private/ws", self._ws_private)
        for category in ("public", "market"):  # ccxt appends its stream number: /market/ws/0
            app.router.add_get(f"/{category}/ws", self._ws_public)
            app.router.add_get(f"/{category}/ws/{{n}}", self._ws_public)

    # -- prices ---------------------------------------------------------------------------------

    def next_funding_ms(self) -> int:
        step = 8 * 3_600_000
        return self.now_ms - self.now_ms % step + step

    # -- REST -----------------------------------------------------------------------------------

    async def _fapi(self, request: web.Request) -> web.StreamResponse:
        version, path = request.match_info["version"], "/" + request.match_info["tail"]
        query = dict(request.query)
        if request.method in ("POST", "PUT", "DELETE"):
            query.update(dict(parse_qsl(await request.text())))
        self.log_request(request.method, path)
        fault = self.take_fault(request.method, path)
        if fault is not None and fault.status == 0:
            await asyncio.sleep(fault.delay)
            fault = None
        if fault is not None and fault.status in (429, 418):
            return self._limited(fault.status, fault.retry_after)
        if fault is not None:
            return web.Response(status=fault.status, text="Service Unavailable")
        public = await self._public_rest(path, query)
        if public is not None:
            return public
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            return web.json_response(BAD_KEY, status=401)
        if path == "/listenKey":
            return self._listen_key(request.method)
        if (late := self._timestamp_error(query)) is not None:
            return _error(-1021, late)
        symbol = self.symbol_of(query.get("symbol"))
        if "symbol" in query and symbol is None:
            return _error(-1121, "Invalid symbol.")
        if path == "/order":
            return await self._futures_order(request.method, query, symbol)
        if path == "/openOrders":
            return web.json_response([self._order_rest(o) for o in self.open_orders(symbol)])
        if path == "/userTrades" and symbol is not None:
            return web.json_response([self._user_trade(t) for t in self._trade_page(symbol, query)])
        if path == "/leverage" and symbol is not None:
            return self._set_leverage(symbol, query)
        if path == "/marginType" and symbol is not None:
            return self._set_margin_type(symbol, query)
        if path == "/positionSide/dual":
            return web.json_response({"dualSidePosition": self.hedge_mode})
        if path == "/leverageBracket":
            wanted = [symbol] if symbol else self.symbols
            return web.json_response(
                [{"symbol": self.ids[s], "notionalCoef": 1.0, "brackets": BRACKETS} for s in wanted]
            )
        if path == "/income":
            return web.json_response(self._income(query))
        if path == "/balance":
            return web.json_response([self._balance_row()])
        if path == "/account" and version in ("v2", "v3"):
            return web.json_response(self._account())
        if path == "/positionRisk" and version == "v3":
            rows = [self._position_risk(s) for s in self.symbols if symbol in (None, s)]
            return web.json_response([r for r in rows if r is not None])
        return _error(-1, f"fake binance futures has no {version}{path}", status=404)

    async def _public_rest(self, path: str, query: dict[str, str]) -> web.Response | None:
        if path == "/exchangeInfo":
            return web.json_response(self._exchange_info_futures())
        if path == "/ping":
            return web.json_response({})
        if path == "/time":
            return web.json_response({"serverTime": self.server_time_ms()})
        symbol = self.symbol_of(query.get("symbol"))
        if "symbol" in query and symbol is None:
            return _error(-1121, "Invalid symbol.")
        if path == "/premiumIndex":
            rows = [self._premium_index(s) for s in self.symbols if symbol in (None, s)]
            return web.json_response(rows[0] if symbol else rows)
        if path == "/fundingRate":
            rows = [
                {
                    "symbol": r["symbol"],
                    "fundingRate": r["info"]["rate"],
                    "fundingTime": r["time"],
                    "markPrice": r["info"]["mark"],
                }
                for r in self.income
                if r["incomeType"] == "FUNDING_FEE" and symbol in (None, self.symbol_of(r["symbol"]))
            ]
            return web.json_response(rows)
        if path == "/ticker/24hr":
            return web.json_response(self._futures_ticker(symbol or self.symbols[0]))
        if path == "/depth" and symbol is not None:
            bids, asks = self.levels(symbol)
            u = self.depth_update[symbol]
            return web.json_response(
                {"lastUpdateId": u, "E": self.now_ms, "T": self.now_ms, "bids": bids, "asks": asks}
            )
        if path == "/trades" and symbol is not None:
            rows = self.public_trades[symbol][-int(query.get("limit", 500)) :]
            return web.json_response([self._public_trade(t) for t in rows])
        if path == "/klines":
            return web.json_response([])
        return None

    def _listen_key(self, method: str) -> web.Response:
        """POST makes (or returns the active) key, PUT keeps it alive, DELETE closes it."""
        if method == "POST":
            if not self.listen_keys:
                self.listen_keys.add(f"fake-listen-key-{next(self._listen_keys)}")
            return web.json_response({"listenKey": next(iter(self.listen_keys))})
        if method == "DELETE":
            self.listen_keys.clear()
        return web.json_response({})

    async def _futures_order(self, method: str, q: dict[str, str], symbol: str | None) -> web.Response:
        if method == "GET":
            order = self._find(q)
            return web.json_response(self._order_rest(order)) if order else _error(-2013, "Order does not exist.")
        if method == "DELETE":
            order = self._find(q)
            if order is None or not self.cancel(order):
                return _error(-2011, "Unknown order sent.")
            return web.json_response(self._order_rest(order))
        if symbol is None:
            return _error(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        side, qty = q["side"].lower(), Decimal(q["quantity"])
        reduce_only = q.get("reduceOnly", "false").lower() == "true"
        if reduce_only and not self.reduces(symbol, side, qty):
            return _error(-2022, "ReduceOnly Order is rejected.")
        cid = q.get("newClientOrderId") or None
        try:
            if cid:
                self._reduce_only[cid] = reduce_only
            order = self.place(
                symbol,
                side,
                q["type"].lower(),
                qty,
                Decimal(q["price"]) if q.get("price") else None,
                cid,
                tif=q.get("timeInForce", "GTC"),
            )
        except OrderRefused as exc:
            if exc.kind == "duplicate":
                return _error(-4116, "ClientOrderId is duplicated.")
            return _error(-2019, "Margin is insufficient.")
        if self.take_duplicate_answer():
            return _error(-4116, "ClientOrderId is duplicated.")
        delay = self.take_ack_delay()
        if delay:
            await asyncio.sleep(delay)
        return web.json_response(self._order_rest(order))

    def _set_leverage(self, symbol: str, q: dict[str, str]) -> web.Response:
        self.leverage_requests.append(q)
        lev = int(q["leverage"])
        if self.refuse_leverage or not 1 <= lev <= BRACKETS[0]["initialLeverage"]:
            msg, self.refuse_leverage = self.refuse_leverage or "Leverage is not valid", None
            return _error(-4028, msg)
        pos = self.positions[symbol]
        pos.leverage = lev
        notional = abs(pos.amount) * self.mark(symbol)
        cap = next(b["notionalCap"] for b in BRACKETS if b["initialLeverage"] >= lev or b is BRACKETS[-1])
        return web.json_response(
            {"leverage": lev, "maxNotionalValue": str(cap), "symbol": self.ids[symbol], "notional": str(notional)}
        )

    def _set_margin_type(self, symbol: str, q: dict[str, str]) -> web.Response:
        self.margin_type_requests.append(q)
        wanted = {"ISOLATED": "isolated", "CROSSED": "cross"}.get(q.get("marginType", ""))
        if wanted is None:
            return _error(-1116, "Invalid marginType.")
        pos = self.positions[symbol]
        if pos.margin_type == wanted:
            return _error(-4046, "No need to change margin type.")
        if pos.amount != 0 or self.open_orders(symbol):
            return _error(-4048, "Margin type cannot be changed if there exists position.")
        pos.margin_type = wanted
        return web.json_response({"code": 200, "msg": "success"})

    def _income(self, q: dict[str, str]) -> list[dict[str, Any]]:
        """GET /fapi/v1/income: oldest first from startTime (default: the last 7 days), up to
        `limit` (default 100, max 1000)."""
        start = int(q.get("startTime", self.now_ms - 7 * 86_400_000))
        end = int(q.get("endTime", 2**62))
        limit = min(int(q.get("limit", 100)), 1000)
        symbol = q.get("symbol")
        rows = [
            {k: v for k, v in r.items() if k != "info"} | {"info": r["incomeType"]}
            for r in self.income
            if start <= int(r["time"]) <= end
            and q.get("incomeType") in (None, r["incomeType"])
            and symbol in (None, r["symbol"])
        ]
        return rows[:limit]

    def _balance_row(self) -> dict[str, Any]:
        upnl = sum((self._upnl(s) for s in self.symbols), ZERO)
        return {
            "accountAlias": "SgsR",
            "asset": "USDT",
            "balance": str(self.wallet),
            "crossWalletBalance": str(self.wallet),
            "crossUnPnl": str(upnl),
            "availableBalance": str(self.wallet + upnl),
            "maxWithdrawAmount": str(self.wallet),
            "marginAvailable": True,
            "updateTime": self.now_ms,
        }

    def _account(self) -> dict[str, Any]:
        """GET /fapi/v3/account: the account's totals and its assets (positions omitted)."""
        upnl = sum((self._upnl(s) for s in self.symbols), ZERO)
        rows = [r for s in self.symbols if (r := self._position_risk(s)) is not None]
        initial = sum((Decimal(r["initialMargin"]) for r in rows), ZERO)
        maint = sum((Decimal(r["maintMargin"]) for r in rows), ZERO)
        asset = {
            "asset": "USDT",
            "walletBalance": str(self.wallet),
            "unrealizedProfit": str(upnl),
            "marginBalance": str(self.wallet + upnl),
            "maintMargin": str(maint),
            "initialMargin": str(initial),
            "positionInitialMargin": str(initial),
            "openOrderInitialMargin": "0",
            "crossWalletBalance": str(self.wallet),
            "crossUnPnl": str(upnl),
            "availableBalance": str(self.wallet + upnl - initial),
            "maxWithdrawAmount": str(self.wallet - initial),
            "updateTime": self.now_ms,
        }
        return {
            "totalInitialMargin": str(initial),
            "totalMaintMargin": str(maint),
            "totalWalletBalance": str(self.wallet),
            "totalUnrealizedProfit": str(upnl),
            "totalMarginBalance": str(self.wallet + upnl),
            "totalPositionInitialMargin": str(initial),
            "totalOpenOrderInitialMargin": "0",
            "totalCrossWalletBalance": str(self.wallet),
            "totalCrossUnPnl": str(upnl),
            "availableBalance": asset["availableBalance"],
            "maxWithdrawAmount": asset["maxWithdrawAmount"],
            "assets": [asset],
            "positions": [],
        }

    # -- positions ------------------------------------------------------------------------------

    @staticmethod
    def bracket(notional: Decimal) -> dict[str, Any]:
        for b in reversed(BRACKETS):
            if notional >= Decimal(str(b["notionalFloor"])):
                return b
        return BRACKETS[0]

    def liquidation_price(self, symbol: str) -> Decimal:
        """Binance's one-way formula for one position: LP = (WB + cum - side x |q| x EP) /
        (|q| x MMR - side x |q|); WB is the isolated wallet (isolated) or the wallet (cross)."""
        pos = self.positions[symbol]
        if not pos.amount:
            return ZERO
        size, side = abs(pos.amount), (1 if pos.amount > 0 else -1)
        b = self.bracket(size * self.mark(symbol))
        wb = pos.isolated_wallet if pos.margin_type == "isolated" else self.wallet
        mmr, cum = Decimal(str(b["maintMarginRatio"])), Decimal(str(b["cum"]))
        price = (wb + cum - side * size * pos.entry) / (size * mmr - side * size)
        return max(price, ZERO).quantize(Decimal("0.01"))

    def _position_risk(self, symbol: str) -> dict[str, Any] | None:
        """GET /fapi/v3/positionRisk: only symbols with a position or open orders."""
        pos = self.positions[symbol]
        if not pos.amount and not self.open_orders(symbol):
            return None
        mark = self.mark(symbol)
        notional = pos.amount * mark
        b = self.bracket(abs(notional))
        maint = abs(notional) * Decimal(str(b["maintMarginRatio"])) - Decimal(str(b["cum"]))
        initial = abs(notional) / pos.leverage
        isolated = pos.margin_type == "isolated"
        return {
            "symbol": self.ids[symbol],
            "positionSide": "BOTH",
            "positionAmt": str(pos.amount),
            "entryPrice": str(pos.entry),
            "breakEvenPrice": str(pos.entry),
            "markPrice": str(mark),
            "unRealizedProfit": str(self._upnl(symbol)),
            "liquidationPrice": str(self.liquidation_price(symbol)),
            "isolatedMargin": str(pos.isolated_wallet + self._upnl(symbol)) if isolated else "0",
            "notional": str(notional),
            "marginAsset": "USDT",
            "isolatedWallet": str(pos.isolated_wallet) if isolated else "0",
            "initialMargin": str(initial),
            "maintMargin": str(max(maint, ZERO)),
            "positionInitialMargin": str(initial),
            "openOrderInitialMargin": "0",
            "adl": 2,
            "bidNotional": "0",
            "askNotional": "0",
            "updateTime": pos.update_ms,
        }

    def fee(self, order: FakeOrder, qty: Decimal, price: Decimal) -> Decimal:
        return (qty * price * FEE_RATE).quantize(Decimal("0.00000001"))

    # -- what only the venue does: funding, margin calls, liquidation, ADL ---------------------

    def pay_funding(self, symbol: str, rate: Decimal | None = None) -> dict[str, Any]:
        """A funding time: the position pays (rate > 0, long) or receives; /income gets a
        FUNDING_FEE row and the stream an ACCOUNT_UPDATE (reason FUNDING_FEE)."""
        pos = self.positions[symbol]
        rate = self.funding_rate[symbol] if rate is None else rate
        mark = self.mark(symbol)
        amount = (-pos.amount * mark * rate).quantize(Decimal("0.00000001"))
        self.wallet += amount
        if pos.margin_type == "isolated":
            pos.isolated_wallet += amount
        at = self.stamp()
        row = {
            "symbol": self.ids[symbol],
            "incomeType": "FUNDING_FEE",
            "income": str(amount),
            "asset": "USDT",
            "time": at,
            "tranId": next(self._tran_ids),
            "tradeId": "",
            "info": {"rate": str(rate), "mark": str(mark)},
        }
        self.income.append(row)
        self._account_update("FUNDING_FEE", symbol, at)
        return row

    def margin_call(self, symbol: str) -> None:
        pos = self.positions[symbol]
        row = self._position_risk(symbol) or {}
        message = {
            "e": "MARGIN_CALL",
            "E": self.stamp(),
            "cw": str(self.wallet),
            "p": [
                {
                    "s": self.ids[symbol],
                    "ps": "BOTH",
                    "pa": str(pos.amount),
                    "mt": pos.margin_type.upper().replace("CROSS", "CROSSED"),
                    "iw": str(pos.isolated_wallet),
                    "mp": str(self.mark(symbol)),
                    "up": str(self._upnl(symbol)),
                    "mm": row.get("maintMargin", "0"),
                }
            ],
        }
        self.push_private(self._private, [message])

    def liquidate(self, symbol: str, *, adl: bool = False, price: Decimal | None = None) -> FakeOrder:
        """The venue closes the position itself: a LIQUIDATION order ("autoclose-..."), or an
        ADL one ("adl_autoclose") against a profitable position, filled at once."""
        pos = self.positions[symbol]
        assert pos.amount, "no position to liquidate"
        cid = "adl_autoclose" if adl else f"autoclose-{self.now_ms}{next(self._autoclose)}"
        side = "sell" if pos.amount > 0 else "buy"
        qty = abs(pos.amount)
        at = self.stamp()
        order = self.make_order(
            self.new_order_id(), cid, symbol, side, "liquidation", qty, price or self.mark(symbol), at
        )
        order.update_ms = at
        self.orders[cid] = order
        self._execute(order, qty, price or self.mark(symbol))
        return order

    # -- wire formats ---------------------------------------------------------------------------

    def _order_rest(self, o: FakeOrder) -> dict[str, Any]:
        typ = "LIQUIDATION" if o.type == "liquidation" else o.type.upper()
        return {
            "clientOrderId": o.client_order_id,
            "cumQty": str(o.executed),
            "cumQuote": str(o.quote),
            "executedQty": str(o.executed),
            "orderId": o.order_id,
            "avgPrice": str(o.average),
            "origQty": str(o.quantity),
            "price": str(o.price or 0),
            "reduceOnly": self._reduce_only.get(o.client_order_id, False),
            "side": o.side.upper(),
            "positionSide": "BOTH",
            "status": STATUS[o.status],
            "stopPrice": "0",
            "closePosition": False,
            "symbol": self.ids[o.symbol],
            "timeInForce": o.tif,
            "type": typ,
            "origType": typ,
            "updateTime": o.update_ms,
            "time": o.time_ms,
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
        }

    def _trade_page(self, symbol: str, q: dict[str, str]) -> list[FakeTrade]:
        limit = min(int(q.get("limit", 500)), 1000)
        rows = self.trades_for(symbol)
        if "fromId" in q:
            return [t for t in rows if int(t.trade_id) >= int(q["fromId"])][:limit]
        if "startTime" in q or "endTime" in q:
            start, end = int(q.get("startTime", 0)), int(q.get("endTime", 2**62))
            return [t for t in rows if start <= t.time_ms <= end][:limit]
        return rows[-limit:]

    def _user_trade(self, t: FakeTrade) -> dict[str, Any]:
        return {
            "buyer": t.order.side == "buy",
            "commission": str(t.commission),
            "commissionAsset": "USDT",
            "id": t.trade_id,
            "maker": t.is_maker,
            "orderId": t.order.order_id,
            "price": str(t.price),
            "qty": str(t.qty),
            "quoteQty": str(t.qty * t.price),
            "realizedPnl": str(getattr(t, "realized", ZERO)),
            "side": t.order.side.upper(),
            "positionSide": "BOTH",
            "symbol": self.ids[t.order.symbol],
            "time": t.time_ms,
        }

    def _premium_index(self, symbol: str) -> dict[str, Any]:
        return {
            "symbol": self.ids[symbol],
            "markPrice": str(self.mark(symbol)),
            "indexPrice": str(self.prices[symbol]),
            "estimatedSettlePrice": str(self.mark(symbol)),
            "lastFundingRate": str(self.funding_rate[symbol]),
            "interestRate": "0.00010000",
            "nextFundingTime": self.next_funding_ms(),
            "time": self.now_ms,
        }

    def _futures_ticker(self, symbol: str) -> dict[str, Any]:
        """The 24hr ticker of USDⓈ-M: no best bid / ask in it (unlike spot's)."""
        t = self._ticker(symbol)
        for key in ("b", "B", "a", "A", "Q", "x", "F", "L", "bidPrice", "askPrice"):
            t.pop(key, None)
        return t

    def _exchange_info_futures(self) -> dict[str, Any]:
        markets = []
        for symbol in self.symbols:
            base, quote = symbol.split(":")[0].split("/")
            markets.append(
                {
                    "symbol": self.ids[symbol],
                    "pair": self.ids[symbol],
                    "contractType": "PERPETUAL",
                    "deliveryDate": 4133404800000,
                    "onboardDate": 1569398400000,
                    "status": "TRADING",
                    "maintMarginPercent": "2.5000",
                    "requiredMarginPercent": "5.0000",
                    "baseAsset": base,
                    "quoteAsset": quote,
                    "marginAsset": quote,
                    "pricePrecision": 2,
                    "quantityPrecision": 3,
                    "baseAssetPrecision": 8,
                    "quotePrecision": 8,
                    "underlyingType": "COIN",
                    "underlyingSubType": ["PoW"],
                    "triggerProtect": "0.0500",
                    "liquidationFee": "0.012500",
                    "marketTakeBound": "0.05",
                    "orderTypes": [
                        "LIMIT",
                        "MARKET",
                        "STOP",
                        "STOP_MARKET",
                        "TAKE_PROFIT",
                        "TAKE_PROFIT_MARKET",
                        "TRAILING_STOP_MARKET",
                    ],
                    "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
                    "filters": [
                        {"filterType": "PRICE_FILTER", "minPrice": "0.10", "maxPrice": "4529764", "tickSize": "0.10"},
                        {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
                        {"filterType": "MARKET_LOT_SIZE", "minQty": "0.001", "maxQty": "120", "stepSize": "0.001"},
                        {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                        {"filterType": "MIN_NOTIONAL", "notional": "5"},
                        {
                            "filterType": "PERCENT_PRICE",
                            "multiplierUp": "1.0500",
                            "multiplierDown": "0.9500",
                            "multiplierDecimal": "4",
                        },
                    ],
                }
            )
        return {
            "timezone": "UTC",
            "serverTime": self.server_time_ms(),
            "futuresType": "U_MARGINED",
            "rateLimits": [],
            "exchangeFilters": [],
            "assets": [],
            "symbols": markets,
        }

    # -- websockets -----------------------------------------------------------------------------

    async def _ws_private(self, request: web.Request) -> web.WebSocketResponse:
        key = request.query.get("listenKey", "")
        if key not in self.listen_keys:
            raise web.HTTPBadRequest(text='{"code": -1125, "msg": "This listenKey does not exist."}')
        ws = await self.open_socket(request)
        self._private.add(ws)
        try:
            async for _ in self.json_frames(ws):
                pass
        finally:
            self._private.discard(ws)
            self.forget_socket(ws)
        return ws

    def publish_order(self, order: FakeOrder, trade: FakeTrade | None) -> None:
        canceled = trade is None and order.status == "canceled"
        typ = "LIQUIDATION" if order.type == "liquidation" else order.type.upper()
        at = trade.time_ms if trade else self.now_ms
        o = {
            "s": self.ids[order.symbol],
            "c": order.client_order_id,
            "S": order.side.upper(),
            "o": typ,
            "f": order.tif,
            "q": str(order.quantity),
            "p": str(order.price or 0),
            "ap": str(order.average),
            "sp": "0",
            "x": "TRADE" if trade else "CANCELED" if canceled else "NEW",
            "X": STATUS[order.status],
            "i": order.order_id,
            "l": str(trade.qty if trade else 0),
            "z": str(order.executed),
            "L": str(trade.price if trade else 0),
            "N": "USDT",
            "n": str(trade.commission if trade else 0),
            "T": at,
            "t": trade.trade_id if trade else 0,
            "b": "0",
            "a": "0",
            "m": bool(trade and trade.is_maker),
            "R": self._reduce_only.get(order.client_order_id, order.type == "liquidation"),
            "wt": "CONTRACT_PRICE",
            "ot": typ,
            "ps": "BOTH",
            "cp": False,
            "rp": str(getattr(trade, "realized", ZERO)),
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "EXPIRE_MAKER",
            "pm": "NONE",
            "gtd": 0,
        }
        messages: list[Any] = [{"e": "ORDER_TRADE_UPDATE", "E": at, "T": at, "o": o}]
        if trade is not None:
            messages.append(self._account_update_message("ORDER", order.symbol, at))
        self.push_private(self._private, messages)

    def _account_update(self, reason: str, symbol: str, at: int) -> None:
        self.push_private(self._private, [self._account_update_message(reason, symbol, at)])

    def _account_update_message(self, reason: str, symbol: str, at: int) -> dict[str, Any]:
        pos = self.positions[symbol]
        return {
            "e": "ACCOUNT_UPDATE",
            "E": at,
            "T": at,
            "a": {
                "m": reason,
                "B": [{"a": "USDT", "wb": str(self.wallet), "cw": str(self.wallet), "bc": "0"}],
                "P": [
                    {
                        "s": self.ids[symbol],
                        "pa": str(pos.amount),
                        "ep": str(pos.entry),
                        "bep": str(pos.entry),
                        "cr": "0",
                        "up": str(self._upnl(symbol)),
                        "mt": pos.margin_type,
                        "iw": str(pos.isolated_wallet),
                        "ps": "BOTH",
                    }
                ],
            },
        }

    async def publish_market(self, symbol: str, trade: dict[str, Any]) -> None:
        exchange_id = self.ids[symbol]
        low = exchange_id.lower()
        self.depth_update[symbol] += 1
        u = self.depth_update[symbol]
        bids, asks = self.levels(symbol)
        depth = {
            "e": "depthUpdate",
            "E": self.now_ms,
            "T": self.now_ms,
            "s": exchange_id,
            "U": u,
            "u": u,
            "pu": u - 1,
            "b": bids,
            "a": asks,
        }
        messages = {
            f"{low}@ticker": self._futures_ticker(symbol),
            f"{low}@trade": {
                "e": "trade",
                "E": self.now_ms,
                "T": trade["time"],
                "s": exchange_id,
                "t": trade["id"],
                "p": trade["price"],
                "q": trade["qty"],
                "X": "MARKET",
                "m": trade["side"] == "sell",
            },
            f"{low}@depth": depth,
            f"{low}@depth@100ms": depth,
            f"{low}@markPrice": {
                "e": "markPriceUpdate",
                "E": self.now_ms,
                "s": exchange_id,
                "p": str(self.mark(symbol)),
                "i": str(self.prices[symbol]),
                "P": str(self.mark(symbol)),
                "r": str(self.funding_rate[symbol]),
                "T": self.next_funding_ms(),
            },
        }
        await self.fan_out(symbol, messages)
