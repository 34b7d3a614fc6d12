"""`tui-trader backtest`: run a strategy over candle history and report metrics and trades."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.cli.common import add_command, context, print_json
from tui_trader.cli.sources import load_candles_arg as _load_candles
from tui_trader.cli.sources import load_strategy_arg as _load_strategy
from tui_trader.core.errors import UsageError

if TYPE_CHECKING:
    from tui_trader.backtest import BacktestResult


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = add_command(
        sub, "backtest", "backtest a strategy on candle history", _backtest, json_flag=True
    )
    p.add_argument("--strategy", required=True, help="strategy name or .py/.toml file")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--data", metavar="FILE", help="candle file (CSV, Parquet, Freqtrade json/feather)"
    )
    src.add_argument("--venue", help="stored candles of this venue (with --symbol)")
    p.add_argument("--symbol", help="symbol, e.g. BTC/USDT (required with --venue)")
    p.add_argument("--timeframe", required=True, help="bar length, e.g. 1m, 5m, 1h")
    p.add_argument("--start", help="first bar to trade (ISO 8601, UTC), inclusive")
    p.add_argument("--end", help="end of the range (ISO 8601, UTC), exclusive")
    p.add_argument("--capital", type=float, default=10_000.0, help="starting quote balance")
    p.add_argument("--fee", type=float, default=0.001, help="fee rate per fill (0.001 = 0.1 %%)")
    p.add_argument(
        "--slippage-bps", type=float, default=0.0, help="adverse slippage on market fills"
    )
    p.add_argument("--trades-out", metavar="FILE.csv", help="also write the trades to this CSV")
    p.add_argument("--plot", action="store_true", help="also draw the price with entries and exits")


def _backtest(args: argparse.Namespace) -> int:
    if args.venue and not args.symbol:
        raise UsageError("--venue needs --symbol (e.g. --venue binance --symbol BTC/USDT)")
    ctx = context(args)
    strategy = _load_strategy(args.strategy, ctx.home.strategies_dir)
    candles, symbol = _load_candles(args, ctx.home.data_dir, strategy)

    from tui_trader.backtest import run_backtest

    result = run_backtest(
        strategy,
        {symbol: candles},
        timeframe=args.timeframe,
        capital=args.capital,
        fee=args.fee,
        slippage_bps=args.slippage_bps,
        start=args.start,
        end=args.end,
        risk=ctx.settings.risk,  # the live [risk] sizing and protections
    )
    if args.trades_out:
        _write_trades(result, Path(args.trades_out))
    if args.json:
        print_json(result.to_dict())
        return 0
    _print_summary(result)
    if args.plot:
        _plot_trades(result)
    return 0


def _write_trades(result: BacktestResult, path: Path) -> None:
    from tui_trader.backtest.result import TRADE_FIELDS
    from tui_trader.core.errors import UserError

    out = result.trades.copy()
    for col in ("entry_time", "exit_time"):
        out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        out[[*TRADE_FIELDS, "symbol", "enter_tag", "exit_tag"]].to_csv(path, index=False)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None


_PCT = {"total_return", "cagr", "volatility", "max_drawdown", "var_95", "cvar_95",
        "expectancy", "win_rate", "avg_win", "avg_loss", "exposure", "alpha"}  # fmt: skip


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in _PCT:
        return f"{value * 100:.2f} %"
    if key in ("max_drawdown_duration", "avg_trade_duration"):
        return _duration(float(value))
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86_400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h {rest // 60}m" if days else f"{hours}h {rest // 60}m"


def _print_summary(result: BacktestResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    m = result.metrics
    head = Table(title=f"{result.strategy} · {', '.join(result.symbols)} · {result.timeframe}",
                 show_header=False)  # fmt: skip
    head.add_column(style="bold")
    head.add_column(justify="right")
    head.add_row("range", f"{result.start:%Y-%m-%d %H:%M} → {result.end:%Y-%m-%d %H:%M} UTC")
    head.add_row("capital → final", f"{result.capital:,.2f} → {result.equity.iloc[-1]:,.2f}")
    head.add_row("buy and hold", f"{(result.benchmark.iloc[-1] / result.capital - 1) * 100:.2f} %")
    for key, value in m.items():
        head.add_row(key, _fmt(key, value))
    if result.rejected:
        head.add_row("skipped entries", ", ".join(f"{k}: {v}" for k, v in result.rejected.items()))
    console.print(head)
    if len(result.trades):
        reasons = result.trades.groupby("exit_reason")["pnl"].agg(["count", "sum"])
        table = Table(title="exits")
        for col in ("reason", "trades", "P&L"):
            table.add_column(col, justify="right")
        for reason, row in reasons.iterrows():
            table.add_row(str(reason), str(int(row["count"])), f"{row['sum']:,.2f}")
        console.print(table)
    _plot_equity(result)


def _plot_equity(result: BacktestResult) -> None:
    """Equity against buy and hold, then the drawdown, sampled down to the terminal's width."""
    import plotext as plt

    step = max(1, len(result.equity) // 400)
    x = list(range(len(result.equity.iloc[::step])))
    plt.clear_figure()
    plt.theme("clear")
    plt.plot(x, result.equity.iloc[::step].tolist(), label="equity")
    plt.plot(x, result.benchmark.iloc[::step].tolist(), label="buy and hold")
    plt.title("equity")
    plt.plot_size(None, 16)
    plt.show()
    plt.clear_figure()
    plt.theme("clear")
    plt.plot(x, (result.drawdown.iloc[::step] * 100).tolist(), label="drawdown %", color="red")
    plt.title("drawdown %")
    plt.plot_size(None, 10)
    plt.show()
    sys.stdout.write("\n")


def _plot_trades(result: BacktestResult) -> None:
    """Close price with entries (▲) and exits (▼) of the first symbol."""
    import plotext as plt

    symbol = result.symbols[0]
    df = result.frames[symbol]
    step = max(1, len(df) // 400)
    closes = df["close"].iloc[::step]
    positions = {ts.value: i for i, ts in enumerate(df["date"].iloc[::step])}
    bar = step * (df["date"].iloc[1] - df["date"].iloc[0]).value if len(df) > 1 else 1

    def where(ts: Any) -> int:
        first = df["date"].iloc[0].value
        return min(int((ts.value - first) // bar), len(positions) - 1)

    trades = result.trades[result.trades.symbol == symbol]
    plt.clear_figure()
    plt.theme("clear")
    plt.plot(list(range(len(closes))), closes.tolist(), label=symbol)
    if len(trades):
        plt.scatter([where(t) for t in trades.entry_time], trades.entry_price.tolist(),
                    marker="▲", color="green", label="entry")  # fmt: skip
        plt.scatter([where(t) for t in trades.exit_time], trades.exit_price.tolist(),
                    marker="▼", color="red", label="exit")  # fmt: skip
    plt.title(f"{symbol} with trades")
    plt.plot_size(None, 20)
    plt.show()
    sys.stdout.write("\n")
