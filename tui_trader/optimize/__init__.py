"""Parameter optimization and walk-forward analysis, on local processes or a Dask cluster.

from tui_trader.optimize import optimize, walk_forward
result = optimize(strategy, candles, timeframe="5m", method="tpe", trials=200, seed=1)
"""

from tui_trader.optimize.results import (
    OptimizationResult,
    Progress,
    Trial,
    WalkForwardResult,
    WindowResult,
)
from tui_trader.optimize.search import METHODS, Session, optimize, prepare
from tui_trader.optimize.space import Dimension, SearchSpace, build_space
from tui_trader.optimize.walkforward import Window, walk_forward, windows

__all__ = [
    "METHODS",
    "Dimension",
    "OptimizationResult",
    "Progress",
    "SearchSpace",
    "Session",
    "Trial",
    "WalkForwardResult",
    "Window",
    "WindowResult",
    "build_space",
    "optimize",
    "prepare",
    "walk_forward",
    "windows",
]
