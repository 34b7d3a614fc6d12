"""Versioned model files under HOME/models, each with a JSON manifest and a sha256.

Layout: ``models/<SYMBOL-STEM>/<timeframe>/<id>.joblib`` next to ``<id>.json``. A model
file is a pickle, so it runs code when loaded: the manifest's hash must match the file
byte for byte or `load` refuses it. Only load models you trained yourself.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.clock import utc
from tui_trader.core.errors import DataError

if TYPE_CHECKING:
    from tui_trader.signals.ml.model import DirectionModel

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class ModelInfo:
    """One manifest, as `signals models` lists it."""

    id: str
    symbol: str
    timeframe: str
    horizon: int
    created_at: datetime
    path: Path
    manifest: dict[str, Any]

    @property
    def edge(self) -> bool:
        return bool(self.manifest.get("report", {}).get("edge"))


def _stem(symbol: str) -> str:
    from tui_trader.data.filenames import symbol_to_stem

    stem = symbol_to_stem(symbol.strip().upper())
    if not stem or stem.startswith(".") or any(ch in stem for ch in "/\\*?[]"):
        raise DataError(f"invalid symbol {symbol!r} for the model registry: use e.g. BTC/USDT")
    return stem


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    import joblib
    import numpy
    import pandas
    import sklearn

    from tui_trader import __version__

    return {
        "python": platform.python_version(),
        "tui_trader": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "joblib": joblib.__version__,
    }


def _finite(obj: Any) -> Any:
    """NaN and infinities (an undefined AUC) as null, so the manifest is strict JSON."""
    if isinstance(obj, float):
        return obj if obj == obj and abs(obj) != float("inf") else None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(
        self,
        model: DirectionModel,
        *,
        symbol: str,
        created_at: datetime,
        data_range: dict[str, Any],
        report: dict[str, Any],
        venue: str | None = None,
    ) -> ModelInfo:
        """Write the model and its manifest atomically; the id sorts by creation time."""
        import joblib

        created_at = utc(created_at)
        folder = self.root / _stem(symbol) / model.timeframe
        folder.mkdir(parents=True, exist_ok=True)
        base = f"{_stem(symbol)}-{model.timeframe}-h{model.horizon}-{created_at:%Y%m%dT%H%M%S}"
        model_id, n = base, 1
        while (folder / f"{model_id}.json").exists():
            n += 1
            model_id = f"{base}-{n}"
        path = folder / f"{model_id}.joblib"
        tmp = path.with_suffix(".joblib.tmp")
        joblib.dump(model, tmp, compress=3)
        os.replace(tmp, path)
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "id": model_id,
            "symbol": symbol.strip().upper(),
            "venue": venue,
            "timeframe": model.timeframe,
            "horizon": model.horizon,
            "features": list(model.features),
            "htf_factor": model.htf_factor,
            "warmup": model.warmup,
            "data": data_range,
            "report": report,
            "file": path.name,
            "sha256": sha256_file(path),
            "created_at": created_at.isoformat(),
            "libraries": library_versions(),
            "estimator": type(model.estimator).__name__,
            "calibration": model.calibrator.method,
        }
        mpath = folder / f"{model_id}.json"
        mtmp = mpath.with_suffix(".json.tmp")
        text = json.dumps(_finite(manifest), indent=2, allow_nan=False, default=str)
        mtmp.write_text(text, encoding="utf-8")
        os.replace(mtmp, mpath)
        return self._info(mpath, manifest)

    def list(self, symbol: str | None = None, timeframe: str | None = None) -> list[ModelInfo]:
        """Every model (oldest first), optionally for one symbol and/or timeframe."""
        if not self.root.is_dir():
            return []
        pattern = f"{_stem(symbol) if symbol else '*'}/{timeframe or '*'}/*.json"
        out = []
        for mpath in self.root.glob(pattern):
            try:
                manifest = json.loads(mpath.read_text(encoding="utf-8"))
                out.append(self._info(mpath, manifest))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a half-written or foreign file is not a model
        out.sort(key=lambda m: (m.created_at, m.id))
        return out

    def latest(self, symbol: str, timeframe: str) -> ModelInfo | None:
        models = self.list(symbol, timeframe)
        return models[-1] if models else None

    def find(self, model_id: str) -> ModelInfo:
        for info in self.list():
            if info.id == model_id:
                return info
        raise DataError(f"no model {model_id!r}; `tui-trader signals models` lists them")

    def load(self, info: ModelInfo) -> DirectionModel:
        """Unpickle after checking the file's sha256 against its manifest."""
        import joblib

        path = info.path.with_name(info.manifest["file"])
        if not path.is_file():
            raise DataError(
                f"model file {path} is missing; train again with `tui-trader signals train`"
            )
        actual = sha256_file(path)
        if actual != info.manifest.get("sha256"):
            raise DataError(
                f"model file {path.name} does not match its manifest's sha256 (changed or "
                "corrupted); refusing to load it: train again"
            )
        return joblib.load(path)

    @staticmethod
    def _info(mpath: Path, manifest: dict[str, Any]) -> ModelInfo:
        return ModelInfo(
            id=str(manifest["id"]),
            symbol=str(manifest["symbol"]),
            timeframe=str(manifest["timeframe"]),
            horizon=int(manifest["horizon"]),
            created_at=datetime.fromisoformat(manifest["created_at"]),
            path=mpath,
            manifest=manifest,
        )
