"""Run Freqtrade's own backtester on one case and write its trades as JSON.

Runs inside Freqtrade's virtual environment (bench/parity_freqtrade.py creates it); not part of
tui_trader. Freqtrade loads the exchange's market list from the network at start-up; there is
no network here, so the list is given: every pair of the case as an active spot market (a linear
perpetual for "BASE/QUOTE:SETTLE") with an amount step of 1e-8, no price precision and no limits
(Freqtrade then takes the price tick from the candles, as it always does in a backtest).
Everything else is Freqtrade's code, unchanged.

    python ft_backtest.py CASE.json OUT.json

CASE.json: {"config": {...freqtrade config...}, "strategy": NAME, "strategy_path": DIR,
"datadir": DIR, "timerange": "20180110-20180120" or null}
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any
from unittest import mock

AMOUNT_STEP = 1e-8  # every pair trades in steps of 1e-8 (binance's precision mode is the tick)


def _markets(pairs: list[str]) -> list[dict[str, Any]]:
    out = []
    for pair in pairs:
        if ":" in pair:
            out.append(_swap(pair))
            continue
        base, quote = pair.split("/")
        out.append({
            "id": base + quote, "symbol": pair, "base": base, "quote": quote,
            "baseId": base, "quoteId": quote, "active": True, "type": "spot", "spot": True,
            "margin": False, "swap": False, "future": False, "option": False, "contract": False,
            "linear": None, "inverse": None, "contractSize": None, "taker": 0.001, "maker": 0.001,
            "precision": {"amount": AMOUNT_STEP, "price": None},
            "limits": {"amount": {"min": None, "max": None}, "price": {"min": None, "max": None},
                       "cost": {"min": None, "max": None}, "leverage": {"min": None, "max": None}},
            "info": {},
        })  # fmt: skip
    return out


def _swap(pair: str) -> dict[str, Any]:
    """A linear perpetual ("ETH/USDT:USDT") as ccxt lists Binance USDⓈ-M's: contract size 1,
    settled in the quote; amount step and limits as the spot markets above. Its leverage tiers
    are the ones Freqtrade ships for Binance (binance_leverage_tiers.json)."""
    symbol, settle = pair.split(":")
    base, quote = symbol.split("/")
    return {
        "id": base + quote, "symbol": pair, "base": base, "quote": quote, "settle": settle,
        "baseId": base, "quoteId": quote, "settleId": settle, "active": True, "type": "swap",
        "spot": False, "margin": False, "swap": True, "future": False, "option": False, "contract": True,
        "linear": True, "inverse": False, "contractSize": 1.0, "taker": 0.0005, "maker": 0.0002,
        "precision": {"amount": AMOUNT_STEP, "price": None},
        "limits": {"amount": {"min": None, "max": None}, "price": {"min": None, "max": None},
                   "cost": {"min": None, "max": None}, "leverage": {"min": 1, "max": 125}},
        "info": {},
    }  # fmt: skip


def run(case: dict[str, Any]) -> dict[str, Any]:
    from freqtrade.commands.optimize_commands import setup_optimize_configuration
    from freqtrade.enums import RunMode
    from freqtrade.exchange.exchange import Exchange
    from freqtrade.optimize.backtesting import Backtesting

    config_path = Path(case["workdir"]) / "config.json"
    config_path.write_text(json.dumps(case["config"]))
    pairs = case["config"]["exchange"]["pair_whitelist"]

    def load_markets(self: Any, reload: bool = False) -> None:
        self._api_async.set_markets(_markets(pairs))

    args = {
        "config": [str(config_path)],
        "strategy": case["strategy"],
        "strategy_path": case["strategy_path"],
        "datadir": case["datadir"],
        "user_data_dir": str(Path(case["workdir"]) / "user_data"),
        "timerange": case.get("timerange"),
        "export": "none",
        "enable_protections": case.get("enable_protections", False),
        "timeframe_detail": case.get("timeframe_detail"),
    }
    args = {k: v for k, v in args.items() if v is not None}
    with mock.patch.object(Exchange, "_load_async_markets", load_markets):
        config = setup_optimize_configuration(args, RunMode.BACKTEST)
        bt = Backtesting(config)
        bt.start()
    stats = bt.results["strategy"][case["strategy"]]
    keep = ("pair", "open_date", "close_date", "open_rate", "close_rate", "amount", "stake_amount",
            "profit_abs", "profit_ratio", "exit_reason", "enter_tag", "is_short", "fee_open",
            "fee_close", "trade_duration", "max_rate", "min_rate", "orders", "leverage",
            "funding_fees", "liquidation_price")  # fmt: skip
    trades = [{k: t.get(k) for k in keep} for t in stats["trades"]]
    return {
        "trades": trades,
        "profit_total_abs": stats["profit_total_abs"],
        "final_balance": stats["final_balance"],
        "backtest_start": stats["backtest_start"],
        "backtest_end": stats["backtest_end"],
    }


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    case = json.loads(Path(sys.argv[1]).read_text())
    Path(sys.argv[2]).write_text(json.dumps(run(case), default=str, indent=1))
