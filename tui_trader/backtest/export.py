"""`--export trades`: a backtest's trades in Freqtrade's result format, beside our own CSV/JSON.

The file has Freqtrade's layout (`{"strategy": {NAME: {"trades": [...], ...}},
"strategy_comparison": [...]}`) with the trade fields of its `BT_DATA_COLUMNS` (pair, stake
and amount, open/close dates as Freqtrade stamps them, rates, fees, duration in minutes,
profit ratio and amount after fees, exit reason, enter tag, ...), so tools that read
Freqtrade's backtest results (`freqtrade backtesting-analysis`, notebooks using
`load_backtest_data`) read ours. Stops and min/max rates are not recorded per trade here and
are left null.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UserError

if TYPE_CHECKING:
    from tui_trader.backtest.result import BacktestResult

DATE_FORMAT = "%Y-%m-%d %H:%M:%S%z"


def _ft_date(ts: Any) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S") + "+00:00"


def freqtrade_trades(result: BacktestResult, fee: float) -> list[dict[str, Any]]:
    out = []
    for t in result.trades.itertuples():
        stake = float(t.entry_price * t.quantity)
        duration = int((t.exit_time - t.entry_time).total_seconds() // 60)
        out.append({
            "pair": t.symbol, "stake_amount": round(stake, 8), "max_stake_amount": round(stake, 8),
            "amount": round(float(t.quantity), 8), "open_date": _ft_date(t.entry_time),
            "close_date": _ft_date(t.exit_time), "open_rate": float(t.entry_price),
            "close_rate": float(t.exit_price), "fee_open": fee, "fee_close": fee,
            "trade_duration": duration, "profit_ratio": round(float(t.pnl_pct), 8),
            "profit_abs": round(float(t.pnl), 8), "exit_reason": t.exit_reason,
            "initial_stop_loss_abs": None, "initial_stop_loss_ratio": None,
            "stop_loss_abs": None, "stop_loss_ratio": None, "min_rate": None, "max_rate": None,
            "is_open": False, "enter_tag": t.enter_tag, "leverage": 1.0,
            "is_short": t.side == "short",
            "open_timestamp": int(t.entry_time.timestamp() * 1000),
            "close_timestamp": int(t.exit_time.timestamp() * 1000),
        })  # fmt: skip
    return out


def freqtrade_result(result: BacktestResult, *, fee: float, stake_currency: str,
                     stake_amount: Any, max_open_trades: Any) -> dict[str, Any]:  # fmt: skip
    trades = freqtrade_trades(result, fee)
    profit = sum(t["profit_abs"] for t in trades)
    name = result.strategy
    stats = {
        "trades": trades,
        "total_trades": len(trades),
        "profit_total_abs": profit,
        "profit_total": profit / result.capital,
        "starting_balance": result.capital,
        "final_balance": result.capital + profit,
        "stake_currency": stake_currency,
        "stake_amount": stake_amount,
        "max_open_trades": max_open_trades,
        "timeframe": result.timeframe,
        "pairlist": list(result.symbols),
        "backtest_start": _ft_date(result.start) if result.start is not None else None,
        "backtest_end": _ft_date(result.end) if result.end is not None else None,
        "rejected_signals": sum(result.rejected.values()),
    }
    comparison = {"key": name, "trades": len(trades), "profit_total_abs": profit,
                  "profit_total": profit / result.capital}  # fmt: skip
    return {"strategy": {name: stats}, "strategy_comparison": [comparison]}


def write_freqtrade_result(path: Path, doc: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
