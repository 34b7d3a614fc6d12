"""Venue tables: `[venues.NAME]`. Paper is always there as `paper`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Keys only a paper venue takes (its own exchange: seed, basis, balances, latency).
PAPER_ONLY = ("seed", "balances", "ack_latency_ms", "basis_bps", "basis_noise_bps")


class VenueSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Robinhood is its crypto API only (docs/brokers.md says why).
    kind: Literal["paper", "ccxt", "alpaca", "schwab", "ib", "oanda", "robinhood", "webull", "moomoo"] = "paper"
    exchange: str | None = Field(None, description="ccxt exchange id, e.g. binance")
    sandbox: bool = Field(True, description="ccxt: use the exchange's testnet")
    paper: bool = Field(
        True,
        description="alpaca, ib: use (and expect) the paper account; oanda: the practice account; "
        "webull: Webull's test environment; moomoo: the paper (SIMULATE) account",
    )
    symbols: list[str] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict, description="passed to the ccxt constructor")
    url_override: str = ""
    data_url_override: str = ""
    data_from: str | None = Field(None, description="paper only: feed the matching engine from this venue's stream")
    extended_hours: bool = Field(False, description="alpaca: allow orders outside regular hours (limit only)")
    feed: str = Field("iex", description="alpaca: stock data feed, iex (free) or sip")
    crypto_symbols: list[str] = Field(default_factory=list, description="alpaca: crypto pairs, e.g. BTC/USD")
    candles: list[str] = Field(default_factory=list, description="timeframes to stream as candles, e.g. [\"1m\"]")
    stall_after_s: float = Field(30.0, gt=0, description="reconnect when subscribed and silent this long")
    backoff_base_s: float = Field(0.5, gt=0, description="first reconnect delay (doubles, with jitter)")
    backoff_cap_s: float = Field(30.0, gt=0, description="longest reconnect delay")
    order_rate_per_s: float = Field(5.0, gt=0, description="token bucket for order endpoints")
    poll_interval_s: float = Field(2.0, gt=0, description="REST polling cadence where a stream is missing")
    account: str = Field("", description="brokers: the account number to trade where the login has several")
    callback_url: str = Field(
        "https://127.0.0.1:8182", description="schwab: the callback URL registered with your Schwab app"
    )
    host: str = Field("127.0.0.1", description="ib: TWS / IB Gateway host; moomoo: OpenD's host")
    port: int = Field(0, ge=0, description="ib: API port (0: 7497 paper / 7496 live); moomoo: OpenD's (0: 11111)")
    ib_client_id: int = Field(17, ge=0, description="ib: the API client id this workstation connects as")
    # Fees: a paper instance charges these; elsewhere they replace the exchange's published rates
    # in routing and the spread scanner (a VIP tier, a discount).
    maker_fee: float | None = Field(None, ge=0, le=0.05, description="maker fee rate (default: [paper] / the venue's)")
    taker_fee: float | None = Field(None, ge=0, le=0.05, description="taker fee rate (default: [paper] / the venue's)")
    # A named paper instance: its own exchange on the shared paper market (docs/paper.md).
    seed: int | None = Field(None, description="paper only: this instance's own seed (book, prints, basis noise)")
    balances: dict[str, float] | None = Field(None, description="paper only: starting cash per currency")
    ack_latency_ms: float | None = Field(None, ge=0, le=10_000, description="paper only: acknowledgement latency")
    basis_bps: float = Field(0.0, ge=-500, le=500, description="paper only: fixed premium over the shared market")
    basis_noise_bps: float | None = Field(
        None, ge=0, le=500, description="paper only: std of the wandering premium (default 4 with its own seed, else 0)"
    )

    @model_validator(mode="after")
    def _paper_keys_on_paper(self) -> VenueSettings:
        if self.kind != "paper":
            given = [k for k in PAPER_ONLY if k in self.model_fields_set]
            if given:
                raise ValueError(f"{', '.join(given)} only apply to kind = \"paper\" venues")
        return self

    @property
    def is_live(self) -> bool:
        if self.kind == "ccxt":
            return not self.sandbox
        if self.kind in ("schwab", "robinhood"):  # no paper account behind their APIs: every order is real
            return True
        if self.kind in ("alpaca", "ib", "oanda", "webull", "moomoo"):
            return not self.paper
        return False
