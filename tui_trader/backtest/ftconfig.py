"""Freqtrade's backtest settings: its `config.json` (the fields a backtest reads) and `--timerange`.

`read_config(path)` returns a `BacktestConfig`; the command line's own options override it, as
Freqtrade's do. Fields read: strategy, timeframe, stake_currency, stake_amount, max_open_trades,
tradable_balance_ratio, dry_run_wallet (or available_capital), fee, timerange, datadir,
exchange.name, exchange.pair_whitelist, trading_mode, margin_mode, timeframe_detail, enable_protections,
and the strategy overrides Freqtrade applies from a config (minimal_roi, stoploss,
trailing_stop, trailing_stop_positive, trailing_stop_positive_offset,
trailing_only_offset_is_reached, use_exit_signal, exit_profit_only, exit_profit_offset,
ignore_roi_if_entry_signal, startup_candle_count). Other fields (api_server, telegram,
pairlists beyond a static list, ...) do not change a backtest and are ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui_trader.core.errors import ConfigError, UsageError

STRATEGY_OVERRIDES = (
    "minimal_roi", "stoploss", "trailing_stop", "trailing_stop_positive",
    "trailing_stop_positive_offset", "trailing_only_offset_is_reached", "use_exit_signal",
    "exit_profit_only", "exit_profit_offset", "ignore_roi_if_entry_signal",
    "startup_candle_count",
)  # fmt: skip


@dataclass
class BacktestConfig:
    strategy: str | None = None
    timeframe: str | None = None
    stake_currency: str | None = None
    stake_amount: float | str | None = None
    max_open_trades: int | None = None
    tradable_balance_ratio: float | None = None
    wallet: float | None = None
    fee: float | None = None
    timerange: str | None = None
    datadir: Path | None = None
    exchange: str | None = None
    pairs: list[str] = field(default_factory=list)
    trading_mode: str = "spot"
    margin_mode: str | None = None
    timeframe_detail: str | None = None
    enable_protections: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)


def _strip_comments(text: str) -> str:
    """Freqtrade's config allows // and /* */ comments (rapidjson); JSON does not."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r'^\s*//.*$|(?<=[,{\[\s])//[^"\n]*$', "", text, flags=re.M)


def read_config(path: str | Path) -> BacktestConfig:
    """The backtest fields of a Freqtrade config.json (one clear ConfigError if unreadable)."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        raw = json.loads(_strip_comments(text))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a Freqtrade config is a JSON object")
    exchange = raw.get("exchange") or {}
    max_open = raw.get("max_open_trades")
    datadir = raw.get("datadir")
    return BacktestConfig(
        strategy=raw.get("strategy"),
        timeframe=raw.get("timeframe"),
        stake_currency=raw.get("stake_currency"),
        stake_amount=raw.get("stake_amount"),
        max_open_trades=None if max_open is None else int(max_open),
        tradable_balance_ratio=raw.get("tradable_balance_ratio"),
        wallet=raw.get("available_capital", raw.get("dry_run_wallet")),
        fee=raw.get("fee"),
        timerange=raw.get("timerange"),
        datadir=(path.parent / datadir) if datadir else None,
        exchange=exchange.get("name"),
        pairs=list(exchange.get("pair_whitelist") or []),
        trading_mode=str(raw.get("trading_mode") or "spot"),
        margin_mode=raw.get("margin_mode") or None,
        timeframe_detail=raw.get("timeframe_detail"),
        enable_protections=bool(raw.get("enable_protections", False)),
        overrides={k: raw[k] for k in STRATEGY_OVERRIDES if k in raw},
    )


def _part(text: str, what: str) -> datetime | None:
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{8}", text):
            return datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC)
        if re.fullmatch(r"\d{10}", text):
            return datetime.fromtimestamp(int(text), tz=UTC)
        if re.fullmatch(r"\d{13}", text):
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    except ValueError:
        pass
    raise UsageError(
        f"--timerange {what} {text!r} is not YYYYMMDD or epoch seconds; "
        "e.g. --timerange 20240101-20240301, 20240101- or -20240301"
    )


def parse_timerange(text: str) -> tuple[datetime | None, datetime | None]:
    """Freqtrade's --timerange: START-END with YYYYMMDD dates or epoch seconds; either side
    may be empty. The end is inclusive (the candle opening at it is part of the run)."""
    start, sep, end = text.strip().partition("-")
    if not sep:
        raise UsageError(
            f"--timerange {text!r} needs a '-': e.g. 20240101-20240301, 20240101- or -20240301"
        )
    first, last = _part(start, "start"), _part(end, "end")
    if first and last and last < first:
        raise UsageError(f"--timerange {text!r} ends before it starts")
    return first, last


def parse_stake(value: Any) -> float | str | None:
    """--stake-amount (or the config's stake_amount): a quote amount, "unlimited" or None."""
    if value is None or value == "unlimited":
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UsageError(f'--stake-amount must be a number or "unlimited" (got {value!r})') from None


def apply_overrides(strategy: Any, overrides: dict[str, Any]) -> None:
    """Set the strategy attributes a Freqtrade config overrides, as Freqtrade does."""
    for key, value in overrides.items():
        if key == "minimal_roi":
            value = {str(k): float(v) for k, v in dict(value).items()}
        setattr(strategy, key, value)
