"""Backtests on the paper market's own history (a function of the seed and time, so anyone with
the same seed gets the same bars): the summary a strategy bundle carries, and the league's runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.backtest.result import BacktestResult
    from tui_trader.config.paper import PaperSettings

SUMMARY_METRICS = ("total_return", "sharpe", "sortino", "max_drawdown", "win_rate", "profit_factor", "trades")


def last_midnight(now: datetime | None = None) -> datetime:
    """The start of today, UTC: windows ending here give the same bars all day long."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def window_for_days(days: int, end: datetime | None = None) -> tuple[datetime, datetime]:
    end = end or last_midnight()
    return end - timedelta(days=days), end


class PaperHistory:
    """The paper market's bars per (symbol, timeframe), each window generated once."""

    def __init__(self, paper: PaperSettings) -> None:
        self.paper = paper
        self._frames: dict[tuple[str, str, datetime, datetime], pd.DataFrame] = {}

    def frames(
        self, symbols: Sequence[str], timeframe: str, start: datetime, end: datetime, warmup_bars: int = 0
    ) -> dict[str, pd.DataFrame]:
        """Bars opening in [start - warmup, end) for each symbol (DataError when one has none)."""
        from tui_trader.core.errors import DataError
        from tui_trader.data.timeframes import timeframe_to_seconds
        from tui_trader.venues.paper.export import history_frame

        since = start - timedelta(seconds=warmup_bars * timeframe_to_seconds(timeframe))
        out = {}
        for symbol in symbols:
            key = (symbol, timeframe, since, end)
            if key not in self._frames:
                try:
                    self._frames[key] = history_frame(self.paper, symbol, timeframe, since, end)
                except ValueError as exc:
                    raise DataError(f"paper market, {symbol} {timeframe}: {exc}") from None
            frame = self._frames[key]
            if frame.empty:
                raise DataError(
                    f"the paper market has no {timeframe} bars for {symbol} from {since:%Y-%m-%d} to {end:%Y-%m-%d}"
                )
            out[symbol] = frame
        return out


def backtest_on(
    strategy: Any,
    frames: dict[str, pd.DataFrame],
    start: datetime,
    end: datetime,
    *,
    capital: float,
    risk: Any = None,
) -> BacktestResult:
    """One strategy on the given bars, trading [start, end) with its own capital."""
    from tui_trader.backtest import run_backtest

    return run_backtest(
        strategy,
        frames,
        timeframe=strategy.timeframe,
        capital=capital,
        start=start,
        end=end,
        risk=risk,
        lean=False,
        enable_protections=True,
    )


def summary(result: BacktestResult, source: dict[str, Any]) -> dict[str, Any]:
    """The few numbers a bundle shows before install, with where they came from."""
    metrics = {}
    for key in SUMMARY_METRICS:
        value = result.metrics.get(key)
        metrics[key] = None if value is None else (int(value) if key == "trades" else round(float(value), 6))
    return {
        **source,
        "timeframe": result.timeframe,
        "start": _iso(result.start),
        "end": _iso(result.end),
        "capital": result.capital,
        "metrics": metrics,
    }


def _iso(ts: Any) -> str | None:
    return None if ts is None else ts.isoformat().replace("+00:00", "Z")
