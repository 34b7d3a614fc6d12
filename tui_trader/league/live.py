"""A live league: a season's strategies side by side on the paper market as it runs.

`league run --live` registers a contest for a season (HOME/league/live/<season>.json: its
strategies, symbols, capital each, minimum trades). While the season runs, whoever keeps the
board up to date (the daemon or the workstation's engine, at each close of the finest bar of the
league; `league update` by hand) calls `update_contest`, which trades every strategy in its own
sub-account from the season's start to its last closed bar and writes the board with each
sub-account's trades to HOME/league/results/<season>.json (the file the League pane and
`league show` read).

Why replaying is the live contest, not an imitation of it: the paper market is a function of
(seed, symbol, time) (docs/paper.md), so the bars that closed since the season started are the
bars the running paper venue showed, and a strategy's sub-account is the backtester's fills on
them, bar by bar, never a bar past the clock. A restart (of the daemon, of the machine) loses
nothing: the next update trades the same bars again and gets the same trades, and each update
checks that the trades the board held before are still there, in the same order (a strategy
edited mid-season changes its past: the board says so).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tui_trader.core.errors import UserError
from tui_trader.league.seasons import LeagueStore, check_name, parse_time

log = logging.getLogger(__name__)

MAX_TRADES_KEPT = 500  # per sub-account in the board file (the newest); the count is kept whole


@dataclass(frozen=True)
class Contest:
    season: str
    strategies: list[str]
    symbols: list[str]
    capital: float
    min_trades: int
    registered: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "season": self.season,
            "strategies": self.strategies,
            "symbols": self.symbols,
            "capital": self.capital,
            "min_trades": self.min_trades,
            "registered": _iso(self.registered),
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Contest:
        return cls(
            check_name(str(doc["season"])),
            [str(s) for s in doc["strategies"]],
            [str(s) for s in doc["symbols"]],
            float(doc["capital"]),
            int(doc["min_trades"]),
            parse_time(str(doc["registered"]), "registered"),
        )


class ContestStore(LeagueStore):
    """The live contests beside the seasons and their boards."""

    @property
    def live_dir(self) -> Path:
        return self.root / "live"

    def contests(self) -> dict[str, Contest]:
        out = {}
        for path in sorted(self.live_dir.glob("*.json")) if self.live_dir.exists() else []:
            doc = self._read(path) or {}
            try:
                contest = Contest.from_dict(doc)
            except (KeyError, TypeError, ValueError, UserError):
                raise UserError(f"{path} is not a live league; fix or remove it") from None
            out[contest.season] = contest
        return out

    def contest(self, season: str) -> Contest | None:
        return self.contests().get(check_name(season))

    def register(self, contest: Contest) -> Contest:
        existing = self.contest(contest.season)
        if existing is not None:
            if (existing.strategies, existing.symbols, existing.capital, existing.min_trades) != (
                contest.strategies, contest.symbols, contest.capital, contest.min_trades
            ):  # fmt: skip
                raise UserError(
                    f"season {contest.season} already runs live with {','.join(existing.strategies)} on "
                    f"{','.join(existing.symbols)}; a season's contest cannot change (`league stop {contest.season}`)"
                )
            return existing
        self._write(self.live_dir / f"{contest.season}.json", contest.as_dict())
        return contest

    def unregister(self, season: str) -> bool:
        path = self.live_dir / f"{check_name(season)}.json"
        if not path.exists():
            return False
        try:
            path.unlink()
        except OSError as exc:
            raise UserError(f"cannot remove {path}: {exc.strerror}") from None
        return True


def last_close(now: datetime, timeframe: str) -> datetime:
    """The close of the newest bar of `timeframe` that has closed by `now`."""
    from tui_trader.data.timeframes import timeframe_to_seconds

    step = timeframe_to_seconds(timeframe)
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % step, UTC)


def update_contest(
    home_root: Path,
    season_name: str,
    paper: Any,
    risk: Any,
    now: datetime,
    candles: Callable[..., Any] | None = None,
) -> dict[str, Any]:
    """Trade each strategy's sub-account up to its last closed bar and write the board; returns
    it. `paper`: the [paper] settings (the market), `risk`: the [risk] settings (the sizing)."""
    from tui_trader.backtest.paper_market import PaperHistory
    from tui_trader.home import Home
    from tui_trader.league.run import LeagueSpec, run_league

    store = ContestStore(home_root)
    contest = store.contest(season_name)
    if contest is None:
        raise UserError(
            f"season {season_name} has no live league; `league run --live --season {season_name}` starts one"
        )
    season = store.season(season_name)
    previous = _previous(store, season_name)
    status = season.status(now)
    live = {
        "status": status,
        "as_of": _iso(now),
        "season_start": _iso(season.start),
        "season_end": _iso(season.end),
        "market": "paper",
        "updates": int(((previous or {}).get("live") or {}).get("updates") or 0) + 1,
    }
    spec = LeagueSpec(contest.strategies, contest.symbols, season.start, min(now, season.end), contest.capital,
                      contest.min_trades, "paper (live)")  # fmt: skip
    results: dict[str, Any] = {}
    try:
        board = run_league(
            spec,
            candles or PaperHistory(paper).frames,
            Home(home_root).strategies_dir,
            risk=risk,
            ends=lambda tf: _end(season.start, min(now, season.end), tf),
            on_result=results.__setitem__,
        )
    except UserError as exc:  # before the first bar closes, nothing has traded yet
        why = str(exc)
        if why.endswith("no closed bar yet") and set(why.split(": ", 1)[-1].split("; ")) == {"no closed bar yet"}:
            why = "no bar has closed since the season started" if status != "upcoming" else "the season has not started"
        board = _empty_board(spec, why)
    accounts = {name: _account(res, contest.capital) for name, res in results.items()}
    changed = _changed(previous, accounts)
    for row in board["rows"]:
        if row["strategy"] in changed:
            row["note"] = (row["note"] + "; " if row["note"] else "") + changed[row["strategy"]]
    doc = {"season": season.name, **board, "live": live, "accounts": accounts}
    store.save_result(season.name, doc)
    return doc


def _end(start: datetime, now: datetime, timeframe: str) -> datetime:
    """Where a strategy on `timeframe` stops: its last closed bar, or `start` (nothing to trade)
    while no bar that opened in the season has closed."""
    from tui_trader.data.timeframes import timeframe_to_seconds

    step = timeframe_to_seconds(timeframe)
    first_open = -(-int(start.timestamp()) // step) * step
    end = last_close(now, timeframe)
    return end if first_open + step <= end.timestamp() else start


def next_update(doc: dict[str, Any], now: datetime) -> datetime | None:
    """When the board can move next: the next close of its finest bar (None: the season is over
    and the board final)."""
    from tui_trader.data.timeframes import timeframe_to_seconds

    live = doc.get("live") or {}
    end = parse_time(str(live.get("season_end")), "season_end")
    start = parse_time(str(live.get("season_start")), "season_start")
    if live.get("status") == "ended":
        return None
    timeframes = [str(r["timeframe"]) for r in doc.get("rows") or [] if r.get("timeframe") not in (None, "?")]
    step = min((timeframe_to_seconds(tf) for tf in timeframes), default=60)
    at = max(last_close(now, f"{step}s") + timedelta(seconds=step), start)
    return min(at, end)


# -- helpers ------------------------------------------------------------------------------------


def _previous(store: ContestStore, season: str) -> dict[str, Any] | None:
    try:
        return store.result(season)
    except UserError:
        return None


def _account(result: Any, capital: float) -> dict[str, Any]:
    from tui_trader.strategy.exits import FORCE_EXIT

    trades = result.trades
    closed = trades[trades["exit_reason"] != FORCE_EXIT] if len(trades) else trades
    still_open = trades[trades["exit_reason"] == FORCE_EXIT] if len(trades) else trades
    equity = float(result.equity.iloc[-1]) if len(result.equity) else capital
    return {
        "timeframe": result.timeframe,
        "capital": capital,
        "equity": round(equity, 6),
        "through": _iso(result.equity.index[-1].to_pydatetime()) if len(result.equity) else None,
        "closed_trades": len(closed),
        "open_positions": [_trade(t) for t in still_open.to_dict("records")],
        "trades": [_trade(t) for t in closed.to_dict("records")][-MAX_TRADES_KEPT:],
    }


def _trade(t: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("symbol", "side", "entry_time", "exit_time", "entry_price", "exit_price", "quantity", "pnl",
                "fees", "exit_reason"):  # fmt: skip
        value: Any = t.get(key)
        if isinstance(value, datetime):  # a pandas Timestamp is one
            value = _iso(value)
        elif isinstance(value, float):
            value = round(value, 10)
        out[key] = value
    return out


def _key(t: dict[str, Any]) -> tuple[Any, ...]:
    return (t.get("symbol"), t.get("side"), t.get("entry_time"), t.get("exit_time"), t.get("entry_price"),
            t.get("exit_price"))  # fmt: skip


def _changed(previous: dict[str, Any] | None, accounts: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Strategies whose earlier trades are not where the last board had them."""
    before = (previous or {}).get("accounts") or {}
    out = {}
    for name, account in accounts.items():
        old = (before.get(name) or {}).get("trades") or []
        new = account["trades"]
        if len(old) < MAX_TRADES_KEPT and [_key(t) for t in new[: len(old)]] != [_key(t) for t in old]:
            out[name] = "its earlier trades changed since the last update (the strategy was edited mid-season?)"
    return out


def _empty_board(spec: Any, why: str) -> dict[str, Any]:
    from tui_trader.league.run import board

    progress = {"done": 0, "of": len(spec.strategies), "running": None}
    return {**board(spec, [], _iso(datetime.now(UTC)), progress), "waiting": why}


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")
