"""A backtest's outcome as arrays: symbols' signals -> simulated trades -> equity -> metrics.

`simulate_signals` is the part of a backtest after the signals, without pandas: the DataFrame
path (`engine.backtest_signals`) wraps its arrays in a `BacktestResult`, the pandas-free path
of a rule strategy (`backtest.arrays`) writes them as the `--json` document. One simulation,
two ways of handing it out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_trader.backtest.equity import equity_curves
from tui_trader.backtest.fills import FillModel
from tui_trader.backtest.portfolio import SimulationOutput, TradeLog, Trades, excursions_of, simulate
from tui_trader.backtest.rules import ExitRules
from tui_trader.backtest.signals import SymbolSignals
from tui_trader.backtest.sizing import UNLIMITED, Protection, Sizer, StakeSizer
from tui_trader.core.errors import UsageError

if TYPE_CHECKING:  # only its type: a spot backtest does not import it
    from tui_trader.backtest.futures import Futures


@dataclass(slots=True)
class Outcome:
    """What `simulate_signals` found: the trades (with MFE/MAE unless lean), the equity and
    benchmark per bar of `index` (int64 ns), and the metrics."""

    sim: SimulationOutput
    index: np.ndarray
    equity: np.ndarray
    benchmark: np.ndarray | None
    mfe: np.ndarray
    mae: np.ndarray
    metrics: dict[str, Any]
    extra: Any = None  # what `alongside` returned

    @property
    def trades(self) -> Trades:
        return self.sim.trades


def open_trade_limit(max_open_trades: int | None, symbols: int) -> int | None:
    """The simulation's slot count: Freqtrade's -1 means no limit (None), None one per symbol."""
    if max_open_trades is not None and max_open_trades < 0:
        return None
    if max_open_trades is None:
        max_open_trades = symbols
    if max_open_trades == 0:
        raise UsageError("max_open_trades is 0: no trade could ever open")
    return max_open_trades


def simulate_signals(
    symbols: Sequence[SymbolSignals],
    rules: ExitRules,
    fills: FillModel,
    *,
    timeframe: str,
    capital: float,
    max_open_trades: int | None,
    sizer: Sizer | None = None,
    protections: Sequence[Protection] = (),
    strategy: Any = None,
    lean: bool = False,
    benchmark: bool = True,
    amount_step: float | None = None,
    futures: Futures | None = None,
    alongside: Callable[[Trades, np.ndarray, np.ndarray], Any] | None = None,
) -> Outcome:
    """Simulate the symbols' signals in one wallet (`max_open_trades` as `open_trade_limit`
    gives it), then the MFE/MAE (not with `lean`), the equity curves and the metrics.

    `alongside(trades, mfe, mae)` runs on this thread while the equity curves and metrics
    are computed on another (NumPy lets go of the GIL in its loops: the pandas-free command
    writes its JSON rows meanwhile); its result is the outcome's `extra`. An error of the
    metrics is raised first, as without it."""
    sim = simulate(
        symbols,
        rules,
        fills,
        sizer or StakeSizer(UNLIMITED, strategy),
        capital=capital,
        max_open_trades=max_open_trades,
        protections=protections,
        strategy=strategy,
        amount_step=amount_step,
        futures=futures,
    )
    t = sim.trades
    if lean:
        mfe = mae = np.empty(0)
    else:
        mfe, mae = excursions_of(symbols, t)
    if alongside is None:
        index, equity, bench, metrics = _measure(symbols, t, capital, timeframe, benchmark)
        return Outcome(sim, index, equity, bench, mfe, mae, metrics)
    import threading

    box: dict[str, Any] = {}

    def measure() -> None:
        try:
            box["measured"] = _measure(symbols, t, capital, timeframe, benchmark)
        except BaseException as exc:  # raised on the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=measure, name="metrics")
    worker.start()
    try:
        extra = alongside(t, mfe, mae)
    except BaseException as exc:
        worker.join()
        raise box.get("error", exc) from None
    worker.join()
    if "error" in box:
        raise box["error"]
    index, equity, bench, metrics = box["measured"]
    return Outcome(sim, index, equity, bench, mfe, mae, metrics, extra)


def _measure(symbols: Sequence[SymbolSignals], t: Trades, capital: float, timeframe: str,
             benchmark: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, Any]]:  # fmt: skip
    """(bar times, equity, benchmark, metrics) of the simulated trades."""
    from tui_trader.analytics.metrics import TradeArrays, checked_equity, metrics_from_arrays

    index, equity_values, bench_values = equity_curves(symbols, t, capital, benchmark=benchmark)
    metrics = metrics_from_arrays(
        checked_equity(equity_values),
        index,
        TradeArrays(entry_ns=t.entry_ns, exit_ns=t.exit_ns, pnl=t.pnl, pnl_pct=t.pnl_pct),
        timeframe=timeframe,
        benchmark=bench_values,
    )
    return index, equity_values, bench_values, metrics


def empty_trades() -> Trades:
    return TradeLog().arrays()
