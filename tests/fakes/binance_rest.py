"""A loopback fake of Binance's spot REST API, enough for ccxt's binance client.

Serves `GET /api/v3/exchangeInfo`, `/api/v3/klines`, `/api/v3/time` and `/api/v3/ping` from
a thread on 127.0.0.1 (random port). Tests inject candles and faults, then point a real
ccxt exchange at it:

    fake = FakeBinance(symbols=["BTC/USDT"])
    fake.start()
    fake.set_klines("BTC/USDT", "1m", [[ms, o, h, l, c, v], ...])
    fake.fail_next(2, status=429)            # the next two requests get HTTP 429
    exchange = ccxt.binance({"enableRateLimit": True, "options": FakeBinance.ccxt_options()})
    fake.patch(exchange)                     # every binance API URL -> fake.url
    ...
    fake.stop()

`fake.requests` records (path, query dict) of every request, in order.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BINANCE_HOSTS = ("https://api.binance.com",)
MAX_KLINES = 1000
DEFAULT_KLINES = 500


def _interval_ms(interval: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
    return int(interval[:-1]) * units[interval[-1]] * 1000


class FakeBinance:
    """Binance spot REST on loopback with injectable klines and HTTP faults."""

    def __init__(
        self, symbols: Iterable[str] = ("BTC/USDT",), server_time_ms: int | None = None
    ) -> None:
        self.symbols = list(symbols)
        self.server_time_ms = server_time_ms
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._klines: dict[tuple[str, str], list[list[float]]] = {}
        self._faults: list[int] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> str:
        """Listen on 127.0.0.1 with a random port; returns the base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-binance", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeBinance:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeBinance is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- test controls ----------------------------------------------------------------------

    @staticmethod
    def ccxt_options() -> dict[str, Any]:
        """ccxt binance options that keep load_markets to the spot exchangeInfo endpoint."""
        return {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False}

    def patch(self, exchange: Any) -> Any:
        """Rewrite every Binance API URL of a ccxt exchange (sync or async) to this server."""
        api = exchange.urls["api"]
        for key, value in list(api.items()):
            if isinstance(value, str):
                for host in BINANCE_HOSTS:
                    value = value.replace(host, self.url)
                # futures/options/sapi hosts differ; send them here too so nothing leaks out
                api[key] = value if value.startswith(self.url) else self.url + urlsplit(value).path
        return exchange

    def set_klines(self, symbol: str, interval: str, rows: Sequence[Sequence[float]]) -> None:
        """Candles as [open_ms, open, high, low, close, volume] (sorted here)."""
        with self._lock:
            self._klines[(symbol.replace("/", ""), interval)] = sorted([list(r) for r in rows])

    def add_klines(self, symbol: str, interval: str, rows: Sequence[Sequence[float]]) -> None:
        """Append (or replace by open time) candles, e.g. new bars after a first download."""
        key = (symbol.replace("/", ""), interval)
        with self._lock:
            merged = {int(r[0]): list(r) for r in self._klines.get(key, [])}
            merged.update({int(r[0]): list(r) for r in rows})
            self._klines[key] = [merged[k] for k in sorted(merged)]

    def fail_next(self, count: int = 1, status: int = 429) -> None:
        """The next `count` requests answer `status` (429 rate limit, 503 unavailable, ...)."""
        with self._lock:
            self._faults.extend([status] * count)

    def klines_requests(self) -> list[dict[str, str]]:
        return [q for p, q in self.requests if p.endswith("/klines")]

    # -- HTTP -----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query))
        with self._lock:
            self.requests.append((parts.path, query))
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            if fault == 429:
                self._send(handler, fault, {"code": -1003, "msg": "Too many requests."})
            else:  # a proxy-style plain-text error: ccxt maps it by HTTP status
                self._send_text(handler, fault, "Service Unavailable")
            return
        path = parts.path
        if path == "/api/v3/exchangeInfo":
            self._send(handler, 200, self._exchange_info())
        elif path == "/api/v3/klines":
            self._send(handler, *self._klines_response(query))
        elif path == "/api/v3/ping":
            self._send(handler, 200, {})
        elif path == "/api/v3/time":
            self._send(handler, 200, {"serverTime": self.server_time_ms or 0})
        else:
            self._send(handler, 404, {"code": -1, "msg": f"fake binance has no {path}"})

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _send_text(handler: BaseHTTPRequestHandler, status: int, text: str) -> None:
        data = text.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _klines_response(self, query: dict[str, str]) -> tuple[int, Any]:
        symbol, interval = query.get("symbol", ""), query.get("interval", "")
        with self._lock:
            rows = list(self._klines.get((symbol, interval), []))
        if symbol not in {s.replace("/", "") for s in self.symbols}:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        limit = min(int(query.get("limit", DEFAULT_KLINES)), MAX_KLINES)
        start = int(query["startTime"]) if "startTime" in query else None
        end = int(query["endTime"]) if "endTime" in query else None
        if start is not None:
            rows = [r for r in rows if r[0] >= start]
        if end is not None:
            rows = [r for r in rows if r[0] <= end]
        rows = rows[:limit] if start is not None else rows[-limit:]
        step = _interval_ms(interval)
        out = [
            [
                int(r[0]),
                str(r[1]),
                str(r[2]),
                str(r[3]),
                str(r[4]),
                str(r[5]),
                int(r[0]) + step - 1,
                "0",
                1,
                "0",
                "0",
                "0",
            ]
            for r in rows
        ]
        return 200, out

    def _exchange_info(self) -> dict[str, Any]:
        markets = []
        for symbol in self.symbols:
            base, quote = symbol.split("/")
            markets.append(
                {
                    "symbol": base + quote,
                    "status": "TRADING",
                    "baseAsset": base,
                    "baseAssetPrecision": 8,
                    "quoteAsset": quote,
                    "quotePrecision": 8,
                    "quoteAssetPrecision": 8,
                    "orderTypes": ["LIMIT", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
                    "isSpotTradingAllowed": True,
                    "isMarginTradingAllowed": False,
                    "permissions": ["SPOT"],
                    "permissionSets": [["SPOT"]],
                    "filters": [
                        {
                            "filterType": "PRICE_FILTER",
                            "minPrice": "0.01",
                            "maxPrice": "1000000.00",
                            "tickSize": "0.01",
                        },
                        {
                            "filterType": "LOT_SIZE",
                            "minQty": "0.00001",
                            "maxQty": "9000.0",
                            "stepSize": "0.00001",
                        },
                        {
                            "filterType": "NOTIONAL",
                            "minNotional": "5.0",
                            "maxNotional": "9000000.0",
                        },
                    ],
                }
            )
        return {
            "timezone": "UTC",
            "serverTime": self.server_time_ms or 0,
            "rateLimits": [],
            "exchangeFilters": [],
            "symbols": markets,
        }
