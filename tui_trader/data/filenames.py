"""What a data file's name says: Freqtrade's `ETH_BTC-5m.feather` is ETH/BTC on 5m candles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# BASE_QUOTE[_SETTLE]-<timeframe|trades>[-<candle type>].<ext>
_NAME = re.compile(
    r"^(?P<pair>[A-Za-z0-9.]+_[A-Za-z0-9.]+(?:_[A-Za-z0-9.]+)?)"
    r"-(?P<tf>\d+[smhdwM]|trades)"
    r"(?:-(?P<candle>[a-z_]+))?$"
)
_SUFFIXES = (".json.gz", ".feather", ".parquet", ".json", ".csv.gz", ".csv")


@dataclass(frozen=True)
class FileName:
    """Symbol, timeframe and kind implied by a file name (None where it says nothing)."""

    symbol: str | None
    timeframe: str | None
    trades: bool
    candle_type: str | None = None


def file_suffix(path: Path) -> str:
    """The data suffix, counting `.json.gz` as one: used to pick a reader."""
    name = path.name.lower()
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def symbol_to_stem(symbol: str) -> str:
    """ "BTC/USDT" -> "BTC_USDT", "BTC/USDT:USDT" -> "BTC_USDT_USDT" (Freqtrade's convention)."""
    return symbol.replace("/", "_").replace(":", "_")


def stem_to_symbol(stem: str) -> str:
    """Inverse of symbol_to_stem: "ETH_BTC" -> "ETH/BTC", "BTC_USDT_USDT" -> "BTC/USDT:USDT"."""
    parts = stem.split("_")
    if len(parts) == 2:
        return f"{parts[0]}/{parts[1]}"
    if len(parts) == 3:
        return f"{parts[0]}/{parts[1]}:{parts[2]}"
    return stem


def parse_file_name(path: Path) -> FileName:
    """Read symbol and timeframe from Freqtrade-style names; an unknown name implies nothing."""
    suffix = file_suffix(path)
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    match = _NAME.match(stem)
    if not match:
        return FileName(symbol=None, timeframe=None, trades=False)
    tf = match.group("tf")
    trades = tf == "trades"
    return FileName(
        symbol=stem_to_symbol(match.group("pair")),
        timeframe=None if trades else tf,
        trades=trades,
        candle_type=match.group("candle"),
    )
