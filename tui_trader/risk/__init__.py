"""Pre-trade risk: every order from every source passes the same checks."""

from tui_trader.risk.checks import PreTradeChecks, RiskRejection

__all__ = ["PreTradeChecks", "RiskRejection"]
