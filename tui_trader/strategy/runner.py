"""StrategyRunner: closed candles in, Decisions out, for one strategy over several symbols.

The engine feeds candles (`on_candle`) and fills (`on_fill`), persists `state`, and turns each
Decision into an order through risk and the OMS. The strategy sees DataFrames and StrategyTrades
only: no venue, no credentials.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tui_trader.core.clock import utc
from tui_trader.core.market import Candle
from tui_trader.strategy.analysis import analyze, strategy_file
from tui_trader.strategy.dataprovider import DataProvider
from tui_trader.strategy.errors import StrategyError, from_exception
from tui_trader.strategy.exits import ROI, STOP_LOSS, TRAILING_STOP_LOSS, decide_exit
from tui_trader.strategy.frames import candle_frame
from tui_trader.strategy.timeframes import timeframe_to_seconds
from tui_trader.strategy.trade import StrategyTrade
from tui_trader.strategy.window import BarWindow

if TYPE_CHECKING:

    from tui_trader.strategy.interface import IStrategy
    from tui_trader.strategy.rule_live import LiveRules

log = logging.getLogger(__name__)

ENTER_LONG, EXIT_LONG, ENTER_SHORT, EXIT_SHORT = (
    "enter_long",
    "exit_long",
    "enter_short",
    "exit_short",
)
History = Callable[[str, str, int], Iterable[Candle]]
_LAST_ROW = (ENTER_LONG, EXIT_LONG, ENTER_SHORT, EXIT_SHORT, "enter_tag", "exit_tag")
WINDOW_MARGIN = 200
WINDOW_MIN = 500
WINDOW_MAX = 20_000


@dataclass(frozen=True, slots=True)
class Decision:
    """What a strategy wants done. `price` is the reference price (bar close or stop level)."""

    strategy: str
    symbol: str
    action: str  # enter_long | exit_long | enter_short | exit_short
    tag: str | None
    price: float
    ts: datetime  # the close time of the bar that produced it
    reason: str  # entry_signal | exit_signal | roi | stop_loss | trailing_stop_loss | custom_exit
    timeframe: str = ""

    @property
    def is_entry(self) -> bool:
        return self.action.startswith("enter")

    @property
    def side(self) -> str:
        """The order side that carries it out: buy or sell."""
        return "buy" if self.action in (ENTER_LONG, EXIT_SHORT) else "sell"


class StrategyRunner:
    """Evaluates one strategy on each closed bar of its timeframe for each of its symbols."""

    def __init__(
        self,
        strategy: IStrategy,
        symbols: Sequence[str],
        *,
        on_decision: Callable[[Decision], None],
        history: History | None = None,
        state: dict[str, Any] | None = None,
        window: int | None = None,
        on_error: Callable[[StrategyError], None] | None = None,
        pending_bars: int = 3,
        live_rules: bool = True,
    ) -> None:
        self.strategy = strategy
        self.live_rules = live_rules  # False: every strategy gets the full evaluation
        # True in the engine's own process (engine/inline_worker.py): the warm-up checks the
        # live rule evaluation against the one on arrays first, so pandas is not imported
        self.check_on_arrays = False
        self.symbols = list(symbols)
        self.on_decision = on_decision
        self.on_error = on_error
        self.history = history
        self.window = window or min(
            WINDOW_MAX, max(WINDOW_MIN, strategy.startup_candle_count + WINDOW_MARGIN)
        )
        # A window shorter than the warm-up would never evaluate.
        self.window = max(self.window, strategy.startup_candle_count + 1)
        self.pending_bars = pending_bars
        self.dp = DataProvider(whitelist=self.symbols)
        self.error: StrategyError | None = None
        self.enabled = True
        self.last_decision: Decision | None = None
        self.evaluations = 0
        self._windows: dict[tuple[str, str], BarWindow] = {}
        self._trades: dict[str, StrategyTrade] = {}
        self._pending: dict[str, tuple[Decision, int]] = {}
        self._started = False
        self._live: LiveRules | None = None
        self._attach(strategy)
        if state:
            self.restore(state)

    # ---- lifecycle ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.strategy.name

    def subscriptions(self) -> list[tuple[str, str]]:
        """Every (symbol, timeframe) the engine should feed: own bars plus informative data."""
        subs = [(s, self.strategy.timeframe) for s in self.symbols]
        for pair, tf in self._informative():
            if (pair, tf) not in subs:
                subs.append((pair, tf))
        return subs

    def start(self) -> None:
        """Load warm-up history and call bot_start. Called lazily by the first candle."""
        if self._started:
            return
        self._started = True
        if self.history is not None:
            for symbol, tf in self.subscriptions():
                try:
                    candles = self.history(symbol, tf, self.window)
                except Exception as exc:  # a venue hiccup must not kill the strategy
                    log.warning("history for %s %s failed: %s", symbol, tf, exc)
                    continue
                win = self._window(symbol, tf)
                for candle in candles:
                    if candle.closed:
                        win.add(candle)
        self._call_hook("bot_start")

    def warm_up(self) -> None:
        """Evaluate once on the warm-up bars, deciding nothing: a broken or endless strategy is
        found when it starts, not at its first live candle (the worker's deadline covers it)."""
        self.start()
        if not self.enabled:
            return
        tf = self.strategy.timeframe
        for symbol in self.symbols:
            win = self._windows.get((symbol, tf))
            if win is None or len(win) < max(1, self.strategy.startup_candle_count):
                continue
            if self.check_on_arrays and self._live_agrees_on_arrays(win):
                continue
            try:
                df = analyze(self.strategy, win.frame(), {"pair": symbol, "timeframe": tf})
            except StrategyError as exc:
                self._fail(exc)
                return
            self._check_live(df, win)

    def _check_live(self, df: Any, win: BarWindow) -> None:
        """The warm-up's full evaluation against the rule strategy's live one, on the same
        bars: should they ever differ, the full evaluation decides from then on."""
        if self._live is None or not len(df):
            return
        try:
            live = self._live.last_row(win.rows())
        except Exception:
            live = None
        full = {c: df.iat[-1, df.columns.get_loc(c)] for c in _LAST_ROW}
        if live is None or any(
            bool(live[c]) != bool(full[c]) if c not in ("enter_tag", "exit_tag") else live[c] != full[c]
            for c in _LAST_ROW
        ):
            log.warning("%s: the live rule evaluation differs from the full one (%s, %s): "
                        "evaluated with pandas", self.strategy.name, live, full)  # fmt: skip
            self._live = None

    def _live_agrees_on_arrays(self, win: BarWindow) -> bool:
        """`_check_live` without pandas: the live row against `rule_signals`, the rules on the
        window's whole arrays (itself checked column by column against `analyze` in the tests).
        False when it cannot tell or they differ: the check with pandas runs then, as ever."""
        if self._live is None:
            return False
        from tui_trader.strategy.rule_arrays import rule_signals

        rows = win.rows()
        try:
            live = self._live.last_row(rows)
            names = ("open", "high", "low", "close", "volume")
            times = rows[:, 0].astype("int64") * 1000  # µs -> ns, exactly
            full = rule_signals(self.strategy, times, {c: rows[:, i + 1] for i, c in enumerate(names)})
        except Exception:  # the full evaluation says what is wrong, in its own words
            return False
        return all(
            bool(live[c]) == bool(full[c][-1]) if c not in ("enter_tag", "exit_tag") else live[c] == full[c][-1]
            for c in _LAST_ROW
        )

    def swap_strategy(self, strategy: IStrategy) -> None:
        """Hot reload: a fresh instance takes over; trades, windows and custom state stay."""
        strategy.custom_state = self.strategy.custom_state
        # Values set on purpose (optimizer, saved state) survive; edited defaults take effect.
        params = {n: p.value for n, p in self.strategy.parameters.items() if p.value != p.default}
        try:
            strategy.set_parameters({k: v for k, v in params.items() if k in strategy.parameters})
        except Exception as exc:  # parameters changed shape in the edit: keep the new defaults
            log.info("parameters not carried over on reload: %s", exc)
        self.strategy = strategy
        self._attach(strategy)
        self.error = None
        self.enabled = True
        self._call_hook("bot_start")

    def _attach(self, strategy: IStrategy) -> None:
        strategy.dp = self.dp
        self._tf_seconds = timeframe_to_seconds(strategy.timeframe)
        self._live = None
        if self.live_rules:
            from tui_trader.strategy.rule_live import live_rules

            self._live = live_rules(strategy)

    def _informative(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        try:
            pairs.extend((p, tf) for p, tf in self.strategy.informative_pairs())
        except Exception as exc:
            self._fail(from_exception(exc, strategy_file(self.strategy), "informative_pairs"))
        from tui_trader.strategy.analysis import _informative_methods

        for _, mark in _informative_methods(self.strategy):
            for symbol in self.symbols:
                pairs.append((mark.asset or symbol, mark.timeframe))
        return pairs

    def _window(self, symbol: str, timeframe: str) -> BarWindow:
        win = self._windows.get((symbol, timeframe))
        if win is None:
            win = self._windows[(symbol, timeframe)] = BarWindow(self.window)
        return win

    # ---- market data -----------------------------------------------------------------------------
    def on_candle(self, symbol: str, timeframe: str, candle: Candle, *, signals: bool = True) -> list[Decision]:
        """Feed one bar. Evaluates (and returns decisions) only on a closed bar of the strategy's
        timeframe for one of its symbols; other bars are kept as informative data. `signals`
        False: the bars it reads have a hole (engine/candle_holes.py): the bar is added, an open
        trade's stop and ROI checked on it, no signal read from the window."""
        if not candle.closed:
            return []
        self.start()
        win = self._window(symbol, timeframe)
        if not win.add(candle):
            return []
        if timeframe != self.strategy.timeframe or symbol not in self.symbols:
            self.dp.set(symbol, timeframe, win.frame())
            return []
        if not self.enabled or len(win) < self.strategy.startup_candle_count:
            return []
        if not signals:
            return self._decided(symbol, candle, None)
        return self._evaluate(symbol, candle, win)

    def _evaluate(self, symbol: str, candle: Candle, win: BarWindow) -> list[Decision]:
        last = self._live_row(symbol, candle, win) if self._live is not None else None
        if last is None:
            last = self._analyse(symbol, candle, win)
            if last is None:
                return []
        self.evaluations += 1
        return self._decided(symbol, candle, last)

    def _decided(self, symbol: str, candle: Candle, last: dict[str, Any] | None) -> list[Decision]:
        """What the bar decides, given its signals (`last`; None: none read, price exits only)."""
        close_ts = utc(candle.open_time) + timedelta(seconds=self._tf_seconds)
        self._age_pending(symbol)
        decision = self._decide(symbol, candle, close_ts, last)
        if decision is None:
            return []
        self._pending[symbol] = (decision, self.pending_bars)
        self.last_decision = decision
        self.on_decision(decision)
        return [decision]

    def _analyse(self, symbol: str, candle: Candle, win: BarWindow) -> dict[str, Any] | None:
        """The full evaluation (the backtester's `analyze`): the analysed frame's last row."""
        strategy = self.strategy
        try:
            df = analyze(strategy, win.frame(), {"pair": symbol, "timeframe": strategy.timeframe})
        except StrategyError as exc:
            self._fail(exc)
            return None
        self.dp.set_analyzed(symbol, strategy.timeframe, df, utc(candle.open_time))
        columns = df.columns  # the last row's signals: a frame-level iat each (a Series each costs 10 µs)
        return {c: df.iat[-1, columns.get_loc(c)] for c in _LAST_ROW}

    def _live_row(self, symbol: str, candle: Candle, win: BarWindow) -> dict[str, Any] | None:
        """A rule strategy's last row from the window's arrays (rule_live.py); None hands
        the candle to the full evaluation (which raises what a strategy is disabled with)."""
        assert self._live is not None
        try:
            last = self._live.last_row(win.rows(), win)
        except Exception as exc:
            log.info("%s: evaluated with pandas from now on (%s: %s)",
                     self.strategy.name, type(exc).__name__, exc)  # fmt: skip
            self._live = None
            return None
        strategy, rows = self.strategy, win.later()  # copied only if a callback asks
        meta = {"pair": symbol, "timeframe": strategy.timeframe}
        self.dp.set_analyzed_later(
            symbol, strategy.timeframe, lambda: analyze(strategy, candle_frame(rows()), meta),
            utc(candle.open_time),
        )  # fmt: skip
        return last

    def _decide(
        self, symbol: str, candle: Candle, ts: datetime, last: dict[str, Any] | None
    ) -> Decision | None:
        strategy = self.strategy
        trade = self._trades.get(symbol)
        if symbol in self._pending:
            return None
        if trade is not None:
            long = not trade.is_short
            bar: dict[str, Any] = {
                "bar_open": candle.open, "bar_high": candle.high, "bar_low": candle.low,
                "bar_close": candle.close, "timeframe_minutes": max(1, self._tf_seconds // 60),
            }  # fmt: skip
            try:
                # inside this bar: the stop and ROI as the backtester checks them (the bar's
                # open time, its high and low); then the signal of this closed candle, judged
                # at its close (the backtester judges it at the next open, the same instant)
                hit = decide_exit(strategy, trade, bar_time=utc(candle.open_time),
                                  signals=False, **bar)  # fmt: skip
                if hit is None and last is not None:
                    hit = decide_exit(
                        strategy, trade, bar_time=ts, prices=False, rate=candle.close,
                        enter_signal=bool(last["enter_long" if long else "enter_short"]),
                        exit_signal=bool(last["exit_long" if long else "exit_short"]),
                        exit_tag=last["exit_tag"], **bar,
                    )  # fmt: skip
            except Exception as exc:
                self._fail(
                    from_exception(exc, strategy_file(strategy), f"{strategy.name} exit hooks")
                )
                return None
            if hit is None:
                return None
            return Decision(
                strategy.name,
                symbol,
                EXIT_LONG if long else EXIT_SHORT,
                hit.tag,
                hit.price,
                ts,
                hit.kind if hit.kind in (ROI, STOP_LOSS, TRAILING_STOP_LOSS) else hit.reason,
                strategy.timeframe,
            )
        if last is None:
            return None
        long_sig, short_sig = (
            bool(last["enter_long"]),
            bool(last["enter_short"]) and strategy.can_short,
        )
        if long_sig == short_sig:  # none, or both (ambiguous: Freqtrade skips too)
            return None
        action = ENTER_LONG if long_sig else ENTER_SHORT
        return Decision(
            strategy.name,
            symbol,
            action,
            last["enter_tag"],
            candle.close,
            ts,
            "entry_signal",
            strategy.timeframe,
        )

    def _age_pending(self, symbol: str) -> None:
        pending = self._pending.get(symbol)
        if pending is None:
            return
        decision, left = pending
        if left <= 1:
            del self._pending[symbol]
        else:
            self._pending[symbol] = (decision, left - 1)

    # ---- orders and positions -------------------------------------------------------------------
    def on_fill(self, symbol: str, side: str, qty: float, price: float, ts: datetime) -> None:
        """A fill of an order this strategy caused: opens, adds to, reduces or closes its trade."""
        side = str(side).lower()
        qty, price = float(qty), float(price)
        pending = self._pending.pop(symbol, None)
        trade = self._trades.get(symbol)
        is_buy = side == "buy"
        if trade is None:
            tag = pending[0].tag if pending and pending[0].is_entry else None
            fee = float(self.strategy.config.get("fee") or 0.0)
            trade = StrategyTrade(symbol, not is_buy, price, qty, utc(ts), tag, price, price,
                                  fee_open=fee, fee_close=fee)  # fmt: skip
            trade.adjust_stop_loss(price, self.strategy.stoploss, initial=True)
            self._trades[symbol] = trade
        elif is_buy != trade.is_short:  # same direction: average in
            total = trade.amount + qty
            trade.open_rate = (trade.open_rate * trade.amount + price * qty) / total
            trade.amount = total
            trade.nr_of_successful_entries += 1
        else:
            trade.amount -= qty
            if trade.amount <= 1e-12:
                self._trades.pop(symbol, None)
        self._call_hook(
            "order_filled",
            pair=symbol,
            trade=trade,
            order={"side": side, "amount": qty, "price": price, "ts": utc(ts)},
            current_time=utc(ts),
        )

    def on_position_closed(
        self, symbol: str, price: float | None = None, ts: datetime | None = None
    ) -> None:
        """The engine saw the position go flat (manual close, flatten, liquidation)."""
        self._trades.pop(symbol, None)
        self._pending.pop(symbol, None)

    def on_order_failed(self, symbol: str) -> None:
        """A decision was rejected (risk, venue): allow a new one on the next bar."""
        self._pending.pop(symbol, None)

    def atr(self, symbol: str, period: int = 14) -> float | None:
        """Wilder's ATR of the closed bars in the symbol's window (for volatility sizing)."""
        win = self._windows.get((symbol, self.strategy.timeframe))
        if win is None or len(win) <= period:
            return None
        import numpy as np
        import talib

        rows = win.rows()[-(period * 10 + 1) :]  # read, not kept: no copy of the window
        value = talib.ATR(rows[:, 2], rows[:, 3], rows[:, 4], timeperiod=period)[-1]
        return float(value) if np.isfinite(value) and value > 0 else None

    def open_trades(self) -> dict[str, StrategyTrade]:
        return dict(self._trades)

    # ---- hooks the engine calls before placing an order -----------------------------------------
    def stake_amount(
        self, decision: Decision, proposed: float, min_stake: float | None, max_stake: float
    ) -> float:
        value = self._call_hook(
            "custom_stake_amount",
            default=proposed,
            pair=decision.symbol,
            current_time=decision.ts,
            current_rate=decision.price,
            proposed_stake=proposed,
            min_stake=min_stake,
            max_stake=max_stake,
            leverage=1.0,
            entry_tag=decision.tag,
            side="short" if decision.action == ENTER_SHORT else "long",
        )
        try:
            return max(0.0, min(float(value), max_stake))
        except (TypeError, ValueError):
            return proposed

    def confirm(
        self,
        decision: Decision,
        amount: float,
        order_type: str = "market",
        time_in_force: str = "gtc",
    ) -> bool:
        """confirm_trade_entry / confirm_trade_exit; a hook that raises means no."""
        if decision.is_entry:
            ok = self._call_hook(
                "confirm_trade_entry",
                default=False,
                pair=decision.symbol,
                order_type=order_type,
                amount=amount,
                rate=decision.price,
                time_in_force=time_in_force,
                current_time=decision.ts,
                entry_tag=decision.tag,
                side="short" if decision.action == ENTER_SHORT else "long",
            )
        else:
            ok = self._call_hook(
                "confirm_trade_exit",
                default=False,
                pair=decision.symbol,
                trade=self._trades.get(decision.symbol),
                order_type=order_type,
                amount=amount,
                rate=decision.price,
                time_in_force=time_in_force,
                exit_reason=decision.reason,
                current_time=decision.ts,
            )
        if not ok:
            self._pending.pop(decision.symbol, None)
        return bool(ok)

    def _call_hook(self, name: str, default: Any = None, **kwargs: Any) -> Any:
        try:
            return getattr(self.strategy, name)(**kwargs)
        except Exception as exc:
            err = from_exception(exc, strategy_file(self.strategy), f"{self.strategy.name}.{name}")
            log.warning("%s", err)
            self.error = err
            if self.on_error:
                self.on_error(err)
            return default

    def _fail(self, exc: StrategyError) -> None:
        """A strategy that raises is disabled (trades are kept) until reloaded or re-enabled."""
        self.error = exc
        self.enabled = False
        log.error("strategy %s disabled: %s", self.strategy.name, exc)
        if self.on_error:
            self.on_error(exc)

    # ---- persistence and status ----------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        """JSON-able: open trades, parameters, the strategy's custom_state, last decision."""
        last = self.last_decision
        return {
            "strategy": self.strategy.name,
            "trades": {s: t.to_dict() for s, t in self._trades.items()},
            "params": self.strategy.parameter_values(),
            "custom": self.strategy.custom_state,
            "last_decision": None
            if last is None
            else {
                "symbol": last.symbol,
                "action": last.action,
                "tag": last.tag,
                "price": last.price,
                "ts": last.ts.isoformat(),
                "reason": last.reason,
            },
        }

    def restore(self, state: dict[str, Any]) -> None:
        self._trades = {s: StrategyTrade.from_dict(t) for s, t in state.get("trades", {}).items()}
        if "custom" in state:
            self.strategy.custom_state = dict(state["custom"])
        params = {k: v for k, v in state.get("params", {}).items() if k in self.strategy.parameters}
        if params:
            self.strategy.set_parameters(params)

    def status(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy.name,
            "timeframe": self.strategy.timeframe,
            "symbols": self.symbols,
            "enabled": self.enabled,
            "error": str(self.error) if self.error else None,
            "open_trades": sorted(self._trades),
            "evaluations": self.evaluations,
            "last_decision": self.state["last_decision"],
        }
