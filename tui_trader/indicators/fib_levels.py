"""The Fibonacci retracement levels and their column names, without NumPy: the indicator
catalog names the columns (`fibonacci.py` computes them), and a backtest that looks up a rule
file's indicators decides whether it needs pandas before NumPy is imported."""

from __future__ import annotations

LEVELS = (0.0, 0.236, 0.382, 0.5, 0.618, 0.786, 1.0)


def level_name(level: float) -> str:
    """Column name of a level: 0.618 -> 'fib_618', 1.0 -> 'fib_1000'."""
    return f"fib_{round(level * 1000)}"
