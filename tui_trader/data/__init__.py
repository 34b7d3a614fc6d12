"""Candle history: loading files, checking them, the Parquet store and downloads.

`load_ohlcv` and friends are imported lazily so `import tui_trader.data` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.lazy import lazy_exports

if TYPE_CHECKING:
    from tui_trader.data.loaders import load_ohlcv, load_ohlcv_with_report
    from tui_trader.data.validate import CandleReport, check_candles

__all__ = ["CandleReport", "check_candles", "load_ohlcv", "load_ohlcv_with_report"]

_LAZY = {
    "load_ohlcv": "tui_trader.data.loaders",
    "load_ohlcv_with_report": "tui_trader.data.loaders",
    "CandleReport": "tui_trader.data.validate",
    "check_candles": "tui_trader.data.validate",
}

__getattr__ = lazy_exports(__name__, _LAZY)
