"""`[strategies.NAME]` tables: which strategies run live, on what."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class StrategySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: str | None = Field(
        None,
        description="which strategy to run (default: the table's name); run one several times with different params",
    )
    enabled: bool = Field(True, description="evaluate it on every closed candle")
    symbols: list[str] = Field(min_length=1, description="symbols it trades")
    venue: str | None = Field(
        None, description="venue for its orders (default: engine.default_venue); auto: best price across venues"
    )
    params: dict[str, Any] = Field(default_factory=dict, description="parameter values, e.g. {buy_fast = 12}")
    timeout_s: float | None = Field(
        None, gt=0, le=3600, description="its evaluation deadline (default: [engine] strategy_timeout_s)"
    )
    memory_mb: int | None = Field(
        None, ge=64, description="address space its worker may use (default: no limit; it then runs in a worker)"
    )
    isolation: Literal["auto", "process"] = Field(
        "auto",
        description=(
            "auto: a TOML rule strategy is evaluated in the engine's process (rules are data, not code; "
            "its orders go out sooner), a Python strategy in a worker process of its own; "
            "process: always a worker process"
        ),
    )
