"""Positions, cash, marks and equity, maintained from fills and tickers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tui_trader.core.fills import Fill
from tui_trader.core.instrument import Instrument
from tui_trader.core.positions import Position

ZERO = Decimal(0)
EPOCH = datetime(1970, 1, 2, tzinfo=UTC)  # a time at or before it is none given (a venue's 0)


@dataclass(frozen=True, slots=True)
class CurrencyBalance:
    """One currency's cash and the value of the positions quoted in it, and what they are worth
    in the reporting currency at the live rate (`rate` None: no quote yet, counted 1:1)."""

    currency: str
    cash: float
    positions: float
    rate: float | None

    @property
    def total(self) -> float:
        return self.cash + self.positions

    @property
    def value(self) -> float:
        return self.total * (1.0 if self.rate is None else self.rate)


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Money figures are in `currency` (the reporting currency), converted at live rates."""

    ts: datetime
    equity: float
    cash: float
    gross_exposure: float
    net_exposure: float
    unrealized_pnl: float
    realized_pnl: float
    fees: float
    day_start_equity: float
    peak_equity: float
    currency: str = "USD"
    balances: tuple[CurrencyBalance, ...] = ()
    funding: float = 0.0  # funding and swap received (+) or paid (-) by the open positions

    @property
    def day_pnl(self) -> float:
        return self.equity - self.day_start_equity

    @property
    def drawdown(self) -> float:
        """Fraction below the peak equity (0 at a new high)."""
        return 0.0 if self.peak_equity <= 0 else max(0.0, 1.0 - self.equity / self.peak_equity)


class Portfolio:
    """Cash is kept per currency; equity is reported in one currency, each converted at the live
    rate of a quoted pair (USDT/USD, EUR/USD, or USD/JPY inverted). USDT is not USD.

    A spot fill moves its notional between cash and the position. A fill of an instrument on
    margin (`set_instrument` says which) moves only the P&L it realises and its fee, in the
    settle currency; the position adds its unrealised P&L on the mark price. Funding and swap
    payments (`apply_cash_flow`) move cash and are kept on the position they belong to.

    Cash is summed over venues (two venues holding USDT hold both amounts); each venue's share
    is kept too (`venue_cash`: its balances as last read, moved by its fills and payments
    since), so one venue's balances can be read again (`read_cash`) without touching the
    others', an order's balance check reads its own venue's (risk/checks.py), and `moves`
    counts what moved a venue's cash (a read is only believed if nothing moved while it was
    asked for). A fill or payment heard of after a read but made at or before
    the venue's time of that read (`read_at`, where the venue gives one) is in those balances
    already: it moves the position, not the cash again (`in_balances`)."""

    def __init__(self, reporting: str = "USD", rate_venue: str | None = None) -> None:
        self.reporting = reporting
        # Whose currency pairs convert currencies when several venues quote one (two venues'
        # USDT/USD a few bp apart must not move the equity as each ticks): this venue's, else
        # the first venue's that quoted the pair.
        self.rate_venue = rate_venue
        self._rates_by: dict[str, dict[str, float]] = {}  # currency -> venue -> rate
        self.positions: dict[tuple[str, str], Position] = {}
        self.base_of: dict[str, str] = {}  # symbol -> its base currency (spot holdings: `spot_held`)
        self.venue_cash: dict[str, dict[str, Decimal]] = {}  # venue -> currency -> its share of `cash`
        # venue -> currency -> the value of the positions it held beyond ours at its last read,
        # in its cash (a broker's account value: shares held from before): worth, not spendable
        self.held_elsewhere: dict[str, dict[str, Decimal]] = {}
        # (venue, symbol) -> what a broker holds where it holds less than we count, at its last
        # account read (engine/position_check.py): an exit goes no further (risk/checks.py)
        self.at_venue: dict[tuple[str, str], Decimal] = {}
        self.moves: dict[str, int] = {}  # venue -> fills and payments booked to its cash
        self.unread: dict[str, str] = {}  # venue -> why its balances are not known (none believed yet)
        self.unread_since: dict[str, datetime] = {}  # venue -> since when they are not (`cash_not_known`)
        self.read_at: dict[str, datetime] = {}  # venue -> the venue's time of its balances last read
        # venue -> our clock when its balances, which come with no time of the venue's, were last
        # taken; and, by currency, what the next read moves if fills made before then and heard
        # of after were in those balances (counted twice), which they may be or not
        self.read_taken: dict[str, datetime] = {}
        self.unsure: dict[str, dict[str, Decimal]] = {}
        self.coins_in_balances: set[str] = set()  # venues whose balances hold their spot positions' coins
        self.cash: dict[str, Decimal] = {}
        self.marks: dict[tuple[str, str], float] = {}  # (venue, symbol) -> mid
        self.quote_of: dict[str, str] = {}
        self.rates: dict[str, float] = {}  # one unit in the reporting currency, from live quotes
        self.specs: dict[tuple[str, str], Instrument] = {}  # instruments on margin, by (venue, symbol)
        self.peak_equity = 0.0
        self.day_start_equity = 0.0
        self._day: object = None

    def resume(self, day: object, day_start_equity: float, peak_equity: float) -> None:
        """After a restart: today's anchor and the peak as they were (the risk engine stores them)."""
        if day is not None:
            self._day = day
            self.day_start_equity = day_start_equity
        self.peak_equity = max(self.peak_equity, peak_equity)

    def position(self, venue: str, symbol: str) -> Position:
        key = (venue, symbol)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = Position(venue, symbol, mark=self.marks.get(key, 0.0))
            spec = self.specs.get(key)
            if spec is not None:
                pos.configure(spec)
        return pos

    def set_instrument(
        self, inst: Instrument, leverage: Decimal | None = None, margin_mode: str | None = None
    ) -> None:
        """An instrument traded on margin (and the leverage it trades at): its fills settle P&L,
        not notional. Spot instruments need not be registered."""
        if not inst.margined:
            return
        key = (inst.venue, inst.symbol)
        self.specs[key] = inst
        self.quote_of[inst.symbol] = inst.quote
        pos = self.positions.get(key)
        if pos is not None:
            pos.configure(inst, leverage, margin_mode)
        elif leverage is not None or margin_mode is not None:
            self.position(inst.venue, inst.symbol).configure(inst, leverage, margin_mode)

    def spec(self, venue: str, symbol: str) -> Instrument | None:
        return self.specs.get((venue, symbol))

    def value_currency(self, pos: Position) -> str:
        """The currency a position's equity value is in: its settle currency on margin, else its quote."""
        if pos.margined:
            return pos.settle or self.quote_of.get(pos.symbol, self.reporting)
        return self.quote_of.get(pos.symbol, self.reporting)

    def open_positions(self) -> list[Position]:
        return [p for p in self.positions.values() if not p.is_flat]

    def know_quotes(self, instruments: Iterable[Instrument]) -> None:
        """The quote currency of each listed symbol, so a position reloaded from the database
        (before any fill of it this session) is valued in its quote, not the reporting currency."""
        for inst in instruments:
            self.quote_of.setdefault(inst.symbol, inst.quote)
            self.base_of.setdefault(inst.symbol, inst.base)

    def set_cash(self, currency: str, amount: Decimal) -> None:
        """The total alone, no venue's share (a test's account): a balance check of an order on
        any venue finds no balance in `currency` there. The engine's cash comes from `read_cash`."""
        self.cash[currency] = amount

    def spot_held(self, venue: str) -> dict[str, Decimal]:
        """The base coins `venue`'s spot positions hold, by coin (BTC of a BTC/USDT position).
        An exchange's balances count them too: the caller of `read_cash` takes them out, as a
        fill moves the position and not the coin's cash."""
        held: dict[str, Decimal] = {}
        for (name, symbol), pos in self.positions.items():
            base = self.base_of.get(symbol)
            if name == venue and base and not pos.margined and pos.quantity:
                held[base] = held.get(base, ZERO) + pos.quantity
        return held

    def read_cash(
        self,
        venue: str,
        balances: Mapping[str, Decimal],
        *,
        as_of: datetime | None = None,
        coins_held: bool = False,
        elsewhere: Mapping[str, Decimal] | None = None,
        taken: datetime | None = None,
    ) -> dict[str, tuple[Decimal, Decimal]]:
        """`venue`'s cash as its balances read now (a currency it held and no longer lists: 0),
        the other venues' shares untouched. What moved: currency -> (was, now). `as_of`: the
        venue's time of the balances (None: it gives none); `coins_held`: its balance of a base
        coin holds what its spot positions hold (taken out of `balances` by the caller);
        `elsewhere`: the part of `balances` that is positions it holds beyond ours
        (`held_elsewhere`); `taken`: our clock when they were believed (with no `as_of`, a fill
        made by then and heard of later is `unsure`)."""
        self.held_elsewhere[venue] = {ccy: v for ccy, v in (elsewhere or {}).items() if v}
        self.unread.pop(venue, None)
        self.unread_since.pop(venue, None)
        self.unsure.pop(venue, None)
        self.read_taken.pop(venue, None)
        if as_of is None:
            self.read_at.pop(venue, None)
            if taken is not None:
                self.read_taken[venue] = taken
        else:
            self.read_at[venue] = as_of
        (self.coins_in_balances.add if coins_held else self.coins_in_balances.discard)(venue)
        share = self.venue_cash.setdefault(venue, {})
        moved = {}
        for ccy in dict.fromkeys([*share, *balances]):
            was, now = share.get(ccy, ZERO), balances.get(ccy, ZERO)
            if now != was:
                moved[ccy] = (was, now)
            self.cash[ccy] = self.cash.get(ccy, ZERO) + now - was
            share[ccy] = now
        return moved

    def cash_not_known(self, venue: str, why: str, since: datetime) -> None:
        """`venue`'s balances are not believed (`why`), since `since` (kept from the first time
        it was said): orders adding to a position there are refused (risk/checks.py) and the
        status says so, until a read is believed (`read_cash`)."""
        self.unread[venue] = why
        self.unread_since.setdefault(venue, since)

    def in_balances(self, venue: str, ts: datetime) -> bool:
        """Whether what `venue` booked at `ts` is in its balances as last read: made at or before
        the venue's time of that read (a fill or payment heard of late: its money is in them)."""
        at = self.read_at.get(venue)
        return at is not None and EPOCH < ts <= at

    def _maybe_read(self, venue: str, ts: datetime) -> bool:
        """Made by the time `venue`'s balances, which come with no time, were taken: a fill
        heard of after them may be in them or not. It is booked as not (the cash moves), and
        what the next read would move if it was is kept (`unsure`): the engine reads them
        again (engine/cash_reread.py)."""
        taken = self.read_taken.get(venue)
        return taken is not None and EPOCH < ts <= taken

    def _unsure(self, venue: str, currency: str, amount: Decimal) -> None:
        per = self.unsure.setdefault(venue, {})
        per[currency] = per.get(currency, ZERO) + amount

    def _move(self, venue: str, currency: str, amount: Decimal) -> None:
        self.cash[currency] = self.cash.get(currency, ZERO) + amount
        share = self.venue_cash.setdefault(venue, {})
        share[currency] = share.get(currency, ZERO) + amount
        self._booked(venue)

    def _booked(self, venue: str) -> None:
        """Something was booked to `venue` (a read taken meanwhile is not believed)."""
        self.moves[venue] = self.moves.get(venue, 0) + 1

    def apply_fill(self, fill: Fill) -> Position:
        pos = self.position(fill.venue, fill.symbol)
        if pos.margined:
            return self._apply_margined(pos, fill)
        before = pos.quantity
        pos.apply(fill)
        quote = fill.quote
        # a base-coin fee left the position; a third currency's (BNB) is not tracked
        fee = fill.fee if fill.fee_in_quote else ZERO
        base = self.base_of.get(fill.symbol)
        if not self.in_balances(fill.venue, fill.ts):
            paid = -fill.signed_quantity * fill.price - fee
            self._move(fill.venue, quote, paid)
            if self._maybe_read(fill.venue, fill.ts):
                self._unsure(fill.venue, quote, -paid)
                if base and fill.venue in self.coins_in_balances:
                    self._unsure(fill.venue, base, before - pos.quantity)
        elif base and fill.venue in self.coins_in_balances:  # its coins were read as cash: now the position's
            self._move(fill.venue, base, before - pos.quantity)
        else:  # paid for in the balances read
            self._booked(fill.venue)
        self.quote_of[fill.symbol] = quote
        key = (fill.venue, fill.symbol)
        if key not in self.marks:
            self.marks[key] = float(fill.price)
        pos.mark = self.marks[key]
        return pos

    def _apply_margined(self, pos: Position, fill: Fill) -> Position:
        fee = pos.fee_of(fill)
        realized = pos.apply(fill)
        settle = pos.settle or fill.quote
        if self.in_balances(fill.venue, fill.ts):  # settled in the balances read
            self._booked(fill.venue)
        else:
            self._move(fill.venue, settle, realized - fee)
            if self._maybe_read(fill.venue, fill.ts):
                self._unsure(fill.venue, settle, fee - realized)
        self.quote_of.setdefault(fill.symbol, fill.quote)
        key = (fill.venue, fill.symbol)
        if key not in self.marks:
            self.marks[key] = float(fill.price)
        pos.mark = self.marks[key]
        return pos

    def apply_cash_flow(
        self, venue: str, symbol: str, amount: Decimal, currency: str, ts: datetime | None = None
    ) -> Position | None:
        """Funding or swap paid (< 0) or received (> 0) for a position: cash, and the position's
        running total (`ts`: when the venue booked it; one in the balances as read moves no cash)."""
        if ts is not None and self.in_balances(venue, ts):
            self._booked(venue)
        else:
            self._move(venue, currency, amount)
        pos = self.positions.get((venue, symbol))
        if pos is not None and not pos.is_flat:
            pos.funding += amount
        return pos

    def mark(self, venue: str, symbol: str, price: float) -> None:
        """A venue's price for a symbol values that venue's position only. A currency pair's
        price (USDT/USD, EUR/USD, USD/JPY) is also the rate that converts that currency."""
        key = (venue, symbol)
        self.marks[key] = price
        pos = self.positions.get(key)
        if pos is not None:
            pos.mark = price
        base, slash, quote = symbol.partition("/")
        if slash and price > 0 and self.reporting in (base, quote):
            currency, rate = (base, price) if quote == self.reporting else (quote, 1.0 / price)
            by_venue = self._rates_by.setdefault(currency, {})
            by_venue[venue] = rate
            self.rates[currency] = by_venue.get(self.rate_venue or "", next(iter(by_venue.values())))

    def mark_of(self, venue: str, symbol: str) -> float:
        return self.marks.get((venue, symbol), 0.0)

    def rate(self, currency: str) -> float | None:
        """One unit of `currency` in the reporting currency; None when no pair quotes it yet."""
        if currency == self.reporting:
            return 1.0
        return self.rates.get(currency)

    def balances(self) -> list[CurrencyBalance]:
        """Per currency: cash, the value of positions quoted in it, and its rate."""
        positions: dict[str, float] = {}
        for pos in self.positions.values():
            if not pos.is_flat:
                ccy = self.value_currency(pos)
                positions[ccy] = positions.get(ccy, 0.0) + pos.equity_value
        currencies = list(dict.fromkeys([*self.cash, *positions]))
        return [
            CurrencyBalance(ccy, float(self.cash.get(ccy, ZERO)), positions.get(ccy, 0.0), self.rate(ccy))
            for ccy in currencies
        ]

    def equity(self, now: datetime) -> float:
        """`snapshot(now).equity` alone, the same number, without the rest of the snapshot
        (the breakers and the sizer read it on every new order); the day's first equity and
        the peak are kept as `snapshot` keeps them."""
        worth = 0.0
        for pos in self.positions.values():
            worth += pos.equity_value * self._rate_or_one(self.value_currency(pos))
        return self._seen(now, self.cash_value() + worth)

    def cash_value(self) -> float:
        """Cash in every currency, in the reporting currency (`snapshot(now).cash`)."""
        return sum(float(amount) * self._rate_or_one(ccy) for ccy, amount in self.cash.items())

    def _seen(self, now: datetime, equity: float) -> float:
        day = now.date()
        if day != self._day:
            self._day = day
            self.day_start_equity = equity
        self.peak_equity = max(self.peak_equity, equity)
        return equity

    def snapshot(self, now: datetime) -> AccountSnapshot:
        balances = self.balances()
        cash = self.cash_value()
        gross = net = unreal = realized = fees = funding = worth = 0.0
        for pos in self.positions.values():
            rate = self._rate_or_one(self.value_currency(pos))
            exposure = pos.market_value * self._rate_or_one(self.quote_of.get(pos.symbol, self.reporting))
            gross += abs(exposure)
            net += exposure
            worth += pos.equity_value * rate
            unreal += pos.unrealized_pnl * rate
            realized += float(pos.realized_pnl) * rate
            fees += float(pos.fees) * rate
            if not pos.is_flat:
                funding += float(pos.funding) * rate
        equity = self._seen(now, cash + worth)
        return AccountSnapshot(
            now,
            equity,
            cash,
            gross,
            net,
            unreal,
            realized,
            fees,
            self.day_start_equity,
            self.peak_equity,
            self.reporting,
            tuple(balances),
            funding,
        )

    def _rate_or_one(self, currency: str) -> float:
        rate = self.rate(currency)
        return 1.0 if rate is None else rate
