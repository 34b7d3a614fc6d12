"""Read-only market data a strategy may look at: other pairs and timeframes, no venue objects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from tui_trader.strategy.informative import resample_ohlcv
from tui_trader.strategy.timeframes import is_multiple

if TYPE_CHECKING:
    import pandas as pd


class DataProvider:
    """Frames keyed by (pair, timeframe). The backtester fills it with history, the runner with
    rolling windows. A finer frame of the same pair is resampled when a timeframe is missing."""

    def __init__(
        self,
        frames: dict[tuple[str, str], pd.DataFrame] | None = None,
        whitelist: Iterable[str] = (),
        runmode: str = "live",
    ) -> None:
        self._frames: dict[tuple[str, str], pd.DataFrame] = dict(frames or {})
        self._analyzed: dict[tuple[str, str], pd.DataFrame] = {}
        self._whitelist = list(whitelist)
        self.runmode = runmode

    def set(self, pair: str, timeframe: str, dataframe: pd.DataFrame) -> None:
        self._frames[(pair, timeframe)] = dataframe

    def set_analyzed(self, pair: str, timeframe: str, dataframe: pd.DataFrame) -> None:
        self._analyzed[(pair, timeframe)] = dataframe

    def available_pairs(self) -> list[tuple[str, str]]:
        return list(self._frames)

    def current_whitelist(self) -> list[str]:
        return list(self._whitelist or {p for p, _ in self._frames})

    def get_pair_dataframe(self, pair: str, timeframe: str | None = None) -> pd.DataFrame:
        """OHLCV for pair/timeframe (a `date` column plus open..volume); empty if unknown."""
        import pandas as pd

        if timeframe is None:
            timeframe = next((tf for p, tf in self._frames if p == pair), "")
        found = self._frames.get((pair, timeframe))
        if found is not None:
            return found
        finer = [tf for p, tf in self._frames if p == pair and is_multiple(timeframe, tf)]
        if finer:
            from tui_trader.strategy.timeframes import timeframe_to_seconds

            best = max(finer, key=timeframe_to_seconds)
            return resample_ohlcv(self._frames[(pair, best)], timeframe)
        return pd.DataFrame(columns=["date", "open", "high", "low", "close", "volume"])

    ohlcv = get_pair_dataframe
    historic_ohlcv = get_pair_dataframe

    def get_analyzed_dataframe(self, pair: str, timeframe: str) -> tuple[pd.DataFrame, object]:
        """The last analysed frame and the open time of its last candle (Freqtrade's shape)."""
        import pandas as pd

        df = self._analyzed.get((pair, timeframe))
        if df is None or df.empty:
            return pd.DataFrame(), None
        return df, df["date"].iloc[-1]
