"""The paper exchange's own books: an append-only JSON-lines journal under the home folder.

A real exchange remembers orders and fills when our process dies; so does the paper one.
On start the journal is replayed to rebuild cash, positions and working orders, which makes
restart reconciliation meaningful for paper trading too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from tui_trader.core.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.fills import Fill
from tui_trader.core.orders import Order


def order_to_dict(o: Order) -> dict[str, Any]:
    return {
        "cid": o.client_order_id,
        "vid": o.venue_order_id,
        "symbol": o.symbol,
        "side": o.side.value,
        "type": o.type.value,
        "qty": str(o.quantity),
        "price": _s(o.price),
        "stop": _s(o.stop_price),
        "tif": o.time_in_force.value,
        "ts": o.created_at.isoformat(),
        "post_only": o.post_only,
        "reduce_only": o.reduce_only,
    }


def order_from_dict(d: dict[str, Any], venue: str) -> Order:
    ts = datetime.fromisoformat(d["ts"])
    return Order(
        client_order_id=d["cid"],
        venue=venue,
        symbol=d["symbol"],
        side=Side(d["side"]),
        type=OrderType(d["type"]),
        quantity=Decimal(d["qty"]),
        price=_d(d["price"]),
        stop_price=_d(d["stop"]),
        time_in_force=TimeInForce(d["tif"]),
        created_at=ts,
        updated_at=ts,
        status=OrderStatus.ACCEPTED,
        venue_order_id=d["vid"],
        post_only=d.get("post_only", False),
        reduce_only=d.get("reduce_only", False),
    )


def fill_to_dict(f: Fill) -> dict[str, Any]:
    return {
        "id": f.fill_id,
        "cid": f.client_order_id,
        "symbol": f.symbol,
        "side": f.side.value,
        "qty": str(f.quantity),
        "price": str(f.price),
        "fee": str(f.fee),
        "ccy": f.fee_currency,
        "liq": f.liquidity.value,
        "ts": f.ts.isoformat(),
        "vid": f.venue_order_id,
    }


def fill_from_dict(d: dict[str, Any], venue: str) -> Fill:
    return Fill(
        fill_id=d["id"],
        client_order_id=d["cid"],
        venue=venue,
        symbol=d["symbol"],
        side=Side(d["side"]),
        quantity=Decimal(d["qty"]),
        price=Decimal(d["price"]),
        fee=Decimal(d["fee"]),
        fee_currency=d["ccy"],
        liquidity=Liquidity(d["liq"]),
        ts=datetime.fromisoformat(d["ts"]),
        venue_order_id=d.get("vid"),
    )


def _s(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


def _d(v: str | None) -> Decimal | None:
    return None if v is None else Decimal(v)


class PaperJournal:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def records(self) -> Iterator[dict[str, Any]]:
        if self.path is None or not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    # A torn last line after a crash: everything before it is intact.
                    return

    def append(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8")
            os.chmod(self.path, 0o600)
        self._fh.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
