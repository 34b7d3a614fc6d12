"""What the trader arranges on the desk and expects back next time: the edited watchlist, price
alerts, saved layouts and the chart's indicators. Kept in HOME/ui_state.json (written whole and
atomically); without a home folder (tests, a throwaway session) it lives in memory only.

A file that cannot be read is set aside as ui_state.json.bad and the desk starts empty, with a
warning: a broken file must not stop the workstation from starting."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
FILE_NAME = "ui_state.json"


@dataclass(slots=True)
class PriceAlert:
    id: int
    symbol: str
    above: bool  # fires when the last price reaches `price` from below (True) or above (False)
    price: Decimal

    def hit(self, last: float) -> bool:
        return last >= float(self.price) if self.above else last <= float(self.price)

    def describe(self) -> str:
        return f"#{self.id} {self.symbol} {'≥' if self.above else '≤'} {self.price.normalize():f}"


@dataclass(slots=True)
class SavedLayout:
    layout: str  # auto, tabs or grid
    pane: str = ""  # the pane with the keyboard (the tab shown in the tabs layout)
    maximized: str = ""  # a pane shown alone ("" none)
    symbol: str = ""
    timeframe: str = ""
    indicators: list[str] = field(default_factory=list)
    theme: str = ""


@dataclass(slots=True)
class DeskState:
    watchlist: list[str] | None = None  # None: the settings' list (or every market)
    alerts: list[PriceAlert] = field(default_factory=list)
    layouts: dict[str, SavedLayout] = field(default_factory=dict)
    indicators: list[str] | None = None  # None: the default overlays
    path: Path | None = None
    problem: str = ""  # why the file was not loaded ("" when fine)

    @classmethod
    def load(cls, folder: Path | None) -> DeskState:
        if folder is None:
            return cls()
        path = folder / FILE_NAME
        if not path.exists():
            return cls(path=path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            state = cls(
                watchlist=doc.get("watchlist"),
                alerts=[
                    PriceAlert(int(a["id"]), str(a["symbol"]), bool(a["above"]), Decimal(str(a["price"])))
                    for a in doc.get("alerts", [])
                ],
                layouts={str(k): SavedLayout(**v) for k, v in (doc.get("layouts") or {}).items()},
                indicators=doc.get("indicators"),
                path=path,
            )
        except (OSError, ValueError, TypeError, KeyError, ArithmeticError) as exc:
            bad = path.with_suffix(".json.bad")
            try:
                os.replace(path, bad)
            except OSError:
                pass
            return cls(path=path, problem=f"{path} could not be read ({exc}); set aside as {bad.name}")
        return state

    def save(self) -> str:
        """Write the file; returns a problem to show ("" when saved or nothing to save)."""
        if self.path is None:
            return ""
        doc: dict[str, Any] = {
            "watchlist": self.watchlist,
            "alerts": [{**asdict(a), "price": str(a.price)} for a in self.alerts],
            "layouts": {k: asdict(v) for k, v in self.layouts.items()},
            "indicators": self.indicators,
        }
        tmp = self.path.with_suffix(".json.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("saving %s failed: %s", self.path, exc)
            return f"could not save {self.path.name}: {exc.strerror or exc}"
        return ""

    def add_alert(self, symbol: str, above: bool, price: Decimal) -> PriceAlert:
        alert = PriceAlert(max((a.id for a in self.alerts), default=0) + 1, symbol, above, price)
        self.alerts.append(alert)
        return alert

    def triggered(self, last_prices: dict[str, float]) -> list[PriceAlert]:
        """Alerts the prices reached; they are removed (an alert fires once)."""
        hit = [a for a in self.alerts if last_prices.get(a.symbol) and a.hit(last_prices[a.symbol])]
        if hit:
            self.alerts = [a for a in self.alerts if a not in hit]
        return hit
