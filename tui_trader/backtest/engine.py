"""run_backtest: candles -> analyze (once, vectorized) -> simulate trades -> equity -> metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd

from tui_trader.backtest.fills import FillModel
from tui_trader.backtest.outcome import empty_trades, open_trade_limit, simulate_signals
from tui_trader.backtest.protections import attach_wallets, strategy_protections
from tui_trader.backtest.result import BacktestResult, trades_frame
from tui_trader.backtest.risk import strategy_name
from tui_trader.backtest.rules import ExitRules
from tui_trader.backtest.signals import symbol_signals
from tui_trader.backtest.sizing import Protection, Sizer, StakeSizer
from tui_trader.core.errors import DataError, UsageError

if TYPE_CHECKING:
    from tui_trader.backtest.futures import Futures
    from tui_trader.config.risk import RiskSettings

TimeLike: TypeAlias = str | datetime | pd.Timestamp | None


def run_backtest(
    strategy: Any,
    data: Mapping[str, pd.DataFrame] | pd.DataFrame,
    *,
    timeframe: str,
    capital: float = 10_000.0,
    fee: float = 0.001,
    maker_fee: float | None = None,
    slippage_bps: float = 0.0,
    volume_impact: float = 0.0,
    latency_bars: int = 0,
    max_open_trades: int | None = None,
    stake_amount: float | str | None = None,
    tradable_balance_ratio: float = 0.99,
    amount_step: float | None = None,
    start: TimeLike = None,
    end: TimeLike = None,
    symbol: str | None = None,
    sizer: Sizer | None = None,
    protections: Sequence[Protection] | None = None,
    risk: RiskSettings | None = None,
    lean: bool = False,
    benchmark: bool = True,
    validate: bool = True,
    analyze_all: bool = False,
    enable_protections: bool = False,
    detail: Mapping[str, pd.DataFrame] | None = None,
    detail_timeframe: str | None = None,
    fill_gaps: bool = False,
    keep_indicators: bool = True,
    trading_mode: str = "spot",
    funding: Mapping[str, Any] | None = None,
    max_leverage: float = 125.0,
) -> BacktestResult:
    """Backtest a Freqtrade-style strategy on one or several symbols sharing `capital`.

    `data` maps symbol -> candles (date, open, high, low, close, volume) or is one frame
    (named by `symbol`, its attrs["symbol"], or "ASSET"). Signals come from
    `tui_trader.strategy.analysis.analyze` over the whole history, then the range
    [start, end) is simulated (without `start`, the strategy's startup_candle_count bars
    are skipped). `max_open_trades` defaults to the strategy's, else one per symbol (-1 = no
    limit).

    Sizing and protections are the live risk engine's, from `risk` (the `[risk]` settings;
    defaults when None): the strategy's `[risk.strategies.NAME.sizing]` or `[risk.sizing]`
    through `tui_trader.risk.sizing.BacktestSizer`, and the global plus the strategy's own
    `ProtectionSet`s. `sizer=` or a Freqtrade `stake_amount=` (a quote amount or "unlimited")
    replaces the sizing (with Freqtrade's `tradable_balance_ratio`, 0.99 by default);
    `amount_step` truncates every order's amount to the market's step, as Freqtrade does;
    `fill_gaps` fills missing candles as Freqtrade does when it loads data (flat at the
    previous close, no volume);
    `enable_protections` applies the strategy's own `protections` as Freqtrade's
    `--enable-protections` does (`tui_trader.backtest.protections`);
    `protections=` (a list, maybe empty) replaces the protections.

    For searches that only read the metrics (the optimizer): `lean=True` skips the trades
    table (an empty frame; the metrics still count and score every trade) and MFE/MAE;
    `benchmark=False` skips the buy-and-hold curve (alpha and beta are then None);
    `validate=False` trusts candles already passed through `checked_candles`.
    `keep_indicators=False` (a command that prints only trades and metrics) drops the
    indicator columns once every symbol is analyzed, when no Python hook could read them:
    Freqtrade's SampleStrategy on a year of 1m candles holds ~100 MB of them.

    `trading_mode="futures"` trades perpetuals on isolated margin at the strategy's
    `leverage()` (at most `max_leverage`), both sides, with `funding` per symbol: a
    `futures.FundingTable` or (funding-rate candles, mark-price candles) as Freqtrade stores
    them (`tui_trader.backtest.futures`).
    """
    from tui_trader.backtest.risk import risk_protections, risk_sizer
    from tui_trader.data.timeframes import timeframe_to_seconds
    from tui_trader.indicators.talib_cache import released_talib_outputs
    from tui_trader.strategy.analysis import analyze

    frames = _as_frames(data, symbol)
    if validate:
        frames = {name: checked_candles(df, timeframe, name) for name, df in frames.items()}
    if fill_gaps:  # as Freqtrade loads data: missing candles become flat, volume 0
        from tui_trader.backtest.gaps import fill_gaps as fill

        frames = {name: fill(df, timeframe_to_seconds(timeframe)) for name, df in frames.items()}
    dp = attach_backtest_data(strategy, frames, timeframe, capital, stake_amount, tradable_balance_ratio)
    analyzed: dict[str, pd.DataFrame] = {}
    startup = int(getattr(strategy, "startup_candle_count", 0) or 0)
    warmup_s = startup * timeframe_to_seconds(timeframe)
    with released_talib_outputs():  # TA-Lib's abstract API would keep each call's in- and outputs
        for name, df in frames.items():
            # a shallow copy (copy-on-write): the strategy's new columns never reach the caller's
            # frame, and no candle column is copied unless the strategy writes into it
            candles = (df if analyze_all else window(df, start, end, warmup_s)).copy(deep=False)
            out = analyze(strategy, candles, {"pair": name, "timeframe": timeframe})
            del candles
            if dp is not None:
                dp.set_analyzed(name, timeframe, out)
            out = out.iloc[startup:].reset_index(drop=True) if startup else out
            analyzed[name] = window(out, start, end) if analyze_all else out
            del out
    if not keep_indicators and not _reads_frames(strategy):
        analyzed = {name: out[[c for c in out.columns if c in _SIMULATED]] for name, out in analyzed.items()}
        if dp is not None:
            for name, lean_frame in analyzed.items():
                dp.set_analyzed(name, timeframe, lean_frame)
    config = getattr(strategy, "config", None) or {}
    if max_open_trades is None:
        max_open_trades = getattr(strategy, "max_open_trades", None) or config.get(
            "max_open_trades"
        )
    if risk is None:
        from tui_trader.config.risk import RiskSettings

        risk = RiskSettings()
    if sizer is None and stake_amount is not None:
        sizer = StakeSizer(stake_amount, strategy, tradable_balance_ratio)
    elif sizer is None:
        sizer = risk_sizer(strategy, risk, analyzed)
    if protections is None:
        protections = risk_protections(
            strategy, risk, candle_minutes=timeframe_to_seconds(timeframe) / 60, capital=capital
        )
    own = strategy_protections(strategy)
    if own and enable_protections:
        from tui_trader.backtest.protections import FreqtradeProtections

        protections = [*protections, FreqtradeProtections(own, timeframe_to_seconds(timeframe))]
    rules = ExitRules.from_strategy(strategy)
    futures = None
    if trading_mode == "futures":
        from tui_trader.backtest.futures import futures_mode

        futures = futures_mode(strategy, frames, funding, rules, max_leverage)
        rules = futures.rules(rules)
    elif trading_mode != "spot":
        raise UsageError(f'trading_mode {trading_mode!r}: use "spot" or "futures"')
    return backtest_signals(
        analyzed,
        rules,
        timeframe=timeframe,
        capital=capital,
        fee=fee,
        maker_fee=maker_fee,
        slippage_bps=slippage_bps,
        volume_impact=volume_impact,
        latency_bars=latency_bars,
        max_open_trades=max_open_trades,
        sizer=sizer,
        protections=protections,
        strategy=strategy,
        name=strategy_name(strategy),
        lean=lean,
        benchmark=benchmark,
        amount_step=amount_step,
        detail=_checked_detail(detail, detail_timeframe, timeframe, frames),
        detail_timeframe=detail_timeframe,
        futures=futures,
    )


_SIMULATED = frozenset(
    {"date", "open", "high", "low", "close", "volume", "enter_long", "exit_long",
     "enter_short", "exit_short", "enter_tag", "exit_tag"}
)  # fmt: skip


def _reads_frames(strategy: Any) -> bool:
    """Whether a Python hook (custom stop, custom exit, sizing, confirmations...) could read
    the analyzed frame while the trades are simulated."""
    from tui_trader.backtest.reference import needs_reference
    from tui_trader.strategy.hooks import overridden_hook

    hooks = ("custom_stake_amount", "confirm_trade_entry", "confirm_trade_exit",
             "custom_entry_price", "order_filled")  # fmt: skip
    return needs_reference(strategy) or any(overridden_hook(strategy, h) for h in hooks)


def _checked_detail(
    detail: Mapping[str, pd.DataFrame] | None,
    detail_timeframe: str | None,
    timeframe: str,
    frames: Mapping[str, pd.DataFrame],
) -> dict[str, pd.DataFrame] | None:
    from tui_trader.data.timeframes import timeframe_to_seconds

    if not detail:
        return None
    if not detail_timeframe:
        raise UsageError("detail candles need their timeframe (detail_timeframe=)")
    fine, main = timeframe_to_seconds(detail_timeframe), timeframe_to_seconds(timeframe)
    if fine >= main or main % fine:
        raise UsageError(
            f"--timeframe-detail {detail_timeframe} must divide the timeframe {timeframe}"
        )
    missing = [s for s in frames if s not in detail]
    if missing:
        raise DataError(f"no {detail_timeframe} candles for {', '.join(missing)}")
    return {s: checked_candles(detail[s], detail_timeframe, s) for s in frames}


def backtest_signals(
    frames: Mapping[str, pd.DataFrame],
    rules: ExitRules,
    *,
    timeframe: str,
    capital: float = 10_000.0,
    fee: float = 0.001,
    maker_fee: float | None = None,
    slippage_bps: float = 0.0,
    volume_impact: float = 0.0,
    latency_bars: int = 0,
    max_open_trades: int | None = None,
    sizer: Sizer | None = None,
    protections: Sequence[Protection] = (),
    strategy: Any = None,
    name: str = "signals",
    lean: bool = False,
    benchmark: bool = True,
    amount_step: float | None = None,
    detail: Mapping[str, pd.DataFrame] | None = None,
    detail_timeframe: str | None = None,
    futures: Futures | None = None,
) -> BacktestResult:
    """Simulate frames that already hold enter_long/exit_long/... columns (no analyze step).

    The optimizer and the tests use this directly; `run_backtest` calls it after analyze
    (`lean` and `benchmark` as there).
    """
    from tui_trader.data.timeframes import timeframe_to_seconds

    if not frames:
        raise DataError("no candles to backtest: pass at least one symbol's data")
    if capital <= 0:
        raise UsageError(f"capital must be positive (got {capital})")
    if latency_bars < 0:
        raise UsageError(f"latency must be 0 or more bars (got {latency_bars})")
    max_open_trades = open_trade_limit(max_open_trades, len(frames))
    bar_seconds = timeframe_to_seconds(timeframe)
    fills = FillModel(
        taker_fee=fee,
        maker_fee=fee if maker_fee is None else maker_fee,
        slippage_bps=slippage_bps,
        volume_impact=volume_impact,
    )
    symbols = []
    for sym, df in frames.items():
        if len(df) == 0:
            raise DataError(f"{sym}: no candles in the chosen range; widen --start/--end")
        symbols.append(
            symbol_signals(
                sym, df, rules, bar_seconds=bar_seconds, latency_bars=latency_bars,
                detail=None if detail is None else detail[sym],
                detail_seconds=timeframe_to_seconds(detail_timeframe) if detail_timeframe else 0,
            )
        )
    run = simulate_signals(
        symbols,
        rules,
        fills,
        timeframe=timeframe,
        capital=capital,
        max_open_trades=max_open_trades,
        sizer=sizer,
        protections=protections,
        strategy=strategy,
        lean=lean,
        benchmark=benchmark,
        amount_step=amount_step,
        futures=futures,
    )
    dates = pd.DatetimeIndex(run.index.view("M8[ns]")).tz_localize("UTC")
    equity = pd.Series(run.equity, index=dates, name="equity", copy=False)
    bench = (
        pd.Series(run.benchmark, index=dates, name="benchmark", copy=False)
        if run.benchmark is not None
        else pd.Series(dtype="float64", name="benchmark")
    )
    bar_ns = bar_seconds * 1_000_000_000
    if lean:
        trades = trades_frame(empty_trades(), bar_ns, [], np.empty(0), np.empty(0))
    else:
        trades = trades_frame(run.trades, bar_ns, list(frames), run.mfe, run.mae)
    return BacktestResult(
        strategy=name,
        symbols=list(frames),
        timeframe=timeframe,
        capital=capital,
        trades=trades,
        equity=equity,
        benchmark=bench,
        metrics=run.metrics,
        rejected=dict(run.sim.rejected),
        frames=dict(frames),
    )


def _as_frames(
    data: Mapping[str, pd.DataFrame] | pd.DataFrame, symbol: str | None
) -> dict[str, pd.DataFrame]:
    if isinstance(data, pd.DataFrame):
        return {symbol or data.attrs.get("symbol") or "ASSET": data}
    return dict(data)


def checked_candles(df: pd.DataFrame, timeframe: str, symbol: str) -> pd.DataFrame:
    """The frame if its candles are usable at `timeframe`, else one clear DataError.

    Naive timestamps are taken as UTC; nothing else is changed (clean files with
    `tui-trader data import --clean`).
    """
    from tui_trader.data.validate import check_candles, require_columns

    if "date" not in df.columns and isinstance(df.index, pd.DatetimeIndex):
        df = df.rename_axis("date").reset_index()
    try:
        require_columns(df)
    except DataError as exc:
        raise DataError(f"{symbol}: {exc}") from None
    if not isinstance(df["date"].dtype, pd.DatetimeTZDtype):
        try:
            dates = pd.to_datetime(df["date"], utc=True)
        except (TypeError, ValueError):
            raise DataError(f"{symbol}: column 'date' does not hold timestamps") from None
        df = df.assign(date=dates)
    report = check_candles(df, timeframe)
    if not report.ok:
        raise DataError(
            f"{symbol}: {'; '.join(report.problems())}; fix the data "
            "(`tui-trader data import FILE --clean` sorts, de-duplicates and drops NaN rows)"
        )
    if len(df) == 0:
        raise DataError(f"{symbol}: the candle data is empty")
    return df


def attach_backtest_data(
    strategy: Any,
    frames: Mapping[str, pd.DataFrame],
    timeframe: str,
    capital: float,
    stake_amount: float | str | None,
    tradable_balance_ratio: float,
) -> Any:
    """Give an IStrategy Freqtrade's backtest view: `self.dp` over these candles (runmode
    backtest), `self.wallets`, and fresh pair locks; returns the DataProvider (None for other
    strategy objects)."""
    from tui_trader.strategy.dataprovider import DataProvider
    from tui_trader.strategy.enums import RunMode
    from tui_trader.strategy.interface import IStrategy

    if not isinstance(strategy, IStrategy):
        return None
    dp = DataProvider({(name, timeframe): df for name, df in frames.items()}, list(frames),
                      RunMode.BACKTEST)  # fmt: skip
    strategy.dp = dp
    attach_wallets(strategy, list(frames), timeframe, capital, stake_amount, tradable_balance_ratio)
    return dp


def window(df: pd.DataFrame, start: TimeLike, end: TimeLike, warmup_s: int = 0) -> pd.DataFrame:
    """Rows from `start` less `warmup_s` seconds of warm-up up to `end` inclusive, as
    Freqtrade loads a timerange (the frame itself when neither is given)."""
    if start is None and end is None:
        return df
    dates = df["date"]
    keep = np.ones(len(df), dtype=bool)
    if start is not None:
        keep &= (dates >= to_utc(start) - pd.Timedelta(seconds=warmup_s)).to_numpy()
    if end is not None:
        keep &= (dates <= to_utc(end)).to_numpy()
    return df[keep].reset_index(drop=True)


def to_utc(value: str | datetime | pd.Timestamp) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise UsageError(
            f"cannot read {value!r} as a date; use ISO 8601, e.g. 2024-01-31"
        ) from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
