"""Freqtrade's stop helpers for `custom_stoploss`: stops given from the entry or as a price."""

from __future__ import annotations


def stoploss_from_open(
    open_relative_stop: float, current_profit: float, is_short: bool = False, leverage: float = 1.0
) -> float:
    """The stop, as a ratio below the current price, that sits `open_relative_stop` from the
    entry (0.05 = 5 % above it, -0.05 below) given the trade's `current_profit`. Never below 0:
    0 means the wanted stop is already past the current price."""
    profit = current_profit / leverage
    if (profit == -1 and not is_short) or (is_short and profit == 1):
        return 1.0
    if is_short:
        ratio = -1 + (1 - open_relative_stop / leverage) / (1 - profit)
    else:
        ratio = 1 - (1 + open_relative_stop / leverage) / (1 + profit)
    return max(ratio * leverage, 0.0)


def stoploss_from_absolute(
    stop_rate: float, current_rate: float, is_short: bool = False, leverage: float = 1.0
) -> float:
    """The stop at the price `stop_rate`, as a ratio from `current_rate` (never below 0)."""
    if current_rate == 0:
        return 1.0
    ratio = 1 - stop_rate / current_rate
    if is_short:
        ratio = -ratio
    return max(ratio, 0.0) * leverage
