"""A venue's balances read again once it is back: after `tui-trader venue reconnect NAME` (a
venue that started with no keys, or refused ones, has its cash only now) and after every
reconnect that reconciles (deposits, withdrawals and trades made elsewhere while its private
streams were down are in its balances, not in any fill we see).

The read replaces that venue's share of the cash (`Portfolio.read_cash`: the other venues'
shares untouched). It is believed only if the balances and the fills we applied agree: it is
taken once the venue is reconciled (the callers reconcile first), and a reconcile right after
it must apply no fill, nor may one stream in meanwhile (every fill the venue lists, those made
before the read among them, was then applied before it; a fill booked meanwhile may or may
not be in the balances: ambiguous, so the read is made again; still moving after `ATTEMPTS`,
the cash stays as counted from the fills, and a notice says so). A fill is never counted
twice: once in the balances and once applied.

What the read moves is money that came in or went out without a trade (a deposit, a
withdrawal, a fee rebate): the risk breakers' day start and peak move with it
(`Breakers.transfer`), so a withdrawal does not trip the daily-loss or drawdown breaker, nor
does a deposit hide a drawdown."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from tui_trader.engine.position_check import PositionWatch

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tui_trader.core.positions import Balance
    from tui_trader.engine.ports import EnginePort
    from tui_trader.execution.portfolio import Portfolio
    from tui_trader.venues.base import Venue

log = logging.getLogger(__name__)

ATTEMPTS = 3  # reads while fills keep being booked, before the cash is left as counted
Moved = dict[str, tuple[Decimal, Decimal]]  # currency -> (was, now)


def cash_from(portfolio: Portfolio, name: str, venue: object, balances: Mapping[str, Balance]) -> dict[str, Decimal]:
    """The cash `venue`'s balances say, per currency, as the portfolio keeps it: an exchange's
    balance of a base coin (BTC of BTC/USDT) holds the coins its spot positions hold, which the
    portfolio keeps in the positions (a fill moves the position, not the coin's cash), so they
    are taken out, or they would count twice in the equity (`balances_hold_positions`). A
    broker's liquidation value holds the stocks alike, at the venue's valuation (`Balance.valued`):
    the value of the part the portfolio holds is taken out. What the venue holds beyond it (bought
    elsewhere) stays in the cash, at its value at the read."""
    totals = {ccy: b.total - _ours(portfolio, name, b.valued) for ccy, b in balances.items()}
    if getattr(venue, "balances_hold_positions", False):
        for ccy, qty in portfolio.spot_held(name).items():
            totals[ccy] = totals.get(ccy, Decimal(0)) - qty
    return totals


def _ours(portfolio: Portfolio, name: str, valued: tuple[tuple[str, Decimal, Decimal], ...]) -> Decimal:
    """The venue's value of the part of each position it valued that the portfolio holds too
    (the same side, up to the smaller quantity): 5 AAPL at IB worth 1,000, 3 of them ours: 600."""
    out = Decimal(0)
    for symbol, qty, value in valued:
        pos = portfolio.positions.get((name, symbol))
        held = pos.quantity if pos is not None and not pos.margined else Decimal(0)
        if qty and held and (held > 0) == (qty > 0):
            out += abs(value).copy_sign(qty) * min(abs(held), abs(qty)) / abs(qty)
    return out


def take(portfolio: Portfolio, name: str, venue: object, balances: Mapping[str, Balance], taken: datetime) -> Moved:
    """`name`'s share of the cash set from a read believed at `taken` (our clock); what moved.
    The venue's time of the read, where it gives one, is kept: a fill or payment made by then
    and heard of later is in these balances already (`Portfolio.in_balances`). Where it gives
    none, a fill made by `taken` and heard of later may be in them or not (`Portfolio.unsure`):
    the balances are read again (`CashReader.recheck`)."""
    stamps = [b.as_of for b in balances.values() if b.as_of is not None]
    return portfolio.read_cash(
        name,
        cash_from(portfolio, name, venue, balances),
        taken=None if getattr(venue, "balances_with_fills", False) else taken,
        as_of=min(stamps) if stamps and len(stamps) == len(balances) else None,
        coins_held=bool(getattr(venue, "balances_hold_positions", False)),
        elsewhere={
            ccy: sum((v for _, _, v in b.valued), Decimal(0)) - _ours(portfolio, name, b.valued)
            for ccy, b in balances.items()
        },
    )


class CashReader:
    """One read at a time per venue (a reconnect's own and `venue reconnect`'s may meet). A
    broker's positions are read with its balances and compared with ours once the read is
    believed (engine/position_check.py)."""

    def __init__(self, engine: EnginePort) -> None:
        self.engine = engine
        self.positions = PositionWatch(engine)
        self._locks: dict[str, asyncio.Lock] = {}
        self.moved: dict[str, tuple[int, str]] = {}  # venue -> (reads that moved its cash, the last one's moves)
        self._rechecking: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()  # rechecks running (the reconciler stops them)

    async def reread(self, name: str, after: str) -> Moved | None:
        """Read `name`'s balances again and set its cash from them; what moved (None: not read,
        a notice says why). `after` names the occasion in the notice ("reconnect")."""
        async with self._locks.setdefault(name, asyncio.Lock()):
            return await self._reread(name, after)

    async def at_start(self, name: str) -> None:
        """The start-up read, after the venue's reconcile, by the same rule as a read again: a
        fill the venue made before its balances answered is counted once, whether it was
        replayed by the reconcile, streams in or is found by the reconcile after the read. A
        venue that fails raises (the start fails and says why). Fills arriving at every read
        leave its cash not known (`Portfolio.unread`): orders adding to a position there are
        refused until a read is believed (the next reconnect, `tui-trader venue reconnect`)."""
        async with self._locks.setdefault(name, asyncio.Lock()):
            e = self.engine
            venue, read = e.venues[name], await self._believed(name)
            if read is None:
                e.portfolio.cash_not_known(
                    name, "fills kept arriving while its balances were read at start", e.clock.now()
                )
                e.notify(
                    "warning",
                    f"{name}: cash not known: fills kept arriving while its balances were read at start; "
                    f"orders adding to a position there are refused until `tui-trader venue reconnect {name}` "
                    "reads them",
                )
                return
            take(e.portfolio, name, venue, read[0], e.clock.now())
            await self._compare(name, read[1])

    async def _compare(self, name: str, held: Mapping[str, Decimal] | None) -> None:
        if held is not None:
            await self.positions.compare(name, held)

    async def _believed(self, name: str) -> tuple[Mapping[str, Balance], Mapping[str, Decimal] | None] | None:
        """`name`'s balances, once a read agrees with the fills applied: none booked while it was
        taken, nor found by the reconcile right after it (a fill booked meanwhile may or may not
        be in the balances: read again). The reconcile is skipped when none of our orders there
        is open after the read (a fill we lack is of an order we still see open). None: fills
        kept arriving, `ATTEMPTS` reads. A venue error propagates. With them, the positions the
        venue holds where it says (a broker's `fetch_positions`; None: it does not, or that read
        failed)."""
        e = self.engine
        venue, oms, reconciler = e.venues[name], e.oms, e.reconciler
        assert oms is not None
        for _ in range(ATTEMPTS):
            await oms.flush()  # every streamed fill queued, applied
            booked = e.portfolio.moves.get(name, 0)
            balances, held = await _account(name, venue)
            if any(o.venue == name for o in oms.open_orders()):  # none: no fill of ours can be missing
                await reconciler.reconcile_now(name)  # a fill the balances may hold that we lacked
            await e.derivatives.import_flows(name)  # a funding or swap payment, alike
            await oms.flush()
            if e.portfolio.moves.get(name, 0) == booked:
                return balances, held
        return None

    async def _reread(self, name: str, after: str) -> Moved | None:
        e = self.engine
        venue = e.venues.get(name)
        if venue is None or e.oms is None:
            return None
        try:
            read = await self._believed(name)
        except Exception as exc:  # the venue went again: its cash stays as counted
            log.warning("%s: balances not read again after %s: %s", name, after, exc)
            e.notify("warning", f"{name}: cash not re-read after {after} ({exc}); as counted from its fills")
            return None
        if read is None:
            e.notify(
                "warning",
                f"{name}: cash not re-read after {after}: fills kept arriving while its balances were read; "
                "as counted from its fills (`tui-trader venue reconnect` reads them again)",
            )
            return None
        now = e.clock.now()
        worth = e.portfolio.equity(now)
        unsure = e.portfolio.unsure.get(name, {})
        moved = take(e.portfolio, name, venue, read[0], now)
        await self._compare(name, read[1])
        if moved:
            if not _undoes(moved, unsure):
                # not a trade's: money moved in or out (the fills are all applied), which the
                # breakers must not read as a profit or a loss
                e.risk.transfer(e.portfolio.equity(now) - worth)
            # else: fills made before the last read, heard of after it, were in it: their cash,
            # counted twice, is counted once again (the breakers see the equity come back)
            await self._said(name, after, moved)
        return moved

    def recheck(self, name: str) -> None:
        """A fill made before `name`'s last read, heard of after it, on a venue that gives its
        balances no time: it may be in them. Read them again (once for fills that come together)."""
        if name in self._rechecking:
            return
        self._rechecking.add(name)

        async def again() -> None:
            try:
                await self.reread(name, "a fill made before its balances were read")
            finally:
                self._rechecking.discard(name)

        task = asyncio.get_running_loop().create_task(again(), name=f"cash-recheck-{name}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _said(self, name: str, after: str, moved: Moved) -> None:
        e = self.engine
        e.risk.observe()
        text = ", ".join(f"{ccy} {amount(was)} -> {amount(now)}" for ccy, (was, now) in moved.items())
        self.moved[name] = (self.moved.get(name, (0, ""))[0] + 1, text)
        e.notify("info", f"{name}: cash re-read after {after}: {text}")
        detail = {"venue": name, "after": after, "moved": {c: [str(w), str(n)] for c, (w, n) in moved.items()}}
        await e.audit("engine", "cash_reread", detail)


async def _account(name: str, venue: Venue) -> tuple[Mapping[str, Balance], Mapping[str, Decimal] | None]:
    """The balances, and the positions the venue holds where it says: in one read where the
    balances list them (`fetch_account`: a broker that values each position), else a second."""
    both = getattr(venue, "fetch_account", None)
    if both is None:
        return await venue.fetch_balances(), await _positions(name, venue)
    balances, held = await both()
    return balances, held


async def _positions(name: str, venue: object) -> Mapping[str, Decimal] | None:
    """What a broker says it holds (None: it does not say, or could not now: the balances are
    read still, the positions compared at the next read)."""
    fetch = getattr(venue, "fetch_positions", None)
    if fetch is None:
        return None
    try:
        held: Mapping[str, Decimal] = await fetch()
    except Exception as exc:
        log.warning("%s: positions not read with its balances: %s", name, exc)
        return None
    return held


def _undoes(moved: Moved, unsure: Mapping[str, Decimal]) -> bool:
    """Whether the read moved the cash by exactly what it would if the fills that may have been
    in the last read were (`Portfolio.unsure`): they were, and were counted twice."""
    expected = {ccy: v for ccy, v in unsure.items() if v}
    return bool(expected) and {ccy: now - was for ccy, (was, now) in moved.items()} == expected


def amount(value: Decimal) -> str:
    """1250 -> "1,250"; 0.50000000 -> "0.5"."""
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
