"""Resolve `--strategy` and `--data`/`--venue` the same way for every research command."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tui_trader.cli.common import existing_file


def load_strategy_arg(name: str, strategies_dir: Path) -> Any:
    """The strategy instance for `--strategy NAME|FILE`, with a hint on where to look."""
    from tui_trader.core.errors import UsageError, UserError
    from tui_trader.strategy.errors import UnknownStrategy
    from tui_trader.strategy.loader import load_strategy

    try:
        return load_strategy(name, [strategies_dir])
    except UnknownStrategy as exc:  # the command line named it: a usage error (exit 2)
        raise UsageError(str(exc)) from None
    except UserError as exc:
        text = str(exc)
        if "strategies list" not in text:
            text += " (see `tui-trader strategies list`)"
        raise type(exc)(text) from None


def load_candles_arg(args: argparse.Namespace, data_dir: Path, strategy: Any) -> tuple[Any, str]:
    """Candles from `--data FILE` or the store (`--venue V --symbol S`), plus the symbol name.

    From the store, the strategy's warm-up bars before `--start` are loaded too.
    """
    if args.data:
        from tui_trader.data import load_ohlcv

        path = existing_file(args.data, "data file")
        df = load_ohlcv(path, timeframe=args.timeframe, symbol=args.symbol)
        return df, args.symbol or df.attrs.get("symbol") or path.stem
    from tui_trader.data.store import CandleStore
    from tui_trader.data.timeframes import timeframe_to_seconds

    start = args.start
    if start is not None and strategy.startup_candle_count:
        import pandas as pd

        from tui_trader.backtest.engine import to_utc

        # load the warm-up bars before --start too, so indicators are ready on the first bar
        warmup = strategy.startup_candle_count * timeframe_to_seconds(args.timeframe)
        start = to_utc(start) - pd.Timedelta(seconds=warmup)
    df = CandleStore(data_dir).load(args.venue, args.symbol, args.timeframe, start, args.end)
    return df, args.symbol
