"""The learned direction model: causal features, training with purged walk-forward validation,
a hashed model registry under HOME/models and fast inference for live candles and strategies.

Modules (nothing heavy loads on import):
- features: candles -> a causal feature frame (every value at bar t uses bars <= t only)
- model: labels, purged walk-forward validation, calibration, the out-of-sample report
- registry: versioned joblib files with JSON manifests and sha256 checks
- inference: the latest model for a symbol/timeframe, `add_ml_columns` for strategies
"""
