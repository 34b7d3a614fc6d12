"""Train the direction model with purged walk-forward validation and report it honestly.

Label: 1 when close[t+N] / close[t] - 1 > dead_zone, 0 when < -dead_zone; bars inside the
dead zone (and the last N bars, whose future is unknown) are not labelled.

Validation: labelled bars (after the feature warm-up) are cut into `folds + 1` time-ordered
blocks. Fold k tests on block k and trains on every earlier bar s with
s + N + embargo < first test bar, so no training label overlaps the test period (purge) and a
gap of `embargo` bars separates them. Probabilities are calibrated with Platt scaling (or
isotonic) fitted on the out-of-fold predictions of EARLIER folds only, so every reported
number is out-of-sample. The baselines are scored on the same test bars.

Why scikit-learn's HistGradientBoostingClassifier and not LightGBM: the same algorithm
(histogram boosting, native NaN handling), deterministic with a seed, no OpenMP clash with
the other libraries on a 2-core box, and one library gives the model, calibration and
metrics, so a saved model unpickles with nothing else installed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_trader.core.errors import DataError
from tui_trader.signals.ml.features import FEATURES, HTF_FACTOR, WARMUP, build_features

if TYPE_CHECKING:
    import pandas as pd

EPS = 1e-6


@dataclass(frozen=True)
class TrainConfig:
    """Knobs for one training run; the defaults suit a few thousand bars."""

    horizon: int = 4  # predict the direction of the next N candles
    dead_zone: float = 0.0  # |future return| at or below this is not labelled
    folds: int = 5
    embargo: int | None = None  # extra gap bars after the purge; None = horizon
    min_train: int = 300  # a fold with fewer training rows is skipped
    max_iter: int = 150
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 50
    l2_regularization: float = 1.0
    calibration: str = "sigmoid"  # or "isotonic"
    seed: int = 0

    def gap(self) -> int:
        return self.horizon + (self.horizon if self.embargo is None else self.embargo)


class Calibrator:
    """Maps raw model probabilities to calibrated ones (identity until fitted)."""

    def __init__(self, method: str = "sigmoid") -> None:
        if method not in ("sigmoid", "isotonic"):
            raise DataError(f"unknown calibration {method!r}; use sigmoid or isotonic")
        self.method = method
        self.a = 1.0
        self.b = 0.0
        self.iso: Any = None
        self.fitted = False

    def fit(self, p_raw: np.ndarray, y: np.ndarray) -> Calibrator:
        if len(y) < 30 or len(np.unique(y)) < 2:
            return self
        if self.method == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            self.iso = IsotonicRegression(out_of_bounds="clip", y_min=0.01, y_max=0.99).fit(
                p_raw, y
            )
        else:
            from sklearn.linear_model import LogisticRegression

            lr = LogisticRegression(C=1.0).fit(_logit(p_raw).reshape(-1, 1), y)
            self.a, self.b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
        self.fitted = True
        return self

    def __call__(self, p_raw: np.ndarray) -> np.ndarray:
        if not self.fitted:
            return np.clip(p_raw, EPS, 1 - EPS)
        if self.iso is not None:
            return np.asarray(self.iso.predict(p_raw), dtype="float64")
        return 1.0 / (1.0 + np.exp(-(self.a * _logit(p_raw) + self.b)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


def make_labels(
    close: np.ndarray, horizon: int, dead_zone: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """(label 1/0/NaN, forward return) per bar; NaN in the last `horizon` bars and dead zone."""
    fwd = np.full(len(close), np.nan)
    if len(close) > horizon:
        fwd[:-horizon] = close[horizon:] / close[:-horizon] - 1.0
    y = np.where(fwd > dead_zone, 1.0, np.where(fwd < -dead_zone, 0.0, np.nan))
    y[np.isnan(fwd)] = np.nan
    return y, fwd


def walk_forward_splits(
    rows: np.ndarray, folds: int, gap: int, min_train: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train bars, test bars) per fold; `rows` are the labelled bar positions, ascending."""
    blocks = np.array_split(rows, folds + 1)
    out = []
    for k in range(1, folds + 1):
        test = blocks[k]
        if len(test) == 0:
            continue
        train = rows[rows < test[0] - gap]
        if len(train) >= min_train:
            out.append((train, test))
    return out


@dataclass
class DirectionModel:
    """What the registry saves: the fitted booster, its calibrator and how to build its inputs."""

    estimator: Any
    calibrator: Calibrator
    timeframe: str
    horizon: int
    features: tuple[str, ...] = FEATURES
    htf_factor: int = HTF_FACTOR
    warmup: int = WARMUP

    def prob_up(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probability that the close N bars ahead is higher."""
        raw = self.estimator.predict_proba(X)[:, 1]
        return self.calibrator(raw)

    def predict_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """ml_prediction (1 up, -1 down, 0 none during warm-up), ml_confidence, ml_prob_up."""
        import pandas as pd

        feats = build_features(df, self.timeframe, htf_factor=self.htf_factor)
        X = feats[list(self.features)].to_numpy()
        p = np.full(len(df), np.nan)
        ready = np.arange(len(df)) >= self.warmup
        if ready.any():
            p[ready] = self.prob_up(X[ready])
        pred = np.where(np.isnan(p), 0, np.where(p >= 0.5, 1, -1)).astype("int64")
        conf = np.where(np.isnan(p), np.nan, np.maximum(p, 1 - p))
        return pd.DataFrame(
            {"ml_prediction": pred, "ml_confidence": conf, "ml_prob_up": p}, index=df.index
        )


@dataclass
class Report:
    """Out-of-sample results next to the naive baselines, and a plain verdict."""

    metrics: dict[str, float]
    baselines: dict[str, dict[str, float]]
    edge: bool
    verdict: str
    folds: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    top_features: list[tuple[str, float]] = field(default_factory=list)
    rows: int = 0
    labelled: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    model: DirectionModel
    report: Report


def train(df: pd.DataFrame, timeframe: str, config: TrainConfig | None = None) -> TrainResult:
    """Fit on `df` (date + OHLCV, time-ordered) and report out-of-sample results."""
    # The OpenMP runtime must be loaded before the limit is set: threadpoolctl limits only the
    # libraries already in the process (the first train of a CLI call would otherwise run free).
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    # OpenMP threads cost more than they give below ~100k rows (5x slower on a busy 2-core box)
    with threadpool_limits(1 if len(df) < 100_000 else None, user_api="openmp"):
        return _train(df, timeframe, config)


def _train(df: pd.DataFrame, timeframe: str, config: TrainConfig | None) -> TrainResult:
    from sklearn.ensemble import HistGradientBoostingClassifier

    cfg = config or TrainConfig()
    if cfg.horizon < 1:
        raise DataError(f"horizon must be at least 1 candle, got {cfg.horizon}")
    if cfg.folds < 2:
        raise DataError(f"need at least 2 walk-forward folds, got {cfg.folds}")
    feats = build_features(df, timeframe)
    close = df["close"].to_numpy(dtype="float64")
    y_all, _ = make_labels(close, cfg.horizon, cfg.dead_zone)
    rows = np.flatnonzero(~np.isnan(y_all) & (np.arange(len(df)) >= WARMUP))
    needed = WARMUP + cfg.min_train + cfg.gap() + 2 * (cfg.folds + 1) * 20
    if len(rows) < cfg.min_train + cfg.gap() + (cfg.folds + 1) * 20:
        raise DataError(
            f"not enough candles to train: {len(df)} given, about {needed} needed for "
            f"{cfg.folds} folds; load more history or lower --horizon"
        )
    X_all = feats.to_numpy()
    y_int = np.nan_to_num(y_all, nan=0).astype("int64")
    splits = walk_forward_splits(rows, cfg.folds, cfg.gap(), cfg.min_train)
    if len(splits) < 2:
        raise DataError(
            f"not enough candles for walk-forward validation ({len(rows)} labelled bars); "
            "load more history"
        )

    def booster() -> Any:
        return HistGradientBoostingClassifier(
            max_iter=cfg.max_iter,
            learning_rate=cfg.learning_rate,
            max_leaf_nodes=cfg.max_leaf_nodes,
            min_samples_leaf=cfg.min_samples_leaf,
            l2_regularization=cfg.l2_regularization,
            early_stopping=False,  # its validation split is random, not time-ordered
            random_state=cfg.seed,
        )

    oof_raw: list[np.ndarray] = []
    oof_y: list[np.ndarray] = []
    tests, probs, maj_p, last_move, fold_rows = [], [], [], [], []
    for train_rows, test_rows in splits:
        est = booster().fit(X_all[train_rows], y_int[train_rows])
        raw = est.predict_proba(X_all[test_rows])[:, 1]
        calib = Calibrator(cfg.calibration)
        if oof_raw:  # calibrate only on earlier folds' out-of-fold predictions
            calib.fit(np.concatenate(oof_raw), np.concatenate(oof_y))
        p = calib(raw)
        y_test = y_int[test_rows]
        base_rate = float(np.mean(y_int[train_rows]))
        oof_raw.append(raw)
        oof_y.append(y_test)
        tests.append(y_test)
        probs.append(p)
        maj_p.append(np.full(len(test_rows), base_rate))
        prev = test_rows - cfg.horizon
        last = np.where(prev >= 0, close[test_rows] > close[np.maximum(prev, 0)], True)
        last_move.append(last.astype("float64"))
        fold_rows.append(
            {
                "train_rows": len(train_rows),
                "test_rows": len(test_rows),
                "test_start": _iso(df, int(test_rows[0])),
                "test_end": _iso(df, int(test_rows[-1])),
                "accuracy": _round(_accuracy(y_test, p)),
                "auc": _round(_auc(y_test, p)),
            }
        )

    y = np.concatenate(tests)
    p = np.concatenate(probs)
    maj = np.concatenate(maj_p)
    last = np.concatenate(last_move)
    auc = _auc(y, p)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    # overlapping labels (horizon > 1) mean fewer independent samples than rows
    se = _auc_se(auc, n_pos / cfg.horizon, n_neg / cfg.horizon)
    metrics = {
        "accuracy": _round(_accuracy(y, p)),
        "log_loss": _round(_log_loss(y, p)),
        "auc": _round(auc),
        "auc_se": _round(se),
        "test_rows": float(len(y)),
        "up_rate": _round(float(y.mean())),
        "folds": float(len(splits)),
    }
    baselines = {
        "majority": {
            "accuracy": _round(_accuracy(y, maj)),
            "log_loss": _round(_log_loss(y, maj)),
            "auc": 0.5,
        },
        "last_move": {"accuracy": _round(_accuracy(y, last)), "auc": _round(_auc(y, last))},
    }
    edge, verdict = _verdict(metrics, baselines)

    final = booster().fit(X_all[rows], y_int[rows])
    calibrator = Calibrator(cfg.calibration).fit(np.concatenate(oof_raw), np.concatenate(oof_y))
    model = DirectionModel(final, calibrator, timeframe, cfg.horizon)
    last_test = splits[-1][1]
    importance = _permutation_importance(
        final, calibrator, X_all[last_test], y_int[last_test], cfg.seed
    )
    report = Report(
        metrics=metrics,
        baselines=baselines,
        edge=edge,
        verdict=verdict,
        folds=fold_rows,
        config=asdict(cfg),
        top_features=importance,
        rows=len(df),
        labelled=len(rows),
    )
    return TrainResult(model, report)


def _verdict(metrics: dict[str, float], baselines: dict[str, dict[str, float]]) -> tuple[bool, str]:
    """Edge only if AUC is clearly above 0.5 AND it beats both baselines on their own terms."""
    auc, se = metrics["auc"], metrics["auc_se"]
    lower = auc - 1.96 * se
    best_acc = max(b["accuracy"] for b in baselines.values())
    reasons = []
    if not lower > 0.5:
        reasons.append(f"AUC {auc:.3f} ± {1.96 * se:.3f} is not clearly above 0.5")
    if not metrics["log_loss"] < baselines["majority"]["log_loss"]:
        reasons.append(
            f"log loss {metrics['log_loss']:.4f} is not below the majority baseline's "
            f"{baselines['majority']['log_loss']:.4f}"
        )
    if not metrics["accuracy"] > best_acc:
        reasons.append(
            f"accuracy {metrics['accuracy']:.3f} does not beat the best baseline {best_acc:.3f}"
        )
    if reasons:
        return False, "no edge over baseline: " + "; ".join(reasons)
    return True, (
        f"edge over baseline: AUC {auc:.3f} (95% lower bound {lower:.3f}), accuracy "
        f"{metrics['accuracy']:.3f} vs {best_acc:.3f}, out-of-sample"
    )


def _permutation_importance(
    est: Any, calib: Calibrator, X: np.ndarray, y: np.ndarray, seed: int, top: int = 8
) -> list[tuple[str, float]]:
    """Log-loss increase when one feature is shuffled, on the last test fold (cheap, honest-ish)."""
    if len(np.unique(y)) < 2:
        return []
    rng = np.random.default_rng(seed)
    base = _log_loss(y, calib(est.predict_proba(X)[:, 1]))
    scores = []
    for j, name in enumerate(FEATURES):
        Xp = X.copy()
        Xp[:, j] = rng.permutation(Xp[:, j])
        scores.append((name, round(_log_loss(y, calib(est.predict_proba(Xp)[:, 1])) - base, 5)))
    scores.sort(key=lambda t: -t[1])
    return scores[:top]


def _accuracy(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p >= 0.5) == (y == 1))) if len(y) else float("nan")


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))) if len(y) else float("nan")


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, p))


def _auc_se(auc: float, n_pos: float, n_neg: float) -> float:
    """Hanley & McNeil (1982) standard error of an AUC."""
    if not (n_pos > 1 and n_neg > 1) or math.isnan(auc):
        return float("nan")
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (
        n_pos * n_neg
    )
    return math.sqrt(max(var, 0.0))


def _round(x: float) -> float:
    return round(float(x), 4) if x == x else float("nan")


def _iso(df: pd.DataFrame, i: int) -> str:
    if "date" in df.columns:
        return str(df["date"].iloc[i].isoformat())
    return str(df.index[i])
