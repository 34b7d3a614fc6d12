"""Margin arithmetic for contracts traded on margin, in Decimal: notional, profit and loss,
initial and maintenance margin from the venue's tier table, liquidation and bankruptcy prices,
and funding.

Conventions (Binance USDⓈ-M and COIN-M, which Bybit's linear and inverse contracts share):
- `qty` is signed (> 0 long, < 0 short) and counts contracts of `contract_size`;
- a linear contract is worth `contract_size` base units: notional = |qty| x size x price, in
  the quote (= settle) currency;
- an inverse contract is worth `contract_size` quote units (USD) and settles in the base coin:
  notional = |qty| x size / price coins;
- maintenance margin = notional x rate - amount, from the bracket the notional falls in;
- the liquidation price is where the margin balance (wallet + unrealised P&L) equals the
  maintenance margin, the bankruptcy price where it is zero. With isolated margin the wallet is
  the position's own margin; with cross margin it is the account's balance less what the other
  positions need (their maintenance margin) plus their unrealised P&L.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from tui_trader.core.contracts import MarginTier, tier_for
from tui_trader.core.enums import InstrumentKind
from tui_trader.core.instrument import Instrument, quantize

ZERO = Decimal(0)
ONE = Decimal(1)

# Binance's funding formula: the interest rate per 8 h and the band the premium is clamped to.
INTEREST_PER_8H = Decimal("0.0001")
PREMIUM_CLAMP = Decimal("0.0005")
FUNDING_CAP_SHARE = Decimal("0.75")  # the rate is capped at 75 % of the first bracket's maintenance rate
PERP_DEFAULT_LEVERAGE = Decimal(20)  # Binance's default for a symbol nobody has set


def default_leverage(inst: Instrument) -> Decimal:
    """The leverage a symbol trades at until someone sets it: a perpetual or future at 20x
    (Binance's default, within its bounds), an FX pair or CFD at the broker's margin rate,
    spot at 1x."""
    if inst.kind in (InstrumentKind.FX, InstrumentKind.CFD):
        return inst.max_leverage
    if inst.margined:
        return min(PERP_DEFAULT_LEVERAGE, inst.max_leverage) if inst.max_leverage >= 1 else ONE
    return ONE


def _sign(qty: Decimal) -> int:
    return 1 if qty > 0 else -1 if qty < 0 else 0


def settle_notional(inst: Instrument, qty: Decimal, price: Decimal) -> Decimal:
    """|position| in the settle currency (what margin is counted in)."""
    if price <= 0:
        return ZERO
    size = abs(qty) * inst.contract_size
    return size / price if inst.inverse else size * price


def quote_notional(inst: Instrument, qty: Decimal, price: Decimal) -> Decimal:
    """|position| in the quote currency (what exposure limits are counted in)."""
    size = abs(qty) * inst.contract_size
    return size if inst.inverse else size * price


def pnl(inst: Instrument, qty: Decimal, entry: Decimal, exit_: Decimal) -> Decimal:
    """Profit of `qty` contracts from `entry` to `exit_`, in the settle currency."""
    if qty == 0 or entry <= 0 or exit_ <= 0:
        return ZERO
    size = qty * inst.contract_size
    if inst.inverse:
        return size * (ONE / entry - ONE / exit_)
    return size * (exit_ - entry)


def tier(inst: Instrument, notional: Decimal) -> MarginTier:
    """The instrument's bracket for a notional in its settle currency; without a table, one
    bracket at its maximum leverage whose maintenance rate is half the initial rate."""
    if inst.tiers:
        return tier_for(inst.tiers, notional)
    lev = inst.max_leverage if inst.max_leverage > 0 else ONE
    return MarginTier(ZERO, Decimal("1e30"), lev, ONE / lev / 2)


def max_leverage(inst: Instrument, notional: Decimal) -> Decimal:
    """The highest leverage a position of this notional may use (its bracket's, within the
    instrument's bounds)."""
    return min(inst.max_leverage, tier(inst, notional).max_leverage)


def initial_margin(inst: Instrument, qty: Decimal, price: Decimal, leverage: Decimal) -> Decimal:
    if leverage <= 0:
        raise ValueError("leverage must be positive")
    return settle_notional(inst, qty, price) / leverage


def maintenance_margin(inst: Instrument, qty: Decimal, price: Decimal) -> Decimal:
    notional = settle_notional(inst, qty, price)
    return max(ZERO, tier(inst, notional).maintenance(notional))


def liquidation_price(
    inst: Instrument, qty: Decimal, entry: Decimal, wallet: Decimal, bracket_notional: Decimal | None = None
) -> Decimal | None:
    """Where the position's margin balance falls to its maintenance margin.

    `wallet`: the isolated margin (plus funding received, less funding paid), or for cross
    margin the account's balance less the other positions' maintenance margin plus their
    unrealised P&L. The bracket is the one of the position's notional at the entry price
    (`bracket_notional` overrides it). None when no price liquidates (a long backed by more
    than it is worth, or nothing held)."""
    if qty == 0 or entry <= 0:
        return None
    s = _sign(qty)
    size = abs(qty) * inst.contract_size
    notional = bracket_notional if bracket_notional is not None else settle_notional(inst, qty, entry)
    br = tier(inst, notional)
    m, cum = br.maintenance_rate, br.maintenance_amount
    if inst.inverse:
        # wallet + s size (1/E - 1/P) = size m / P - cum
        numerator = size * (m + s)
        denominator = wallet + cum + s * size / entry
    else:
        # wallet + s size (P - E) = size P m - cum
        numerator = wallet + cum - s * size * entry
        denominator = size * m - s * size
    if denominator == 0:
        return None
    price = numerator / denominator
    if price <= 0:
        return None
    return price


def bankruptcy_price(inst: Instrument, qty: Decimal, entry: Decimal, wallet: Decimal) -> Decimal | None:
    """Where the margin balance is zero: a liquidated isolated position closes here, its whole
    margin lost."""
    if qty == 0 or entry <= 0:
        return None
    s = _sign(qty)
    size = abs(qty) * inst.contract_size
    if inst.inverse:
        # wallet + s size (1/E - 1/P) = 0  ->  1/P = 1/E + wallet / (s size)
        inv = ONE / entry + wallet / (s * size)
        return ONE / inv if inv > 0 else None
    price = entry - s * wallet / size
    return price if price > 0 else None


def guard_price(liquidation: Decimal, entry: Decimal, buffer: Decimal) -> Decimal:
    """The price at which the engine acts before the venue would liquidate: `buffer` of the way
    from the liquidation price back to the entry (Freqtrade's `liquidation_buffer`)."""
    return liquidation + (entry - liquidation) * buffer


def round_liquidation(inst: Instrument, price: Decimal, qty: Decimal) -> Decimal:
    """To the tick, on the safe side: a long's liquidation rounds up, a short's down."""
    rounding = ROUND_CEILING if qty > 0 else ROUND_FLOOR
    return quantize(price, inst.tick_size, rounding)


def funding_payment(inst: Instrument, qty: Decimal, mark: Decimal, rate: Decimal) -> Decimal:
    """What a position receives (> 0) or pays (< 0) at a funding time: longs pay shorts when the
    rate is positive. In the settle currency, on the notional at the mark price."""
    if qty == 0 or mark <= 0:
        return ZERO
    return -_sign(qty) * settle_notional(inst, qty, mark) * rate


def funding_cap(inst: Instrument) -> Decimal:
    first = tier(inst, ZERO)
    return FUNDING_CAP_SHARE * first.maintenance_rate


def funding_rate(premium: Decimal, cap: Decimal, interest: Decimal = INTEREST_PER_8H) -> Decimal:
    """Binance's rule: F = P + clamp(I - P, -0.05 %, +0.05 %), then capped at +-`cap`."""
    rate = premium + min(max(interest - premium, -PREMIUM_CLAMP), PREMIUM_CLAMP)
    return min(max(rate, -cap), cap)


def margin_ratio(maintenance: Decimal, margin_balance: Decimal) -> Decimal | None:
    """Maintenance margin / margin balance: the venue liquidates at 100 %."""
    if margin_balance <= 0:
        return None
    return maintenance / margin_balance
