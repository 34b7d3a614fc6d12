"""Each stream's own watchdog: market data per symbol, and the private order/fill stream.

A venue-wide "any message lately?" check stays green while market data flows and the private
stream is dead, and fills in that window are lost. So every stream is watched on its own:

- market data (ticker, book, candles per symbol) should arrive steadily: silence longer than
  `stall_after_s` makes that stream `silent`;
- the private stream may be quiet for hours when nothing happens, so silence alone proves
  nothing. It is `silent` when something it must report did not arrive: an order the venue
  acknowledged over REST, or an order REST shows changed (filled, gone) that the stream has
  not mentioned within `stall_after_s` (`expect` / `arrived` / `check_against`).

The board gives each stream's state to `tui-trader status --json`, the status bar and the
metrics; the adapter decides what to do about a silent stream (resubscribe, then reconcile).

A stream's `reconnects` count the outages it came back from: its live data flowing again
after it was down, silent or restarted (having delivered before), once however many attempts
that took. A book's snapshot (over REST or the socket's first push) is not live data
(`snapshot`): the book is known, its stream is not back. A private stream may have nothing to
say for hours after it is back: it is back at the venue's positive answer, whichever comes
first: its subscribe or login acknowledged where the adapter sees that answer (`subscribed`:
Schwab's SUBS answered code 0, Alpaca's "listening", IB's sync of orders and executions on a
new socket), else the engine's reconcile after the reconnect (`read_back`: what it missed read
back over authenticated REST), or a message on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from tui_trader.venues.base import StreamStatus, VenueOrder
from tui_trader.venues.resilience import ConnectionMonitor

log = logging.getLogger(__name__)

LIVE = "live"  # delivering
WAITING = "waiting"  # subscribed, nothing yet
QUIET = "quiet"  # no message lately, and none is owed (a private stream with nothing to say)
SILENT = "silent"  # something is owed and has not come: the stream is presumed dead
DOWN = "down"  # failed; being restarted
STOPPED = "stopped"  # given up on (bad keys); needs the trader

SNAPSHOT_ONLY = "its snapshot in, no live update since"
RESUBSCRIBED = "resubscribed at the reconnect, no live update since"  # market data not back yet
FIRST_MESSAGE_S = 5.0  # the least a new subscription gets to deliver its first message


@dataclass(slots=True)
class _Stream:
    name: str
    private: bool
    steady: bool  # messages are expected continuously (market data), not only on events
    state: str = WAITING
    last: float | None = None  # monotonic time of the last message
    changed: float = 0.0  # monotonic time of the last change of state
    detail: str = ""
    restarts: int = 0
    reconnects: int = 0
    out: bool = False  # down, silent or restarted since it was last up (`StreamBoard._up`), not back yet
    note: str = ""  # how it is fed, kept whatever its state (KuCoin's public book: keys refused)
    owed: dict[str, float] = field(default_factory=dict)  # key -> monotonic deadline
    recent: dict[str, float] = field(default_factory=dict)  # key -> when news of it arrived


class StreamBoard:
    """The streams of one venue and whether each is delivering."""

    def __init__(self, stall_after_s: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.stall_after_s = stall_after_s
        self._mono = monotonic
        self._streams: dict[str, _Stream] = {}

    # -- what the adapter tells it ---------------------------------------------------------

    def add(self, name: str, *, private: bool = False, steady: bool = True) -> None:
        if name not in self._streams:
            self._streams[name] = _Stream(name, private, steady and not private, changed=self._mono())

    def _set(self, s: _Stream, state: str, detail: str = "") -> None:
        s.out = s.out or (state in (DOWN, SILENT) and self._up(s))
        if s.state != state:
            s.changed = self._mono()
        s.state, s.detail = state, detail

    @staticmethod
    def _up(s: _Stream) -> bool:
        """`s` was delivering: it had a message, or it is a private stream subscribed (quiet
        as it may be: its going down is an outage too)."""
        return s.last is not None or (s.private and s.state == WAITING)

    def message(self, name: str) -> None:
        """Live data on `name`: back, if it was out (one reconnect, however many attempts)."""
        s = self._streams.get(name)
        if s is not None:
            s.last = self._mono()
            self._back(s)
            if s.state != LIVE:
                self._set(s, LIVE)

    def snapshot(self, name: str) -> None:
        """A book's snapshot (over REST, or the socket's first push), nothing live on it: the
        stream stays as it is (down after a restart, waiting at first), saying so."""
        s = self._streams.get(name)
        if s is not None and s.state != LIVE and "its snapshot in" not in s.detail:
            s.detail = f"{s.detail}; its snapshot in" if s.detail else SNAPSHOT_ONLY

    def subscribed(self, name: str, detail: str) -> None:
        """The venue acknowledged this private stream's subscribe (or login): back, counted once
        an outage, `waiting` saying `detail` until it has something to say."""
        s = self._streams.get(name)
        if s is None or s.state in (STOPPED, LIVE):
            return
        self._back(s)
        self._set(s, WAITING, detail)

    def read_back(self) -> None:
        """The engine reconciled the venue after a reconnect (its orders and fills read back
        with our keys): each private stream subscribed again without an error (`waiting`) is
        back, counted once an outage."""
        for s in self._streams.values():
            if s.private and s.out and s.state == WAITING:
                self._back(s)
                s.detail = s.detail or "subscribed again; what it missed read back"

    def resubscribed(self, names: Iterable[str]) -> None:
        """The venue took these streams' subscribes at a reconnect: one still `down` says so
        (`RESUBSCRIBED`), not that it is being reconnected."""
        for name in names:
            s = self._streams.get(name)
            if s is not None and s.state == DOWN and not s.private:
                s.detail = RESUBSCRIBED

    @staticmethod
    def _back(s: _Stream) -> None:
        if s.out:
            s.reconnects += 1
            s.out = False

    def waiting(self, name: str) -> None:
        """Subscribed without an error, nothing to say yet (a private stream after a subscribe)."""
        s = self._streams.get(name)
        if s is not None and s.state in (DOWN, SILENT):
            self._set(s, WAITING)

    def down(self, name: str, detail: str) -> None:
        s = self._streams.get(name)
        if s is not None and s.state != STOPPED:
            self._set(s, DOWN, detail)

    def stopped(self, name: str, detail: str) -> None:
        s = self._streams.get(name)
        if s is not None:
            self._set(s, STOPPED, detail)
            s.owed.clear()

    def resume(self, names: Iterable[str], detail: str) -> None:
        """These streams, stopped for refused keys, are subscribed again (the keys read again:
        `tui-trader venue reconnect`): `down` saying `detail` until a subscribe goes through."""
        for name in names:
            s = self._streams.get(name)
            if s is not None and s.state == STOPPED:
                self._set(s, DOWN, detail)

    def dropped(self, names: Iterable[str], detail: str) -> None:
        """The socket these streams share was lost (one socket carries them all: Schwab's, IB's,
        each of Alpaca's): each is `down` saying `detail` until the venue takes its subscribe
        again (`subscribed`, `resubscribed`, `waiting`) or it delivers, a private one too (it
        said `waiting`, subscribed, while nothing was). Its debts go, as in `restarting`."""
        for s in self._restarted(names):
            s.owed.clear()
            self._set(s, DOWN, detail)

    def _restarted(self, names: Iterable[str]) -> Iterator[_Stream]:
        """The streams of `names` subscribed again (not those stopped for refused keys), each
        counted a restart, and out until it is back if it was up."""
        for name in names:
            s = self._streams.get(name)
            if s is not None and s.state != STOPPED:
                s.restarts += 1
                s.out = s.out or self._up(s)
                yield s

    def restarting(self, names: Iterable[str], detail: str) -> None:
        """These streams are being resubscribed (after a drop or a silence). A private stream's
        debts go with it: the reconcile that follows the reconnect settles those orders."""
        for s in self._restarted(names):
            if s.private:  # silent or down stays so until a subscribe goes through (`waiting`)
                s.owed.clear()
                if s.state in (SILENT, DOWN):
                    s.detail = f"{s.detail}; resubscribing" if "resubscribing" not in s.detail else s.detail
                else:
                    self._set(s, WAITING)
            elif s.steady:
                self._set(s, DOWN, detail)
            else:
                self._set(s, WAITING)

    # -- the private stream's debts ----------------------------------------------------------

    def expect(self, name: str, key: str, *, since: float | None = None, within_s: float | None = None) -> None:
        """The stream owes us news of `key` (an order id) within `within_s` (default: the
        stall threshold), unless news of it came after `since` (a monotonic time: when the
        REST request that made the debt was sent). An earlier debt keeps its deadline."""
        s = self._streams.get(name)
        if s is None or s.state == STOPPED:
            return
        if since is not None and s.recent.get(key, -1.0) >= since:
            return  # the stream was faster than the REST answer
        s.owed.setdefault(key, self._mono() + (within_s or self.stall_after_s))

    def arrived(self, name: str, key: str) -> None:
        s = self._streams.get(name)
        if s is not None:
            s.owed.pop(key, None)
            s.recent[key] = self._mono()
            if len(s.recent) > 1000:  # only the last moments matter (a REST call in flight)
                for old in list(s.recent)[:500]:
                    del s.recent[old]

    # -- the watchdog's questions -------------------------------------------------------------

    def silent(self) -> list[str]:
        """Streams that owe something past its deadline (private), or that stopped delivering
        for `stall_after_s` (market data); each is marked `silent` with the reason."""
        now = self._mono()
        out = []
        for s in self._streams.values():
            if s.state in (STOPPED, DOWN, SILENT):
                continue
            if s.private:
                late = sorted(k for k, due in s.owed.items() if due <= now)
                if late:
                    self._set(s, SILENT, f"owes news of {', '.join(late[:3])} for {self.stall_after_s:g}s")
                    out.append(s.name)
                elif s.state == LIVE and s.last is not None and now - s.last > self.stall_after_s:
                    self._set(s, QUIET)  # nothing owed: an idle account, not a dead stream
            elif s.steady and s.state in (LIVE, WAITING) and now - (s.last or s.changed) > self._grace(s):
                self._set(s, SILENT, f"no message for {now - (s.last or s.changed):.0f}s")
                out.append(s.name)
        return out

    def _grace(self, s: _Stream) -> float:
        """How long one market-data stream may be silent while others flow: twice
        `stall_after_s` (all of them silent that long is the venue-wide stall, noticed at
        `stall_after_s`), and more for its first message (a book waits for its REST snapshot)."""
        return 2 * self.stall_after_s if s.last is not None else max(2 * self.stall_after_s, FIRST_MESSAGE_S)

    def unhealthy(self) -> list[str]:
        """Streams that make the venue less than `connected`: silent, stopped, a private stream
        whose subscribe failed, a market-data stream still not back a while after a restart."""
        now = self._mono()
        back_within = max(2 * self.stall_after_s, FIRST_MESSAGE_S)  # a book waits for its snapshot
        return [
            n
            for n, s in self._streams.items()
            if s.state in (SILENT, STOPPED)
            or (s.state == DOWN and (s.private or now - s.changed > back_within))
        ]

    def stopped_only(self, names: list[str]) -> bool:
        """`names` (the unhealthy streams) are some, all stopped for good: nothing a reconnect
        fixes (keys refused), whatever else the venue's connection does."""
        return bool(names) and all(self.state(n) == STOPPED for n in names)

    def state(self, name: str) -> str:
        s = self._streams.get(name)
        return s.state if s is not None else ""

    def detail(self, name: str) -> str:
        s = self._streams.get(name)
        return s.detail if s is not None else ""

    def summary(self, names: Iterable[str] | None = None) -> str:
        """The streams that are not delivering (of `names`, if given), in a few words
        ("orders silent; ticker:BTC/USDT down")."""
        among = self._streams.values() if names is None else [self._streams[n] for n in names if n in self._streams]
        bad = [s for s in among if s.state in (SILENT, DOWN, STOPPED)]
        return "; ".join(f"{s.name} {s.state}" + (f" ({s.detail})" if s.detail else "") for s in bad[:4])

    def note(self, prefix: str, text: str) -> None:
        """A lasting remark on the streams whose names start with `prefix`, shown with their
        state's detail (`rows`): how they are fed now, not whether they deliver."""
        for s in self._streams.values():
            if s.name.startswith(prefix):
                s.note = text

    def rows(self) -> list[StreamStatus]:
        now = self._mono()
        return [
            StreamStatus(
                s.name,
                s.state,
                s.private,
                None if s.last is None else round(now - s.last, 3),
                "; ".join(x for x in (s.detail, s.note) if x),
                s.restarts,
                s.reconnects,
            )
            for s in self._streams.values()
        ]


class PrivateProbe:
    """Mixed into an adapter: what the private stream said about our working orders (their
    filled quantity), checked now and then against REST's open orders. Each order REST shows
    done or filled further, that the stream has not reported, becomes a debt the stream must
    pay within `stall_after_s` (`StreamBoard.expect`); unpaid, the stream is silent."""

    name: str
    monitor: ConnectionMonitor
    streams: StreamBoard
    _working: dict[str, Decimal]
    _probing: bool
    _probed_at: float
    _relearn: bool  # after a reconnect: learn the working orders from REST again

    if TYPE_CHECKING:  # provided by the adapter

        async def fetch_open_orders(self) -> list[VenueOrder]: ...

    def _probe_due(self) -> bool:
        return (
            bool(self._working or self._relearn)
            and not self._probing
            and time.monotonic() - self._probed_at > self.monitor.stall_after_s
        )

    async def _probe_private(self, stream: str) -> None:
        try:
            rest = {vo.client_order_id: Decimal(vo.filled_quantity) for vo in await self.fetch_open_orders()}
        except Exception as exc:  # a check, not a duty: the next one asks again
            log.debug("%s: %s probe failed: %s", self.name, stream, exc)
            return
        finally:
            self._probing = False
            self._probed_at = time.monotonic()
        self._relearn = False
        for cid, filled in list(self._working.items()):
            if cid not in rest or rest[cid] > filled:
                self.streams.expect(stream, cid)
        for cid, filled in rest.items():  # working orders the stream has not mentioned since a restart
            self._working.setdefault(cid, filled)
