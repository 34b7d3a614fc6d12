"""The strategy league: many strategies side by side on the same market, each with its own
capital, ranked by a risk-adjusted score (docs/social.md)."""
