"""Trade ideas from outside the strategies: chat providers, news, regimes, and how they combine.

Modules (import the one you need; nothing heavy loads here):
- chat: parse free-form provider messages into a ParsedSignal
- providers: each provider's track record (win rate, average R)
- news: RSS/Atom feeds -> classified, scored news events -> Signals
- regime: trend / range / high-volatility classification from candles
- decision: weights, decay and confluence -> ranked Recommendations
- settings: the validated `[signals]` section of config.toml
"""
