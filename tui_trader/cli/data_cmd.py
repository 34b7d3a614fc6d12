"""`tui-trader data download / import / list`: candle history under the home folder."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.cli.common import add_command, context, existing_file, print_json
from tui_trader.core.errors import UsageError

if TYPE_CHECKING:
    from tui_trader.data.store import CandleStore, DatasetInfo

DEFAULT_IMPORT_VENUE = "import"
MAX_JSON_GAPS = 100  # `gap_count` and `missing_bars` still count every gap


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    data = add_command(sub, "data", "candle history: download, import, list", _usage)
    actions = data.add_subparsers(dest="data_command", metavar="ACTION", parser_class=type(data))

    p = add_command(
        actions,
        "download",
        "download candles through ccxt (resumes), or the paper market's own (--venue paper)",
        _download,
        json_flag=True,
    )
    p.add_argument("--venue", required=True, help="ccxt exchange id, e.g. binance, or paper")
    p.add_argument("--symbol", required=True, help="market symbol, e.g. BTC/USDT")
    p.add_argument("--timeframe", required=True, help="bar length, e.g. 1m, 5m, 1h, 1d")
    p.add_argument(
        "--since", required=True, help="first bar, ISO date or time (UTC), e.g. 2024-01-01"
    )
    p.add_argument("--until", help="stop before this time (UTC); default: the last closed bar")

    p = add_command(
        actions, "import", "store a CSV / Parquet / Freqtrade file", _import, json_flag=True
    )
    p.add_argument(
        "file", help="CSV, Parquet, Freqtrade .feather / .json / .json.gz (candles or trades)"
    )
    p.add_argument(
        "--venue",
        help="venue name to file it under (default: implied by the folder, else 'import')",
    )
    p.add_argument("--symbol", help="symbol, e.g. BTC/USDT (default: from a Freqtrade file name)")
    p.add_argument(
        "--timeframe", help="bar length (default: from the file name or the bar spacing)"
    )
    p.add_argument(
        "--clean",
        action="store_true",
        help="sort rows, drop duplicate timestamps (keep last) and NaN rows instead of refusing",
    )

    add_command(actions, "list", "list stored candle series", _list, json_flag=True)


def _usage(args: argparse.Namespace) -> int:
    raise UsageError(
        "tui-trader data: choose an action: download, import or list (see `tui-trader data --help`)"
    )


def _store(args: argparse.Namespace) -> CandleStore:
    from tui_trader.data.store import CandleStore

    return CandleStore(context(args).home.data_dir)


def parse_utc(text: str, option: str) -> datetime:
    """`2024-01-01`, `2024-01-01T12:00`, `...Z` or an offset -> aware UTC datetime."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a date: use ISO 8601, e.g. 2024-01-01 or 2024-01-01T12:00Z"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _download(args: argparse.Namespace) -> int:
    from tui_trader.data.download import download_ohlcv
    from tui_trader.data.timeframes import timeframe_to_seconds

    timeframe_to_seconds(args.timeframe)
    since = parse_utc(args.since, "--since")
    until = parse_utc(args.until, "--until") if args.until else None
    if until is not None and until <= since:
        raise UsageError("--until must be after --since")
    if args.venue.strip().lower() == "paper":
        result = _download_paper(args, since, until)
    else:
        result = download_ohlcv(
            _store(args),
            args.venue,
            args.symbol,
            args.timeframe,
            since,
            until,
            progress=sys.stderr.isatty(),
        )
    if args.json:
        print_json(result)
        return 0
    start = _iso(result.fetched_from) if result.fetched_from else "nothing new"
    print(
        f"{result.venue} {result.symbol} {result.timeframe}: {result.new_rows} new candle(s) "
        f"from {start} in {result.requests} request(s); "
        f"{result.stored_rows} stored, up to {_iso(result.stored_end)}"
    )
    return 0


def _download_paper(args: argparse.Namespace, since: datetime, until: datetime | None) -> Any:
    """The paper market's bars for [since, until): the same the paper venue's charts, strategies
    and backtests read (a function of `paper.seed` and time, so nothing to resume)."""
    from tui_trader.core.clock import SystemClock
    from tui_trader.core.errors import DataError
    from tui_trader.data.download import DownloadResult
    from tui_trader.venues.paper.export import history_frame

    ctx = context(args)
    now = SystemClock().now()
    end = min(until, now) if until is not None else now
    symbol = args.symbol.strip().upper()
    try:
        frame = history_frame(ctx.settings.paper, symbol, args.timeframe, since, end)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if frame.empty:
        raise DataError(
            f"the paper market has no {args.timeframe} bars for {symbol} between {_iso(since)} and {_iso(end)}"
        )
    info = _store(args).save("paper", symbol, args.timeframe, frame)
    return DownloadResult(
        venue="paper",
        symbol=symbol,
        timeframe=args.timeframe,
        requested_from=since,
        fetched_from=frame["date"].iloc[0].to_pydatetime(),
        new_rows=len(frame),
        requests=0,
        retries=0,
        stored_rows=info.rows,
        stored_end=info.end,
    )


def _import(args: argparse.Namespace) -> int:
    from tui_trader.data.loaders import load_ohlcv_with_report
    from tui_trader.data.timeframes import seconds_to_timeframe
    from tui_trader.data.validate import check_candles

    path = existing_file(args.file, "data file")
    df, report = load_ohlcv_with_report(
        path, timeframe=args.timeframe, symbol=args.symbol, clean=args.clean
    )
    symbol = df.attrs.get("symbol")
    timeframe = df.attrs.get("timeframe")
    notes = []
    if not symbol:
        raise UsageError(
            f"cannot tell the symbol of {path.name}: pass --symbol, e.g. --symbol BTC/USDT"
        )
    if not timeframe:
        if not report.detected_timeframe_seconds:
            raise UsageError(
                f"cannot tell the timeframe of {path.name}: pass --timeframe, e.g. --timeframe 1m"
            )
        timeframe = seconds_to_timeframe(report.detected_timeframe_seconds)
        notes.append(f"timeframe {timeframe} taken from the bar spacing")
        actions = report.actions
        report = check_candles(df, timeframe)
        report.actions = actions
    venue = (args.venue or _implied_venue(path)).strip().lower()
    info = _store(args).save(venue, symbol, timeframe, df)
    if args.json:
        print_json(
            {
                "venue": venue,
                "symbol": symbol,
                "timeframe": timeframe,
                "imported_rows": len(df),
                "dataset": _info_dict(info),
                "notes": notes,
                "report": report.to_dict(max_gaps=MAX_JSON_GAPS),
            }
        )
        return 0
    for line in [*notes, *report.summary()]:
        print(line)
    print(f"stored {len(df)} candle(s) as {venue} {symbol} {timeframe}: {info.rows} in {info.path}")
    return 0


def _implied_venue(path: Path) -> str:
    """Freqtrade keeps data in user_data/data/<exchange>/: use that folder name if it is one."""
    folder = path.resolve().parent.name.lower()
    if not folder:
        return DEFAULT_IMPORT_VENUE
    import ccxt

    return folder if folder in ccxt.exchanges else DEFAULT_IMPORT_VENUE


def _list(args: argparse.Namespace) -> int:
    datasets = _store(args).list()
    if args.json:
        print_json([_info_dict(i) for i in datasets])
        return 0
    if not datasets:
        print(
            "no candle history yet: use `tui-trader data download` or `tui-trader data import FILE`"
        )
        return 0
    from rich.console import Console
    from rich.table import Table

    data_dir = context(args).home.data_dir
    table = Table(box=None)
    for name in ("venue", "symbol", "timeframe", "rows", "start (UTC)", "end (UTC)", "file"):
        table.add_column(name, no_wrap=True, justify="right" if name == "rows" else "left")
    for i in datasets:
        file = i.path.relative_to(data_dir) if i.path.is_relative_to(data_dir) else i.path
        table.add_row(
            i.venue, i.symbol, i.timeframe, str(i.rows), _short(i.start), _short(i.end), str(file)
        )
    Console(width=None if sys.stdout.isatty() else 200).print(table)  # pipes get whole lines
    print(f"(files under {data_dir})")
    return 0


def _info_dict(info: DatasetInfo) -> dict[str, Any]:
    return {
        "venue": info.venue,
        "symbol": info.symbol,
        "timeframe": info.timeframe,
        "rows": info.rows,
        "start": info.start,
        "end": info.end,
        "path": str(info.path),
    }


def _short(ts: datetime | None) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if ts else "-"


def _iso(ts: datetime | None) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z") if ts else "-"
