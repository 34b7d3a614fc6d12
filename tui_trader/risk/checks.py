"""Pre-trade checks. A rejection carries a reason code and one sentence for the trader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from tui_trader.config.risk import RiskLimits, RiskSettings
from tui_trader.core.enums import OrderType, Side
from tui_trader.core.instrument import Instrument
from tui_trader.core.orders import OrderRequest
from tui_trader.execution.portfolio import Portfolio


@dataclass(frozen=True, slots=True)
class RiskRejection(Exception):
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(slots=True)
class CheckContext:
    instrument: Instrument | None
    mid: float  # 0 when unknown
    venue: str


class PreTradeChecks:
    """Validation and limits. Returns the (possibly rounded) request or raises RiskRejection."""

    def __init__(self, settings: RiskSettings, portfolio: Portfolio, halted: Callable[[], str | None] = lambda: None) -> None:
        self.settings = settings
        self.portfolio = portfolio
        self.halted = halted

    def limits_for(self, strategy: str | None) -> RiskLimits:
        base = self.settings
        override = self.settings.strategies.get(strategy or "")
        if override is None:
            return base
        merged = {k: v for k, v in base.model_dump(exclude={"strategies"}).items()}
        merged.update({k: v for k, v in override.model_dump().items() if v is not None})
        return RiskLimits(**merged)

    def check(self, req: OrderRequest, ctx: CheckContext) -> OrderRequest:
        inst = ctx.instrument
        if inst is None:
            raise RiskRejection("unknown_symbol", f"unknown symbol {req.symbol} on {ctx.venue}; check the watchlist for tradable symbols")
        req = self._validate_shape(req, inst, ctx)
        reason = self.halted()
        if reason and not self._reduces(req, ctx):
            raise RiskRejection("halted", f"trading is halted: {reason}")
        self._check_limits(req, inst, ctx)
        return req

    def _validate_shape(self, req: OrderRequest, inst: Instrument, ctx: CheckContext) -> OrderRequest:
        if req.quantity <= 0:
            raise RiskRejection("bad_quantity", "quantity must be greater than zero")
        computed = req.source.startswith(("strategy", "signal", "copy"))
        qty = inst.round_qty(req.quantity)
        if qty != req.quantity:
            if not computed:
                raise RiskRejection("off_lot", f"quantity {req.quantity} is not a multiple of the lot size {inst.lot_size} (try {qty})")
            req = req.with_(quantity=qty)
        if qty <= 0 or qty < inst.min_qty:
            raise RiskRejection("below_min_qty", f"quantity {req.quantity} is below the minimum {inst.min_qty} {inst.base}")
        needs_price = req.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = req.type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_price and (req.price is None or req.price <= 0):
            raise RiskRejection("missing_price", f"a {req.type} order needs a positive price")
        if needs_stop and (req.stop_price is None or req.stop_price <= 0):
            raise RiskRejection("missing_stop", f"a {req.type} order needs a positive stop price")
        for field_name in ("price", "stop_price", "stop_loss", "take_profit"):
            value: Decimal | None = getattr(req, field_name)
            if value is None:
                continue
            if value <= 0:
                raise RiskRejection("bad_price", f"{field_name.replace('_', ' ')} must be positive")
            if not inst.on_tick(value):
                if not computed:
                    raise RiskRejection(
                        "off_tick",
                        f"{field_name.replace('_', ' ')} {value} is not a multiple of the tick size {inst.tick_size} (try {inst.round_price(value)})",
                    )
                req = req.with_(**{field_name: inst.round_price(value)})
        mid = ctx.mid
        if mid and needs_stop and req.stop_price is not None:
            stop = float(req.stop_price)
            if req.side is Side.BUY and stop <= mid:
                raise RiskRejection("stop_wrong_side", f"buy stop {req.stop_price} must be above the market ({mid:g}); a buy stop triggers on a rise")
            if req.side is Side.SELL and stop >= mid:
                raise RiskRejection("stop_wrong_side", f"sell stop {req.stop_price} must be below the market ({mid:g}); a sell stop triggers on a fall")
        ref = self._reference_price(req, ctx)
        if mid:
            if req.stop_loss is not None:
                sl = float(req.stop_loss)
                if (req.side is Side.BUY and sl >= ref) or (req.side is Side.SELL and sl <= ref):
                    raise RiskRejection("sl_wrong_side", f"stop-loss {req.stop_loss} is on the wrong side of the entry {ref:g}")
            if req.take_profit is not None:
                tp = float(req.take_profit)
                if (req.side is Side.BUY and tp <= ref) or (req.side is Side.SELL and tp >= ref):
                    raise RiskRejection("tp_wrong_side", f"take-profit {req.take_profit} is on the wrong side of the entry {ref:g}")
        if ref and inst.min_notional and float(req.quantity) * ref < float(inst.min_notional):
            raise RiskRejection(
                "min_notional", f"order value {float(req.quantity) * ref:,.2f} is below the minimum {inst.min_notional} {inst.quote}"
            )
        return req

    @staticmethod
    def _reference_price(req: OrderRequest, ctx: CheckContext) -> float:
        if req.price is not None:
            return float(req.price)
        if req.stop_price is not None:
            return float(req.stop_price)
        return ctx.mid

    def _reduces(self, req: OrderRequest, ctx: CheckContext) -> bool:
        pos = self.portfolio.positions.get((ctx.venue, req.symbol))
        if pos is None or pos.is_flat:
            return False
        return (pos.quantity > 0 and req.side is Side.SELL and req.quantity <= pos.quantity) or (
            pos.quantity < 0 and req.side is Side.BUY and req.quantity <= -pos.quantity
        )

    def _check_limits(self, req: OrderRequest, inst: Instrument, ctx: CheckContext) -> None:
        limits = self.limits_for(req.strategy)
        ref = self._reference_price(req, ctx)
        notional = float(req.quantity) * ref
        if limits.price_band_pct and ctx.mid and req.price is not None:
            away = abs(float(req.price) / ctx.mid - 1.0)
            if away > limits.price_band_pct:
                raise RiskRejection(
                    "price_band",
                    f"price {req.price} is {away:.1%} from the mid {ctx.mid:g}, beyond the {limits.price_band_pct:.0%} band (risk.price_band_pct)",
                )
        if limits.max_order_notional and notional > limits.max_order_notional:
            raise RiskRejection(
                "max_order_notional", f"order value {notional:,.2f} exceeds max_order_notional {limits.max_order_notional:,.2f}"
            )
        reduces = self._reduces(req, ctx)
        pos = self.portfolio.positions.get((ctx.venue, req.symbol))
        current_qty = float(pos.quantity) if pos else 0.0
        new_qty = current_qty + float(req.quantity) * req.side.sign
        if limits.max_position_notional and not reduces and abs(new_qty) * ref > limits.max_position_notional:
            raise RiskRejection(
                "max_position_notional",
                f"position in {req.symbol} would be {abs(new_qty) * ref:,.2f}, above max_position_notional {limits.max_position_notional:,.2f}",
            )
        if limits.max_gross_exposure and not reduces:
            gross = sum(abs(p.market_value) for p in self.portfolio.positions.values() if p.symbol != req.symbol)
            gross += abs(new_qty) * ref
            if gross > limits.max_gross_exposure:
                raise RiskRejection(
                    "max_gross_exposure", f"gross exposure would be {gross:,.2f}, above max_gross_exposure {limits.max_gross_exposure:,.2f}"
                )
        if limits.max_open_positions and not reduces and current_qty == 0:
            held = sum(1 for p in self.portfolio.positions.values() if not p.is_flat)
            if held >= limits.max_open_positions:
                raise RiskRejection(
                    "max_open_positions", f"{held} positions are open, the limit is max_open_positions = {limits.max_open_positions}"
                )
