"""Prometheus text endpoint on 127.0.0.1: equity, P&L, order latency, reconnects, messages/s.

No prometheus_client: a bus handler counts what passes (cheap, synchronous) and a plain
aiohttp handler renders the text exposition format on each scrape. Equity and P&L are
private: every scrape must carry the daemon's token (`Authorization: Bearer TOKEN`), which
only the owner can read from HOME/run/daemon.token.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui_trader.core.enums import ConnectionState, OrderStatus
from tui_trader.core.events import ConnectionEvent, Event, OrderEvent

if TYPE_CHECKING:
    from aiohttp import web

    from tui_trader.engine import Engine

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
RATE_WINDOW_S = 10.0


class Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1

    def lines(self, name: str) -> list[str]:
        out, running = [], 0
        for bound, count in zip(self.buckets, self.counts, strict=False):
            running += count
            out.append(f'{name}_bucket{{le="{bound}"}} {running}')
        out.append(f'{name}_bucket{{le="+Inf"}} {self.n}')
        out.append(f"{name}_sum {self.total:.6f}")
        out.append(f"{name}_count {self.n}")
        return out


class MetricsCollector:
    """Counts bus traffic; times place -> first venue acknowledgement per order."""

    def __init__(self, engine: Engine, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self._now = monotonic
        self.messages: Counter[str] = Counter()
        self.reconnects: Counter[str] = Counter()
        self.latency = Histogram(LATENCY_BUCKETS)
        self._submitted: dict[str, float] = {}
        self._recent: deque[float] = deque()
        self._last_state: dict[str, ConnectionState] = {}

    def attach(self) -> None:
        self.engine.bus.on(self.on_event, name="metrics")

    def detach(self) -> None:
        self.engine.bus.off(self.on_event)

    def on_event(self, event: Event) -> None:
        now = self._now()
        self.messages[event.kind] += 1
        self._recent.append(now)
        while self._recent and self._recent[0] < now - RATE_WINDOW_S:
            self._recent.popleft()
        if isinstance(event, OrderEvent):
            o = event.order
            if o.status is OrderStatus.NEW:
                self._submitted.setdefault(o.client_order_id, now)
                if len(self._submitted) > 10_000:  # orders that never got an answer
                    self._submitted.pop(next(iter(self._submitted)))
            else:
                started = self._submitted.pop(o.client_order_id, None)
                if started is not None:
                    self.latency.observe(now - started)
        elif isinstance(event, ConnectionEvent):
            before = self._last_state.get(event.venue)
            if event.state is ConnectionState.RECONNECTING and before is not ConnectionState.RECONNECTING:
                self.reconnects[event.venue] += 1
            self._last_state[event.venue] = event.state

    def rate(self) -> float:
        now = self._now()
        while self._recent and self._recent[0] < now - RATE_WINDOW_S:
            self._recent.popleft()
        return len(self._recent) / RATE_WINDOW_S

    def render(self) -> str:
        engine = self.engine
        acct = engine.account()
        lines: list[str] = []

        def gauge(name: str, help_: str, value: float, kind: str = "gauge") -> None:
            lines.extend([f"# HELP {name} {help_}", f"# TYPE {name} {kind}", f"{name} {value:.10g}"])

        gauge("tui_trader_equity", "account equity in quote currency", acct.equity)
        gauge("tui_trader_cash", "cash across currencies", acct.cash)
        gauge("tui_trader_unrealized_pnl", "open P&L at the current marks", acct.unrealized_pnl)
        gauge("tui_trader_realized_pnl", "P&L closed since the positions opened", acct.realized_pnl)
        gauge("tui_trader_day_pnl", "equity change since the start of the UTC day", acct.day_pnl)
        gauge("tui_trader_drawdown_ratio", "fraction below peak equity", acct.drawdown)
        gauge("tui_trader_open_orders", "working orders", len(engine.oms.open_orders()) if engine.oms else 0)
        gauge("tui_trader_open_positions", "non-flat positions", len(engine.portfolio.open_positions()))
        gauge("tui_trader_halted", "1 when new entries are halted", 1.0 if engine.halt_reason else 0.0)
        gauge("tui_trader_messages_per_second", f"bus events per second over the last {RATE_WINDOW_S:g} s", self.rate())
        lines += [
            "# HELP tui_trader_bus_messages_total events published on the bus, by kind",
            "# TYPE tui_trader_bus_messages_total counter",
        ]
        lines += [f'tui_trader_bus_messages_total{{kind="{k}"}} {v}' for k, v in sorted(self.messages.items())]
        lines += [
            "# HELP tui_trader_reconnects_total venue reconnect attempts begun",
            "# TYPE tui_trader_reconnects_total counter",
        ]
        lines += [
            f'tui_trader_reconnects_total{{venue="{v}"}} {self.reconnects.get(v, 0)}' for v in sorted(engine.venues)
        ]
        lines += [
            "# HELP tui_trader_venue_connected 1 when the venue is connected",
            "# TYPE tui_trader_venue_connected gauge",
        ]
        lines += [
            f'tui_trader_venue_connected{{venue="{n}"}} {1 if v.state is ConnectionState.CONNECTED else 0}'
            for n, v in sorted(engine.venues.items())
        ]
        streams = [(v.name, s) for v in engine.snapshot().venues for s in v.streams]
        lines += [
            "# HELP tui_trader_stream_up 1 while a venue stream delivers or owes nothing (live, waiting, quiet)",
            "# TYPE tui_trader_stream_up gauge",
        ]
        lines += [
            f'tui_trader_stream_up{{venue="{n}",stream="{s.name}",state="{s.state}"}} '
            f"{1 if s.state in ('live', 'waiting', 'quiet') else 0}"
            for n, s in streams
        ]
        lines += [
            "# HELP tui_trader_stream_message_age_seconds seconds since the stream's last message",
            "# TYPE tui_trader_stream_message_age_seconds gauge",
        ]
        lines += [
            f'tui_trader_stream_message_age_seconds{{venue="{n}",stream="{s.name}"}} {s.last_message_age:.3f}'
            for n, s in streams
            if s.last_message_age is not None
        ]
        unknown = [o for o in engine.oms.open_orders() if o.status.value == "unknown"] if engine.oms else []
        gauge("tui_trader_unknown_orders", "orders sent whose outcome the venue has not told yet", len(unknown))
        lines += [
            "# HELP tui_trader_order_ack_seconds time from placing an order to the venue's first answer",
            "# TYPE tui_trader_order_ack_seconds histogram",
        ]
        lines += self.latency.lines("tui_trader_order_ack_seconds")
        return "\n".join(lines) + "\n"


class MetricsServer:
    def __init__(self, engine: Engine, *, token: str, port: int = 0) -> None:
        if not token:
            raise ValueError("the metrics endpoint needs a token")
        self.collector = MetricsCollector(engine)
        self.host = "127.0.0.1"  # loopback only, whatever the caller wants
        self.port = port
        self.token = token
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        from aiohttp import web

        app = web.Application()
        app.router.add_get("/metrics", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None)
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self.collector.attach()

    async def _handle(self, request: web.Request) -> web.Response:
        from aiohttp import web

        from tui_trader.daemon.auth import token_matches

        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token_matches(self.token, given.strip()):
            return web.Response(
                status=401,
                text="the daemon's token is required: Authorization: Bearer <HOME/run/daemon.token>\n",
                headers={"WWW-Authenticate": 'Bearer realm="tui-trader"'},
            )
        return web.Response(
            body=self.collector.render().encode(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
        )

    async def stop(self) -> None:
        self.collector.detach()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
