"""The paper matching engine, separate from where prices come from.

Feed it order books and trade prints from any source (the simulator, a replay, a real
venue's stream). Rules:
- market orders walk the opposite side of the book (real slippage); when depth runs out the
  rest is cancelled ("book depth exhausted"); what they take stays taken and refills with
  the symbol's resilience half-life (liquidity.py), so the next order meets a thinner book;
- marketable limit orders take liquidity up to their price, the rest rests (GTC/DAY) or is
  cancelled (IOC); FOK fills completely or expires; post-only refuses to take liquidity;
- a resting limit order joins the queue behind the size displayed at its price. A trade print
  that reaches its price first uses up the book's better levels, then the queue ahead, and
  only then fills the order (as maker, at its price), up to the print's size; a market book
  that crosses it fills it against the crossing size, which is then taken. Best price first,
  then earliest (price-time priority) among our own orders;
- stop and stop-limit orders trigger on trade prices, then behave as market / limit orders;
- sessions (sessions.py): a stock trades in its exchange's session only. A market order while
  it is shut is refused, or queued for the open as a day order; limit orders wait, and trade
  in extended hours only if marked so; a day order ends when its session closes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from tui_trader.core.clock import Clock
from tui_trader.core.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.events import Event, ExecutionReport
from tui_trader.core.fills import Fill
from tui_trader.core.hours import Phase, SessionState
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import OrderBook, TradePrint
from tui_trader.core.orders import Order
from tui_trader.venues.paper import session_rules
from tui_trader.venues.paper.account import PaperAccount
from tui_trader.venues.paper.liquidity import BookLiquidity, Level, displayed, exact, less

ALWAYS = SessionState("24/7", Phase.OPEN)

ZERO = Decimal(0)


@dataclass(slots=True)
class _Working:
    order: Order
    seq: int
    triggered: bool = False
    ahead: float | None = None  # displayed size ahead of it in the queue at its price (None: not resting yet)
    queued: bool = False  # waiting for its market to open
    was_tradable: bool = False

    @property
    def limit(self) -> Decimal | None:
        return self.order.price


class MatchingEngine:
    def __init__(
        self,
        venue: str,
        instruments: dict[str, Instrument],
        account: PaperAccount,
        *,
        maker_fee: float,
        taker_fee: float,
        emit: Callable[[Event], None],
        clock: Clock,
        session: Callable[[str], SessionState] | None = None,
        half_life_s: Callable[[str], float] | None = None,
    ) -> None:
        self.venue = venue
        self.instruments = instruments
        self.account = account
        self.maker_fee = Decimal(str(maker_fee))
        self.taker_fee = Decimal(str(taker_fee))
        self.emit = emit
        self.clock = clock
        self.session = session or (lambda symbol: ALWAYS)
        self.liquidity = BookLiquidity(half_life_s or (lambda symbol: 5.0), lambda: clock.now().timestamp())
        self._books: dict[str, list[list[Level]]] = {}  # symbol -> [bids, asks] as [price, size, level]
        self._market: dict[str, tuple[OrderBook, float]] = {}  # the market's last book, and when _books was made
        self._last: dict[str, float] = {}
        self._working: dict[str, _Working] = {}
        self._seq = itertools.count(1)
        self._fill_seq = itertools.count(1)
        self.fills: list[Fill] = []

    # -- market data -------------------------------------------------------------------------

    def last_price(self, symbol: str) -> float:
        if symbol in self._last:
            return self._last[symbol]
        book = self._books.get(symbol)
        if book and book[0] and book[1]:
            return (book[0][0][0] + book[1][0][0]) / 2
        return 0.0

    def on_book(self, book: OrderBook) -> OrderBook:
        """Take in the market's book; returns it as displayed (less what our orders took)."""
        levels = self.liquidity.levels(book)
        self._books[book.symbol] = levels
        self._market[book.symbol] = (book, self.liquidity.now())
        if book.symbol not in self._last and book.bids and book.asks:
            self._last[book.symbol] = (book.bids[0][0] + book.asks[0][0]) / 2
        if any(w.order.symbol == book.symbol for w in self._working.values()):
            self._on_session(book.symbol)
            # A book that crosses a resting order: the market's sellers (buyers) meet it.
            if levels[1]:
                self._fill_resting(book.symbol, Side.BUY, levels[1][0][0], None)
            if levels[0]:
                self._fill_resting(book.symbol, Side.SELL, levels[0][0][0], None)
        if self.liquidity.taken(book.symbol) is None:
            return book
        return displayed(book, levels)

    def on_trade(self, trade: TradePrint) -> None:
        self._last[trade.symbol] = trade.price
        if not any(w.order.symbol == trade.symbol for w in self._working.values()):
            return
        self._trigger_stops(trade.symbol, trade.price)
        # A print at p by a seller reaches resting buys priced >= p (and vice versa), up to its size.
        resting_side = Side.BUY if trade.aggressor is Side.SELL else Side.SELL
        self._fill_resting(trade.symbol, resting_side, trade.price, trade.size)

    # -- orders --------------------------------------------------------------------------------

    def open_orders(self) -> list[Order]:
        return [w.order for w in self._working.values()]

    def restore_working(self, order: Order, triggered: bool = False) -> None:
        """Put a working order back after a restart (from the venue's journal). It rejoins the
        queue at its price behind what is displayed there then (its old place is not known)."""
        queued = order.type is OrderType.MARKET  # only a day order waiting for the open is left working
        self._working[order.client_order_id] = _Working(order, next(self._seq), triggered, queued=queued)
        inst = self.instruments.get(order.symbol)
        if inst is not None and order.type is not OrderType.MARKET:
            price = order.price or order.stop_price or Decimal(0)
            self.account.check(
                order.symbol,
                inst.quote,
                order.side,
                order.remaining,
                price,
                self.maker_fee,
                self.last_price,
                reserve_as=order.client_order_id,
            )

    def continue_sequences(self, orders: int, fills: int) -> None:
        self._seq = itertools.count(orders + 1)
        self._fill_seq = itertools.count(fills + 1)

    def submit(self, order: Order) -> None:
        """Validate, accept or reject, then match what is marketable now."""
        inst = self.instruments.get(order.symbol)
        reason = self._validate(order, inst)
        state = self.session(order.symbol) if inst is not None else ALWAYS
        now = self.clock.now()
        if reason is None:
            reason = session_rules.refusal(order, state, now)
        if reason is None and inst is not None:
            reason = self._check_funds(order, inst)
        if reason is not None:
            self._report(order, OrderStatus.REJECTED, reason)
            return
        assert inst is not None
        order.venue_order_id = f"P{next(self._seq)}"
        working = _Working(order, next(self._seq))
        if order.type in (OrderType.STOP, OrderType.STOP_LIMIT):
            self._report(order, OrderStatus.ACCEPTED)
            self._working[order.client_order_id] = working
            return
        if not session_rules.tradable(order, state.phase):
            working.queued = True
            self._report(order, OrderStatus.ACCEPTED, session_rules.waiting_note(order, state, now))
            self._working[order.client_order_id] = working
            return
        self._report(order, OrderStatus.ACCEPTED)
        working.was_tradable = True
        self._execute(working, inst)

    def cancel(self, client_order_id: str, reason: str = "cancelled by user") -> bool:
        working = self._working.pop(client_order_id, None)
        if working is None:
            return False
        self.account.release(client_order_id)
        self._report(working.order, OrderStatus.CANCELLED, reason)
        return True

    # -- internals -----------------------------------------------------------------------------

    def _validate(self, order: Order, inst: Instrument | None) -> str | None:
        if inst is None:
            return f"unknown symbol {order.symbol}"
        if order.quantity <= 0:
            return "quantity must be greater than zero"
        if not inst.on_lot(order.quantity):
            return f"quantity {order.quantity} is not a multiple of the lot size {inst.lot_size}"
        if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            if order.price is None or order.price <= 0:
                return f"a {order.type} order needs a positive price"
            if not inst.on_tick(order.price):
                return f"price {order.price} is not a multiple of the tick size {inst.tick_size}"
        if order.type in (OrderType.STOP, OrderType.STOP_LIMIT):
            if order.stop_price is None or order.stop_price <= 0:
                return f"a {order.type} order needs a positive stop price"
            last = self.last_price(order.symbol)
            if last:
                if order.side is Side.BUY and float(order.stop_price) <= last:
                    return f"buy stop {order.stop_price} is at or below the last price {last}: it would trigger at once"
                if order.side is Side.SELL and float(order.stop_price) >= last:
                    return (
                        f"sell stop {order.stop_price} is at or above the last price {last}: it would trigger at once"
                    )
        if order.type is OrderType.TRAILING_STOP:
            return "trailing stops are emulated by the engine, not sent to the paper venue"
        if order.type is OrderType.MARKET and not self._books.get(order.symbol):
            return f"no market data for {order.symbol} yet; try again in a moment"
        if order.reduce_only:
            pos = self.account.position(order.symbol)
            if pos == 0 or (pos > 0) == (order.side is Side.BUY) or order.quantity > abs(pos):
                return f"reduce-only order would increase the position (holding {pos})"
        return None

    def _reference_price(self, order: Order) -> Decimal:
        if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and order.price is not None:
            return order.price
        if order.type is OrderType.STOP and order.stop_price is not None:
            return order.stop_price * Decimal("1.01") if order.side is Side.BUY else order.stop_price
        # Market: what walking the book for this size would cost.
        levels = self._levels(order.symbol)[1 if order.side is Side.BUY else 0]
        remaining, cost = order.quantity, ZERO
        for price, size, _ in levels:
            if not size:  # a level this market's orders have taken (it refills with time)
                continue
            take = min(remaining, exact(size))
            cost += take * Decimal(str(price))
            remaining -= take
            if remaining <= 0:
                break
        filled = order.quantity - remaining
        return cost / filled if filled > 0 else Decimal(str(self.last_price(order.symbol)))

    def _check_funds(self, order: Order, inst: Instrument) -> str | None:
        price = self._reference_price(order)
        if inst.min_notional and order.quantity * price < inst.min_notional:
            return f"order value {order.quantity * price:.2f} is below the minimum {inst.min_notional} {inst.quote}"
        resting = order.type is not OrderType.MARKET
        fee = self.taker_fee if not resting else max(self.maker_fee, self.taker_fee)
        return self.account.check(
            order.symbol,
            inst.quote,
            order.side,
            order.quantity,
            price,
            fee,
            self.last_price,
            reserve_as=order.client_order_id if resting else None,
        )

    def _execute(self, working: _Working, inst: Instrument) -> None:
        """Take liquidity for a market / marketable limit order; rest or cancel the remainder."""
        order = working.order
        limit = None if order.type in (OrderType.MARKET, OrderType.STOP) else order.price
        side = 1 if order.side is Side.BUY else 0
        levels = self._levels(order.symbol)[side]

        def crosses(price: float) -> bool:
            if limit is None:
                return True
            return price <= float(limit) if order.side is Side.BUY else price >= float(limit)

        if order.post_only or order.time_in_force is TimeInForce.FOK:  # what the book has for it
            available = sum((exact(s) for p, s, _ in levels if crosses(p)), ZERO)
            if order.post_only and available > 0:
                self.account.release(order.client_order_id)
                self._report(order, OrderStatus.REJECTED, "post-only order would take liquidity")
                return
            if order.time_in_force is TimeInForce.FOK and available < order.remaining:
                self.account.release(order.client_order_id)
                self._report(order, OrderStatus.EXPIRED, f"fill-or-kill: only {available} available at the limit")
                return
        for level in levels:
            if order.remaining <= 0 or not crosses(level[0]):
                break
            if level[1] <= 0:  # taken already: nothing to convert and round
                continue
            size = inst.round_qty(exact(level[1]))
            take = min(order.remaining, size)
            if take <= 0:
                continue
            level[1] = less(level[1], float(take))
            self.liquidity.take(order.symbol, side, int(level[2]), float(take))
            self._fill(working, inst, take, inst.round_price(Decimal(str(level[0]))), Liquidity.TAKER)
        if order.remaining <= 0:
            return
        if limit is None:
            self.account.release(order.client_order_id)
            self._report(
                order,
                OrderStatus.CANCELLED,
                f"book depth exhausted: filled {order.filled_quantity} of {order.quantity}",
            )
        elif order.time_in_force is TimeInForce.IOC:
            self.account.release(order.client_order_id)
            self._report(order, OrderStatus.CANCELLED, "immediate-or-cancel remainder")
        else:
            working.ahead = self._displayed_at(order.symbol, order.side, float(limit))
            self._working[order.client_order_id] = working

    def _levels(self, symbol: str) -> list[list[Level]]:
        """[bids, asks] as a market order meets them now: the market's last book less what our
        orders took, of which what has refilled since is back (with the symbol's half-life),
        whether or not the market has sent a new book meanwhile."""
        levels = self._books.get(symbol)
        if levels is None:
            return [[], []]
        if self.liquidity.taken(symbol) is not None:
            book, made = self._market[symbol]
            now = self.liquidity.now()
            if now > made:
                levels = self._books[symbol] = self._refilled(book, levels)
                self._market[symbol] = (book, now)
        return levels

    def _refilled(self, book: OrderBook, levels: list[list[Level]]) -> list[list[Level]]:
        """`levels` with what refilled since given back: in place, only the levels our orders
        took from (not the whole book rebuilt, `BookLiquidity.levels`)."""
        self.liquidity.refill(book, levels)
        return levels

    def _displayed_at(self, symbol: str, side: Side, price: float) -> float:
        """Size the market displays at exactly `price` on `side` (the queue a new order joins)."""
        levels = self._books.get(symbol, [[], []])[0 if side is Side.BUY else 1]
        return next((s for p, s, _ in levels if abs(p - price) < 1e-9), 0.0)

    def _better(self, symbol: str, side: Side, price: float) -> float:
        """Size the market displays at better prices than `price` on `side` (traded first)."""
        if side is Side.BUY:
            return sum(s for p, s, _ in self._books.get(symbol, [[], []])[0] if p > price + 1e-9)
        return sum(s for p, s, _ in self._books.get(symbol, [[], []])[1] if p < price - 1e-9)

    def _fill(self, working: _Working, inst: Instrument, qty: Decimal, price: Decimal, liq: Liquidity) -> None:
        order = working.order
        rate = self.maker_fee if liq is Liquidity.MAKER else self.taker_fee
        fee = (qty * price * rate).quantize(Decimal("0.00000001"))
        now = self.clock.now()
        fill = Fill(
            fill_id=f"{self.venue}-F{next(self._fill_seq)}",
            client_order_id=order.client_order_id,
            venue=self.venue,
            symbol=order.symbol,
            side=order.side,
            quantity=qty,
            price=price,
            fee=fee,
            fee_currency=inst.quote,
            liquidity=liq,
            ts=now,
            venue_order_id=order.venue_order_id,
        )
        prev = order.filled_quantity
        order.filled_quantity = prev + qty
        order.average_price = ((order.average_price or ZERO) * prev + price * qty) / order.filled_quantity
        order.fees += fee
        self.account.release(order.client_order_id, qty)
        self.account.apply_fill(order.symbol, inst.quote, order.side, qty, price, fee)
        self.fills.append(fill)
        status = OrderStatus.FILLED if order.remaining <= 0 else OrderStatus.PARTIALLY_FILLED
        if status is OrderStatus.FILLED:
            self._working.pop(order.client_order_id, None)
        order.status = status
        self.emit(ExecutionReport(self.venue, order.client_order_id, status, now, order.venue_order_id, None, fill))

    def _report(self, order: Order, status: OrderStatus, reason: str | None = None) -> None:
        order.status = status
        if reason:
            order.reason = reason
        self.emit(
            ExecutionReport(self.venue, order.client_order_id, status, self.clock.now(), order.venue_order_id, reason)
        )

    def _on_session(self, symbol: str) -> None:
        """Queued orders go at the open; day orders end when their session closes."""
        state = self.session(symbol)
        if state.market == "24/7":
            return
        inst = self.instruments[symbol]
        for working in [w for w in self._working.values() if w.order.symbol == symbol]:
            order = working.order
            can = session_rules.tradable(order, state.phase, working.triggered)
            if order.time_in_force is TimeInForce.DAY and working.was_tradable and not can:
                self._working.pop(order.client_order_id, None)
                self.account.release(order.client_order_id)
                ended = f"day order ended: {symbol} {state.describe(self.clock.now())}"
                self._report(order, OrderStatus.EXPIRED, ended)
                continue
            if can and working.queued:
                working.queued = False
                working.was_tradable = True
                self._working.pop(order.client_order_id, None)
                self._execute(working, inst)
                continue
            working.was_tradable = working.was_tradable or can

    def _trigger_stops(self, symbol: str, price: float) -> None:
        phase = self.session(symbol).phase
        hit = [
            w
            for w in self._working.values()
            if w.order.symbol == symbol
            and not w.triggered
            and w.order.stop_price is not None
            and w.order.type in (OrderType.STOP, OrderType.STOP_LIMIT)
            and session_rules.tradable(w.order, phase, True)
            and (
                (w.order.side is Side.BUY and price >= float(w.order.stop_price))
                or (w.order.side is Side.SELL and price <= float(w.order.stop_price))
            )
        ]
        for working in sorted(hit, key=lambda w: w.seq):
            working.triggered = True
            self._working.pop(working.order.client_order_id, None)
            working.order.meta["triggered_at"] = price
            self._execute(working, self.instruments[symbol])

    def _fill_resting(self, symbol: str, side: Side, price: float, size: float | None) -> None:
        """Fill resting limit orders on `side` that the market reaches at `price`.

        `size` is a trade print's size: it first uses up the displayed size at better prices and
        the queue ahead of each order. `size` None is the market's book crossing the orders:
        they meet the crossing side's size (at or through their price), which is then taken.
        """
        phase = self.session(symbol).phase
        candidates = [
            w
            for w in self._working.values()
            if w.order.symbol == symbol
            and w.order.side is side
            and w.limit is not None
            and not w.queued
            and (w.order.type is OrderType.LIMIT or w.triggered)
            and session_rules.tradable(w.order, phase, w.triggered)
            and (float(w.limit) >= price if side is Side.BUY else float(w.limit) <= price)
        ]
        if not candidates:
            return
        # Price-time priority: best price first (highest bid, lowest offer), then earliest.
        candidates.sort(key=lambda w: ((-w.limit if side is Side.BUY else w.limit), w.seq))  # type: ignore[operator]
        inst = self.instruments[symbol]
        if size is None:
            self._fill_crossed(symbol, side, candidates, inst)
            return
        left = size
        consumed: dict[float, float] = {}  # queue used up per price by this print
        for working in candidates:
            if left <= 0:
                break
            assert working.limit is not None
            limit = float(working.limit)
            if working.ahead is None:
                working.ahead = self._displayed_at(symbol, side, limit)
            prior = consumed.get(limit, 0.0)  # the queue at this price this print already used up
            ahead = max(0.0, working.ahead - prior)
            reach = max(0.0, left - self._better(symbol, side, limit) - prior)
            eat = min(ahead, reach)
            consumed[limit] = prior + eat
            working.ahead = ahead - eat
            qty = min(working.order.remaining, inst.round_qty(exact(max(0.0, reach - eat))))
            if qty > 0:
                self._fill(working, inst, qty, working.limit, Liquidity.MAKER)
                left -= float(qty)

    def _fill_crossed(self, symbol: str, side: Side, candidates: list[_Working], inst: Instrument) -> None:
        """The market's other side trades at or through resting orders: they meet its size."""
        other = 1 if side is Side.BUY else 0
        levels = self._books.get(symbol, [[], []])[other]
        for working in candidates:
            assert working.limit is not None
            limit = float(working.limit)
            working.ahead = 0.0  # the market traded through the price: nobody is left queued there
            for level in levels:
                if working.order.remaining <= 0:
                    break
                through = level[0] <= limit if side is Side.BUY else level[0] >= limit
                if not through:
                    break
                qty = min(working.order.remaining, inst.round_qty(exact(level[1])))
                if qty <= 0:
                    continue
                level[1] = less(level[1], float(qty))
                self.liquidity.take(symbol, other, int(level[2]), float(qty))
                self._fill(working, inst, qty, working.limit, Liquidity.MAKER)
