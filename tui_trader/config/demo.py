"""The demo preset (`tui-trader --demo`): two bundled teaching strategies trade the paper
market's crypto on 1-minute bars, so a newcomer sees signal -> risk -> order -> fill ->
position -> P&L within a few minutes. The same as adding to config.toml:

    [strategies.demo_trend]
    symbols = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    venue = "paper"

    [strategies.demo_dip]
    symbols = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    venue = "paper"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui_trader.config.settings import Settings

DEMO_SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
DEMO_STRATEGIES = ("demo_trend", "demo_dip")


def with_demo(settings: Settings) -> Settings:
    """`settings` plus the demo strategies (a strategy of the same name in config wins)."""
    from tui_trader.config.strategies import StrategySettings

    strategies = dict(settings.strategies)
    for name in DEMO_STRATEGIES:
        strategies.setdefault(name, StrategySettings(symbols=list(DEMO_SYMBOLS), venue="paper"))
    return settings.model_copy(update={"strategies": strategies})
