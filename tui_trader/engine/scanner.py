"""The spread scanner, live: every `[routing.scanner] interval_s` it recomputes cross-venue
spreads (symbols two or more venues list) and triangles (three markets on one venue), keeps
the latest for `tui-trader scan spreads`, the Spreads pane and the snapshot, and sends a
notice when a spread's net edge reaches `alert_bps` (once per spread per cooldown)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Protocol

from tui_trader.engine import market_view as mv
from tui_trader.routing.consolidated import consolidate
from tui_trader.routing.spreads import Spread, Triangle, cross_venue, triangular
from tui_trader.venues.resilience import stop_tasks

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger(__name__)


class ScannerPort(mv.MarketState, Protocol):
    def notify(self, level: str, message: str, source: str = "engine") -> None: ...


class SpreadScanner:
    def __init__(self, engine: ScannerPort) -> None:
        self.engine = engine
        self.spreads: list[Spread] = []
        self.triangles: list[Triangle] = []
        self.fees: dict[str, dict[str, list[float]]] = {}  # venue -> symbol -> [maker, taker]
        self.problems: dict[str, dict[str, str]] = {}  # venue -> symbol -> why not routable (shared symbols)
        self.scanned_at: str | None = None
        self._above: dict[str, float] = {}  # spread key -> monotonic time of its last alert
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.scan()
        if self.engine.settings.routing.scanner.enabled:
            self._task = asyncio.create_task(self._run(), name="spread-scanner")

    async def stop(self) -> None:
        await stop_tasks(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.engine.settings.routing.scanner.interval_s)
            try:
                self.scan()
            except Exception:
                log.exception("spread scan failed")

    def scan(self) -> None:
        """Recompute everything from the engine's market state now (no I/O)."""
        e = self.engine
        cfg = e.settings.routing.scanner
        shared = mv.shared_symbols(e)
        self.spreads = cross_venue(shared, lambda symbol: self.transfer_bps(symbol))
        # a simulated paper market prices each pair on its own walk: no triangle through it is real
        self.triangles = triangular(m for m in mv.all_markets(e) if not simulated(e, m.venue))
        self.fees = {}
        self.problems = {}
        for name, insts in e.instruments.items():
            self.fees[name] = {s: mv.fee_rates(e, name, s).as_list() for s in insts}
        for symbol, markets in shared.items():
            for m in markets:
                self.problems.setdefault(m.venue, {})[symbol] = m.problem
        self.scanned_at = e.clock.now().isoformat()
        if cfg.alert_bps is not None:
            self._alert(self.spreads, self.triangles, cfg.alert_bps, cfg.alert_cooldown_s)

    def transfer_bps(self, symbol: str) -> float:
        cfg = self.engine.settings.routing.scanner
        base = symbol.split("/", 1)[0]
        return cfg.transfer_costs_bps.get(base, cfg.transfer_cost_bps)

    def _alert(
        self, spreads: Sequence[Spread], triangles: Sequence[Triangle], threshold: float, cooldown: float
    ) -> None:
        now = self.engine.clock.monotonic()
        found: list[tuple[str, str]] = [
            (
                s.key,
                f"spread {s.symbol}: buy on {s.buy_venue} at {s.ask:,.8g}, sell on {s.sell_venue} at {s.bid:,.8g}: "
                f"net {s.net_bps:+.1f} bp after fees and transfer",
            )
            for s in spreads
            if not s.stale and s.net_bps >= threshold
        ]
        found += [
            (t.key, f"triangle on {t.venue} {' > '.join((*t.path, t.path[0]))}: net {t.net_bps:+.1f} bp after fees")
            for t in triangles
            if not t.stale and t.net_bps >= threshold
        ]
        for key, text in found:
            if now - self._above.get(key, -1e18) >= cooldown:
                self._above[key] = now
                self.engine.notify("warning", f"{text} (alert at {threshold:g} bp)", "scanner")
        above = {key for key, _ in found}
        for key in [k for k in self._above if k not in above]:
            if now - self._above[key] >= cooldown:
                del self._above[key]  # below the threshold and quiet: the next crossing alerts again

    def consolidated(self, symbol: str, depth: int = 10) -> dict[str, Any]:
        """`symbol` on every venue that lists it, now (`quote SYMBOL --all-venues`)."""
        return consolidate(symbol, mv.markets_for(self.engine, symbol), depth).document()

    def latest(self) -> dict[str, Any]:
        """The last scan as plain data (the snapshot's `routing` entry, `scan spreads --json`)."""
        return {
            "scanned_at": self.scanned_at,
            "spreads": [s.document() for s in self.spreads],
            "triangles": [t.document() for t in self.triangles],
            "fees": self.fees,
            "problems": self.problems,
            "alert_bps": self.engine.settings.routing.scanner.alert_bps,
        }


SIMULATED_NOTE = (
    "paper venues on the simulated market are not scanned for triangles: each of their pairs walks on its "
    "own path, so a cross pair (ETH/BTC) is not the ratio of the others"
)


def simulated(engine: Any, venue: str) -> bool:
    """A paper venue whose prices come from the simulator (not a replay or a live feed)."""
    return bool(getattr(engine.venues.get(venue), "simulated", False))

