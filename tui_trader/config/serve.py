"""The `[serve]` tables: the workstation in a browser (`[serve.web]`), over SSH (`[serve.ssh]`),
and who may log in (`[serve.users.NAME]`, a role and an argon2 hash; never a password)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RoleName = Literal["viewer", "trader"]


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ServeUser(BaseModel):
    """One person who may log in to the web workstation (and whose role SSH keys may name)."""

    model_config = ConfigDict(extra="forbid")

    role: RoleName = Field("viewer", description="viewer: sees everything, changes nothing; trader: may trade")
    password_hash: str | None = Field(
        None, description="argon2 hash of the user's password or token (`tui-trader serve passwd NAME`)"
    )

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("$argon2"):
            raise ValueError("must be an argon2 hash from `tui-trader serve passwd NAME`, never a password")
        return value


class WebServeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="the daemon starts `tui-trader serve web` with itself")
    host: str = Field("127.0.0.1", description="address to listen on; beyond loopback needs TLS or behind_proxy")
    port: int = Field(8765, ge=0, le=65535)
    tls_cert: Path | None = Field(None, description="PEM certificate chain for HTTPS")
    tls_key: Path | None = Field(None, description="PEM private key for HTTPS (keep it 0600)")
    behind_proxy: bool = Field(False, description="a TLS-terminating reverse proxy is in front (X-Forwarded-*)")
    public_url: str | None = Field(None, description="the address browsers use, e.g. https://trade.example.com")
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="a login lasts this long")
    max_sessions: int = Field(8, ge=1, le=256, description="workstations running at once (one per browser tab)")

    @model_validator(mode="after")
    def _tls_pair(self) -> WebServeSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise ValueError("public_url must start with http:// or https://")
        return self


class SshServeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="the daemon starts `tui-trader serve ssh` with itself")
    host: str = Field("127.0.0.1", description="address to listen on")
    port: int = Field(2222, ge=0, le=65535)
    max_sessions: int = Field(8, ge=1, le=256, description="workstations running at once")


class ServeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    web: WebServeSettings = Field(default_factory=WebServeSettings)
    ssh: SshServeSettings = Field(default_factory=SshServeSettings)
    users: dict[str, ServeUser] = Field(default_factory=dict)
