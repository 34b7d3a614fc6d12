"""RobinhoodVenue: crypto at Robinhood through its official Crypto Trading API (v1), over
aiohttp, on the shared polled-broker rules (`venues.polled`).

The wire, as Robinhood documents it (docs.robinhood.com/crypto/trading):

- every request carries `x-api-key`, `x-timestamp` (unix seconds) and `x-signature`: the
  Ed25519 signature, base64, of api key + timestamp + path (with its query string) + method +
  body. Robinhood refuses a request whose timestamp is older than 30 s (a wrong clock here).
  The private key is the base64 seed Robinhood's key-pair script prints; it lives in the
  keyring (`tui-trader keys set NAME`) and is used only to sign (the `cryptography` package);
- `GET /api/v1/crypto/trading/accounts/` (account number, status, buying power),
  `trading_pairs/?symbol=BTC-USD` (increments, min/max size), `holdings/`,
  `GET /api/v1/crypto/marketdata/best_bid_ask/?symbol=...` (bid and ask including Robinhood's
  spread), orders: `POST orders/` with a `client_order_id` (a UUID), `GET orders/` (filters
  `created_at_start`, `updated_at_start`, `state`; pages by `next`), `GET orders/{id}/`,
  `POST orders/{id}/cancel/`;
- an order's `executions` (quantity, effective price, time) are its fills: fill id
  `<order id>:<n>`, n counting the executions in Robinhood's order;
- no stream: orders and quotes are polled (`poll_interval_s`, 2 s; Robinhood allows 100
  requests a minute, 300 in bursts).

Our client order ids are not UUIDs: Robinhood is given `uuid5(ours)`, bound to ours in
`HOME/<venue>_ids.jsonl` before the order leaves, so its orders map back to ours after a
restart too.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tui_trader.core.enums import AssetClass, OrderType, Side
from tui_trader.core.errors import ConfigError, UserError
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Ticker
from tui_trader.core.orders import Order
from tui_trader.core.positions import Balance
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.base import VenueError
from tui_trader.venues.broker_order import BrokerOrder, Execution
from tui_trader.venues.polled import PolledVenue
from tui_trader.venues.signed_http import Answer

HOST = "https://trading.robinhood.com"
API = "/api/v1/crypto"
CID_NAMESPACE = uuid.UUID("6f1c1b52-3f7e-4d2a-9a55-2b1f0c6e7d21")  # ours -> the UUID Robinhood is given
STATES = {"open": "open", "partially_filled": "open", "pending": "open", "filled": "filled",
          "cancelled": "canceled", "canceled": "canceled", "failed": "rejected"}  # fmt: skip
TYPES = {OrderType.MARKET: "market", OrderType.LIMIT: "limit", OrderType.STOP: "stop_loss",
         OrderType.STOP_LIMIT: "stop_limit"}  # fmt: skip
OUR_TYPE = {v: k.value for k, v in TYPES.items()}


def pair(symbol: str) -> str:
    """BTC/USD -> BTC-USD."""
    return symbol.replace("/", "-").upper()


def ours(pair_name: str) -> str:
    return pair_name.replace("-", "/").upper()


def dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def parse_time(raw: Any) -> datetime:
    if not raw:
        return datetime.now(UTC)
    ts = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def signing_key(seed_b64: str) -> Any:
    """The Ed25519 private key from the base64 text Robinhood's key script prints (its 32-byte
    seed; a 64-byte seed+public key is accepted too). ValueError when it is not one."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        raw = base64.b64decode(seed_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the private key is not base64") from None
    if len(raw) not in (32, 64):
        raise ValueError(f"the private key is {len(raw)} bytes; Robinhood's key script prints a 32-byte seed")
    return Ed25519PrivateKey.from_private_bytes(raw[:32])


class RobinhoodVenue(PolledVenue):
    kind = "robinhood"
    broker = "Robinhood"
    # its holdings (a coin's balance) hold what the spot positions hold (engine/cash_reread.py)
    balances_hold_positions = True

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.account_number = ""
        self._key: Any = None

    @property
    def base_url(self) -> str:
        return (self.settings.url_override or HOST).rstrip("/")

    def _check_credentials(self, keys: Credentials) -> None:
        if not (keys.api_key and keys.secret):
            raise ConfigError(f"venues.{self.name}: Robinhood needs your API key and private key; run "
                              f"`tui-trader keys set {self.name}`")  # fmt: skip
        try:
            key = signing_key(keys.secret)
        except ValueError as exc:
            raise ConfigError(f"venues.{self.name}: {exc}; run `tui-trader keys set {self.name}` again") from None
        if keys is self._credentials:
            self._key = key

    def _sign(
        self, method: str, base: str, path: str, query: dict[str, Any], qs: str, body: str, keys: Credentials
    ) -> dict[str, str]:
        timestamp = str(int(self.clock.now().timestamp()))
        message = f"{keys.api_key}{timestamp}{path}{'?' + qs if qs else ''}{method}{body}"
        key = self._key if keys is self._credentials else signing_key(keys.secret)
        signature = base64.b64encode(key.sign(message.encode())).decode()
        return {"x-api-key": keys.api_key, "x-timestamp": timestamp, "x-signature": signature}

    def _refused_text(self, ans: Answer) -> str:
        data = ans.data if isinstance(ans.data, dict) else {}
        errors = data.get("errors") or []
        details = [str(e.get("detail", "")) + (f" ({e['attr']})" if e.get("attr") else "")
                   for e in errors if isinstance(e, dict)]  # fmt: skip
        return "; ".join(d for d in details if d) or str(data.get("detail") or "") or ans.text[:200]

    # -- setup ------------------------------------------------------------------------------------

    async def _account(self, keys: Credentials | None = None) -> dict[str, Any]:
        acct = await self._call("GET", f"{API}/trading/accounts/", what="account", keys=keys)
        if isinstance(acct, dict) and isinstance(acct.get("results"), list):  # a list in newer versions
            acct = (acct["results"] or [{}])[0]
        return acct if isinstance(acct, dict) else {}

    async def _same_account(self, keys: Credentials) -> None:
        theirs = str((await self._account(keys)).get("account_number") or "")
        if theirs != self.account_number:
            raise VenueError(f"{self.name}: these keys are not for the Robinhood crypto account this venue "
                             f"trades (theirs: {theirs or 'none'})")  # fmt: skip

    async def _setup(self) -> None:
        acct = await self._account()
        self.account_number = str(acct.get("account_number") or "")
        status = str(acct.get("status") or "")
        if status == "deactivated":
            raise ConfigError(f"venues.{self.name}: Robinhood says the crypto account is deactivated")
        if status == "sell_only":
            self._notice("warning", "Robinhood has this crypto account on sell-only: buys will be refused")
        await self._load_pairs()

    async def _load_pairs(self) -> None:
        wanted = list(self.settings.symbols)
        query = {"symbol": [pair(s) for s in wanted]} if wanted else {}
        rows = await self._pages(f"{API}/trading/trading_pairs/", query, what="trading pairs")
        for row in rows:
            inst = self._instrument(row)
            if inst is not None:
                self.instruments[inst.symbol] = inst
        missing = [s for s in wanted if s.upper() not in self.instruments]
        if missing:
            raise ConfigError(
                f"venues.{self.name}.symbols: {', '.join(missing)} not a crypto pair Robinhood trades (e.g. BTC/USD); "
                "Robinhood publishes no API for stocks, so this venue trades crypto only"
            )

    def _instrument(self, row: dict[str, Any]) -> Instrument | None:
        name = str(row.get("symbol") or "")
        if "-" not in name or str(row.get("status", "tradable")) == "untradable":
            return None
        base, quote = name.upper().split("-", 1)
        tick = dec(row.get("quote_increment")) or Decimal("0.01")
        lot = dec(row.get("asset_increment")) or Decimal("0.00000001")
        return Instrument(f"{base}/{quote}", self.name, base, quote, AssetClass.CRYPTO, tick, lot,
                          min_qty=dec(row.get("min_order_size")), always_open=True, fractional=True)  # fmt: skip

    async def _pages(self, path: str, query: dict[str, Any], *, what: str, limit: int = 20) -> list[dict[str, Any]]:
        """Every page of a list (Robinhood pages by a `next` address carrying a cursor)."""
        out: list[dict[str, Any]] = []
        for _ in range(limit):
            data = await self._call("GET", path, query=query, what=what)
            data = data if isinstance(data, dict) else {}
            out += [r for r in data.get("results") or [] if isinstance(r, dict)]
            nxt = data.get("next")
            if not nxt:
                break
            parts = urlsplit(str(nxt))
            path = parts.path
            query = {}
            for k, v in parse_qsl(parts.query):
                query.setdefault(k, []).append(v)
        return out

    # -- market data ------------------------------------------------------------------------------

    async def _quotes(self, symbols: Sequence[str]) -> list[Ticker]:
        data = await self._call("GET", f"{API}/marketdata/best_bid_ask/", query={"symbol": [pair(s) for s in symbols]},
                                what="best bid and ask")  # fmt: skip
        out = []
        for row in (data or {}).get("results") or []:
            bid = float(dec(row.get("bid_inclusive_of_sell_spread")))
            ask = float(dec(row.get("ask_inclusive_of_buy_spread")))
            last = float(dec(row.get("price"))) or (bid + ask) / 2
            out.append(Ticker(self.name, ours(str(row.get("symbol", ""))), parse_time(row.get("timestamp")),
                              bid, ask, last))  # fmt: skip
        return out

    async def fetch_balances(self) -> dict[str, Balance]:
        acct = await self._account()
        cur = str(acct.get("buying_power_currency") or "USD")
        power = dec(acct.get("buying_power"))
        out = {cur: Balance(cur, power, power)}
        for row in await self._pages(f"{API}/trading/holdings/", {}, what="holdings"):
            code = str(row.get("asset_code") or "")
            if code:
                out[code] = Balance(
                    code, dec(row.get("total_quantity")), dec(row.get("quantity_available_for_trading"))
                )
        return out

    # -- orders -----------------------------------------------------------------------------------

    def _broker_cid(self, cid: str) -> str:
        try:
            return str(uuid.UUID(cid))  # already a UUID (an order Robinhood made elsewhere)
        except ValueError:
            return str(uuid.uuid5(CID_NAMESPACE, cid))

    def _order_request(self, order: Order, inst: Instrument | None, broker_cid: str) -> tuple[str, str, dict[str, Any]]:
        kind = TYPES.get(order.type)
        if kind is None:
            raise UserError(f"{order.type.value} orders are emulated by the engine, not sent to Robinhood")
        qty = inst.round_qty(order.quantity) if inst else order.quantity
        if qty <= 0:
            raise UserError(f"{order.quantity} {order.symbol} rounds to nothing at Robinhood's size step")
        if inst is not None and inst.min_qty and qty < inst.min_qty:
            raise UserError(f"Robinhood's smallest {order.symbol} order is {inst.min_qty}; {qty} is below it")

        def px(value: Decimal | None) -> str:
            assert value is not None, "a limit or stop order carries its price"
            return str(inst.round_price(value) if inst else value)

        config: dict[str, Any] = {"asset_quantity": str(qty)}
        if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            config["limit_price"] = px(order.price)
        if order.type in (OrderType.STOP, OrderType.STOP_LIMIT):
            config["stop_price"] = px(order.stop_price)
        if order.type is not OrderType.MARKET:
            config["time_in_force"] = "gfd" if order.time_in_force.value == "day" else "gtc"
        body = {"client_order_id": broker_cid, "side": order.side.value, "type": kind,
                "symbol": pair(order.symbol), f"{kind}_order_config": config}  # fmt: skip
        return "POST", f"{API}/trading/orders/", body

    def _placed_id(self, data: Any) -> str | None:
        return str(data.get("id")) if isinstance(data, dict) and data.get("id") else None

    def _cancel_request(self, vid: str, order: Order) -> tuple[str, str, dict[str, Any] | None]:
        return "POST", f"{API}/trading/orders/{vid}/cancel/", None

    def _parse(self, raw: dict[str, Any]) -> BrokerOrder:
        vid = str(raw.get("id") or "")
        kind = str(raw.get("type") or "market")
        config = raw.get(f"{kind}_order_config") or {}
        price = config.get("limit_price") or config.get("stop_price")
        executions = tuple(
            Execution(
                f"{vid}:{n}", dec(x.get("quantity")), dec(x.get("effective_price")), parse_time(x.get("timestamp"))
            )
            for n, x in enumerate(raw.get("executions") or [])
        )
        return BrokerOrder(
            venue_order_id=vid,
            broker_client_id=str(raw.get("client_order_id") or ""),
            symbol=ours(str(raw.get("symbol") or "")),
            side=Side.BUY if str(raw.get("side")) == "buy" else Side.SELL,
            type=OUR_TYPE.get(kind, "market"),
            quantity=dec(config.get("asset_quantity")),
            filled=dec(raw.get("filled_asset_quantity")),
            price=dec(price) if price else None,
            status=STATES.get(str(raw.get("state") or "open"), "open"),
            created=parse_time(raw.get("created_at")),
            executions=executions,
            reason="robinhood: the order failed" if raw.get("state") == "failed" else "",
        )

    async def _list_since(self, since: datetime) -> list[dict[str, Any]]:
        return await self._pages(f"{API}/trading/orders/", {"updated_at_start": iso(since)}, what="orders")

    async def _list_open(self) -> list[dict[str, Any]]:
        rows = []
        for state in ("open", "partially_filled"):
            rows += await self._pages(f"{API}/trading/orders/", {"state": state}, what="open orders")
        return rows

    async def _get(self, vid: str, order_cid: str) -> dict[str, Any] | None:
        data = await self._call("GET", f"{API}/trading/orders/{vid}/", what="order", ok_404=True)
        return data if isinstance(data, dict) else None

    async def _find(self, broker_cid: str, since: datetime) -> dict[str, Any] | None:
        rows = await self._pages(f"{API}/trading/orders/", {"created_at_start": iso(since)}, what="orders")
        found = [r for r in rows if str(r.get("client_order_id")) == broker_cid]
        if len(found) > 1:  # Robinhood should refuse a second order with the same id
            raise VenueError(f"{self.name}: {len(found)} Robinhood orders carry client id {broker_cid}")
        return found[0] if found else None
