"""The paper exchange's own books: an append-only JSON-lines journal under the home folder.

A real exchange remembers orders and fills when our process dies; so does the paper one.
On start the journal is replayed to rebuild cash, positions and working orders, which makes
restart reconciliation meaningful for paper trading too.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import orjson

from tui_trader.core.cashflows import CashFlow
from tui_trader.core.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.fills import Fill
from tui_trader.core.isotime import iso
from tui_trader.core.orders import Order
from tui_trader.home import HomeLock

log = logging.getLogger(__name__)


def order_to_dict(o: Order) -> dict[str, Any]:
    """The order's journal record: {"t": "order", ...} (built whole: no second dict an order)."""
    return {
        "t": "order",
        "cid": o.client_order_id,
        "vid": o.venue_order_id,
        "symbol": o.symbol,
        "side": str(o.side),  # a StrEnum's str is its value (no Enum.value descriptor calls)
        "type": str(o.type),
        "qty": str(o.quantity),
        "price": _s(o.price),
        "stop": _s(o.stop_price),
        "tif": str(o.time_in_force),
        "ts": iso(o.created_at),
        "post_only": o.post_only,
        "reduce_only": o.reduce_only,
        "ext": bool(o.meta.get("extended_hours")),
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
        meta={"extended_hours": True} if d.get("ext") else {},
    )


def fill_to_dict(f: Fill) -> dict[str, Any]:
    """The fill's journal record: {"t": "fill", ...}."""
    return {
        "t": "fill",
        "id": f.fill_id,
        "cid": f.client_order_id,
        "symbol": f.symbol,
        "side": str(f.side),
        "qty": str(f.quantity),
        "price": str(f.price),
        "fee": str(f.fee),
        "ccy": f.fee_currency,
        "liq": str(f.liquidity),
        "ts": iso(f.ts),
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


def flow_to_dict(f: CashFlow) -> dict[str, Any]:
    return {
        "id": f.flow_id, "symbol": f.symbol, "kind": f.kind, "amount": str(f.amount), "ccy": f.currency,
        "ts": f.ts.isoformat(), "rate": None if f.rate is None else str(f.rate),
        "qty": None if f.quantity is None else str(f.quantity), "price": None if f.price is None else str(f.price),
    }


def flow_from_dict(d: dict[str, Any], venue: str) -> CashFlow:
    def dec(key: str) -> Decimal | None:
        return None if d.get(key) is None else Decimal(d[key])

    return CashFlow(
        d["id"], venue, d["symbol"], d["kind"], Decimal(d["amount"]), d["ccy"], datetime.fromisoformat(d["ts"]),
        dec("rate"), dec("qty"), dec("price"),
    )


def _s(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


def _d(v: str | None) -> Decimal | None:
    return None if v is None else Decimal(v)


class PaperJournal:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fh: IO[str] | None = None
        self._home_lock: HomeLock | None = None
        self._held: list[str] | None = None  # lines of one call, written together (`one_write`)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every intact record. A torn line (a crash mid-write) is dropped and logged, and
        reading goes on: a record appended after it by an older version is recovered."""
        if self.path is None or not self.path.exists():
            return
        with self.path.open(encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    yield json.loads(line)
                    continue
                except json.JSONDecodeError:
                    pass
                tail = _after_tear(line)
                log.warning(
                    "paper journal %s: line %d was torn (a crash while writing); dropped %d bytes of it",
                    self.path.name, number, len(line) - (len(tail[0]) if tail else 0),
                )
                if tail is not None:
                    yield tail[1]

    def append(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        # orjson: the same compact line as json.dumps(separators=(",", ":")) for these records
        # (strings, booleans, null), 2 us instead of 8-20 (two records an order)
        line = orjson.dumps(record).decode() + "\n"
        if self._held is not None:
            self._held.append(line)
        else:
            self._write(line)

    def one_write(self) -> _OneWrite:
        """The lines appended inside (an order's acceptance and its fills) go out in one write
        and one flush when it ends, before the call that made them returns its answer."""
        return _OneWrite(self)

    def _hold(self) -> bool:
        if self._held is not None:
            return False  # inside another one_write: its end writes them
        self._held = []
        return True

    def _let_go(self) -> None:
        lines, self._held = self._held, None
        if lines:
            self._write("".join(lines))

    def _write(self, text: str) -> None:
        assert self.path is not None
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # The exchange's books have one writer: the process holding the home lock.
            self._home_lock = HomeLock.for_file(self.path, "engine").acquire()
            _cut_torn_tail(self.path)
            self._fh = self.path.open("a", encoding="utf-8")
            os.chmod(self.path, 0o600)
        self._fh.write(text)
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._home_lock is not None:
            self._home_lock.release()
            self._home_lock = None


class _OneWrite:
    """`PaperJournal.one_write`'s context (a class: a generator's context manager cost an order
    a generator and its frames)."""

    __slots__ = ("journal", "outer")

    def __init__(self, journal: PaperJournal) -> None:
        self.journal = journal
        self.outer = False

    def __enter__(self) -> None:
        self.outer = self.journal._hold()

    def __exit__(self, *exc: object) -> None:
        if self.outer:
            self.journal._let_go()


def _after_tear(line: str) -> tuple[str, dict[str, Any]] | None:
    """The last whole record inside a torn line (a new record written straight after the
    tear), as (its text, the record), or None."""
    at = line.rfind('{"t":')
    while at > 0:
        try:
            record = json.loads(line[at:])
        except json.JSONDecodeError:
            at = line.rfind('{"t":', 0, at)
            continue
        return (line[at:], record) if isinstance(record, dict) else None
    return None


def _cut_torn_tail(path: Path) -> None:
    """Before appending: drop a last line without its newline (torn by a crash), so the next
    record starts on a line of its own instead of being glued to the wreck."""
    try:
        with path.open("rb+") as fh:
            end = fh.seek(0, os.SEEK_END)
            if end == 0:
                return
            fh.seek(end - 1)
            if fh.read(1) == b"\n":
                return
            back = min(end, 1 << 20)
            fh.seek(end - back)
            chunk = fh.read(back)
            keep = end - back + chunk.rfind(b"\n") + 1 if b"\n" in chunk else (end - back if back < end else 0)
            fh.truncate(keep)
    except FileNotFoundError:
        return
    log.warning("paper journal %s: dropped a torn last line (%d bytes) left by a crash", path.name, end - keep)
