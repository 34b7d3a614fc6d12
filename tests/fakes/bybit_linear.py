"""A loopback fake of Bybit's v5 API for linear perpetuals (category=linear, a unified trading
account), for ccxt / ccxt.pro's bybit: the spot fake's signing, errors, websockets and matching,
with what a USDT perpetual adds. Written from Bybit's public v5 reference (bybit-exchange.github.io:
Market, Trade, Position, Account, Private WebSocket).

REST  public   /v5/market/instruments-info, tickers (markPrice, indexPrice, fundingRate,
               nextFundingTime), risk-limit
      private  /v5/order/create (reduceOnly), realtime, cancel; /v5/execution/list (execType
               Trade, Funding, BustTrade, AdlTrade); /v5/position/list, set-leverage;
               /v5/account/set-margin-mode (account-wide on a unified account)
WS    /v5/public/linear  tickers.X, orderbook.50.X, publicTrade.X
      /v5/private        order, execution, position

Bybit's rules kept: one-way mode (positionIdx 0); setting the leverage it has answers 110043
"Set leverage not modified"; a reduce-only order that would not reduce is refused (110017);
orders Bybit makes itself carry no orderLinkId and a createType (CreateByLiq for a liquidation,
CreateByAdl_PassThroughTrade for an auto-deleverage), their executions execType BustTrade /
AdlTrade; funding is an execution of execType Funding whose execFee is what the account paid
(negative: received).
"""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

from aiohttp import web

from fakes.bybit_exchange import STATUS, FakeBybitExchange
from fakes.fake_market import FakeOrder, FakeTrade, OrderRefused
from fakes.perpetuals import OneWayPositions

ZERO = Decimal(0)
TAKER = Decimal("0.00055")
# BTCUSDT's first risk limits (/v5/market/risk-limit): value cap, maintenance and initial rate
RISK_LIMITS = [("2000000", "0.005", "0.01", "100.00"), ("2600000", "0.0056", "0.0111", "90.00"),
               ("3200000", "0.0062", "0.0125", "80.00")]  # fmt: skip
FORCED = {"liquidation": ("CreateByLiq", "BustTrade"), "adl": ("CreateByAdl_PassThroughTrade", "AdlTrade")}


class FakeBybitLinear(OneWayPositions, FakeBybitExchange):
    """Bybit linear perpetuals on loopback: symbols are unified ("BTC/USDT:USDT")."""

    def __init__(self, symbols: tuple[str, ...] = ("BTC/USDT:USDT",), **kw: Any) -> None:
        super().__init__(symbols, **kw)
        self.ids = {s: s.split(":")[0].replace("/", "") for s in self.symbols}
        self.by_id = {i: s for s, i in self.ids.items()}
        self._init_positions(self.symbols)
        self.funding_rate = {s: Decimal("0.0001") for s in self.symbols}
        self.funding_rows: list[dict[str, Any]] = []
        self.margin_mode = "REGULAR_MARGIN"  # the unified account's: cross until set
        self.refuse_leverage: str | None = None
        self.leverage_requests: list[dict[str, Any]] = []
        self.reduce_only: dict[str, bool] = {}
        self.forced: dict[str, str] = {}  # client key -> "liquidation" / "adl"
        self._forced_ids = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v5/public/linear", self._ws_public)
        super().routes(app)

    # -- REST -------------------------------------------------------------------------------------

    async def _http(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        if path == "/market/risk-limit":
            self.requests.append((request.method, path))
            return self._ok(self._risk_limit(dict(request.query)))
        handlers = {"/position/list": self._position_list, "/position/set-leverage": self._set_leverage,
                    "/account/set-margin-mode": self._set_margin_mode}  # fmt: skip
        if path not in handlers:
            return await super()._http(request)
        self.requests.append((request.method, path))
        body = await request.text() if request.method == "POST" else ""
        refused = self._check_auth(request, body)
        if refused is not None:
            return self._err(*refused)
        q = json.loads(body or "{}") if request.method == "POST" else dict(request.query)
        return handlers[path](q)

    def _risk_limit(self, q: dict[str, Any]) -> dict[str, Any]:
        rows = []
        for s in self.symbols:
            if q.get("symbol") not in (None, self.ids[s]):
                continue
            for i, (cap, mmr, imr, lev) in enumerate(RISK_LIMITS, 1):
                rows.append({"id": i, "symbol": self.ids[s], "riskLimitValue": cap, "maintenanceMargin": mmr,
                             "initialMargin": imr, "isLowestRisk": int(i == 1), "maxLeverage": lev,
                             "mmDeduction": ""})  # fmt: skip
        return {"category": "linear", "list": rows, "nextPageCursor": ""}

    def _instruments(self, q: dict[str, Any]) -> dict[str, Any]:
        if q.get("category") != "linear":
            return {"category": q.get("category"), "list": [], "nextPageCursor": ""}
        rows = []
        for s in self.symbols:
            base, quote = s.split(":")[0].split("/")
            rows.append({
                "symbol": self.ids[s], "contractType": "LinearPerpetual", "status": "Trading", "baseCoin": base,
                "quoteCoin": quote, "launchTime": "1585526400000", "deliveryTime": "0", "deliveryFeeRate": "",
                "priceScale": "2", "settleCoin": quote, "unifiedMarginTrade": True, "fundingInterval": 480,
                "copyTrading": "both", "upperFundingRate": "0.00375", "lowerFundingRate": "-0.00375",
                "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
                "priceFilter": {"minPrice": "0.10", "maxPrice": "1999999.80", "tickSize": "0.10"},
                "lotSizeFilter": {"maxOrderQty": "1190.000", "minOrderQty": "0.001", "qtyStep": "0.001",
                                  "postOnlyMaxOrderQty": "1190.000", "maxMktOrderQty": "500.000",
                                  "minNotionalValue": "5"},
            })  # fmt: skip
        return {"category": "linear", "list": rows, "nextPageCursor": ""}

    def next_funding_ms(self) -> int:
        step = 8 * 3_600_000
        return self.now_ms - self.now_ms % step + step

    def _ticker(self, symbol: str) -> dict[str, Any]:
        p = self.prices[symbol]
        return {
            "symbol": self.ids[symbol], "lastPrice": str(p), "indexPrice": str(p), "markPrice": str(self.mark(symbol)),
            "prevPrice24h": str(p), "price24hPcnt": "0", "highPrice24h": str(p), "lowPrice24h": str(p),
            "prevPrice1h": str(p), "openInterest": "1000", "openInterestValue": str(p * 1000),
            "turnover24h": str(p * 1000), "volume24h": "1000", "fundingRate": str(self.funding_rate[symbol]),
            "nextFundingTime": str(self.next_funding_ms()), "predictedDeliveryPrice": "", "basisRate": "",
            "deliveryFeeRate": "", "deliveryTime": "0", "bid1Price": str(p - Decimal("0.1")), "bid1Size": "1.0",
            "ask1Price": str(p + Decimal("0.1")), "ask1Size": "1.0",
        }  # fmt: skip

    def _tickers(self, q: dict[str, Any]) -> dict[str, Any]:
        syms = [self._symbol(q)] if q.get("symbol") else self.symbols
        return {"category": "linear", "list": [self._ticker(s) for s in syms]}

    async def _create(self, q: dict[str, Any]) -> web.Response:
        if q.get("category") != "linear":
            return self._err(10001, "params error: category only linear in this fake")
        symbol, side, type_ = self._symbol(q), q["side"].lower(), q["orderType"].lower()
        qty = Decimal(str(q["qty"]))
        reduce_only = q.get("reduceOnly") in (True, "true")
        if reduce_only and not self.reduces(symbol, side, qty):
            return self._err(110017, "Reduce-only rule not satisfied")
        cid = q.get("orderLinkId") or ""
        delay = self.take_ack_delay()
        try:
            if cid and cid not in self.orders:
                self.reduce_only[cid] = reduce_only
            order = self.place(symbol, side, type_, qty, Decimal(str(q["price"])) if type_ == "limit" else None,
                               cid or None, tif=q.get("timeInForce") or "GTC")  # fmt: skip
        except OrderRefused as exc:
            if exc.kind == "duplicate":
                return self._err(110072, "OrderLinkedID is duplicate")
            return self._err(110007, "ab not enough for new order")
        if self.take_duplicate_answer():
            return self._err(110072, "OrderLinkedID is duplicate")
        if delay:
            import asyncio

            await asyncio.sleep(delay)
        return self._ok({"orderId": str(order.order_id), "orderLinkId": order.client_order_id})

    def _realtime(self, q: dict[str, Any]) -> web.Response:
        if q.get("category") != "linear":
            return self._ok({"category": q.get("category"), "list": [], "nextPageCursor": ""})
        if q.get("orderId") or q.get("orderLinkId"):
            found = self._find(q)
            rows = [found] if found else []
        else:
            rows = self.open_orders(self.by_id.get(q.get("symbol", "")) if q.get("symbol") else None)
        return self._ok({"category": "linear", "list": [self.order_json(o) for o in rows[:50]], "nextPageCursor": ""})

    def order_json(self, o: FakeOrder) -> dict[str, Any]:
        forced = self.forced.get(o.client_order_id)
        row = super().order_json(o)
        row.update({
            "orderLinkId": "" if forced else o.client_order_id, "category": "linear", "marketUnit": "",
            "reduceOnly": bool(forced) or self.reduce_only.get(o.client_order_id, False), "closeOnTrigger": False,
            "createType": FORCED[forced][0] if forced else "CreateByUser", "positionIdx": 0,
            "cumExecFee": str(sum((t.commission for t in self.trades if t.order is o), ZERO)),
        })  # fmt: skip
        return row

    def fee_of(self, t: FakeTrade) -> tuple[Decimal, str]:
        return t.commission, "USDT"

    def fee(self, order: FakeOrder, qty: Decimal, price: Decimal) -> Decimal:
        return (qty * price * TAKER).quantize(Decimal("0.00000001"))

    def execution_json(self, t: FakeTrade) -> dict[str, Any]:
        row = super().execution_json(t)
        forced = self.forced.get(t.order.client_order_id)
        row.update({
            "category": "linear", "orderLinkId": "" if forced else t.order.client_order_id,
            "execType": FORCED[forced][1] if forced else "Trade", "feeRate": str(TAKER),
            "markPrice": str(self.mark(t.order.symbol)), "indexPrice": str(self.prices[t.order.symbol]),
            "closedSize": str(getattr(t, "closed", "0")), "createType": FORCED[forced][0] if forced else "CreateByUser",
            "execPnl": str(getattr(t, "realized", ZERO)),
        })  # fmt: skip
        return row

    def _executions(self, q: dict[str, Any]) -> web.Response:
        """Newest first; `execType` filters (Funding rows are among all executions)."""
        if q.get("category") != "linear":
            return self._ok({"category": q.get("category"), "list": [], "nextPageCursor": ""})
        kind = q.get("execType")
        start = int(q.get("startTime") or 0)
        symbol = self.by_id.get(q.get("symbol", "")) if q.get("symbol") else None
        rows = [] if kind == "Funding" else [
            self.execution_json(t) for t in self.trades_for(symbol)
            if q.get("orderLinkId", t.order.client_order_id) == t.order.client_order_id
        ]  # fmt: skip
        if kind in (None, "Funding"):
            rows += [r for r in self.funding_rows if symbol in (None, self.by_id[r["symbol"]])]
        rows = [r for r in rows if int(r["execTime"]) >= start and kind in (None, r["execType"])]
        rows.sort(key=lambda r: int(r["execTime"]), reverse=True)
        limit = int(q.get("limit") or q.get("size") or 50)
        offset = int(q["cursor"].removeprefix("page:")) if q.get("cursor") else 0
        more = offset + limit < len(rows)
        return self._ok({"category": "linear", "list": rows[offset : offset + limit],
                         "nextPageCursor": f"page%3A{offset + limit}" if more else ""})  # fmt: skip

    def _wallet(self) -> dict[str, Any]:
        upnl = sum((self._upnl(s) for s in self.symbols), ZERO)
        return {"accountType": "UNIFIED", "totalEquity": str(self.wallet + upnl), "coin": [{
            "coin": "USDT", "walletBalance": str(self.wallet), "equity": str(self.wallet + upnl), "locked": "0",
            "availableToWithdraw": "", "borrowAmount": "0", "accruedInterest": "0", "totalOrderIM": "0",
            "totalPositionIM": "0", "unrealisedPnl": str(upnl),
        }]}  # fmt: skip

    # -- positions, leverage, margin mode ----------------------------------------------------------

    def liquidation_price(self, symbol: str) -> Decimal:
        """Bybit's isolated formula without the fee to close: long entry - (IM - MM) / size,
        short entry + (IM - MM) / size; cross: the wallet instead of IM."""
        pos = self.positions[symbol]
        if not pos.amount:
            return ZERO
        size = abs(pos.amount)
        im = size * pos.entry / pos.leverage if self.margin_mode == "ISOLATED_MARGIN" else self.wallet
        mm = size * pos.entry * Decimal(RISK_LIMITS[0][1])
        move = (im - mm) / size
        price = pos.entry - move if pos.amount > 0 else pos.entry + move
        return max(price, ZERO).quantize(Decimal("0.01"))

    def position_json(self, symbol: str) -> dict[str, Any]:
        pos = self.positions[symbol]
        size, mark = abs(pos.amount), self.mark(symbol)
        im = size * pos.entry / pos.leverage
        mm = size * pos.entry * Decimal(RISK_LIMITS[0][1])
        return {
            "positionIdx": 0, "riskId": 1, "riskLimitValue": RISK_LIMITS[0][0], "symbol": self.ids[symbol],
            "side": "" if not pos.amount else ("Buy" if pos.amount > 0 else "Sell"), "size": str(size),
            "avgPrice": str(pos.entry), "positionValue": str(size * pos.entry), "tradeMode": 0,
            "autoAddMargin": 0, "positionStatus": "Normal", "leverage": str(pos.leverage), "markPrice": str(mark),
            "liqPrice": str(self.liquidation_price(symbol)) if pos.amount else "", "bustPrice": "",
            "positionIM": str(im), "positionMM": str(mm), "positionBalance": str(im), "takeProfit": "0.00",
            "stopLoss": "0.00", "trailingStop": "0.00", "unrealisedPnl": str(self._upnl(symbol)),
            "curRealisedPnl": "0", "cumRealisedPnl": "0", "adlRankIndicator": 2, "isReduceOnly": False,
            "createdTime": str(pos.update_ms), "updatedTime": str(pos.update_ms), "seq": pos.update_ms,
        }  # fmt: skip

    def _position_list(self, q: dict[str, Any]) -> web.Response:
        if q.get("category") != "linear":
            return self._err(10001, "params error: category only linear in this fake")
        if not q.get("symbol") and not q.get("settleCoin"):
            return self._err(10001, "params error: symbol or settleCoin is required")
        wanted = [self.by_id[q["symbol"]]] if q.get("symbol") else self.symbols
        return self._ok({"category": "linear", "list": [self.position_json(s) for s in wanted], "nextPageCursor": ""})

    def _set_leverage(self, q: dict[str, Any]) -> web.Response:
        self.leverage_requests.append(q)
        symbol = self._symbol(q)
        buy, sell = Decimal(str(q.get("buyLeverage"))), Decimal(str(q.get("sellLeverage")))
        if self.refuse_leverage or buy != sell or not 1 <= buy <= Decimal(RISK_LIMITS[0][3]):
            msg, self.refuse_leverage = self.refuse_leverage or "leverage invalid", None
            return self._err(10001, msg)
        if int(buy) == self.positions[symbol].leverage:
            return self._err(110043, "Set leverage not modified")
        self.positions[symbol].leverage = int(buy)
        return self._ok({})

    def _set_margin_mode(self, q: dict[str, Any]) -> web.Response:
        mode = q.get("setMarginMode")
        if mode not in ("ISOLATED_MARGIN", "REGULAR_MARGIN", "PORTFOLIO_MARGIN"):
            return self._err(10001, "params error: setMarginMode")
        self.margin_mode = mode
        for pos in self.positions.values():
            pos.margin_type = "isolated" if mode == "ISOLATED_MARGIN" else "cross"
        return self._ok({"reasons": []})

    # -- what only the venue does ------------------------------------------------------------------

    def pay_funding(self, symbol: str, rate: Decimal | None = None) -> dict[str, Any]:
        """A funding time: an execution of execType Funding; execFee > 0 is paid (a long when the
        rate is positive), < 0 received."""
        pos = self.positions[symbol]
        rate = self.funding_rate[symbol] if rate is None else rate
        mark = self.mark(symbol)
        fee = (pos.amount * mark * rate).quantize(Decimal("0.00000001"))
        self.wallet -= fee
        at = self.stamp()
        row = {
            "category": "linear", "symbol": self.ids[symbol], "orderId": "", "orderLinkId": "",
            "side": "Buy" if pos.amount > 0 else "Sell", "orderPrice": "0", "orderQty": "0", "leavesQty": "0",
            "createType": "", "orderType": "UNKNOWN", "stopOrderType": "", "execFee": str(fee), "feeCurrency": "USDT",
            "execId": f"funding-{at}", "execPrice": str(mark), "execQty": str(abs(pos.amount)), "execType": "Funding",
            "execValue": str(abs(pos.amount) * mark), "execTime": str(at), "isMaker": False, "feeRate": str(rate),
            "markPrice": str(mark), "indexPrice": str(self.prices[symbol]), "blockTradeId": "", "closedSize": "0",
            "execPnl": "0", "seq": at,
        }  # fmt: skip
        self.funding_rows.append(row)
        self._push_topic("execution", [{"id": f"f{at}", "topic": "execution", "creationTime": at, "data": [row]}])
        return row

    def liquidate(self, symbol: str, *, adl: bool = False) -> FakeOrder:
        """Bybit closes the position itself: an order without orderLinkId (createType
        CreateByLiq, or CreateByAdl_PassThroughTrade), filled at once at the mark."""
        pos = self.positions[symbol]
        assert pos.amount, "no position to liquidate"
        key = f"bybit-forced-{next(self._forced_ids)}"
        self.forced[key] = "adl" if adl else "liquidation"
        side = "sell" if pos.amount > 0 else "buy"
        qty, at = abs(pos.amount), self.stamp()
        order = self.make_order(self.new_order_id(), key, symbol, side, "market", qty, None, at)
        order.update_ms = at
        self.orders[key] = order
        self.publish_order(order, None)
        self._execute(order, qty, self.mark(symbol))
        return order

    def publish_order(self, order: FakeOrder, trade: FakeTrade | None) -> None:
        super().publish_order(order, trade)
        if trade is not None:
            at = trade.time_ms
            self._push_topic(
                "position",
                [{"id": f"p{at}", "topic": "position", "creationTime": at, "data": [self.position_json(order.symbol)]}],
            )


__all__ = ["STATUS", "FakeBybitLinear"]
