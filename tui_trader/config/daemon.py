"""The `[daemon]` and `[notifications]` tables: control API, metrics and alert sinks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

EventKind = Literal["fill", "reject", "breaker", "disconnect", "strategy_error"]
ALL_KINDS: tuple[EventKind, ...] = ("fill", "reject", "breaker", "disconnect", "strategy_error")


class DaemonSettings(BaseModel):
    """How the headless daemon listens. Unix socket always; TCP and metrics only when asked."""

    model_config = ConfigDict(extra="forbid")

    tcp_port: int | None = Field(
        None, ge=0, le=65535, description="also listen on 127.0.0.1:PORT (token required; 0 = any free port)"
    )
    metrics_port: int | None = Field(
        None, ge=0, le=65535, description="Prometheus text endpoint on 127.0.0.1:PORT/metrics"
    )
    snapshot_hz: float = Field(2.0, gt=0, le=20, description="how often attached TUIs refresh their full snapshot")
    max_clients: int = Field(32, ge=1, le=1024, description="TCP clients beyond this many are refused")
    max_local_clients: int = Field(
        64, ge=1, le=1024, description="Unix-socket clients beyond this many are refused (TCP never uses these)"
    )
    idle_timeout_s: float = Field(
        600.0, gt=0, description="close a connection that sends nothing this long (unless it is subscribed)"
    )
    read_timeout_s: float = Field(10.0, gt=0, le=600, description="a request line must arrive whole within this")
    auth_timeout_s: float = Field(5.0, gt=0, le=60, description="a TCP client must authenticate within this")
    max_outbound_mb: float = Field(
        32.0, gt=0, le=1024, description="a client with more unread answers than this is disconnected"
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="daemon log level")


class WebhookSettings(BaseModel):
    """One chat webhook. Telegram's bot token lives in the keyring (`tui-trader keys set telegram`)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["discord", "slack", "telegram"]
    url: str | None = Field(
        None, description="webhook URL (discord, slack); telegram: API base, default https://api.telegram.org"
    )
    chat_id: str | None = Field(None, description="telegram: the chat to post to")
    token_key: str = Field("telegram", description="telegram: keyring entry holding the bot token")
    events: list[EventKind] = Field(default_factory=lambda: list(ALL_KINDS))

    @model_validator(mode="after")
    def _complete(self) -> WebhookSettings:
        if self.format in ("discord", "slack") and not self.url:
            raise ValueError(f"a {self.format} webhook needs `url`")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError("`url` must start with http:// or https://")
        if self.format == "telegram" and not self.chat_id:
            raise ValueError("a telegram webhook needs `chat_id`")
        return self


class EmailSettings(BaseModel):
    """SMTP alerts. The password, if any, lives in the keyring under `password_key`."""

    model_config = ConfigDict(extra="forbid")

    host: str
    port: int = Field(587, ge=1, le=65535)
    sender: str = Field(..., description="From: address")
    to: list[str] = Field(..., min_length=1, description="recipients")
    starttls: bool = Field(True, description="upgrade the connection with STARTTLS")
    ssl: bool = Field(False, description="implicit TLS (port 465)")
    username: str | None = None
    password_key: str = Field("smtp", description="keyring entry holding the SMTP password")
    timeout_s: float = Field(10.0, gt=0, le=120)
    events: list[EventKind] = Field(default_factory=lambda: list(ALL_KINDS))


class NotificationSettings(BaseModel):
    """Where fills, rejects, breakers, disconnects and strategy errors are sent, and how often."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    batch_window_s: float = Field(2.0, ge=0, le=600, description="collect events this long before sending one message")
    min_interval_s: float = Field(10.0, ge=0, le=3600, description="at most one message per sink this often")
    max_lines: int = Field(20, ge=1, le=500, description="lines per message; the rest are counted")
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    email: EmailSettings | None = None
