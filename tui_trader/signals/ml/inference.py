"""Predictions from the registry's latest model: one bar for live candles, whole frames for
strategies and backtests (`add_ml_columns`), both through the same causal features."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_trader.core.enums import Direction
from tui_trader.core.signals import Signal
from tui_trader.signals.ml.registry import ModelInfo, ModelRegistry

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.home import Home
    from tui_trader.signals.ml.model import DirectionModel

log = logging.getLogger(__name__)

# Live inference keeps this many closed bars per symbol: enough for every indicator to settle
# and for the daily VWAP of intraday bars (capped so a 1m window stays cheap).
MIN_WINDOW = 300
MAX_WINDOW = 1500

_CACHE: dict[tuple[str, str], DirectionModel] = {}  # (manifest path, sha256) -> model
_CACHE_LOCK = threading.Lock()
_WARNED: set[tuple[str, str, str]] = set()


def window_bars(timeframe: str) -> int:
    """Closed bars kept for live inference: one UTC day, within MIN_WINDOW..MAX_WINDOW."""
    from tui_trader.data.timeframes import timeframe_to_seconds

    per_day = 86_400 // max(1, timeframe_to_seconds(timeframe))
    return int(min(MAX_WINDOW, max(MIN_WINDOW, per_day + 50)))


def load_model(registry: ModelRegistry, info: ModelInfo) -> DirectionModel:
    """Load once per (manifest, hash); the hash is checked on the first load."""
    key = (str(info.path), str(info.manifest.get("sha256")))
    with _CACHE_LOCK:
        model = _CACHE.get(key)
        if model is None:
            model = registry.load(info)
            _CACHE[key] = model
    return model


@dataclass(frozen=True, slots=True)
class Prediction:
    """The model's call on the last closed bar."""

    model_id: str
    symbol: str
    timeframe: str
    horizon: int
    ts: datetime  # open time of the bar predicted from
    prob_up: float
    direction: Direction
    confidence: float  # probability of the predicted direction, 0.5..1
    top_features: tuple[
        tuple[str, float], ...
    ]  # the model's most important features, current values
    edge: bool  # whether training found an out-of-sample edge over the baselines

    def to_signal(self, at: datetime, venue: str | None = None) -> Signal:
        """A model without a demonstrated edge still speaks, but its confidence is halved
        toward 0.5 and the reason says so."""
        conf = self.confidence if self.edge else 0.5 + (self.confidence - 0.5) / 2
        strength = max(0.0, min(1.0, 2 * (conf - 0.5)))
        reason = f"P(up over {self.horizon} bars) {self.prob_up:.2f}"
        if not self.edge:
            reason += "; no out-of-sample edge"
        return Signal(
            source="ml",
            symbol=self.symbol,
            direction=self.direction,
            strength=round(strength, 4),
            ts=at,
            reason=reason,
            confidence=round(strength, 4),
            timeframe=self.timeframe,
            venue=venue,
            meta={"model": self.model_id, "prob_up": self.prob_up, "edge": self.edge},
        )


class Predictor:
    """One model, predicting the last bar of a window of closed candles."""

    def __init__(self, info: ModelInfo, model: DirectionModel) -> None:
        self.info = info
        self.model = model
        top = info.manifest.get("report", {}).get("top_features") or []
        names = list(model.features)
        self._top = [(str(n), names.index(str(n))) for n, _ in top[:5] if str(n) in names]

    def predict_last(self, df: pd.DataFrame) -> Prediction | None:
        """None until the window holds the model's warm-up."""
        from tui_trader.signals.ml.features import build_features

        m = self.model
        if len(df) <= m.warmup:
            return None
        feats = build_features(df, m.timeframe, htf_factor=m.htf_factor)
        row = feats.to_numpy()[-1:]
        p = float(m.prob_up(row)[0])
        ts = df["date"].iloc[-1].to_pydatetime() if "date" in df.columns else df.index[-1]
        return Prediction(
            model_id=self.info.id,
            symbol=self.info.symbol,
            timeframe=m.timeframe,
            horizon=m.horizon,
            ts=ts,
            prob_up=round(p, 4),
            direction=Direction.LONG if p >= 0.5 else Direction.SHORT,
            confidence=round(max(p, 1 - p), 4),
            top_features=tuple((name, round(float(row[0, j]), 4)) for name, j in self._top),
            edge=self.info.edge,
        )


def registry_for(home: Home | None = None) -> ModelRegistry:
    from tui_trader.home import Home

    return ModelRegistry((home or Home.resolve()).models_dir)


def latest_predictor(symbol: str, timeframe: str, home: Home | None = None) -> Predictor | None:
    registry = registry_for(home)
    info = registry.latest(symbol, timeframe)
    if info is None:
        return None
    return Predictor(info, load_model(registry, info))


def add_ml_columns(
    dataframe: pd.DataFrame, metadata: dict[str, Any], home: Home | Path | None = None
) -> pd.DataFrame:
    """Add `ml_prediction` (1 up, -1 down, 0 none) and `ml_confidence` (0.5..1, NaN when none)
    from the latest registry model for metadata["pair"] and metadata["timeframe"].

    Vectorised over the whole frame, so backtests and live runs get identical values. With no
    model the columns are 0 / NaN and a warning is logged once: train one with
    `tui-trader signals train`.
    """
    from tui_trader.home import Home

    symbol = str(metadata.get("pair") or dataframe.attrs.get("symbol") or "")
    timeframe = str(metadata.get("timeframe") or dataframe.attrs.get("timeframe") or "")
    if isinstance(home, Path):
        home = Home(home)
    predictor = latest_predictor(symbol, timeframe, home) if symbol and timeframe else None
    if predictor is None:
        key = (str(home.root if home else ""), symbol, timeframe)
        if key not in _WARNED:
            _WARNED.add(key)
            log.warning(
                "no ML model for %s %s: ml_prediction is 0; train one with "
                "`tui-trader signals train --symbol %s --timeframe %s`",
                symbol or "?",
                timeframe or "?",
                symbol or "S",
                timeframe or "TF",
            )
        dataframe["ml_prediction"] = np.zeros(len(dataframe), dtype="int64")
        dataframe["ml_confidence"] = np.full(len(dataframe), np.nan)
        return dataframe
    cols = predictor.model.predict_frame(dataframe)
    dataframe["ml_prediction"] = cols["ml_prediction"].to_numpy()
    dataframe["ml_confidence"] = cols["ml_confidence"].to_numpy()
    return dataframe
