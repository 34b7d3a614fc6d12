"""The words the `:` command line shares with the screens: the chart's timeframes and
overlays, the layouts, and the line's usage hint. Kept apart from the grammar (commandline.py)
so the first screen is drawn without importing it: the grammar is loaded with the first
command typed."""

from __future__ import annotations

TIMEFRAMES: tuple[str, ...] = ("1m", "5m", "15m", "1h", "4h", "1d")
LAYOUTS: tuple[str, ...] = ("auto", "tabs", "grid")
INDICATORS: tuple[str, ...] = ("sma", "ema", "bb", "vwap")  # chart overlays

USAGE = (
    "try: buy 0.5 BTC/USDT limit 64000 · sell 10 AAPL mkt · cancel all · modify <id> price 64100 · flatten"
    " · symbol ETH/USDT · tf 5m"
)
