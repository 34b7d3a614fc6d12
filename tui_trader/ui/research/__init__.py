"""Helpers for the research screens (backtest, optimize, rule builder): data sources, charts,
metric cells and a throttle for worker progress. The screens live in ui/screens/."""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen


def _backtest() -> Screen[None]:
    from tui_trader.ui.screens.backtest import BacktestScreen

    return BacktestScreen()


def _optimize() -> Screen[None]:
    from tui_trader.ui.screens.optimize import OptimizeScreen

    return OptimizeScreen()


def _rule_builder() -> Screen[None]:
    from tui_trader.ui.screens.rule_builder import RuleBuilderScreen

    return RuleBuilderScreen()


# For App.SCREENS: built on first use (no pandas/plotting import at start-up), then kept, so
# a result is still there when the screen is opened again.
RESEARCH_SCREENS: dict[str, Callable[[], Screen[None]]] = {
    "backtest": _backtest,
    "optimize": _optimize,
    "rule_builder": _rule_builder,
}
