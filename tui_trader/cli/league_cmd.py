"""`tui-trader league run / show / season`: strategies side by side, ranked (docs/social.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tui_trader.cli.common import Context, add_command, context, print_json
from tui_trader.core.errors import UsageError

DEFAULT_DAYS = 30


def register(sub: argparse._SubParsersAction) -> None:
    group = add_command(sub, "league", "strategy league: run strategies side by side and rank them", _usage)
    actions = group.add_subparsers(dest="league_command", metavar="ACTION", parser_class=type(group))
    p = add_command(actions, "run", "run strategies on the same market, each with its own capital, and rank them",
                    _run, json_flag=True)  # fmt: skip
    p.add_argument("--strategies", required=True, help="strategy names or files, comma separated")
    p.add_argument("--symbols", default="BTC/USDT", help="symbols every strategy trades, comma separated")
    p.add_argument("--days", type=int, help=f"the last N whole days (default {DEFAULT_DAYS}; not with --season)")
    p.add_argument("--season", help="run over this season's window and keep the result under its name")
    p.add_argument("--venue", help="stored candles of this venue (`data download`); default: the paper market")
    p.add_argument("--capital", type=float, default=10_000.0, help="each strategy's own starting capital")
    p.add_argument("--min-trades", type=int, default=None, help="trades before a strategy gets a rank (default 10)")
    p.add_argument("--live", action="store_true",
                   help="a live contest on the running paper market over the season (--season, or from now for "
                        "--days); the daemon or workstation keeps its board up to date")  # fmt: skip
    p = add_command(actions, "update", "bring a live league's board up to now (the daemon does it on its own)",
                    _update, json_flag=True)  # fmt: skip
    p.add_argument("--season", required=True, help="the live league's season")
    p = add_command(actions, "stop", "stop a live league (its board stays)", _stop, json_flag=True)
    p.add_argument("season", help="the live league's season")
    p = add_command(actions, "show", "the latest leaderboard (of a season)", _show, json_flag=True)
    p.add_argument("--season", help="this season's latest leaderboard")
    season = add_command(actions, "season", "seasons: add NAME --start --end, list", _season_usage)
    sactions = season.add_subparsers(dest="season_command", metavar="ACTION", parser_class=type(group))
    p = add_command(sactions, "add", "a season with a start and an end", _season_add, json_flag=True)
    p.add_argument("name")
    p.add_argument("--start", required=True, help="first day (YYYY-MM-DD or ISO 8601, UTC)")
    p.add_argument("--end", required=True, help="end, exclusive (YYYY-MM-DD or ISO 8601, UTC)")
    add_command(sactions, "list", "seasons and whether they have a leaderboard", _season_list, json_flag=True)


def _usage(args: argparse.Namespace) -> int:
    raise UsageError("league needs an action: run, show or season (see `tui-trader league --help`)")


def _season_usage(args: argparse.Namespace) -> int:
    raise UsageError("league season needs an action: add NAME --start --end, or list")


def _names(text: str, option: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError(f"{option} needs at least one name")
    if len(set(names)) != len(names):
        raise UsageError(f"{option} names one twice")
    return names


def _run(args: argparse.Namespace) -> int:
    from tui_trader.backtest.paper_market import window_for_days
    from tui_trader.league.run import LeagueSpec, run_league
    from tui_trader.league.scoring import MIN_TRADES
    from tui_trader.league.seasons import LeagueStore, check_name

    ctx = context(args)
    strategies = _names(args.strategies, "--strategies")
    symbols = [s.upper() for s in _names(args.symbols, "--symbols")]
    min_trades = MIN_TRADES if args.min_trades is None else args.min_trades
    if min_trades < 0 or args.capital <= 0:
        raise UsageError("--min-trades must be 0 or more and --capital above 0")
    if args.live:
        return _run_live(args, ctx, strategies, symbols, min_trades)
    store = LeagueStore(ctx.home.root)
    if args.season and args.days is not None:
        raise UsageError("--season sets the window; leave out --days")
    if args.season:
        season = store.season(args.season)
        start, end = season.start, min(season.end, window_for_days(0)[1])
        if end <= start:
            raise UsageError(f"season {season.name} starts {season.start:%Y-%m-%d}: it has no history yet")
        name = season.name
    else:
        days = DEFAULT_DAYS if args.days is None else args.days
        if not 1 <= days <= 3650:
            raise UsageError("--days must be between 1 and 3650")
        start, end = window_for_days(days)
        name = check_name(f"{start:%Y-%m-%d}_to_{end:%Y-%m-%d}")
        store.add_season(name, start, end)
    spec = LeagueSpec(strategies, symbols, start, end, args.capital, min_trades, args.venue or "paper")
    progress = None if args.json else (lambda s: print(f"running {s} ...", file=sys.stderr))

    def publish(board: dict[str, Any]) -> None:  # the League pane follows the run as it fills in
        store.save_result(name, {"season": name, **board})

    doc = run_league(spec, _candles(ctx, args.venue), ctx.home.strategies_dir, risk=ctx.settings.risk,
                     progress=progress, on_board=publish)  # fmt: skip
    doc = {"season": name, **doc}
    store.save_result(name, doc)
    if args.json:
        print_json(doc)
    else:
        print(render(doc))
    return 0


def _run_live(
    args: argparse.Namespace, ctx: Context, strategies: list[str], symbols: list[str], min_trades: int
) -> int:
    from datetime import UTC, timedelta

    from tui_trader.league.live import Contest, ContestStore
    from tui_trader.strategy.loader import load_strategy

    if args.venue not in (None, "paper"):
        raise UsageError("a live league runs on the paper market: leave out --venue")
    store = ContestStore(ctx.home.root)
    now = datetime.now(UTC)
    if args.season and args.days is not None:
        raise UsageError("--season sets the window; leave out --days")
    if args.season:
        season = store.season(args.season)
        if season.end <= now:
            raise UsageError(f"season {season.name} ended {season.end:%Y-%m-%d %H:%M}; a live league needs one to come")
    else:
        days = 7 if args.days is None else args.days
        if not 1 <= days <= 366:
            raise UsageError("--days must be between 1 and 366 for a live league")
        start = now.replace(second=0, microsecond=0)
        season = store.add_season(f"live-{start:%Y-%m-%d_%H%M}", start, start + timedelta(days=days))
    for name in strategies:  # a typo is said now, not at the first bar close
        load_strategy(name, [ctx.home.strategies_dir])
    contest = store.register(Contest(season.name, strategies, symbols, args.capital, min_trades, now))
    return _print_update(args, ctx, contest.season, now)


def _print_update(args: argparse.Namespace, ctx: Context, season: str, now: datetime) -> int:
    from tui_trader.league.live import update_contest

    doc = update_contest(ctx.home.root, season, ctx.settings.paper, ctx.settings.risk, now)
    if args.json:
        print_json(doc)
    else:
        print(render(doc))
        print(f"the daemon or the workstation updates this board at each bar close until "
              f"{doc['live']['season_end'][:16]}; `tui-trader league show --season {season}`")  # fmt: skip
    return 0


def _update(args: argparse.Namespace) -> int:
    from datetime import UTC

    ctx = context(args)
    return _print_update(args, ctx, args.season, datetime.now(UTC))


def _stop(args: argparse.Namespace) -> int:
    from tui_trader.core.errors import UserError
    from tui_trader.league.live import ContestStore

    ctx = context(args)
    if not ContestStore(ctx.home.root).unregister(args.season):
        raise UserError(f"season {args.season} has no live league")
    if args.json:
        print_json({"season": args.season, "live": False})
    else:
        print(f"live league {args.season} stopped; its last board stays (`league show --season {args.season}`)")
    return 0


def _candles(ctx: Context, venue: str | None) -> Any:
    from tui_trader.backtest.paper_market import PaperHistory

    if venue is None or venue == "paper":
        return PaperHistory(ctx.settings.paper).frames

    from tui_trader.core.errors import DataError
    from tui_trader.data.store import CandleStore
    from tui_trader.data.timeframes import timeframe_to_seconds

    store = CandleStore(ctx.home.data_dir)

    def stored(symbols: Sequence[str], timeframe: str, start: datetime, end: datetime, warmup: int) -> Any:
        import pandas as pd

        since = pd.Timestamp(start) - pd.Timedelta(seconds=warmup * timeframe_to_seconds(timeframe))
        out = {}
        for symbol in symbols:
            df = store.load(venue, symbol, timeframe, since, pd.Timestamp(end))
            if df.empty:
                raise DataError(
                    f"no stored {timeframe} candles of {symbol} on {venue} in the window; "
                    f"`tui-trader data download --venue {venue} --symbol {symbol} --timeframe {timeframe}` first"
                )
            out[symbol] = df
        return out

    return stored


def _show(args: argparse.Namespace) -> int:
    from tui_trader.league.seasons import LeagueStore

    ctx = context(args)
    doc = LeagueStore(ctx.home.root).result(args.season)
    if args.json:
        print_json(doc)
    else:
        print(render(doc))
    return 0


def _season_add(args: argparse.Namespace) -> int:
    from tui_trader.league.seasons import LeagueStore, parse_time

    ctx = context(args)
    season = LeagueStore(ctx.home.root).add_season(
        args.name, parse_time(args.start, "--start"), parse_time(args.end, "--end")
    )
    if args.json:
        print_json(season.as_dict())
    else:
        print(f"season {season.name}: {season.start:%Y-%m-%d %H:%M} to {season.end:%Y-%m-%d %H:%M} UTC")
    return 0


def _season_list(args: argparse.Namespace) -> int:
    from datetime import UTC

    from tui_trader.league.live import ContestStore
    from tui_trader.league.seasons import LeagueStore

    ctx = context(args)
    store = LeagueStore(ctx.home.root)
    now = datetime.now(UTC)
    live = ContestStore(ctx.home.root).contests()
    rows = [
        {**s.as_dict(), "status": s.status(now), "leaderboard": (store.results_dir / f"{s.name}.json").exists(),
         "live": s.name in live}
        for s in store.seasons().values()
    ]  # fmt: skip
    if args.json:
        print_json({"seasons": rows})
        return 0
    if not rows:
        print("no seasons yet; `tui-trader league season add NAME --start --end` or `league run` makes one")
    for r in rows:
        board = ("live league, " if r["live"] else "") + ("leaderboard" if r["leaderboard"] else "no run yet")
        print(f"{r['name']:<28} {r['start'][:16]} to {r['end'][:16]}  {r['status']:<8} {board}")
    return 0


def render(doc: dict[str, Any]) -> str:
    """The leaderboard as a table (rank, score, deflated Sharpe, drawdown, return, trades)."""

    def num(v: Any, fmt: str) -> str:
        return "-" if v is None else format(float(v), fmt)

    head = (
        f"league {doc.get('season', '')}: {doc['start'][:10]} to {doc['end'][:10]}, {doc['data']} "
        f"{', '.join(doc['symbols'])}, {doc['capital']:,.0f} each, scored on {doc['grid']} bars"
    )
    lines = [head, f"{'#':>3}  {'strategy':<22} {'tf':>4} {'Sharpe':>7} {'DSR':>5} {'max DD':>7} "
                   f"{'return':>8} {'trades':>6} {'win':>5}  note"]  # fmt: skip
    for r in doc["rows"]:
        rank = str(r["rank"]) if r["rank"] is not None else "-"
        lines.append(
            f"{rank:>3}  {r['strategy'][:22]:<22} {r['timeframe']:>4} {num(r['score'], '7.2f')} "
            f"{num(r['deflated_sharpe'], '5.2f')} {num(r['max_drawdown'] and r['max_drawdown'] * 100, '6.2f')}% "
            f"{num(r['total_return'] and r['total_return'] * 100, '+7.2f')}% {r['trades']:>6} "
            f"{num(r['win_rate'] and r['win_rate'] * 100, '4.0f')}%  {r['note']}"
        )
    progress = doc.get("progress") or {}
    if progress.get("running"):
        lines.append(f"(in progress: {progress['done']} of {progress['of']} run, {progress['running']} running)")
    if doc.get("waiting"):
        lines.append(f"(nothing traded yet: {doc['waiting']})")
    live = doc.get("live")
    if live:
        held = [f"{n} {len(a['open_positions'])} open" for n, a in (doc.get("accounts") or {}).items()
                if a.get("open_positions")]  # fmt: skip
        lines.append(
            f"live on the paper market: {live['status']}, as of {live['as_of'][:16]}, season "
            f"{live['season_start'][:16]} to {live['season_end'][:16]}, update {live['updates']}"
            + (f"; {', '.join(held)}" if held else "")
        )
    if not doc["rows"]:
        return "\n".join(lines)
    lines.append(
        f"Sharpe: annualised, on {doc['grid']} bars; DSR: deflated Sharpe (chance the true Sharpe is above 0 "
        f"after picking the best of {sum(1 for r in doc['rows'] if r['deflated_sharpe'] is not None)}); "
        f"a rank needs {doc['min_trades']} trades"
    )
    return "\n".join(lines)
