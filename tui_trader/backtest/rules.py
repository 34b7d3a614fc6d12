"""A strategy's exit settings (stoploss, minimal_roi, trailing) as arrays the kernel can use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tui_trader.core.errors import ConfigError


@dataclass(frozen=True)
class ExitRules:
    """Freqtrade's exit attributes, with the ROI table as sorted minute steps."""

    stoploss: float = -1.0
    roi_minutes: np.ndarray = field(default_factory=lambda: np.empty(0))
    roi_values: np.ndarray = field(default_factory=lambda: np.empty(0))
    trailing_stop: bool = False
    trailing_stop_positive: float | None = None
    trailing_stop_positive_offset: float = 0.0
    trailing_only_offset_is_reached: bool = False
    use_exit_signal: bool = True
    can_short: bool = False
    exit_profit_only: bool = False
    exit_profit_offset: float = 0.0
    ignore_roi_if_entry_signal: bool = False

    @classmethod
    def build(
        cls,
        *,
        stoploss: float | None = -1.0,
        minimal_roi: Mapping[Any, float] | None = None,
        trailing_stop: bool = False,
        trailing_stop_positive: float | None = None,
        trailing_stop_positive_offset: float = 0.0,
        trailing_only_offset_is_reached: bool = False,
        use_exit_signal: bool = True,
        can_short: bool = False,
        exit_profit_only: bool = False,
        exit_profit_offset: float = 0.0,
        ignore_roi_if_entry_signal: bool = False,
    ) -> ExitRules:
        """Validate and normalise; `minimal_roi` keys are minutes open (str or number)."""
        sl = -1.0 if stoploss is None else float(stoploss)
        if not -1.0 <= sl < 0.0:
            raise ConfigError(f"stoploss must be a negative ratio such as -0.10 (got {stoploss!r})")
        keys: list[float] = []
        values: list[float] = []
        for key, value in sorted((minimal_roi or {}).items(), key=lambda kv: float(kv[0])):
            try:
                keys.append(float(key))
                values.append(float(value))
            except (TypeError, ValueError):
                msg = f"minimal_roi: {key!r}: {value!r} is not minutes -> ratio"
                raise ConfigError(msg) from None
        tsp = None if trailing_stop_positive is None else float(trailing_stop_positive)
        if tsp is not None and not 0.0 < tsp < 1.0:
            raise ConfigError(f"trailing_stop_positive must be between 0 and 1 (got {tsp})")
        return cls(
            stoploss=sl,
            roi_minutes=np.asarray(keys, dtype=np.float64),
            roi_values=np.asarray(values, dtype=np.float64),
            trailing_stop=bool(trailing_stop),
            trailing_stop_positive=tsp,
            trailing_stop_positive_offset=float(trailing_stop_positive_offset or 0.0),
            trailing_only_offset_is_reached=bool(trailing_only_offset_is_reached),
            use_exit_signal=bool(use_exit_signal),
            can_short=bool(can_short),
            exit_profit_only=bool(exit_profit_only),
            exit_profit_offset=float(exit_profit_offset or 0.0),
            ignore_roi_if_entry_signal=bool(ignore_roi_if_entry_signal),
        )

    @classmethod
    def from_strategy(cls, strategy: Any) -> ExitRules:
        """Read the attributes a Freqtrade-style strategy declares (missing ones get defaults)."""
        return cls.build(
            stoploss=getattr(strategy, "stoploss", -1.0),
            minimal_roi=getattr(strategy, "minimal_roi", None),
            trailing_stop=getattr(strategy, "trailing_stop", False),
            trailing_stop_positive=getattr(strategy, "trailing_stop_positive", None),
            trailing_stop_positive_offset=getattr(strategy, "trailing_stop_positive_offset", 0.0),
            trailing_only_offset_is_reached=getattr(
                strategy, "trailing_only_offset_is_reached", False
            ),
            use_exit_signal=getattr(strategy, "use_exit_signal", True),
            can_short=getattr(strategy, "can_short", False),
            exit_profit_only=getattr(strategy, "exit_profit_only", False),
            exit_profit_offset=getattr(strategy, "exit_profit_offset", 0.0),
            ignore_roi_if_entry_signal=getattr(strategy, "ignore_roi_if_entry_signal", False),
        )

    def roi_step_at(self, minutes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ROI ratio, its step in minutes) after `minutes` open (NaN where none applies yet)."""
        if self.roi_minutes.size == 0:
            nan = np.full(np.shape(minutes), np.nan)
            return nan, nan
        idx = np.searchsorted(self.roi_minutes, minutes, side="right") - 1
        have = idx >= 0
        safe = np.maximum(idx, 0)
        return (np.where(have, self.roi_values[safe], np.nan),
                np.where(have, self.roi_minutes[safe], np.nan))  # fmt: skip

    def roi_at(self, minutes: np.ndarray) -> np.ndarray:
        """ROI ratio required after `minutes` open (NaN where no step applies yet)."""
        if self.roi_minutes.size == 0:
            return np.full(np.shape(minutes), np.nan)
        idx = np.searchsorted(self.roi_minutes, minutes, side="right") - 1
        out = self.roi_values[np.maximum(idx, 0)]
        return np.where(idx >= 0, out, np.nan)
