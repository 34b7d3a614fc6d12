"""Our client order ids at brokers that take none (Schwab, Robinhood ...): a persisted map.

A broker without client order ids answers a new order with its own id (Schwab: the
`Location` header of the 201). When that answer is lost we cannot ask "do you have order X?".
So before an order is sent we write an *intent*: our client id, what the order is (its
fingerprint: symbol, side, quantity, type, prices, duration) and when it was sent. When the
broker's id is known we write a *binding*. Both go to an append-only file in the home folder
(`HOME/<venue>_ids.jsonl`, flushed and fsynced before the order leaves), so a crash between
sending and hearing back still leaves the intent for the next start.

The rule for an intent whose answer was lost (`match`): among the broker's orders entered
within `[sent_at - before_s, sent_at + after_s]` whose fingerprint is the intent's and that no
other client id is bound to, exactly one is ours; none is "not found (yet)"; two or more is
ambiguous and stays unknown (never a guess). Its limits, said in docs/venues.md: an identical
order placed by hand (website, phone app) in the same seconds makes ours ambiguous; so the
adapter refuses to send a second order identical to one whose fate is still unknown.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

EXTERNAL_PREFIX = "ext-"  # client ids we give orders placed elsewhere: "ext-<venue>-<broker id>"


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What an order is, as the broker lists it back (prices and quantities as plain strings)."""

    symbol: str
    side: str  # buy / sell
    quantity: str
    type: str  # market / limit / stop / stop-limit
    price: str = ""
    stop_price: str = ""

    @staticmethod
    def of(symbol: str, side: str, quantity: Any, type_: str, price: Any = None, stop: Any = None) -> Fingerprint:
        def num(v: Any) -> str:
            if v in (None, "", 0):
                return ""
            from decimal import Decimal

            return format(Decimal(str(v)).normalize(), "f")

        return Fingerprint(symbol.upper(), side.lower(), num(quantity), type_, num(price), num(stop))


@dataclass(frozen=True, slots=True)
class Candidate:
    """One order as the broker lists it, for matching."""

    venue_order_id: str
    fingerprint: Fingerprint
    entered: datetime


@dataclass(slots=True)
class Intent:
    client_order_id: str
    fingerprint: Fingerprint
    sent_at: datetime


class OrderIdMap:
    """client order id <-> broker order id, and intents not yet bound, kept on disk."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._vid: dict[str, str] = {}  # cid -> broker id
        self._cid: dict[str, str] = {}  # broker id -> cid
        self._intents: dict[str, Intent] = {}  # cid -> intent (bound or not)
        if path is not None and path.exists():
            self._load(path)

    # -- disk -----------------------------------------------------------------------------------

    def _load(self, path: Path) -> None:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                rec = json.loads(line)
                if "fp" in rec:
                    self._intents[rec["cid"]] = Intent(
                        rec["cid"], Fingerprint(**rec["fp"]), datetime.fromisoformat(rec["sent_at"])
                    )
                if rec.get("vid"):
                    self._vid[rec["cid"]] = rec["vid"]
                    self._cid[rec["vid"]] = rec["cid"]
            except (ValueError, KeyError, TypeError):  # a torn last line after a crash
                log.warning("%s: line %d unreadable; skipped", path, n)

    def _append(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    # -- what the adapter records ----------------------------------------------------------------

    def intend(self, cid: str, fp: Fingerprint, sent_at: datetime) -> None:
        """Before sending: the order we are about to send (on disk before it leaves)."""
        self._intents[cid] = Intent(cid, fp, sent_at)
        self._append({"cid": cid, "fp": {k: getattr(fp, k) for k in fp.__slots__}, "sent_at": sent_at.isoformat()})

    def bind(self, cid: str, vid: str) -> None:
        if self._vid.get(cid) == vid:
            return
        self._vid[cid] = vid
        self._cid[vid] = cid
        self._append({"cid": cid, "vid": vid})

    # -- questions -------------------------------------------------------------------------------

    def vid_for(self, cid: str) -> str | None:
        return self._vid.get(cid)

    def cid_for(self, vid: str, venue: str) -> str:
        """Our client id for a broker order; an order we did not place gets a stable made-up one."""
        return self._cid.get(vid) or f"{EXTERNAL_PREFIX}{venue}-{vid}"

    def is_ours(self, vid: str) -> bool:
        return vid in self._cid

    def external_vid(self, cid: str, venue: str) -> str | None:
        prefix = f"{EXTERNAL_PREFIX}{venue}-"
        return cid[len(prefix):] if cid.startswith(prefix) else None

    def intent(self, cid: str) -> Intent | None:
        return self._intents.get(cid)

    def pending(self) -> list[Intent]:
        """Intents still without a broker id (answers lost, or a crash before hearing back)."""
        return [i for c, i in self._intents.items() if c not in self._vid]

    def pending_like(self, fp: Fingerprint) -> Intent | None:
        """An unbound intent identical to `fp` (a second such order would make both ambiguous)."""
        return next((i for i in self.pending() if i.fingerprint == fp), None)

    def forget(self, cid: str) -> None:
        """An intent settled as never sent (the engine decided): it no longer blocks a twin."""
        if cid in self._intents and cid not in self._vid:
            del self._intents[cid]
            self._append({"cid": cid, "vid": "", "forgotten": True})

    def match(
        self, intent: Intent, candidates: Iterable[Candidate], *, before_s: float = 5.0, after_s: float = 120.0
    ) -> list[Candidate]:
        """The broker's orders that may be this intent's (see the module doc): same fingerprint,
        entered within the window, not bound to another client id."""
        lo = intent.sent_at - timedelta(seconds=before_s)
        hi = intent.sent_at + timedelta(seconds=after_s)
        return [
            c
            for c in candidates
            if c.fingerprint == intent.fingerprint
            and lo <= c.entered <= hi
            and self._cid.get(c.venue_order_id, intent.client_order_id) == intent.client_order_id
        ]
