"""Pre-trade risk: every order from every source passes the same checks.

`PreTradeChecks` and `RiskRejection` resolve on first use: the backtester imports
`tui_trader.risk.sizing` and `tui_trader.risk.protections` without the order path's checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_trader.risk.checks import PreTradeChecks, RiskRejection

__all__ = ["PreTradeChecks", "RiskRejection"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from tui_trader.risk import checks

    return getattr(checks, name)
