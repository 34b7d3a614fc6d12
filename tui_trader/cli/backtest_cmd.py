"""`tui-trader backtest`: run a strategy over candle history and report metrics and trades."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.cli.common import add_command, context, print_json, timeframe_arg
from tui_trader.cli.sources import load_candles_arg as _load_candles
from tui_trader.cli.sources import load_strategy_arg as _load_strategy
from tui_trader.core.errors import UsageError

if TYPE_CHECKING:
    from tui_trader.backtest import BacktestResult


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = add_command(
        sub, "backtest", "backtest a strategy on candle history", _backtest, json_flag=True
    )
    p.add_argument("--strategy", "-s", help="strategy name or .py/.toml file")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--data", metavar="FILE", action="append",
                     help="candle file (CSV, Parquet, Freqtrade json/feather); repeat for several pairs")  # fmt: skip
    src.add_argument("--datadir", metavar="DIR",
                     help="a folder of Freqtrade candle files (PAIR-TF.feather/json), with --pairs")  # fmt: skip
    src.add_argument("--venue", help="stored candles of this venue (with --symbol or --pairs)")
    p.add_argument("--symbol", help="symbol, e.g. BTC/USDT (with --venue, or to name one --data file)")
    p.add_argument("--pairs", "-p", nargs="+", metavar="PAIR", help="pairs to trade together (Freqtrade's -p)")
    p.add_argument("--timeframe", "-i", type=timeframe_arg,
                   help="bar length, e.g. 1m, 5m, 1h (default: the strategy's)")  # fmt: skip
    p.add_argument("--timeframe-detail", metavar="TF", type=timeframe_arg,
                   help="simulate exits on these finer candles inside each bar (Freqtrade's option)")  # fmt: skip
    p.add_argument("--timerange", help="Freqtrade's START-END (YYYYMMDD or epoch seconds; end inclusive)")
    p.add_argument("--start", help="first bar to trade (ISO 8601, UTC), inclusive")
    p.add_argument("--end", help="last bar of the range (ISO 8601, UTC), inclusive, as Freqtrade")
    p.add_argument("--capital", "--dry-run-wallet", dest="capital", type=float, default=None,
                   help="starting quote balance (default 10000; a Freqtrade config's dry_run_wallet)")  # fmt: skip
    p.add_argument("--stake-amount", help='stake per trade in quote, or "unlimited" (Freqtrade sizing)')
    p.add_argument("--max-open-trades", type=int, help="most trades open at once (-1: no limit)")
    p.add_argument("--enable-protections", action="store_true",
                   help="apply the strategy's own `protections`, as Freqtrade's option")  # fmt: skip
    p.add_argument("--fee", type=float, default=None, help="fee rate per fill (0.001 = 0.1 %%)")
    p.add_argument(
        "--slippage-bps", type=float, default=0.0, help="adverse slippage on market fills"
    )
    p.add_argument("--export", choices=["none", "trades"], default="none",
                   help="trades: also write them in Freqtrade's result format")  # fmt: skip
    p.add_argument("--export-filename", metavar="FILE.json",
                   help="where --export writes (default HOME/backtest_results/backtest-result-DATE.json)")  # fmt: skip
    p.add_argument("--keep-gaps", action="store_true",
                   help="leave missing candles out (by default they are filled flat, as Freqtrade does)")  # fmt: skip
    p.add_argument("--trades-out", metavar="FILE.csv", help="also write the trades to this CSV")
    p.add_argument("--plot", action="store_true", help="also draw the price with entries and exits")


def _backtest(args: argparse.Namespace) -> int:
    from tui_trader.core.dataclass_code import keep_dataclass_code
    from tui_trader.core.regex_code import keep_regex_code

    keep_dataclass_code("backtest")  # the ~40 dataclasses a backtest imports: their methods compiled once
    keep_regex_code("backtest")  # and the ~40 regular expressions NumPy, pyarrow and ours compile
    from tui_trader.backtest.ftconfig import BacktestConfig, apply_overrides, parse_stake, read_config

    ft = BacktestConfig()
    config_arg = getattr(args, "config", None)
    if config_arg and str(config_arg).endswith(".json"):  # a Freqtrade config, not ours (TOML)
        ft = read_config(config_arg)
        del args.config
    ctx = context(args, sections=("risk",))
    name = args.strategy or ft.strategy
    if not name:
        raise UsageError("--strategy is required (or \"strategy\" in the Freqtrade config)")
    if not (config_arg and str(config_arg).endswith(".json")):
        from tui_trader.cli.backtest_arrays import backtest_arrays_cmd

        code = backtest_arrays_cmd(args, ctx)  # a rule strategy without pandas, when it can
        if code is not None:
            return code
    strategy = _load_strategy(name, ctx.home.strategies_dir)
    apply_overrides(strategy, ft.overrides)
    if ft.stake_currency:
        strategy.config.setdefault("stake_currency", ft.stake_currency)
    timeframe = args.timeframe or ft.timeframe or strategy.timeframe
    trading_mode = ft.trading_mode
    if trading_mode not in ("spot", "futures"):
        raise UsageError(f'trading_mode {trading_mode!r}: the backtester simulates "spot" and "futures"')
    if trading_mode == "futures" and (ft.margin_mode or "isolated") != "isolated":
        raise UsageError(
            f"margin_mode {ft.margin_mode!r}: futures backtests simulate isolated margin; "
            'set "margin_mode": "isolated"'
        )
    if trading_mode == "spot" and getattr(strategy, "can_short", False):
        raise UsageError(
            f"{strategy.name} sets can_short = True, but spot markets cannot be shorted; "
            'set can_short = False, or backtest perpetuals with "trading_mode": "futures"'
        )
    start, end = args.start, args.end
    timerange = args.timerange or ft.timerange
    if timerange:
        if start or end:
            raise UsageError("use --timerange or --start/--end, not both")
        from tui_trader.backtest.ftconfig import parse_timerange

        start, end = parse_timerange(timerange)
    frames = _load_frames(args, ctx.home.data_dir, strategy, timeframe, ft, start, trading_mode)
    funding = _funding(args, ft, frames) if trading_mode == "futures" else None
    detail = args.timeframe_detail or ft.timeframe_detail
    detail_frames = (
        _load_frames(args, ctx.home.data_dir, strategy, detail, ft, start, trading_mode) if detail else None
    )
    stake = args.stake_amount if args.stake_amount is not None else ft.stake_amount
    max_open = args.max_open_trades if args.max_open_trades is not None else ft.max_open_trades
    fee = args.fee if args.fee is not None else (ft.fee if ft.fee is not None else 0.001)
    capital = args.capital if args.capital is not None else (ft.wallet or 10_000.0)
    protections_on = args.enable_protections or ft.enable_protections

    from tui_trader.backtest import run_backtest
    from tui_trader.backtest.engine import strategy_protections

    if strategy_protections(strategy) and not protections_on and not args.json:
        sys.stderr.write(
            f"note: {strategy.name} defines protections; they apply with --enable-protections\n"
        )
    result = run_backtest(
        strategy,
        frames,
        timeframe=timeframe,
        capital=capital,
        fee=fee,
        slippage_bps=args.slippage_bps,
        stake_amount=parse_stake(stake),
        tradable_balance_ratio=ft.tradable_balance_ratio or 0.99,
        max_open_trades=max_open,
        start=start,
        end=end,
        risk=ctx.section("risk"),  # the live [risk] sizing and protections
        enable_protections=protections_on,
        detail=detail_frames,
        detail_timeframe=detail,
        fill_gaps=not args.keep_gaps,
        keep_indicators=False,  # printed: trades and metrics; plotted: the close
        trading_mode=trading_mode,
        funding=funding,
    )
    if args.trades_out:
        _write_trades(result, Path(args.trades_out))
    if args.export == "trades":
        _export(args, ctx.home.root, result, fee, strategy, stake, max_open)
    if args.json:
        print_json(result.to_dict())
        return 0
    _print_summary(result)
    from tui_trader.analytics.metrics import sample_warnings

    for line in sample_warnings(result.metrics):
        sys.stderr.write(f"note: {line}\n")
    if args.plot:
        _plot_trades(result)
    return 0


def _load_frames(args: argparse.Namespace, data_dir: Path, strategy: Any, timeframe: str,
                 ft: Any, start: Any, trading_mode: str = "spot") -> dict[str, Any]:  # fmt: skip
    """Candles per pair from --data files, --datadir + --pairs (Freqtrade's file names) or
    the store (--venue with --symbol/--pairs)."""
    pairs = list(args.pairs or ([args.symbol] if args.symbol else []) or ft.pairs)
    datadir = args.datadir or (ft.datadir if not (args.data or args.venue) else None)
    if trading_mode == "futures":
        if not datadir or not pairs:
            raise UsageError(
                "futures backtests read Freqtrade's futures data: give --datadir (or \"datadir\" in the "
                "config) and --pairs such as BTC/USDT:USDT"
            )
        return {pair: _from_datadir(Path(datadir), pair, timeframe, "futures") for pair in pairs}
    if args.data:
        if args.timeframe_detail and timeframe == args.timeframe_detail:
            raise UsageError("--timeframe-detail with --data: use --datadir with both timeframes")
        frames = {}
        for i, path in enumerate(args.data):
            sub = argparse.Namespace(**{**vars(args), "data": path,
                                        "symbol": pairs[i] if len(args.data) == 1 and pairs else None})  # fmt: skip
            sub.timeframe = timeframe
            df, symbol = _load_candles(sub, data_dir, strategy)
            frames[symbol] = df
        return frames
    if datadir:
        if not pairs:
            raise UsageError("--datadir needs --pairs (or exchange.pair_whitelist in the config)")
        return {pair: _from_datadir(Path(datadir), pair, timeframe) for pair in pairs}
    if args.venue:
        if not pairs:
            raise UsageError("--venue needs --symbol or --pairs (e.g. --venue binance --symbol BTC/USDT)")
        out = {}
        for pair in pairs:
            sub = argparse.Namespace(**{**vars(args), "symbol": pair, "timeframe": timeframe,
                                        "start": start})  # fmt: skip
            out[pair] = _load_candles(sub, data_dir, strategy)[0]
        return out
    raise UsageError("give candles: --data FILE, --datadir DIR --pairs P..., or --venue V --symbol S")


def _from_datadir(folder: Path, pair: str, timeframe: str, kind: str = "") -> Any:
    """Candles in Freqtrade's file names: PAIR-TF.feather (spot); futures, mark and funding
    rates as PAIR-TF-futures / -mark / -funding_rate, in DIR/futures or DIR."""
    from tui_trader.data import load_ohlcv

    stem = f"{pair.replace('/', '_').replace(':', '_')}-{timeframe}" + (f"-{kind}" if kind else "")
    folders = [folder / "futures", folder] if kind else [folder]
    for where in folders:
        for suffix in (".feather", ".json", ".json.gz", ".parquet", ".csv"):
            path = where / f"{stem}{suffix}"
            if path.is_file():
                if kind in ("mark", "funding_rate"):  # a value per time: spacing not checked
                    from tui_trader.data.loaders import load_values

                    return load_values(path)
                return load_ohlcv(path, timeframe=timeframe, symbol=pair)
    raise UsageError(f"no {timeframe} {kind or 'candles'} for {pair} in {folders[0]} (looked for {stem}.feather/.json)")


def _funding(args: argparse.Namespace, ft: Any, frames: dict[str, Any]) -> dict[str, Any]:
    """Each perpetual's funding rates and mark prices (1h, as Freqtrade downloads them for
    Binance; 8h files are read where there are no 1h ones)."""
    datadir = Path(args.datadir or ft.datadir)
    out = {}
    for pair in frames:
        for tf in ("1h", "8h"):
            try:
                out[pair] = (_from_datadir(datadir, pair, tf, "funding_rate"), _from_datadir(datadir, pair, tf, "mark"))
                break
            except UsageError:
                if tf == "8h":
                    raise
    return out


def _export(args: argparse.Namespace, home: Path, result: BacktestResult, fee: float,
            strategy: Any, stake: Any, max_open: Any) -> None:  # fmt: skip
    from datetime import UTC, datetime

    from tui_trader.backtest.export import freqtrade_result, write_freqtrade_result

    path = Path(args.export_filename) if args.export_filename else (
        home / "backtest_results" / f"backtest-result-{datetime.now(UTC):%Y-%m-%d_%H-%M-%S}.json"
    )  # fmt: skip
    currency = strategy.config.get("stake_currency") or result.symbols[0].partition("/")[2]
    doc = freqtrade_result(result, fee=fee, stake_currency=currency, stake_amount=stake,
                           max_open_trades=max_open)  # fmt: skip
    write_freqtrade_result(path, doc)
    if not args.json:
        sys.stdout.write(f"trades exported in Freqtrade's format to {path}\n")


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


def _show(plt: Any) -> None:
    """Print the figure: in colour on a terminal, plain text into a pipe or a file."""
    text = plt.build()
    sys.stdout.write((text if sys.stdout.isatty() else plt.uncolorize(text)) + "\n")


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
    _show(plt)
    plt.clear_figure()
    plt.theme("clear")
    plt.plot(x, (result.drawdown.iloc[::step] * 100).tolist(), label="drawdown %", color="red")
    plt.title("drawdown %")
    plt.plot_size(None, 10)
    _show(plt)
    sys.stdout.write("\n")


def marker_position(dates: Any, ts: Any, step: int) -> int:
    """The plotted point (every `step`-th bar is drawn) of the bar holding `ts`, found by
    position among the bars: gaps in the data do not shift it."""
    import numpy as np

    stamp = np.datetime64(pd_naive(ts), "ns")
    bar = int(np.searchsorted(dates, stamp, side="right")) - 1
    return min(max(bar, 0) // step, (len(dates) - 1) // step)


def pd_naive(ts: Any) -> Any:
    return ts.tz_convert(None) if getattr(ts, "tzinfo", None) is not None else ts


def _plot_trades(result: BacktestResult) -> None:
    """Close price with entries (▲) and exits (▼) of the first symbol."""
    import plotext as plt

    symbol = result.symbols[0]
    df = result.frames[symbol]
    step = max(1, len(df) // 400)
    closes = df["close"].iloc[::step]
    dates = df["date"].to_numpy(dtype="datetime64[ns]")

    def where(ts: Any) -> int:
        return marker_position(dates, ts, step)

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
    _show(plt)
    sys.stdout.write("\n")
