"""Helpers for the research screens (backtest, optimize, rule builder): data sources, charts,
metric cells and a throttle for worker progress. The screens live in ui/screens/."""
