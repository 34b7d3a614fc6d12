"""`performance.report`: closed trades with their prices, MFE and MAE, a summary and the equity
history, from what the engine stored (so it survives restarts and reads the same attached)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tui_trader.analytics.round_trips import excursions, round_trip_prices, summary
from tui_trader.engine import params as P
from tui_trader.engine.commands import command

if TYPE_CHECKING:
    from tui_trader.core.market import Candle
    from tui_trader.engine.ports import EnginePort

EXCURSIONS_FOR = 50  # the latest trades get MFE / MAE (each needs its candles)
FILLS_READ = 5000


@command("performance.report")
async def report(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """params {"limit"? (trades, 1-1000, default 200)} -> {"trades": [...newest first],
    "summary": {...}, "equity": [[iso time, equity], ...]}."""
    limit = P.integer(params, "limit", 200, low=1, high=1000)
    store = engine.store
    closed = await store.load_closed_trades(limit) if store is not None else []
    fills = await store.load_fills(limit=FILLS_READ) if store is not None else []
    history = await store.equity_history() if store is not None else []
    trades = []
    for n, t in enumerate(reversed(closed)):  # newest first
        prices = round_trip_prices(fills, t["symbol"], int(t["side"]), int(t["entry_ns"]), int(t["exit_ns"]))
        mfe = mae = math.nan
        if n < EXCURSIONS_FOR and prices.entry:
            candles = await _candles(engine, t["symbol"], int(t["entry_ns"]))
            mfe, mae = excursions(
                int(t["side"]), prices.entry, candles, int(t["entry_ns"]), int(t["exit_ns"]), prices.exit
            )
        trades.append(
            {
                **t,
                "entry_price": prices.entry,
                "exit_price": prices.exit,
                "quantity": prices.quantity,
                "mfe": None if math.isnan(mfe) else mfe,
                "mae": None if math.isnan(mae) else mae,
            }
        )
    return {
        "trades": trades,
        "summary": summary([float(t["pnl"]) for t in closed], [e for _, e in history]),
        "equity": [[ts.isoformat(), value] for ts, value in history],
    }


async def _candles(engine: EnginePort, symbol: str, entry_ns: int) -> list[Candle]:
    venue = engine.venue_for(symbol)
    if venue not in engine.venues:
        return []
    since = datetime.fromtimestamp(entry_ns / 1e9, UTC)
    try:
        return await engine.venues[venue].fetch_candles(symbol, "1m", since, 1000)
    except Exception:  # no history at this venue: the excursions stay unknown
        return []
