"""`self.dp`: read-only market data a strategy may look at, with Freqtrade's DataProvider methods.

Frames are keyed by (pair, timeframe). The backtester fills it with the history and the analysed
frames, the live runner with rolling windows. As in Freqtrade's backtester,
`get_analyzed_dataframe` in a backtest returns the analysed candles *before* the candle being
simulated (at most 1,000 of them), so a callback that reads `iloc[-1]` sees the last closed
candle; `get_pair_dataframe` returns the whole history loaded (use it in populate_* with care:
it reaches past the current candle, as in Freqtrade). A finer frame of the same pair is
resampled when a timeframe is missing. `ticker` and `orderbook` exist live only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UserError
from tui_trader.strategy.enums import RunMode
from tui_trader.strategy.informative import resample_ohlcv
from tui_trader.strategy.timeframes import is_multiple

if TYPE_CHECKING:
    import pandas as pd

MAX_DATAFRAME_CANDLES = 1000
_EPOCH = datetime.fromtimestamp(0, tz=UTC)


class DataProvider:
    """Frames keyed by (pair, timeframe); Freqtrade's method names."""

    def __init__(
        self,
        frames: dict[tuple[str, str], pd.DataFrame] | None = None,
        whitelist: Iterable[str] = (),
        runmode: str | RunMode = RunMode.LIVE,
        *,
        ticker: Callable[[str], dict[str, Any]] | None = None,
        orderbook: Callable[[str, int], dict[str, Any]] | None = None,
    ) -> None:
        self._frames: dict[tuple[str, str], pd.DataFrame] = dict(frames or {})
        self._analyzed: dict[tuple[str, str], pd.DataFrame] = {}
        self._analyzed_at: dict[tuple[str, str], datetime] = {}
        self._later: dict[tuple[str, str], Callable[[], pd.DataFrame]] = {}
        self._whitelist = list(whitelist)
        self.runmode = RunMode(runmode)
        self._now: dict[str, int] = {}  # backtest: the candle being simulated, per pair (ns)
        self._ticker = ticker
        self._orderbook = orderbook

    @property
    def backtesting(self) -> bool:
        return self.runmode not in (RunMode.LIVE, RunMode.DRY_RUN)

    def set(self, pair: str, timeframe: str, dataframe: pd.DataFrame) -> None:
        self._frames[(pair, timeframe)] = dataframe

    def set_analyzed(
        self, pair: str, timeframe: str, dataframe: pd.DataFrame, at: datetime | None = None
    ) -> None:
        """`at`: the newest bar's open time when the caller knows it (the live runner, every
        candle: reading it back from the frame costs more than the rest of this)."""
        self._analyzed[(pair, timeframe)] = dataframe
        self._later.pop((pair, timeframe), None)
        if at is not None:
            self._analyzed_at[(pair, timeframe)] = at
        elif len(dataframe):
            self._analyzed_at[(pair, timeframe)] = dataframe["date"].iloc[-1].to_pydatetime()

    def set_analyzed_later(
        self, pair: str, timeframe: str, build: Callable[[], pd.DataFrame], at: datetime
    ) -> None:
        """The analysed frame as `build()` makes it, built only if something asks for it:
        the live runner decides a rule strategy from its newest row alone (rule_live.py),
        and nothing in a rule strategy reads the frame back."""
        self._later[(pair, timeframe)] = build
        self._analyzed_at[(pair, timeframe)] = at

    def set_current(self, pair: str, time_ns: int) -> None:
        """Backtest: the open of the candle being simulated for `pair`."""
        self._now[pair] = time_ns

    def available_pairs(self) -> list[tuple[str, str]]:
        return list(self._frames)

    def current_whitelist(self) -> list[str]:
        return list(self._whitelist or dict.fromkeys(p for p, _ in self._frames))

    def get_pair_dataframe(
        self, pair: str, timeframe: str | None = None, candle_type: str = ""
    ) -> pd.DataFrame:
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

    def ohlcv(self, pair: str, timeframe: str | None = None, copy: bool = True,
              candle_type: str = "") -> pd.DataFrame:  # fmt: skip
        df = self.get_pair_dataframe(pair, timeframe)
        return df.copy() if copy else df

    def historic_ohlcv(self, pair: str, timeframe: str | None = None,
                       candle_type: str = "") -> pd.DataFrame:  # fmt: skip
        return self.get_pair_dataframe(pair, timeframe)

    def get_analyzed_dataframe(self, pair: str, timeframe: str) -> tuple[pd.DataFrame, datetime]:
        """The analysed frame and when it was analysed (Freqtrade's shape). In a backtest,
        the candles before the one being simulated."""
        import numpy as np
        import pandas as pd

        build = self._later.pop((pair, timeframe), None)
        if build is not None:
            self._analyzed[(pair, timeframe)] = build()
        df = self._analyzed.get((pair, timeframe))
        if df is None or df.empty:
            return pd.DataFrame(), _EPOCH
        when = self._analyzed_at.get((pair, timeframe), _EPOCH)
        if not self.backtesting:
            return df, when
        now = self._now.get(pair)
        if now is None:
            return pd.DataFrame(), _EPOCH
        dates = df["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
        end = int(np.searchsorted(dates, now, side="left"))
        return df.iloc[max(0, end - MAX_DATAFRAME_CANDLES) : end], when

    def ticker(self, pair: str) -> dict[str, Any]:
        """The venue's last ticker (live); an empty dict in a backtest, as in Freqtrade."""
        if self._ticker is None:
            return {}
        try:
            return self._ticker(pair)
        except Exception:
            return {}

    def orderbook(self, pair: str, maximum: int) -> dict[str, Any]:
        """The venue's order book top `maximum` levels (live only)."""
        if self._orderbook is None:
            if self.backtesting:
                raise UserError(
                    "dp.orderbook is only available live (a backtest has no order book); "
                    "guard it with `if self.dp.runmode.value in ('live', 'dry_run')`"
                )
            raise UserError("dp.orderbook: this engine gives strategies no order book")
        return self._orderbook(pair, maximum)


class BacktestWallets:
    """`self.wallets` in a backtest, with Freqtrade's method names: the stake currency's
    balance as the simulation holds it (`free` excludes the stakes of open trades)."""

    def __init__(self, stake_currency: str, capital: float, tradable_balance_ratio: float = 1.0) -> None:
        self.stake_currency = stake_currency
        self.starting = capital
        self.ratio = tradable_balance_ratio
        self.free = capital
        self.used = 0.0

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Freqtrade refreshes from the exchange; here the simulation keeps it current."""

    def get_free(self, currency: str) -> float:
        return self.free if currency == self.stake_currency else 0.0

    def get_used(self, currency: str) -> float:
        return self.used if currency == self.stake_currency else 0.0

    def get_total(self, currency: str) -> float:
        return self.free + self.used if currency == self.stake_currency else 0.0

    def get_starting_balance(self) -> float:
        return self.starting

    def get_total_stake_amount(self) -> float:
        return (self.free + self.used) * self.ratio

    def get_available_stake_amount(self) -> float:
        return min(self.get_total_stake_amount() - self.used, self.free)
