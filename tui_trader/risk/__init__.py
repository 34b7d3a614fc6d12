"""Pre-trade risk: every order from every source passes the same checks.

`PreTradeChecks` and `RiskRejection` resolve on first use: the backtester imports
`tui_trader.risk.sizing` and `tui_trader.risk.protections` without the order path's checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.lazy import lazy_exports

if TYPE_CHECKING:
    from tui_trader.risk.checks import PreTradeChecks, RiskRejection

__all__ = ["PreTradeChecks", "RiskRejection"]

__getattr__ = lazy_exports(__name__, dict.fromkeys(__all__, "tui_trader.risk.checks"))
