"""WebullVenue: US stocks and ETFs at Webull through its OpenAPI (HTTP, HMAC-signed), over
aiohttp, on the shared polled-broker rules (`venues.polled`).

Webull's official SDK cannot be installed beside this project (it pins cryptography < 42), so
the adapter speaks Webull's documented HTTP API itself (developer.webull.com, "api-doc": the
Signature page and the Trade / Account / Instrument endpoints of its US OpenAPI):

- **signing**: headers x-app-key, x-timestamp (ISO 8601, UTC, seconds), x-signature-algorithm
  (HMAC-SHA1), x-signature-version (1.0), x-signature-nonce (new for every request) and
  x-signature. The string signed is the path, then `&` and every query parameter and those
  five headers plus `host` (names lower-cased, sorted by name, `k=v` joined by `&`, values
  not URL-encoded), then, when there is a body, `&` and the upper-case hex MD5 of the compact
  JSON body; the whole string percent-encoded (nothing kept safe) and signed with HMAC-SHA1
  under the app secret followed by `&`, base64.
- **accounts**: GET /app/subscriptions/list (account_id, account_number); balances GET
  /account/balance, holdings GET /account/positions.
- **instruments**: GET /instrument/list?symbols=&category=US_STOCK gives each symbol's
  instrument_id, which orders name. Webull's OpenAPI serves no market data here: quotes come
  from another venue.
- **orders**: POST /trade/order/place `{account_id, stock_order: {client_order_id, side, tif,
  extended_hours_trading, instrument_id, order_type, qty, limit_price, stop_price}}` (our
  client order id is Webull's `client_order_id`), POST /trade/order/cancel `{account_id,
  client_order_id}`, GET /trade/order/detail?client_order_id=, GET /trade/orders/list-today
  and /trade/orders/list-open (pages by last_client_order_id).
- an order shows its cumulative `filled_qty` and average `filled_price`, not executions: each
  increase is one fill (`venues.polled`: id `<order id>:<cumulative>`).
- rate limits: orders and cancels 1 a second, the order lists and details 10 in 30 seconds:
  the orders are polled at most every 3.5 s, with one list request a poll.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlsplit

from tui_trader.core.enums import AssetClass, OrderType, Side, TimeInForce
from tui_trader.core.errors import ConfigError, UserError
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Ticker
from tui_trader.core.orders import Order
from tui_trader.core.positions import Balance
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.base import VenueError
from tui_trader.venues.broker_order import BrokerOrder
from tui_trader.venues.polled import PolledVenue
from tui_trader.venues.resilience import TokenBucket
from tui_trader.venues.signed_http import Answer

HOSTS = {False: "https://api.webull.com", True: "http://us-openapi-alb.uat.webullbroker.com"}  # live, test
QUOTES_HOST = "https://data-api.webull.com"
STATES = {"SUBMITTED": "open", "PARTIAL_FILLED": "open", "PARTIAL FILLED": "open", "FILLED": "filled",
          "CANCELLED": "canceled", "FAILED": "rejected"}  # fmt: skip
TYPES = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP: "STOP_LOSS",
         OrderType.STOP_LIMIT: "STOP_LOSS_LIMIT"}  # fmt: skip
OUR_TYPE = {v: k.value for k, v in TYPES.items()}
PAGE = 100  # the lists' largest page
MAX_PAGES = 20  # pages of a list read at most


def dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def parse_time(raw: Any) -> datetime | None:
    if not raw:
        return None
    ts = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def sign(secret: str, path: str, params: dict[str, str], body: str) -> str:
    """Webull's signature of one request (its Signature page): `params` holds the query
    parameters and the signing headers with `host`, as sent (not URL-encoded)."""
    text = path + "&" + "&".join(f"{k}={params[k]}" for k in sorted(params))
    if body:
        text += "&" + hashlib.md5(body.encode()).hexdigest().upper()
    digest = hmac.new((secret + "&").encode(), quote(text, safe="").encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class WebullVenue(PolledVenue):
    kind = "webull"
    broker = "Webull"
    min_poll_s = 3.5  # the order lists allow 10 requests in 30 seconds

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        if not kw.get("order_rate"):  # Webull takes one order (or cancel) a second
            self.order_bucket = TokenBucket(1.0, 1.0)
        self.account_id = ""
        self._quote_note = False
        self._instrument_ids: dict[str, str] = {}  # symbol -> Webull's instrument_id

    @property
    def base_url(self) -> str:
        return (self.settings.url_override or HOSTS[self.settings.paper]).rstrip("/")

    def _check_credentials(self, keys: Credentials) -> None:
        if not (keys.api_key and keys.secret):
            raise ConfigError(f"venues.{self.name}: Webull needs your app key and app secret; run "
                              f"`tui-trader keys set {self.name}`")  # fmt: skip

    def _sign(
        self, method: str, base: str, path: str, query: dict[str, Any], qs: str, body: str, keys: Credentials
    ) -> dict[str, str]:
        headers = {
            "x-app-key": keys.api_key,
            "x-timestamp": self.clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-signature-algorithm": "HMAC-SHA1",
            "x-signature-version": "1.0",
            "x-signature-nonce": uuid.uuid4().hex,
        }
        params = {k: str(v) for k, v in headers.items()}
        params["host"] = urlsplit(base).netloc
        for k, v in query.items():
            params[k] = ",".join(map(str, v)) if isinstance(v, list) else str(v)
        version = "v2" if path.startswith("/market-data") else "v1"  # as Webull's SDK sends them
        return {**headers, "x-signature": sign(keys.secret, path, params, body), "x-version": version}

    def _refused_text(self, ans: Answer) -> str:
        data = ans.data if isinstance(ans.data, dict) else {}
        code, msg = data.get("error_code"), data.get("message")
        return f"{msg} ({code})" if msg and code else str(msg or code or ans.text[:200])

    # -- setup ------------------------------------------------------------------------------------

    async def _accounts(self, keys: Credentials | None = None) -> list[dict[str, Any]]:
        rows = await self._call("GET", "/app/subscriptions/list", what="accounts", keys=keys)
        return [r for r in (rows if isinstance(rows, list) else []) if isinstance(r, dict)]

    async def _same_account(self, keys: Credentials) -> None:
        accounts = await self._accounts(keys)
        if self.account_id not in {str(a.get("account_id")) for a in accounts}:
            shown = ", ".join(str(a.get("account_number")) for a in accounts) or "none"
            raise VenueError(f"{self.name}: these keys are not for the Webull account this venue trades "
                             f"(theirs: {shown})")  # fmt: skip

    async def _setup(self) -> None:
        accounts = await self._accounts()
        want = self.settings.account
        if want:
            match = [a for a in accounts if want in (str(a.get("account_id")), str(a.get("account_number")))]
            if not match:
                shown = ", ".join(str(a.get("account_number")) for a in accounts) or "none"
                raise ConfigError(f"venues.{self.name}.account: Webull has no account {want} for this app "
                                  f"(accounts: {shown})")  # fmt: skip
            self.account_id = str(match[0]["account_id"])
        elif len(accounts) == 1:
            self.account_id = str(accounts[0].get("account_id"))
        else:
            shown = ", ".join(str(a.get("account_number")) for a in accounts) or "none"
            raise ConfigError(f"venues.{self.name}.account: this app has {len(accounts)} Webull accounts "
                              f"({shown}); set account = \"NUMBER\" in the venue table")  # fmt: skip
        await self._load_instruments(list(self.settings.symbols))

    async def _load_instruments(self, symbols: list[str]) -> None:
        if not symbols:
            return
        rows = await self._call("GET", "/instrument/list", query={"symbols": ",".join(symbols),
                                "category": "US_STOCK"}, what="instruments")  # fmt: skip
        for row in rows if isinstance(rows, list) else []:
            symbol = str(row.get("symbol") or "").upper()
            if symbol and row.get("instrument_id"):
                self._instrument_ids[symbol] = str(row["instrument_id"])
                self.instruments[symbol] = Instrument(
                    symbol, self.name, symbol, str(row.get("currency") or "USD"), AssetClass.EQUITY,
                    Decimal("0.01"), Decimal(1), min_qty=Decimal(1), always_open=False, fractional=False,
                )  # fmt: skip
        missing = [s for s in symbols if s.upper() not in self._instrument_ids]
        if missing:
            raise ConfigError(f"venues.{self.name}.symbols: Webull lists no US stock or ETF {', '.join(missing)}")

    @property
    def quotes_url(self) -> str:
        return (self.settings.data_url_override or self.settings.url_override or QUOTES_HOST).rstrip("/")

    async def _quotes(self, symbols: Sequence[str]) -> list[Ticker]:
        """Last prices from Webull's market-data snapshot (a market-data subscription at Webull
        is needed; without one the quotes are marked down and orders still poll)."""
        try:
            query = {"symbols": ",".join(symbols), "category": "US_STOCK"}
            rows = await self._call("GET", "/market-data/snapshot", query=query, what="snapshot", attempts=1,
                                    base=self.quotes_url)  # fmt: skip
        except VenueError as exc:
            if not self._quote_note:
                self._quote_note = True
                self._notice("warning", f"no quotes from Webull ({exc}); market orders need one, limit orders go")
            for s in symbols:
                self.streams.down(f"quote:{s}", "snapshot refused")
            return []
        now = self.clock.now()
        out = []
        for row in rows if isinstance(rows, list) else []:
            price = float(dec(row.get("price")))
            if price > 0:
                symbol = str(row.get("symbol", "")).upper()
                prior, volume = float(dec(row.get("pre_close"))), float(dec(row.get("volume")))
                out.append(Ticker(self.name, symbol, now, price, price, price, open_24h=prior, volume_24h=volume))
        return out

    async def fetch_balances(self) -> dict[str, Balance]:
        """Per currency: the cash and the holdings at Webull's `market_value` (the account's
        value: stocks held there from before tui_trader are in it), with that value of each
        holding (`Balance.valued`: the engine takes out the part it holds itself)."""
        return (await self.fetch_account())[0]

    async def fetch_positions(self) -> dict[str, Decimal]:
        """Quantities Webull holds per symbol; a check on our fill-based positions."""
        return {symbol: qty for symbol, qty, _ in await self._holdings()}

    async def fetch_account(self) -> tuple[dict[str, Balance], dict[str, Decimal]]:
        """The balances and the holdings from one read of each (Webull allows 10 reads of the
        holdings in 30 s: the balances value them, read once for both)."""
        data = await self._call("GET", "/account/balance", query={"account_id": self.account_id,
                                "total_asset_currency": "USD"}, what="balance")  # fmt: skip
        data = data if isinstance(data, dict) else {}
        held = await self._holdings()
        out: dict[str, Balance] = {}
        for row in data.get("account_currency_assets") or []:
            cur = str(row.get("currency") or "USD")
            cash = dec(row.get("cash_balance"))
            power = row.get("buying_power", row.get("cash_power"))
            valued = tuple((sym, qty, dec(r.get("market_value"))) for sym, qty, r in held
                           if qty and str(r.get("currency") or "USD") == cur)  # fmt: skip
            total = cash + sum((v for _, _, v in valued), Decimal(0))
            out[cur] = Balance(cur, total, dec(power) if power is not None else cash, valued=valued)
        if not out:
            cash = dec(data.get("total_cash_balance"))
            out["USD"] = Balance("USD", cash, cash)
        return out, {symbol: qty for symbol, qty, _ in held}

    async def _holdings(self) -> list[tuple[str, Decimal, dict[str, Any]]]:
        """(symbol, quantity, the row) of each of Webull's holdings, page after page (100 a page
        at most, the next after the page's last `instrument_id`)."""
        rows: list[dict[str, Any]] = []
        query: dict[str, Any] = {"account_id": self.account_id, "page_size": PAGE}
        for _ in range(MAX_PAGES):
            data = await self._call("GET", "/account/positions", query=query, what="positions")
            data = data if isinstance(data, dict) else {}
            page = [r for r in data.get("holdings") or [] if isinstance(r, dict)]
            rows += page
            if not page or not data.get("has_next") or not page[-1].get("instrument_id"):
                break
            query = {**query, "last_instrument_id": str(page[-1]["instrument_id"])}
        else:
            raise VenueError(f"{self.name}: more than {MAX_PAGES * PAGE} holdings listed; not read")
        return [(str(r["symbol"]), dec(r.get("qty")), r) for r in rows if r.get("symbol")]

    # -- orders -----------------------------------------------------------------------------------

    def _order_request(self, order: Order, inst: Instrument | None, broker_cid: str) -> tuple[str, str, dict[str, Any]]:
        kind = TYPES.get(order.type)
        if kind is None:
            raise UserError(f"{order.type.value} orders are emulated by the engine, not sent to Webull")
        iid = self._instrument_ids.get(order.symbol.upper())
        if iid is None:
            raise UserError(f"{order.symbol} is not in [venues.{self.name}] symbols; add it and restart")
        qty = order.quantity
        if qty <= 0 or qty != qty.to_integral_value():
            raise UserError(f"Webull's OpenAPI trades whole shares only; {order.quantity} is not one")
        extended = inst is not None and not self.session(inst, self.clock.now()).is_open
        if extended and order.type is not OrderType.LIMIT:
            raise UserError(f"market closed: Webull's extended hours take limit orders only, not {order.type.value}")
        stock: dict[str, Any] = {
            "client_order_id": broker_cid, "side": order.side.value.upper(),
            "tif": "GTC" if order.time_in_force is TimeInForce.GTC else "DAY",
            "extended_hours_trading": extended, "instrument_id": iid, "order_type": kind, "qty": str(int(qty)),
        }  # fmt: skip
        if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            stock["limit_price"] = str(inst.round_price(order.price) if inst and order.price else order.price)
        if order.type in (OrderType.STOP, OrderType.STOP_LIMIT):
            stock["stop_price"] = str(
                inst.round_price(order.stop_price) if inst and order.stop_price else order.stop_price
            )
        return "POST", "/trade/order/place", {"account_id": self.account_id, "stock_order": stock}

    def _placed_id(self, data: Any) -> str | None:
        if not isinstance(data, dict):
            return None
        vid = data.get("order_id") or data.get("client_order_id")  # Webull knows an order by either
        return str(vid) if vid else None

    def _cancel_request(self, vid: str, order: Order) -> tuple[str, str, dict[str, Any] | None]:
        return "POST", "/trade/order/cancel", {"account_id": self.account_id, "client_order_id": order.client_order_id}

    def _parse(self, raw: dict[str, Any]) -> BrokerOrder:
        item = (raw.get("items") or [{}])[0]
        kind = str(item.get("order_type") or "MARKET")
        price = item.get("limit_price") or item.get("stop_price")
        filled = dec(item.get("filled_qty"))
        return BrokerOrder(
            venue_order_id=str(raw.get("order_id") or item.get("order_id") or ""),
            broker_client_id=str(raw.get("client_order_id") or ""),
            symbol=str(item.get("symbol") or "").upper(),
            side=Side.BUY if str(item.get("side")).upper() == "BUY" else Side.SELL,
            type=OUR_TYPE.get(kind, "market"),
            quantity=dec(item.get("qty")),
            filled=filled,
            price=dec(price) if price else None,
            status=STATES.get(str(item.get("order_status") or "SUBMITTED").upper(), "open"),
            created=parse_time(item.get("place_time")) or self.clock.now(),
            reason="webull: the order failed" if str(item.get("order_status")).upper() == "FAILED" else "",
            average=dec(item.get("filled_price")) if filled > 0 else None,
            last_fill=parse_time(item.get("last_filled_time")),
        )

    async def _pages(self, path: str, *, what: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        last = ""
        for _ in range(MAX_PAGES):
            query: dict[str, Any] = {"account_id": self.account_id, "page_size": PAGE}
            if last:
                query["last_client_order_id"] = last
            data = await self._call("GET", path, query=query, what=what)
            data = data if isinstance(data, dict) else {}
            rows = [r for r in data.get("orders") or [] if isinstance(r, dict)]
            out += rows
            if not rows or not (data.get("has_next") or data.get("hasNext")):
                break
            last = str(rows[-1].get("client_order_id") or "")
        return out

    async def _list_since(self, since: datetime) -> list[dict[str, Any]]:
        """Today's orders, and by detail any order still working here that today's list lacks
        (a good-till-cancelled order from an earlier day)."""
        rows = await self._pages("/trade/orders/list-today", what="today's orders")
        seen = {str(r.get("client_order_id")) for r in rows}
        for cid in [c for c in self._working if c not in seen and not c.startswith("ext-")]:
            raw = await self._detail(cid)
            if raw is not None:
                rows.append(raw)
        return rows

    async def _list_open(self) -> list[dict[str, Any]]:
        return await self._pages("/trade/orders/list-open", what="open orders")

    async def _detail(self, cid: str) -> dict[str, Any] | None:
        """One order by its client order id; None when Webull says there is none."""
        try:
            data = await self._call("GET", "/trade/order/detail", query={"account_id": self.account_id,
                                    "client_order_id": cid}, what="order", ok_404=True)  # fmt: skip
        except VenueError as exc:
            if "NOT_FOUND" in str(exc) or "NOT_EXIST" in str(exc):
                return None
            raise
        return data if isinstance(data, dict) and data.get("client_order_id") else None

    async def _get(self, vid: str, order_cid: str) -> dict[str, Any] | None:
        return await self._detail(order_cid)

    async def _find(self, broker_cid: str, since: datetime) -> dict[str, Any] | None:
        return await self._detail(broker_cid)

    async def cancel_order(self, order: Order) -> None:
        if order.client_order_id.startswith("ext-"):
            self._cancel_refused(order, "Webull cancels by client order id; this order was placed elsewhere "
                                        "(cancel it in Webull's app)")  # fmt: skip
            return
        await super().cancel_order(order)
