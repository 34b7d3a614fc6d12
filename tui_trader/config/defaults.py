"""The defaults of `[engine]`, `[risk]` and `[ui]` as plain objects, for a command that reads
only those sections (a backtest) when the config sets neither and no `TUI_TRADER_*` variable
is set, and for the workstation's first screen when there is no config to check: nothing is
left to validate, so the command runs (or the screen is drawn) without importing pydantic
(0.1-0.2 s of CPU at its start on the 2-core machine).

The values are the models' own defaults (`config.engine.EngineSettings`,
`config.risk.RiskSettings`, `config.ui.UISettings`); `tests/foundation/test_config_sections.py`
checks every one of them against the models, so the two cannot drift apart.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

ENGINE: dict[str, Any] = {
    "default_venue": "paper",
    "equity_snapshot_s": 60.0,
    "reporting_currency": "USD",
    "strategy_timeout_s": 5.0,
}
SIZING: dict[str, Any] = {
    "mode": "percent_equity",
    "quantity": None,
    "notional": None,
    "percent": 0.02,
    "risk_per_trade": 0.01,
    "kelly_fraction": 0.5,
    "kelly_cap": 0.1,
    "kelly_min_trades": 20,
    "target_volatility": 0.01,
    "atr_period": 14,
    "atr_multiple": 2.0,
    "max_percent": 1.0,
}
RISK: dict[str, Any] = {
    "max_order_notional": None,
    "max_position_notional": None,
    "max_gross_exposure": None,
    "max_open_positions": None,
    "max_open_orders": None,
    "max_open_orders_per_symbol": None,
    "price_band_pct": 0.1,
    "daily_loss_limit": None,
    "max_drawdown": None,
    "max_consecutive_losses": None,
    "max_leverage": None,
    "sizing": SIZING,
    "protections": [],
    "flatten_on_breaker": False,
    "check_balance": True,
    "liquidation_buffer": 0.05,
    "liquidation_action": "close",
    "min_liquidation_distance": 0.02,
    "fee_estimate": 0.001,
    "metrics_interval_s": 5.0,
    "var_lookback_days": 250,
    "benchmark": None,
    "strategies": {},
}
UI: dict[str, Any] = {
    "theme": "tui-dark",
    "refresh_hz": 20.0,
    "chart_refresh_s": 1.0,
    "confirm_far_price_pct": 0.05,
    "fee_estimate": 0.0005,
    "watchlist": [],
    "keymap": {},
    "bell": False,
    "layout": "auto",
    "timeframe": "1m",
    "confirm_arm_ms": 400,
    "quick_notional": 1000.0,
    "quick_size": {},
    "flash_ms": 600,
}
PLAIN = {"engine": ENGINE, "risk": RISK, "ui": UI}


def plain_default(name: str) -> SimpleNamespace:
    """A fresh object with the section's default values as attributes (its sub-sections
    too; lists and tables stay lists and dicts), read as the model would be."""
    values = PLAIN[name]
    return SimpleNamespace(**{
        k: SimpleNamespace(**v) if k == "sizing" else (type(v)() if isinstance(v, list | dict) else v)
        for k, v in values.items()
    })  # fmt: skip
