"""IStrategy: Freqtrade's strategy interface, so a Freqtrade strategy ports by changing its import.

Differences from Freqtrade are listed in docs/strategies.md (no leverage/funding hooks, no
order_types on the exchange, profits without fees, `trade` is a StrategyTrade).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from tui_trader.strategy.parameters import BaseParameter, copy_parameters, detect_parameters

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.strategy.dataprovider import DataProvider
    from tui_trader.strategy.trade import StrategyTrade


class IStrategy:
    """Subclass, set the class attributes, and fill the three populate_* methods."""

    INTERFACE_VERSION: ClassVar[int] = 3
    name: str = ""  # defaults to the class name

    timeframe: str = "5m"
    startup_candle_count: int = 0
    minimal_roi: ClassVar[dict[str, float]] = {}
    stoploss: float = -1.0
    trailing_stop: bool = False
    trailing_stop_positive: float | None = None
    trailing_stop_positive_offset: float = 0.0
    trailing_only_offset_is_reached: bool = False
    use_custom_stoploss: bool = False
    can_short: bool = False
    use_exit_signal: bool = True
    exit_profit_only: bool = False
    exit_profit_offset: float = 0.0
    ignore_roi_if_entry_signal: bool = False
    process_only_new_candles: bool = True
    position_adjustment_enable: bool = False
    max_entry_position_adjustment: int = -1
    use_custom_roi: bool = False
    ignore_buying_expired_candle_after: int = 0
    disable_dataframe_checks: bool = False
    # Freqtrade's defaults. The backtester reads "entry"/"exit": limit orders ask
    # custom_entry_price / custom_exit_price; live, the OMS decides order types.
    order_types: ClassVar[dict[str, Any]] = {
        "entry": "limit",
        "exit": "limit",
        "stoploss": "limit",
        "stoploss_on_exchange": False,
    }
    order_time_in_force: ClassVar[dict[str, Any]] = {"entry": "GTC", "exit": "GTC"}
    plot_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self.dp: DataProvider | None = None
        self.wallets: Any = None  # a backtest sets BacktestWallets (Freqtrade's self.wallets)
        # JSON-able values the strategy wants kept across restarts and hot reloads.
        self.custom_state: dict[str, Any] = {}
        self._parameters = copy_parameters(self)
        if not self.name:
            self.name = type(self).__name__

    # ---- parameters -------------------------------------------------------------------------
    @classmethod
    def detect_parameters(cls) -> dict[str, BaseParameter]:
        return detect_parameters(cls)

    @property
    def parameters(self) -> dict[str, BaseParameter]:
        return dict(self._parameters)

    def set_parameters(self, values: dict[str, Any]) -> None:
        """Apply optimizer (or saved) values; unknown names and out-of-range values raise."""
        from tui_trader.core.errors import UserError

        for key, value in values.items():
            param = self._parameters.get(key)
            if param is None:
                known = ", ".join(sorted(self._parameters)) or "none"
                raise UserError(f"strategy {self.name} has no parameter {key!r} (known: {known})")
            param.value = param.validate(value)

    def parameter_values(self) -> dict[str, Any]:
        return {name: p.value for name, p in self._parameters.items()}

    # ---- data --------------------------------------------------------------------------------
    def informative_pairs(self) -> list[tuple[str, str]]:
        """Extra (pair, timeframe) the runner should keep for this strategy."""
        return []

    def populate_indicators(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        return dataframe

    def populate_entry_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        legacy = getattr(self, "populate_buy_trend", None)
        return legacy(dataframe, metadata) if legacy else dataframe

    def populate_exit_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        legacy = getattr(self, "populate_sell_trend", None)
        return legacy(dataframe, metadata) if legacy else dataframe

    # ---- hooks (Freqtrade signatures; extra keyword arguments are always accepted) --------------
    def bot_start(self, **kwargs: Any) -> None:
        """Called once after loading (and after a hot reload)."""

    def custom_stake_amount(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_stake: float,
        min_stake: float | None,
        max_stake: float,
        leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        return proposed_stake

    def custom_stoploss(
        self,
        pair: str,
        trade: StrategyTrade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        after_fill: bool,
        **kwargs: Any,
    ) -> float | None:
        """Only called when use_custom_stoploss is True; a ratio relative to current_rate."""
        return None

    def custom_exit(
        self,
        pair: str,
        trade: StrategyTrade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | bool | None:
        return None

    def confirm_trade_entry(
        self,
        pair: str,
        order_type: str,
        amount: float,
        rate: float,
        time_in_force: str,
        current_time: datetime,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> bool:
        return True

    def confirm_trade_exit(
        self,
        pair: str,
        trade: StrategyTrade,
        order_type: str,
        amount: float,
        rate: float,
        time_in_force: str,
        exit_reason: str,
        current_time: datetime,
        **kwargs: Any,
    ) -> bool:
        return True

    def custom_entry_price(
        self,
        pair: str,
        trade: StrategyTrade | None,
        current_time: datetime,
        proposed_rate: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        """A limit entry's price (asked when order_types["entry"] is "limit")."""
        return proposed_rate

    def custom_exit_price(
        self,
        pair: str,
        trade: StrategyTrade,
        current_time: datetime,
        proposed_rate: float,
        current_profit: float,
        exit_tag: str | None,
        **kwargs: Any,
    ) -> float:
        """A limit exit's price for signal and custom exits (order_types["exit"] "limit")."""
        return proposed_rate

    def custom_roi(
        self,
        pair: str,
        trade: StrategyTrade,
        current_time: datetime,
        trade_duration: int,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float | None:
        """Only called when use_custom_roi is True; the lower of it and minimal_roi applies."""
        return None

    def adjust_trade_position(
        self,
        trade: StrategyTrade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        min_stake: float | None,
        max_stake: float,
        current_entry_rate: float,
        current_exit_rate: float,
        current_entry_profit: float,
        current_exit_profit: float,
        **kwargs: Any,
    ) -> float | tuple[float | None, str | None] | None:
        """Only called when position_adjustment_enable is True: a stake to add (> 0) or to
        take off (< 0), optionally with an order tag."""
        return None

    def leverage(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_leverage: float,
        max_leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        """Futures only (not supported here: spot trades at leverage 1)."""
        return 1.0

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        """Called once per candle before the pairs are evaluated."""

    def version(self) -> str | None:
        return None

    def get_strategy_name(self) -> str:
        return self.name

    # ---- pair locks (Freqtrade's names; the backtester honours them on entries) -----------------
    def lock_pair(self, pair: str, until: datetime, reason: str | None = None,
                  side: str = "*") -> None:  # fmt: skip
        from tui_trader.strategy.locks import PairLocks

        PairLocks.lock_pair(pair, until, reason, side=side)

    def unlock_pair(self, pair: str) -> None:
        from tui_trader.strategy.locks import PairLocks

        PairLocks.unlock_pair(pair)

    def unlock_reason(self, reason: str) -> None:
        from tui_trader.strategy.locks import PairLocks

        PairLocks.unlock_reason(reason)

    def is_pair_locked(self, pair: str, *, candle_date: datetime | None = None,
                       side: str = "*") -> bool:  # fmt: skip
        from tui_trader.strategy.locks import PairLocks

        return PairLocks.is_pair_locked(pair, candle_date, side)

    def order_filled(
        self,
        pair: str,
        trade: StrategyTrade,
        order: dict[str, Any],
        current_time: datetime,
        **kwargs: Any,
    ) -> None:
        """`order` is a plain dict: side, amount, price, ts."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.timeframe}>"


Strategy = IStrategy
