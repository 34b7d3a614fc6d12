"""The backtest of a rule strategy on one symbol's candles, from arrays: no pandas anywhere.

`run_backtest` on a DataFrame costs the import of pandas (~0.3 s of a 0.5 s budget for
`tui-trader backtest --json`) before any candle is read. A compiled TOML rule strategy whose
indicators are TA-Lib functions needs no DataFrame: `backtest_arrays` reads the candles as
NumPy arrays (`read_candles`: Parquet or Feather through pyarrow), checks and fills them as
`load_ohlcv` and `run_backtest` do, computes the strategy's signals on arrays
(`strategy.rule_arrays`), then runs the very simulation, equity and metrics code the DataFrame
path runs (`signals.signals_from_arrays`, `outcome.simulate_signals`) and builds the `--json`
document from the arrays (`document`). Each step is the DataFrame path's own function, or its
array half, so both give the same document to the byte (tests/backtest/test_backtest_arrays.py).

What it takes is decided by the command (`cli/backtest_arrays.py`); everything else keeps the
DataFrame path.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_trader.core.errors import DataError, UsageError

if TYPE_CHECKING:
    from tui_trader.config.risk import RiskSettings

PRICES = ("open", "high", "low", "close", "volume")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# ISO 8601 dates and times that datetime.fromisoformat and pandas' Timestamp read alike
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}:\d{2})?$")


@dataclass(slots=True)
class Candles:
    """One symbol's candles: open times (int64 ns, ascending) and float64 OHLCV columns."""

    time: np.ndarray
    prices: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.time)

    def take(self, keep: np.ndarray | slice) -> Candles:
        return Candles(self.time[keep], {k: v[keep] for k, v in self.prices.items()})


def readable(path: Path) -> bool:
    """Whether `read_candles` reads this file (by its name: .parquet or .feather candles)."""
    from tui_trader.data.filenames import file_suffix, parse_file_name

    return file_suffix(path) in (".parquet", ".feather") and not parse_file_name(path).trades


class Background:
    """`fn(*args)` on a thread (NumPy and pyarrow let go of the GIL in their loops: on two
    cores it runs beside the command's own work); `result()` waits and returns its value or
    raises its error, where the command would have called it."""

    def __init__(self, fn: Any, *args: Any, name: str = "arrays") -> None:
        import threading

        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), name=name, daemon=True)
        self._thread.start()

    def _run(self, fn: Any, args: tuple[Any, ...]) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:  # raised again by result(), in the command's order
            self._error = exc

    def wait(self) -> None:
        """Let it end, its value and error dropped."""
        self._thread.join()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def pending_read(path: Path) -> Background:
    """The candle file's columns (`read_ohlcv_arrays`, its errors as one DataError) read on a
    thread while the command imports TA-Lib and loads the strategy."""
    from functools import partial

    from tui_trader.data.filenames import file_suffix
    from tui_trader.data.parquet import read_ohlcv_arrays

    read = partial(read_ohlcv_arrays, feather=file_suffix(path) == ".feather", at_once=True)
    return Background(_read_after_pyarrow, path, read, name="candles")


def _read_after_pyarrow(path: Path, read: Any) -> Any:
    """The file's columns as the last run of it kept them (data/kept_columns.py: no pyarrow to
    import, nothing to decode), else read with pyarrow and kept for the next run."""
    from tui_trader.data import kept_columns
    from tui_trader.data.loaders import _guarded

    found = kept_columns.load(path)
    if found is not None:
        return found
    before = kept_columns.identity(path)
    import_pyarrow_without_cloudpickle()
    found = _guarded(path, read, path)
    if found is not None:
        kept_columns.keep(path, before, found)
    return found


def import_pyarrow_without_cloudpickle() -> None:
    """Import pyarrow, when nothing has yet, with cloudpickle hidden from it: `pyarrow.lib`
    takes cloudpickle for its `pickle` when it can, ~7 ms of imports (on the reading thread,
    holding the GIL the command's own imports wait for), and otherwise the standard library's
    pickle, which pickles every Arrow object a backtest could (it pickles none). cloudpickle
    can be imported as usual afterwards."""
    import sys

    if "pyarrow" in sys.modules or "cloudpickle" in sys.modules:
        return
    sys.modules["cloudpickle"] = None  # type: ignore[assignment]  # its import raises ImportError
    try:
        import pyarrow  # noqa: F401
    finally:
        del sys.modules["cloudpickle"]


def import_run_modules() -> None:
    """Import what `backtest_arrays` uses: the command calls it while the candle file is being
    read on its thread (pyarrow decodes without the GIL), so ~30 ms of imports are not waited
    for after it."""
    import tui_trader.analytics.metrics
    import tui_trader.backtest.document
    import tui_trader.backtest.gaps
    import tui_trader.backtest.outcome
    import tui_trader.backtest.protections
    import tui_trader.backtest.risk
    import tui_trader.risk.sizing  # noqa: F401


def read_candles(path: Path, timeframe: str | None, pending: Background | None = None) -> Candles | None:
    """`load_ohlcv(path, timeframe=...)`'s candles as arrays, with its checks and their
    DataErrors; None when the file needs the general reader (dates that are not Arrow
    timestamps, text prices, missing dates or columns: the DataFrame path reads those).
    `pending`: the file's read already under way."""
    from tui_trader.data.filenames import parse_file_name
    from tui_trader.data.loaders import refuse_unusable
    from tui_trader.data.validate import check_candle_times

    timeframe = timeframe or parse_file_name(path).timeframe
    found = (pending or pending_read(path)).result()
    if found is None:
        return None
    ns, prices = found
    nan_rows = np.zeros(len(ns), dtype=bool)
    for values in prices.values():
        nan_rows |= np.isnan(values)
    report = check_candle_times(ns, timeframe, rows=len(ns), nan_rows=int(nan_rows.sum()))
    refuse_unusable(path, report, timeframe)
    return Candles(ns, prices)


def to_ns(value: str | datetime) -> int | None:
    """`engine.to_utc(value)` in epoch ns for the values both read alike (an aware or naive
    datetime, an ISO 8601 date or time); None for any other (the DataFrame path reads it)."""
    if isinstance(value, str):
        if not _ISO.match(value.strip()):
            return None
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return ((value - _EPOCH) // timedelta(microseconds=1)) * 1000


def _window(candles: Candles, start: int | None, end: int | None, warmup_ns: int = 0) -> Candles:
    """`engine.window`: rows from `start` less the warm-up up to `end` inclusive."""
    if start is None and end is None:
        return candles
    keep = np.ones(len(candles), dtype=bool)
    if start is not None:
        keep &= candles.time >= start - warmup_ns
    if end is not None:
        keep &= candles.time <= end
    return candles.take(keep)


def backtest_arrays(
    strategy: Any,
    symbol: str,
    candles: Candles,
    *,
    timeframe: str,
    capital: float,
    fee: float,
    slippage_bps: float,
    stake_amount: float | str | None,
    tradable_balance_ratio: float,
    max_open_trades: int | None,
    start: int | None,
    end: int | None,
    risk: RiskSettings | None,
    enable_protections: bool,
    fill_gaps: bool,
) -> dict[str, Any]:
    """`run_backtest(strategy, {symbol: candles}, ...).to_dict()` for a rule strategy
    `strategy.rule_arrays` takes, spot, no detail candles, no latency: the same steps in the
    same order (so the same errors first), on arrays."""
    from tui_trader.backtest.document import document, trade_rows_of
    from tui_trader.backtest.fills import FillModel
    from tui_trader.backtest.outcome import open_trade_limit, simulate_signals
    from tui_trader.backtest.protections import attach_wallets, strategy_protections
    from tui_trader.backtest.risk import risk_protections, risk_sizer, strategy_name
    from tui_trader.backtest.rules import ExitRules
    from tui_trader.backtest.signals import market_from_arrays, signals_from_arrays
    from tui_trader.backtest.sizing import StakeSizer
    from tui_trader.data.timeframes import timeframe_to_seconds

    if len(candles) == 0:  # run_backtest's checked_candles
        raise DataError(f"{symbol}: the candle data is empty")
    bar_seconds = timeframe_to_seconds(timeframe)
    if fill_gaps:  # as Freqtrade loads data: missing candles become flat, volume 0
        from tui_trader.backtest.gaps import fill_gap_arrays

        filled = fill_gap_arrays(candles.time, dict(candles.prices), bar_seconds)
        if filled is not None:
            candles = Candles(*filled)
    attach_wallets(strategy, [symbol], timeframe, capital, stake_amount, tradable_balance_ratio)
    startup = int(getattr(strategy, "startup_candle_count", 0) or 0)
    warmup_ns = startup * bar_seconds * 1_000_000_000
    candles = _window(candles, start, end, warmup_ns)
    simulated = candles.take(slice(startup, None)) if startup else candles
    p = simulated.prices  # the market (its month ticks) beside the rules' evaluation
    market_job = Background(market_from_arrays, simulated.time, p["open"], p["high"], p["low"], p["close"],
                            p["volume"], bar_seconds, name="market")  # fmt: skip
    try:
        signals = _signals(strategy, candles)
        if startup:
            signals = {k: v[startup:] for k, v in signals.items()}
        candles = simulated
        analyzed = {symbol: {"date": candles.time, **candles.prices}}
        config = getattr(strategy, "config", None) or {}
        if max_open_trades is None:
            max_open_trades = getattr(strategy, "max_open_trades", None) or config.get("max_open_trades")
        if risk is None:
            from tui_trader.config.risk import RiskSettings

            risk = RiskSettings()
        if stake_amount is not None:
            sizer: Any = StakeSizer(stake_amount, strategy, tradable_balance_ratio)
        else:
            sizer = risk_sizer(strategy, risk, analyzed)
        protections = risk_protections(strategy, risk, candle_minutes=bar_seconds / 60, capital=capital)
        own = strategy_protections(strategy)
        if own and enable_protections:
            from tui_trader.backtest.protections import FreqtradeProtections

            protections = [*protections, FreqtradeProtections(own, bar_seconds)]
        rules = ExitRules.from_strategy(strategy)
        # backtest_signals' checks, in its order
        if capital <= 0:
            raise UsageError(f"capital must be positive (got {capital})")
        max_open_trades = open_trade_limit(max_open_trades, 1)
        fills = FillModel(taker_fee=fee, maker_fee=fee, slippage_bps=slippage_bps, volume_impact=0.0)
    except BaseException:
        market_job.wait()
        raise
    market = market_job.result()
    if len(candles) == 0:
        raise DataError(f"{symbol}: no candles in the chosen range; widen --start/--end")
    sym = signals_from_arrays(
        symbol,
        market,
        rules,
        enter_long=signals["enter_long"],
        exit_long=signals["exit_long"],
        enter_short=signals["enter_short"],
        exit_short=signals["exit_short"],
        enter_tags=signals["enter_tag"],
        exit_tags=signals["exit_tag"],
    )
    run = simulate_signals(
        [sym],
        rules,
        fills,
        timeframe=timeframe,
        capital=capital,
        max_open_trades=max_open_trades,
        sizer=sizer,
        protections=protections,
        strategy=strategy,
        alongside=lambda trades, mfe, mae: trade_rows_of(trades, [symbol], mfe, mae),
    )
    return document(strategy_name(strategy), [symbol], timeframe, run.index, run.metrics, run.extra)


def _signals(strategy: Any, candles: Candles) -> dict[str, np.ndarray]:
    """The rule strategy's signal and tag columns; an error as `analyze` reports it."""
    from tui_trader.strategy.errors import StrategyError, from_exception
    from tui_trader.strategy.rule_arrays import rule_signals

    try:
        return rule_signals(strategy, candles.time, candles.prices)
    except StrategyError:
        raise
    except Exception as exc:
        where = inspect.getfile(type(strategy))  # analyze's strategy_file
        raise from_exception(exc, where, f"{strategy.name}.populate_indicators") from exc
