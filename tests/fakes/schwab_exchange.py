"""A loopback fake Charles Schwab (Trader API REST, OAuth token endpoint, streamer socket).

Written from Schwab's published API documents (the Trader API and Market Data OpenAPI
specifications, the Streamer API guide), not from our adapter: schwab-py talks to it as it
talks to api.schwabapi.com (the adapter's `url_override` routes that host here).

OAuth   POST /v1/oauth/token: grant_type=authorization_code (the pasted redirect's code) and
        refresh_token; HTTP Basic app key:secret; access tokens last `access_ttl_s`.
REST    /trader/v1/accounts/accountNumbers, /trader/v1/accounts/{hash}[?fields=positions],
        /trader/v1/userPreference (streamerInfo points at our socket),
        /trader/v1/accounts/{hash}/orders (POST: 201 + Location, no body; GET: the list,
        fromEnteredTime and toEnteredTime required), .../orders/{id} (GET, DELETE),
        /marketdata/v1/markets (equity hours), /marketdata/v1/pricehistory
WS      /ws  {"requests": [...]}: ADMIN LOGIN (code 3 and the socket closed for a bad token),
        LEVELONE_EQUITIES and ACCT_ACTIVITY SUBS/ADD; data frames with numbered fields,
        heartbeats {"notify": [{"heartbeat": ms}]}; account activity messages name the order
        (`SchwabOrderID` in the message data).

Schwab takes no client order id: `place` gets none and orders are known by Schwab's own
numbers. Faults: FakeMarket's (HTTP status / late answers, drops, stalls, private stall,
duplicate and reordered private messages; `mute_stream(symbol)`: that symbol's level-one
quotes stop, heartbeats and the rest flowing, as a quiet symbol's after the close) plus
`expire_access_tokens`, `expire_refresh_tokens`, `set_market`. Every order the fake made is
in `orders`.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from fakes.fake_market import FakeMarket, FakeOrder, FakeTrade, OrderRefused

ACCOUNT = "12345678"
ACCOUNT_HASH = "E5B7A8C3F0D1ACCOUNTHASH"
CALLBACK = "https://127.0.0.1:8182"
OPEN_STATUSES = ("new", "accepted", "partially_filled")


def schwab_time(ms: int) -> str:
    """Schwab's order times: 2024-03-29T13:30:00+0000."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class SchwabOrder(FakeOrder):
    stop_price: Decimal | None = None
    duration: str = "DAY"
    session: str = "NORMAL"
    triggered: bool = False
    status_description: str = ""
    executions: list[FakeTrade] = field(default_factory=list)

    @property
    def schwab_status(self) -> str:
        if self.status == "filled":
            return "FILLED"
        if self.status == "canceled":
            return "CANCELED"
        if self.status == "rejected":
            return "REJECTED"
        if self.status == "accepted":
            return "QUEUED"
        if self.stop_price is not None and not self.triggered:
            return "PENDING_ACTIVATION"
        return "WORKING"

    def to_json(self) -> dict[str, Any]:
        kind = {"market": "MARKET", "limit": "LIMIT", "stop": "STOP", "stop-limit": "STOP_LIMIT"}[self.type]
        body: dict[str, Any] = {
            "session": self.session,
            "duration": self.duration,
            "orderType": kind,
            "complexOrderStrategyType": "NONE",
            "quantity": float(self.quantity),
            "filledQuantity": float(self.executed),
            "remainingQuantity": float(self.remaining),
            "requestedDestination": "AUTO",
            "destinationLinkName": "AutoRoute",
            "orderLegCollection": [{
                "orderLegType": "EQUITY",
                "legId": 1,
                "instrument": {"assetType": "EQUITY", "cusip": "000000000", "symbol": self.symbol,
                               "instrumentId": 1000 + sum(map(ord, self.symbol))},
                "instruction": self.side.upper(),
                "positionEffect": "OPENING",
                "quantity": float(self.quantity),
            }],
            "orderStrategyType": "SINGLE",
            "orderId": int(self.order_id),
            "cancelable": self.is_open,
            "editable": self.is_open,
            "status": self.schwab_status,
            "enteredTime": schwab_time(self.time_ms),
            "accountNumber": int(ACCOUNT),
        }  # fmt: skip
        if self.price is not None:
            body["price"] = float(self.price)
        if self.stop_price is not None:
            body["stopPrice"] = float(self.stop_price)
        if not self.is_open:
            body["closeTime"] = schwab_time(self.update_ms or self.time_ms)
        if self.status_description:
            body["statusDescription"] = self.status_description
        if self.executions:
            body["orderActivityCollection"] = [
                {
                    "activityType": "EXECUTION",
                    "activityId": 90000 + int(t.trade_id),
                    "executionType": "FILL",
                    "quantity": float(t.qty),
                    "orderRemainingQuantity": float(self.quantity - sum(x.qty for x in self.executions[: i + 1])),
                    "executionLegs": [{"legId": 1, "quantity": float(t.qty), "mismarkedQuantity": 0.0,
                                       "price": float(t.price), "time": schwab_time(t.time_ms),
                                       "instrumentId": 1000 + sum(map(ord, self.symbol))}],
                }
                for i, t in enumerate(self.executions)
            ]  # fmt: skip
        return body


class FakeSchwab(FakeMarket):
    """FakeMarket's server and sockets with Schwab's wire formats, OAuth and order model."""

    def __init__(
        self,
        *,
        app_key: str = "fake-app-key",
        app_secret: str = "fake-app-secret",
        symbols: tuple[str, ...] = ("AAPL", "MSFT"),
        seed: int = 7,
        access_ttl_s: float = 1800.0,
    ) -> None:
        super().__init__(symbols, api_key=app_key, seed=seed)
        self.app_secret = app_secret
        self.prices = {s: Decimal("190.00") + 200 * i for i, s in enumerate(symbols)}
        self.cash = Decimal("100000")
        self.market_is_open = True
        self.extended_open = False
        self.access_ttl_s = access_ttl_s
        self.heartbeat_s = 0.2
        self.access_tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self.refresh_tokens: set[str] = set()
        self.codes: set[str] = {"fake-code-1"}
        self.token_requests: list[str] = []  # grant types asked for
        self.login_denials = 0
        self._deny_logins = 0
        self._tokens = itertools.count(1)
        self._order_ids = itertools.count(1_000_000_001)
        self._seq = itertools.count(1)
        self._streamers: dict[web.WebSocketResponse, dict[str, Any]] = {}  # socket -> its subscriptions
        self._heartbeat: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, *, tick_interval_s: float = 0.05) -> FakeSchwab:
        await super().start(tick_interval_s=tick_interval_s)
        self._heartbeat = asyncio.create_task(self._heartbeats(), name="fake-schwab-heartbeat")
        return self

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        await super().stop()

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/ws", self._ws)
        app.router.add_post("/v1/oauth/token", self._token)
        app.router.add_route("*", "/trader/v1/{tail:.*}", self._http)
        app.router.add_route("*", "/marketdata/v1/{tail:.*}", self._http)

    def issue_token(self) -> str:
        """A login as `keys set` stores it (schwab-py's format), made with a fresh token pair."""
        token = self._new_tokens()
        return json.dumps({"creation_timestamp": int(time.time()), "token": token})

    def venue_settings(self, **extra: Any) -> Any:
        from tui_trader.config.venues import VenueSettings

        return VenueSettings(
            kind="schwab",
            symbols=extra.pop("symbols", list(self.symbols)),
            url_override=self.url,
            stall_after_s=extra.pop("stall_after_s", 0.6),
            backoff_base_s=0.05,
            backoff_cap_s=0.2,
            **extra,
        )

    # -- faults ------------------------------------------------------------------------------

    def expire_access_tokens(self) -> None:
        """Every access token given so far stops working (Schwab ended them early)."""
        self.faults_injected.append("access_expired")
        self.access_tokens.clear()

    def expire_refresh_tokens(self) -> None:
        """The 7-day refresh token ran out: refreshing is refused; a new login is needed."""
        self.faults_injected.append("refresh_expired")
        self.refresh_tokens.clear()
        self.access_tokens.clear()

    def deny_next_login(self, count: int = 1) -> None:
        """The streamer refuses the next LOGIN as expired (code 3) while REST still takes the
        token: its own check ran at the moment the token ran out."""
        self.faults_injected.append("login_denied")
        self._deny_logins += count

    def set_market(self, is_open: bool, *, extended: bool = False) -> None:
        self.market_is_open = is_open
        self.extended_open = extended

    # -- Schwab's rules (FakeMarket's hooks) --------------------------------------------------

    def stamp(self) -> int:
        return int(time.time() * 1000)  # Schwab's times are the wall clock

    def make_order(
        self, order_id: int | str, cid: str, symbol: str, side: str, type_: str, quantity: Decimal,
        price: Decimal | None, time_ms: int, **fields: Any,
    ) -> SchwabOrder:  # fmt: skip
        return SchwabOrder(order_id, cid, symbol, side, type_, quantity, price, time_ms, **fields)

    def quote(self, symbol: str) -> tuple[Decimal, Decimal]:
        p = self.prices[symbol]
        return p - Decimal("0.01"), p + Decimal("0.01")

    def half_step(self, order: FakeOrder) -> Decimal:
        return Decimal(1)  # whole shares

    def fee(self, order: FakeOrder, qty: Decimal, price: Decimal) -> Decimal:
        return Decimal(0)

    def execution_price(self, order: FakeOrder) -> Decimal | None:
        if not self.market_is_open:
            return None
        bid, ask = self.quote(order.symbol)
        return ask if order.side == "buy" else bid

    def crosses(self, order: FakeOrder) -> bool:
        assert isinstance(order, SchwabOrder) and order.price is not None
        if not (self.market_is_open or (self.extended_open and order.session != "NORMAL")):
            return False
        if order.stop_price is not None and not order.triggered:
            return False
        bid, ask = self.quote(order.symbol)
        return order.price >= ask if order.side == "buy" else order.price <= bid

    def _cross(self, symbol: str) -> None:
        """Stops trigger on the quote (buy: the ask reaches the stop; sell: the bid), then trade
        as a market order (STOP) or rest as a limit (STOP_LIMIT)."""
        if self.market_is_open:
            bid, ask = self.quote(symbol)
            for order in list(self.orders.values()):
                if not (isinstance(order, SchwabOrder) and order.symbol == symbol and order.is_open):
                    continue
                if order.stop_price is None or order.triggered:
                    continue
                reached = ask >= order.stop_price if order.side == "buy" else bid <= order.stop_price
                if reached:
                    order.triggered = True
                    if order.price is None:
                        self._execute(order, order.remaining, ask if order.side == "buy" else bid)
        super()._cross(symbol)

    def make_trade(self, order: FakeOrder, qty: Decimal, price: Decimal, time_ms: int) -> FakeTrade:
        trade = FakeTrade(self.new_trade_id(), order, qty, price, time_ms)
        assert isinstance(order, SchwabOrder)
        order.executions.append(trade)
        return trade

    def settle(self, trade: FakeTrade) -> None:
        sign = 1 if trade.order.side == "buy" else -1
        self.cash -= sign * trade.qty * trade.price

    def _held(self) -> Decimal:
        return sum((self.position(s) * self.prices[s] for s in self.symbols), Decimal(0))

    def position(self, symbol: str) -> Decimal:
        return sum((t.qty if t.order.side == "buy" else -t.qty for t in self.trades if t.order.symbol == symbol),
                   Decimal(0))  # fmt: skip

    def publish_order(self, order: FakeOrder, trade: FakeTrade | None) -> None:
        """An ACCT_ACTIVITY message naming the order."""
        if trade is not None:
            kind = "OrderFillCompleted" if order.status == "filled" else "ExecutionCreated"
        elif order.status == "canceled":
            kind = "OrderUROutCompleted"
        elif order.status in ("new", "accepted"):
            kind = "OrderAccepted"
        else:
            return
        data = {"SchwabOrderID": str(order.order_id), "AccountNumber": ACCOUNT, "BaseEvent": {"EventType": kind}}
        frames = []
        for ws, subs in self._streamers.items():
            key = subs.get("ACCT_ACTIVITY")
            if key is not None:
                content = [{"seq": next(self._seq), "key": key, "1": ACCOUNT, "2": kind, "3": json.dumps(data)}]
                frames.append((ws, {"data": [{"service": "ACCT_ACTIVITY", "timestamp": self.stamp(),
                                              "command": "SUBS", "content": content}]}))  # fmt: skip
        for ws, frame in frames:
            self.push_private([ws], [frame])

    async def publish_tick(self, prints: dict[str, dict[str, Any]]) -> None:
        now = self.stamp()
        for ws, subs in list(self._streamers.items()):
            symbols = [s for s in subs.get("LEVELONE_EQUITIES", ()) if s in prints and s not in self._muted]
            if not symbols:
                continue
            content = []
            for s in symbols:
                bid, ask = self.quote(s)
                last = float(self.prices[s])
                content.append({"key": s, "delayed": False, "1": float(bid), "2": float(ask), "3": last,
                                "4": 3, "5": 2, "9": 100, "34": now, "35": now})  # fmt: skip
            await self.send_public(ws, {"data": [{"service": "LEVELONE_EQUITIES", "timestamp": now,
                                                  "command": "SUBS", "content": content}]})  # fmt: skip

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            if self._stalled:
                continue
            for ws in list(self._streamers):
                await self.send(ws, {"notify": [{"heartbeat": str(self.stamp())}]})

    # -- OAuth -------------------------------------------------------------------------------

    def _new_tokens(self) -> dict[str, Any]:
        n = next(self._tokens)
        access, refresh = f"fake-access-{n}", f"fake-refresh-{n}"
        self.access_tokens[access] = time.monotonic() + self.access_ttl_s
        self.refresh_tokens.add(refresh)
        return {"expires_in": int(self.access_ttl_s), "token_type": "Bearer", "scope": "api",
                "refresh_token": refresh, "access_token": access, "id_token": f"fake-id-{n}",
                "expires_at": int(time.time() + self.access_ttl_s)}  # fmt: skip

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        return self.access_tokens.get(token, 0) > time.monotonic()

    async def _token(self, request: web.Request) -> web.Response:
        self.log_request("POST", "/v1/oauth/token")
        expected = "Basic " + base64.b64encode(f"{self.api_key}:{self.app_secret}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error": "invalid_client"}, status=401)
        form = {k: v[0] for k, v in parse_qs(await request.text()).items()}
        grant = form.get("grant_type", "")
        self.token_requests.append(grant)
        if grant == "authorization_code" and form.get("code") in self.codes:
            if form.get("redirect_uri") != CALLBACK:
                return web.json_response({"error": "invalid_request", "error_description": "redirect_uri"}, status=400)
            self.codes.discard(form["code"])
            return web.json_response(self._new_tokens())
        if grant == "refresh_token" and form.get("refresh_token") in self.refresh_tokens:
            token = self._new_tokens()
            self.refresh_tokens.discard(token["refresh_token"])  # Schwab keeps the refresh token
            token["refresh_token"] = form["refresh_token"]
            return web.json_response(token)
        return web.json_response({"error": "refresh_token_authentication_error",
                                  "error_description": "Failed refresh token authentication"}, status=400)  # fmt: skip

    # -- REST --------------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, message: str) -> web.Response:
        return web.json_response({"message": message, "errors": [message]}, status=status)

    async def _http(self, request: web.Request) -> web.StreamResponse:
        path, method = request.path, request.method
        self.log_request(method, path)
        fault = self.take_fault(method, path)
        if fault is not None and fault.status == 0:  # answered, but after the client gave up
            await asyncio.sleep(fault.delay)
            fault = None
        if fault is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return self._error(fault.status, "fault") if fault.status != 429 else web.json_response(
                {"message": "Too many requests"}, status=429, headers=headers)  # fmt: skip
        if not self._authorized(request):
            return self._error(401, "Client not authorized")
        q = dict(request.query)
        base = f"/trader/v1/accounts/{ACCOUNT_HASH}"
        if path == "/trader/v1/accounts/accountNumbers":
            return web.json_response([{"accountNumber": ACCOUNT, "hashValue": ACCOUNT_HASH}])
        if path == "/trader/v1/userPreference":
            return web.json_response(self._preferences())
        if path == base:
            return web.json_response(self._account("positions" in q.get("fields", "")))
        if path == f"{base}/orders" and method == "POST":
            return await self._place(await request.json())
        if path == f"{base}/orders":
            return self._list(q)
        if path.startswith(f"{base}/orders/"):
            order = self.by_order_id(path.rsplit("/", 1)[-1])
            if order is None:
                return self._error(404, "Order not found")
            if method == "DELETE":
                if not self.cancel(order):
                    return self._error(400, "Order is not cancelable")
                return web.Response(status=200)
            return web.json_response(order.to_json())  # type: ignore[attr-defined]
        if path == "/marketdata/v1/markets":
            return web.json_response(self._hours())
        if path == "/marketdata/v1/pricehistory":
            return web.json_response(self._candles(q))
        return self._error(404, f"fake schwab has no {method} {path}")

    def _preferences(self) -> dict[str, Any]:
        return {
            "accounts": [{"accountNumber": ACCOUNT, "primaryAccount": True, "type": "BROKERAGE",
                          "nickName": "Individual", "displayAcctId": "...678", "autoPositionEffect": False,
                          "accountColor": "Green"}],
            "streamerInfo": [{"streamerSocketUrl": f"{self.ws_url}/ws", "schwabClientCustomerId": "fake-customer",
                              "schwabClientCorrelId": "fake-correl-0001", "schwabClientChannel": "N9",
                              "schwabClientFunctionId": "APIAPP"}],
            "offers": [{"level2Permissions": True, "mktDataPermission": "NP"}],
        }  # fmt: skip

    def _account(self, positions: bool) -> dict[str, Any]:
        acct: dict[str, Any] = {
            "type": "CASH", "accountNumber": ACCOUNT, "roundTrips": 0, "isDayTrader": False,
            "isClosingOnlyRestricted": False, "pfcbFlag": False,
            # Schwab's cash account balances: the cash, and the liquidation value (the cash and the
            # positions' market value, `longMarketValue`)
            "currentBalances": {"cashAvailableForTrading": float(self.cash), "totalCash": float(self.cash),
                                "cashBalance": float(self.cash), "longMarketValue": float(self._held()),
                                "liquidationValue": float(self.cash + self._held()),
                                "cashAvailableForWithdrawal": float(self.cash), "unsettledCash": 0.0},
        }  # fmt: skip
        if positions:
            acct["positions"] = [
                {"longQuantity": float(max(q, 0)), "shortQuantity": float(max(-q, 0)),
                 "averagePrice": float(self.prices[s]),
                 "marketValue": float(q * self.prices[s]),
                 "instrument": {"assetType": "EQUITY", "cusip": "000000000", "symbol": s}}
                for s in self.symbols if (q := self.position(s))
            ]  # fmt: skip
        return {"securitiesAccount": acct}

    async def _place(self, body: dict[str, Any]) -> web.Response:
        try:
            leg = body["orderLegCollection"][0]
            symbol = leg["instrument"]["symbol"]
            qty = Decimal(str(leg["quantity"]))
            kind = {"MARKET": "market", "LIMIT": "limit", "STOP": "stop", "STOP_LIMIT": "stop-limit"}[body["orderType"]]
            side = {"BUY": "buy", "SELL": "sell"}[leg["instruction"]]
        except (KeyError, IndexError, TypeError):
            return self._error(400, "A validation error occurred while processing the request.")
        if symbol not in self.prices:
            return self._error(400, f"Symbol {symbol} is invalid")
        if qty != qty.to_integral_value() or qty <= 0:
            return self._error(400, "Quantity must be a whole number of shares")
        if kind == "market" and body.get("duration") != "DAY":
            return self._error(400, "Market orders must be DAY orders")
        price = None if body.get("price") is None else Decimal(str(body["price"]))
        stop = None if body.get("stopPrice") is None else Decimal(str(body["stopPrice"]))
        if (kind in ("limit", "stop-limit") and price is None) or (kind in ("stop", "stop-limit") and stop is None):
            return self._error(400, "A price is required for this order type")
        try:
            order = self.place(symbol, side, kind, qty, price, None, tif=str(body.get("duration")),
                               stop_price=stop, duration=str(body.get("duration")),
                               session=str(body.get("session", "NORMAL")))  # fmt: skip
        except OrderRefused:
            return self._error(400, "Your buying power is insufficient for this order")
        if delay := self.take_ack_delay():
            await asyncio.sleep(delay)
        location = f"https://api.schwabapi.com/trader/v1/accounts/{ACCOUNT_HASH}/orders/{order.order_id}"
        return web.Response(status=201, headers={"Location": location})

    def new_order_id(self) -> int | str:
        return next(self._order_ids)

    def _list(self, q: dict[str, str]) -> web.Response:
        try:
            lo = datetime.fromisoformat(q["fromEnteredTime"].replace("Z", "+00:00"))
            hi = datetime.fromisoformat(q["toEnteredTime"].replace("Z", "+00:00"))
        except (KeyError, ValueError):
            return self._error(400, "fromEnteredTime and toEnteredTime are required (yyyy-MM-dd'T'HH:mm:ss.SSSZ)")
        if hi - lo > timedelta(days=60, minutes=2) or lo < datetime.now(UTC) - timedelta(days=60, minutes=1):
            return self._error(400, "fromEnteredTime must be within 60 days from today's date")
        want = q.get("status")
        rows = []
        for o in self.orders.values():
            assert isinstance(o, SchwabOrder)
            at = datetime.fromtimestamp(o.time_ms / 1000, UTC).replace(microsecond=0)
            if lo <= at <= hi and (want is None or o.schwab_status == want):
                rows.append(o)
        rows.sort(key=lambda o: o.time_ms, reverse=True)
        return web.json_response([o.to_json() for o in rows[: int(q.get("maxResults") or 3000)]])

    def _hours(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        day = now.date().isoformat()

        def span(start_h: float, end_h: float) -> list[dict[str, str]]:
            start, end = now + timedelta(hours=start_h), now + timedelta(hours=end_h)
            return [{"start": start.isoformat(), "end": end.isoformat()}]

        if self.market_is_open:
            regular, pre, post = span(-1, 5), span(-3, -1), span(5, 9)
        else:  # after the close: the regular session is over; the post-market may be open
            regular, pre = span(-8, -2), span(-10, -8)
            post = span(-1, 3) if self.extended_open else span(-2, -0.01)
        return {"equity": {"EQ": {"date": day, "marketType": "EQUITY", "product": "EQ", "productName": "equity",
                                  "isOpen": True, "sessionHours": {"preMarket": pre, "regularMarket": regular,
                                                                   "postMarket": post}}}}  # fmt: skip

    def _candles(self, q: dict[str, str]) -> dict[str, Any]:
        symbol = q.get("symbol", "")
        if symbol not in self.prices:
            return {"candles": [], "symbol": symbol, "empty": True}
        end = int(q.get("endDate") or self.stamp())
        start = int(q.get("startDate") or end - 3_600_000)
        step = 60_000 * int(q.get("frequency") or 1)
        p = float(self.prices[symbol])
        candles = [{"open": p, "high": p + 0.05, "low": p - 0.05, "close": p, "volume": 1000, "datetime": t}
                   for t in range(start - start % step, end, step)][-500:]  # fmt: skip
        return {"candles": candles, "symbol": symbol, "empty": not candles}

    # -- the streamer ------------------------------------------------------------------------

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        ws = await self.open_socket(request)
        logged_in = False
        try:
            async for frame in self.json_frames(ws):
                for req in frame.get("requests", []):
                    service, command = req.get("service"), req.get("command")
                    if service == "ADMIN" and command == "LOGIN":
                        token = (req.get("parameters") or {}).get("Authorization", "")
                        if self._deny_logins or self.access_tokens.get(token, 0) <= time.monotonic():
                            self._deny_logins = max(0, self._deny_logins - 1)
                            self.login_denials += 1
                            denied = "Login Denied.: token is invalid or has expired."
                            await self.send(ws, self._response(req, 3, denied))
                            await ws.close()
                            return ws
                        logged_in = True
                        self._streamers[ws] = {}
                        await self.send(ws, self._response(req, 0, "server=fake-1;status=NP"))
                        continue
                    if not logged_in:
                        await self.send(ws, self._response(req, 20, "No connection found for user"))
                        continue
                    params = req.get("parameters") or {}
                    keys = [k for k in str(params.get("keys", "")).split(",") if k]
                    subs = self._streamers[ws]
                    if service == "ACCT_ACTIVITY" and command == "SUBS":
                        subs["ACCT_ACTIVITY"] = keys[0] if keys else ""
                        await self.send(ws, self._response(req, 0, "SUBS command succeeded"))
                        content = [{"seq": next(self._seq), "key": subs["ACCT_ACTIVITY"], "1": ACCOUNT,
                                    "2": "SUBSCRIBED", "3": ""}]  # fmt: skip
                        await self.send(ws, {"data": [{"service": "ACCT_ACTIVITY", "timestamp": self.stamp(),
                                                       "command": "SUBS", "content": content}]})  # fmt: skip
                    elif service == "LEVELONE_EQUITIES" and command in ("SUBS", "ADD"):
                        current = set() if command == "SUBS" else set(subs.get("LEVELONE_EQUITIES", ()))
                        subs["LEVELONE_EQUITIES"] = current | set(keys)
                        await self.send(ws, self._response(req, 0, f"{command} command succeeded"))
                    else:
                        await self.send(ws, self._response(req, 21, "Command fails to match specification"))
        finally:
            self._streamers.pop(ws, None)
            self.forget_socket(ws)
        return ws

    def _response(self, req: dict[str, Any], code: int, msg: str) -> dict[str, Any]:
        return {"response": [{
            "service": req.get("service"), "command": req.get("command"), "requestid": req.get("requestid"),
            "SchwabClientCorrelId": req.get("SchwabClientCorrelId"), "timestamp": self.stamp(),
            "content": {"code": code, "msg": msg},
        }]}  # fmt: skip
