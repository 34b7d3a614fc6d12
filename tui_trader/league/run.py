"""Run a league: every strategy on the same bars over the same window, each with its own
capital (its sub-account), then the leaderboard."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UserError
from tui_trader.league.scoring import MIN_TRADES, Entry, coarsest, leaderboard

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

# (symbols, timeframe, start, end, warm-up bars) -> candles per symbol
CandleSource = Callable[[Sequence[str], str, datetime, datetime, int], dict[str, "pd.DataFrame"]]


@dataclass(frozen=True)
class LeagueSpec:
    strategies: list[str]
    symbols: list[str]
    start: datetime
    end: datetime
    capital: float = 10_000.0
    min_trades: int = MIN_TRADES
    data: str = "paper"  # where the bars come from, for the record


def run_league(
    spec: LeagueSpec,
    candles: CandleSource,
    strategies_dir: Path,
    *,
    risk: Any = None,
    progress: Callable[[str], None] | None = None,
    on_board: Callable[[dict[str, Any]], None] | None = None,
    ends: Callable[[str], datetime] | None = None,
    on_result: Callable[[str, Any], None] | None = None,
) -> dict[str, Any]:
    """The leaderboard document (what `league show --json` prints). `on_board` gets the board of
    the strategies run so far after each one but the last (`progress`: done, of, running).
    `ends(timeframe)`: where a strategy on that timeframe stops (default spec.end; the live
    league stops each at its last closed bar); `on_result(name, BacktestResult)` sees each run."""
    from tui_trader.backtest.paper_market import backtest_on
    from tui_trader.strategy.loader import load_strategy

    entries: list[Entry] = []
    run_at = _iso(datetime.now(UTC))
    for i, name in enumerate(spec.strategies):
        if progress is not None:
            progress(name)
        if on_board is not None and any(e.error is None for e in entries):
            on_board(board(spec, entries, run_at, {"done": i, "of": len(spec.strategies), "running": name}))
        try:
            strategy = load_strategy(name, [strategies_dir])
            end = spec.end if ends is None else ends(strategy.timeframe)
            if end <= spec.start:
                entries.append(Entry(name, strategy.timeframe, _empty(), 0, error="no closed bar yet"))
                continue
            frames = candles(spec.symbols, strategy.timeframe, spec.start, end, strategy.startup_candle_count)
            result = backtest_on(strategy, frames, spec.start, end, capital=spec.capital, risk=risk)
        except UserError as exc:
            entries.append(Entry(name, "?", _empty(), 0, error=str(exc)))
            continue
        entries.append(
            Entry(name, result.timeframe, result.equity, int(result.metrics.get("trades") or 0), result.metrics)
        )
        if on_result is not None:
            on_result(name, result)
    if not any(e.error is None for e in entries):
        raise UserError("no strategy in the league could run: " + "; ".join(e.error or "" for e in entries))
    n = len(spec.strategies)
    return board(spec, entries, run_at, {"done": n, "of": n, "running": None})


def board(spec: LeagueSpec, entries: list[Entry], run_at: str, progress: dict[str, Any]) -> dict[str, Any]:
    from tui_trader.data.timeframes import timeframe_to_pandas_freq

    ran = [e.timeframe for e in entries if e.error is None]
    grid = coarsest(ran) if ran else "-"
    rows = leaderboard(entries, timeframe_to_pandas_freq(grid), min_trades=spec.min_trades) if ran else []
    return {
        "start": _iso(spec.start),
        "end": _iso(spec.end),
        "data": spec.data,
        "symbols": spec.symbols,
        "capital": spec.capital,
        "grid": grid,
        "min_trades": spec.min_trades,
        "score": "annualised Sharpe of the equity sampled on the grid",
        "run_at": run_at,
        "progress": progress,
        "rows": [r.as_dict() for r in rows],
    }


def _empty() -> pd.Series:
    import pandas as pd

    return pd.Series([], dtype="float64", index=pd.DatetimeIndex([], tz="UTC"))


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")
