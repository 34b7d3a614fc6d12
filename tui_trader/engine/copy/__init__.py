"""Copy trading: mirror a leader's fills (another tui-trader daemon, an exchange account) through
the engine, with the follower's own sizing and every risk check (docs/social.md)."""
