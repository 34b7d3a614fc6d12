"""Performance analytics: returns, risk and trade statistics over equity curves."""
