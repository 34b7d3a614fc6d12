"""`[copy.NAME]` tables: mirror a leader's fills (docs/social.md).

The leader is another tui-trader daemon (`leader = "daemon"`: its TCP control port and a
viewer login it gave you) or an exchange account read through a read-only API key
(`leader = "exchange"`, with `[copy.NAME.exchange]` saying which), or a chat signal provider
(`leader = "chat:PROVIDER"`: its calls, pasted, posted to the webhook or read from Discord, are
the leader's trades). Secrets (the login's token, the API key) live in the keyring under
`copy.NAME` (`tui-trader keys set copy.NAME`), never here; a chat leader needs none.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tui_trader.config.venues import VenueSettings

CHAT_PREFIX = "chat:"
_PROVIDER = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")  # as a webhook or [signals.chat] provider name


class CopySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    leader: str = Field(
        ...,
        description='daemon: another tui-trader; exchange: an account by read-only key; "chat:PROVIDER": '
        "a chat signal provider's calls",
    )
    enabled: bool = Field(True, description="follow from start-up (copy start / stop change it while running)")
    # -- daemon leaders
    host: str = Field("127.0.0.1", description="daemon: the leader's control address (an SSH tunnel for another host)")
    port: int | None = Field(None, ge=1, le=65535, description="daemon: the leader's [daemon] tcp_port")
    user: str | None = Field(None, description="daemon: the viewer login the leader made for you (serve passwd)")
    # -- exchange leaders
    exchange: VenueSettings | None = Field(None, description="exchange: the leader account's venue (kind ccxt)")
    poll_s: float = Field(1.0, ge=0.1, le=60, description="exchange: how often its fills are polled")
    # -- mirroring
    scale: float = Field(
        1.0, gt=0, le=1000, description="leader quantity times this (times the equity ratio with scale_by)"
    )
    scale_by: Literal["fixed", "equity"] = Field(
        "fixed", description="fixed: scale only; equity: also times your equity / the leader's equity"
    )
    symbols: list[str] = Field(default_factory=list, description="mirror only these symbols (empty: all)")
    deny: list[str] = Field(default_factory=list, description="never mirror these symbols")
    venue: str | None = Field(None, description="your venue for mirrored orders (default: where the symbol trades)")
    max_slippage_bps: float = Field(
        50.0, ge=0, le=10_000, description="skip when your price is this much worse than the leader's fill"
    )
    max_delay_s: float = Field(30.0, gt=0, le=86_400, description="skip a leader fill older than this")
    mirror_exits: bool = Field(True, description="mirror the leader's exits (reduce what you copied)")
    shorts: bool = Field(False, description="a leader sell with nothing copied to close opens a short")
    max_order_notional: float | None = Field(
        None, gt=0, description="skip a mirrored order worth more than this (on top of [risk])"
    )

    @field_validator("leader")
    @classmethod
    def _leader(cls, v: str) -> str:
        if v in ("daemon", "exchange"):
            return v
        if not v.startswith(CHAT_PREFIX):
            raise ValueError(f'leader must be "daemon", "exchange" or "chat:PROVIDER", not {v!r}')
        if not _PROVIDER.match(v.removeprefix(CHAT_PREFIX)):
            raise ValueError(f"{v!r}: the provider is 1-40 letters, digits, '.', '_' or '-' (as in chat:alpha)")
        return v

    @property
    def provider(self) -> str | None:
        """The chat provider followed (`leader = "chat:PROVIDER"`), else None."""
        return self.leader.removeprefix(CHAT_PREFIX) if self.leader.startswith(CHAT_PREFIX) else None

    @model_validator(mode="after")
    def _complete(self) -> CopySettings:
        if self.provider is not None and self.scale_by == "equity":
            raise ValueError('a chat provider has no equity: scale_by = "equity" needs a daemon leader')
        if self.leader == "daemon" and (self.port is None or not self.user):
            raise ValueError("a daemon leader needs `port` (its [daemon] tcp_port) and `user` (its serve login)")
        exchange = self.exchange
        if self.leader == "exchange" and (exchange is None or exchange.kind != "ccxt" or not exchange.exchange):
            raise ValueError('an exchange leader needs [copy.NAME.exchange] with kind = "ccxt" and exchange = ID')
        if self.symbols and self.deny and set(self.symbols) & set(self.deny):
            raise ValueError("a symbol cannot be in both `symbols` and `deny`")
        return self


def copy_key(name: str) -> str:
    """The keyring entry of a copy table's secret (a login token or an API key)."""
    return f"copy.{name}"
