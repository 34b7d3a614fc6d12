"""What a backtest returns: trades, equity, benchmark, metrics, and the JSON contract."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tui_trader.backtest.document import EXTRA_FIELDS, TRADE_FIELDS, iso_times, plain, plain_floats, trade_row
from tui_trader.backtest.portfolio import Trades

__all__ = ["EXTRA_FIELDS", "TRADE_FIELDS", "BacktestResult", "trade_rows", "trades_frame"]


@dataclass
class BacktestResult:
    """One run. `trades` has TRADE_FIELDS + EXTRA_FIELDS; series are indexed by bar (UTC)."""

    strategy: str
    symbols: list[str]
    timeframe: str
    capital: float
    trades: pd.DataFrame
    equity: pd.Series
    benchmark: pd.Series
    metrics: dict[str, Any]
    rejected: dict[str, int] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    """The analyzed candles (indicators and signals) of the simulated range, per symbol."""

    @property
    def start(self) -> pd.Timestamp | None:
        return self.equity.index[0] if len(self.equity) else None

    @property
    def end(self) -> pd.Timestamp | None:
        return self.equity.index[-1] if len(self.equity) else None

    @property
    def drawdown(self) -> pd.Series:
        """Equity below its running peak, as a negative fraction."""
        return self.equity / self.equity.cummax() - 1.0

    def to_dict(self) -> dict[str, Any]:
        """The `--json` document: fractions, ISO 8601 UTC times, NaN as null."""
        from tui_trader.analytics.metrics import sample_warnings

        return {
            "strategy": self.strategy,
            "symbol": self.symbols[0] if len(self.symbols) == 1 else list(self.symbols),
            "timeframe": self.timeframe,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "metrics": {k: _plain(v) for k, v in self.metrics.items()},
            "trades": trade_rows(self.trades),
            "warnings": sample_warnings(self.metrics),
        }


def trade_rows(trades: pd.DataFrame) -> list[dict[str, Any]]:
    """The trades as JSON-ready rows, column by column (a year of 1m trades is ~10,000 rows):
    times as ISO 8601 UTC, numpy values as Python ones, NaN and infinities as None."""
    keys = (*TRADE_FIELDS, *EXTRA_FIELDS)
    columns = [_plain_column(trades[k]) if k in trades else [None] * len(trades) for k in keys]
    return list(map(trade_row, *columns))


def _plain_column(column: pd.Series) -> list[Any]:
    if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(column):
        times = column.dt.tz_convert("UTC") if isinstance(column.dtype, pd.DatetimeTZDtype) else column
        ns = times.to_numpy(dtype="datetime64[ns]")
        return iso_times(ns, np.isnat(ns))
    values = column.to_numpy()
    if values.dtype.kind == "f":
        return plain_floats(values)
    if values.dtype.kind in "iub":
        return list(values.tolist())
    return [v if type(v) is str or v is None else _plain(v) for v in values.tolist()]


def _iso(ts: pd.Timestamp | None) -> str | None:
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts).tz_convert("UTC").isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return _iso(value)
    return plain(value)


def trades_frame(trades: Trades, bar_ns: int, symbols: Sequence[str], mfe: np.ndarray, mae: np.ndarray) -> pd.DataFrame:
    """Trades as a DataFrame; every exit is stamped at the open of its candle, as Freqtrade
    stamps it (`bar_ns` is kept for callers)."""
    if not len(trades):
        frame = pd.DataFrame({k: [] for k in (*TRADE_FIELDS, *EXTRA_FIELDS)})
        for k in ("entry_time", "exit_time"):
            frame[k] = pd.to_datetime(frame[k], utc=True)
        return frame
    exit_ns = trades.exit_ns
    names = np.asarray(symbols, dtype=object)
    cols: dict[str, Any] = {
        "entry_time": pd.to_datetime(trades.entry_ns, utc=True),
        "exit_time": pd.to_datetime(exit_ns, utc=True),
        "side": np.where(trades.side > 0, "long", "short").astype(object).tolist(),
        "entry_price": trades.entry_price,
        "exit_price": trades.exit_price,
        "quantity": trades.quantity,
        "pnl": trades.pnl,
        "pnl_pct": trades.pnl_pct,
        "fees": trades.entry_fee + trades.exit_fee,
        "exit_reason": list(trades.exit_reason),
        "mfe": mfe,
        "mae": mae,
        "symbol": names[trades.symbol].tolist(),
        "enter_tag": list(trades.enter_tag),
        "exit_tag": list(trades.exit_tag),
    }
    return pd.DataFrame(cols)
