"""The paper market's own history as a DataFrame (for `tui-trader data download --venue paper`):
the same bars the paper venue's charts, strategies and backtests read, so research runs on the
market the user watches."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.config.paper import PaperSettings
from tui_trader.core.hours import hours_for
from tui_trader.venues.paper.history import MAX_BLOCKS, Bars, bars_between, tf_seconds
from tui_trader.venues.paper.instruments import paper_instrument, profile_for
from tui_trader.venues.paper.path import BLOCK_SECONDS, PricePath

if TYPE_CHECKING:
    import pandas as pd


def paper_path(settings: PaperSettings, symbol: str) -> PricePath:
    inst = paper_instrument(symbol)
    return PricePath(settings.seed, symbol, profile_for(symbol), hours_for(inst), inst.price_decimals)


def history_frame(
    settings: PaperSettings, symbol: str, timeframe: str, since: datetime, until: datetime
) -> pd.DataFrame:
    """Closed bars opening in [since, until) as date/open/high/low/close/volume (UTC)."""
    import pandas as pd

    secs = tf_seconds(timeframe)
    if secs % 60:
        raise ValueError(f"the paper market's history is per minute: {timeframe} is not a whole number of minutes")
    if (until.timestamp() - since.timestamp()) / BLOCK_SECONDS > MAX_BLOCKS:
        raise ValueError("the paper market keeps 40 years of history at most: choose a later --since")
    bars: Bars = bars_between(paper_path(settings, symbol), secs, since.timestamp(), until.timestamp())
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(bars.ts, unit="s", utc=True).astype("datetime64[ns, UTC]"),
            "open": bars.open,
            "high": bars.high,
            "low": bars.low,
            "close": bars.close,
            "volume": bars.volume,
        }
    )
    return frame
