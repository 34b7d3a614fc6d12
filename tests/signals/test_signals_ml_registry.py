"""Model registry and strategy columns: manifests, hashes, latest per symbol/timeframe."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from tui_trader.core.errors import DataError
from tui_trader.home import Home
from tui_trader.signals.ml.inference import add_ml_columns, latest_predictor
from tui_trader.signals.ml.model import TrainConfig, train
from tui_trader.signals.ml.registry import ModelRegistry
from tui_trader.strategy.synthetic import synthetic_ohlcv

CFG = TrainConfig(horizon=2, folds=3, max_iter=25, min_train=200)


@pytest.fixture(scope="module")
def trained():
    df = synthetic_ohlcv(1000, "1h", seed=21)
    return df, train(df, "1h", CFG)


def _save(reg: ModelRegistry, result, df: pd.DataFrame, symbol: str, when: datetime):
    return reg.save(
        result.model,
        symbol=symbol,
        created_at=when,
        data_range={
            "start": df["date"].iloc[0].isoformat(),
            "end": df["date"].iloc[-1].isoformat(),
            "rows": len(df),
        },
        report=result.report.as_dict(),
    )


def test_manifest_holds_everything(tmp_path, trained):
    df, result = trained
    reg = ModelRegistry(tmp_path / "models")
    info = _save(reg, result, df, "BTC/USDT", datetime(2026, 1, 5, 12, tzinfo=UTC))
    manifest = json.loads(info.path.read_text())
    assert (
        manifest["symbol"] == "BTC/USDT"
        and manifest["timeframe"] == "1h"
        and manifest["horizon"] == 2
    )
    assert len(manifest["features"]) >= 20
    assert manifest["data"]["rows"] == 1000
    assert set(manifest["report"]["metrics"]) >= {"accuracy", "log_loss", "auc"}
    assert "majority" in manifest["report"]["baselines"]
    assert len(manifest["sha256"]) == 64
    assert manifest["libraries"]["scikit-learn"]
    assert manifest["created_at"].startswith("2026-01-05T12:00")
    assert info.path.parent == tmp_path / "models" / "BTC_USDT" / "1h"


def test_latest_per_symbol_and_timeframe(tmp_path, trained):
    df, result = trained
    reg = ModelRegistry(tmp_path)
    old = _save(reg, result, df, "BTC/USDT", datetime(2026, 1, 1, tzinfo=UTC))
    new = _save(reg, result, df, "BTC/USDT", datetime(2026, 1, 2, tzinfo=UTC))
    same_second = _save(reg, result, df, "BTC/USDT", datetime(2026, 1, 2, tzinfo=UTC))
    _save(reg, result, df, "ETH/USDT", datetime(2026, 1, 3, tzinfo=UTC))
    assert same_second.id != new.id
    assert [m.id for m in reg.list("BTC/USDT", "1h")] == [old.id, new.id, same_second.id]
    assert reg.latest("BTC/USDT", "1h").id == same_second.id
    assert reg.latest("BTC/USDT", "5m") is None
    assert reg.latest("SOL/USDT", "1h") is None
    assert len(reg.list()) == 4
    assert reg.find(old.id).id == old.id
    with pytest.raises(DataError, match="no model"):
        reg.find("nope")


def test_refuses_a_file_whose_hash_does_not_match(tmp_path, trained):
    df, result = trained
    reg = ModelRegistry(tmp_path)
    info = _save(reg, result, df, "BTC/USDT", datetime(2026, 1, 1, tzinfo=UTC))
    loaded = reg.load(info)
    X = np.zeros((1, len(loaded.features)))
    assert loaded.prob_up(X)[0] == pytest.approx(result.model.prob_up(X)[0])
    model_file = info.path.with_name(info.manifest["file"])
    model_file.write_bytes(model_file.read_bytes() + b"tampered")
    with pytest.raises(DataError, match="sha256"):
        reg.load(info)


def test_bad_symbols_cannot_escape_the_folder(tmp_path, trained):
    df, result = trained
    with pytest.raises(DataError, match="invalid symbol"):
        _save(ModelRegistry(tmp_path), result, df, "../../etc", datetime(2026, 1, 1, tzinfo=UTC))


def test_add_ml_columns_uses_the_latest_model(tmp_path, trained):
    df, result = trained
    home = Home(tmp_path)
    _save(ModelRegistry(home.models_dir), result, df, "BTC/USDT", datetime(2026, 1, 1, tzinfo=UTC))
    frame = synthetic_ohlcv(600, "1h", seed=3)
    out = add_ml_columns(frame.copy(), {"pair": "BTC/USDT", "timeframe": "1h"}, home=home)
    expected = result.model.predict_frame(frame)
    np.testing.assert_array_equal(
        out["ml_prediction"].to_numpy(), expected["ml_prediction"].to_numpy()
    )
    np.testing.assert_allclose(
        out["ml_confidence"].to_numpy(), expected["ml_confidence"].to_numpy()
    )
    assert set(out["ml_prediction"].iloc[200:].unique()) <= {-1, 1}
    # the live path (last bar of a window) agrees with the vectorised path on that bar
    pred = latest_predictor("BTC/USDT", "1h", home).predict_last(frame)
    assert pred.prob_up == pytest.approx(expected["ml_prob_up"].iloc[-1], abs=1e-4)
    assert (1 if pred.direction.value == "long" else -1) == out["ml_prediction"].iloc[-1]


def test_add_ml_columns_without_a_model_is_neutral(tmp_path):
    frame = synthetic_ohlcv(300, "1h", seed=3)
    out = add_ml_columns(frame, {"pair": "ETH/USDT", "timeframe": "1h"}, home=tmp_path)
    assert (out["ml_prediction"] == 0).all() and out["ml_confidence"].isna().all()
