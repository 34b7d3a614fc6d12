"""Forex conventions: currencies, pips, lots and pip values. One definition for the whole
project (the command line, order tickets, the chat parser, the paper market and OANDA).

A pip is 0.0001 of the price (0.01 when the quote currency is the yen); gold's is 0.01
(OANDA's pipLocation -2). A standard lot is 100,000 units of the base currency (mini 10,000,
micro 1,000, nano 100); a lot of gold is 100 ounces.
"""

from __future__ import annotations

from decimal import Decimal

CURRENCIES: frozenset[str] = frozenset(
    {"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "SGD", "HKD", "MXN", "ZAR"}
)
METALS: frozenset[str] = frozenset({"XAU", "XAG", "XPT", "XPD"})

LOTS: dict[str, Decimal] = {  # the kinds of lot a trader may type, in lots of a standard lot
    "lot": Decimal(1),
    "lots": Decimal(1),
    "std": Decimal(1),
    "standard": Decimal(1),
    "mini": Decimal("0.1"),
    "micro": Decimal("0.01"),
    "nano": Decimal("0.001"),
}
STANDARD_LOT = Decimal(100_000)
_METAL_LOT = {"XAU": Decimal(100), "XAG": Decimal(5_000), "XPT": Decimal(100), "XPD": Decimal(100)}
_METAL_PIP = {"XAU": Decimal("0.01"), "XAG": Decimal("0.001"), "XPT": Decimal("0.01"), "XPD": Decimal("0.01")}


def _pair(symbol: str | None) -> tuple[str, str] | None:
    if not symbol:
        return None
    parts = symbol.upper().replace("_", "/").split(":")[0].split("/")
    if len(parts) != 2:
        return None
    return parts[0], parts[1]


def is_fx_pair(symbol: str | None) -> bool:
    """Two currencies, or a metal against a currency (EUR/USD, USD/JPY, XAU/USD)."""
    pair = _pair(symbol)
    if pair is None:
        return False
    base, quote = pair
    return quote in CURRENCIES and (base in CURRENCIES or base in METALS)


def is_metal(symbol: str | None) -> bool:
    pair = _pair(symbol)
    return pair is not None and pair[0] in METALS and pair[1] in CURRENCIES


def pip_size(symbol: str | None) -> Decimal | None:
    """A forex pair's pip (0.01 quoted in yen, else 0.0001), a metal's (gold 0.01); None for
    anything else."""
    pair = _pair(symbol)
    if pair is None or not is_fx_pair(symbol):
        return None
    base, quote = pair
    if base in METALS:
        return _METAL_PIP[base]
    return Decimal("0.01") if quote == "JPY" else Decimal("0.0001")


def lot_units(symbol: str) -> Decimal:
    """Units in one standard lot: 100,000 of a currency, 100 ounces of gold."""
    pair = _pair(symbol)
    if pair is not None and pair[0] in METALS:
        return _METAL_LOT[pair[0]]
    return STANDARD_LOT


def units_for_lots(symbol: str, lots: Decimal, kind: str = "lot") -> Decimal:
    """`lots` of a kind ("lot", "mini", "micro", "nano") in units of the base."""
    scale = LOTS.get(kind.lower())
    if scale is None:
        raise ValueError(f"unknown lot kind {kind!r}; use lot, mini, micro or nano")
    units = lots * scale * lot_units(symbol)
    return units.quantize(Decimal(1)) if units == units.to_integral_value() else units.normalize()


def pips_to_price(symbol: str, pips: Decimal) -> Decimal:
    """A distance in pips as a price distance (ValueError when `symbol` has no pip)."""
    pip = pip_size(symbol)
    if pip is None:
        raise ValueError(f"{symbol} has no pip: give prices, not pips")
    return pips * pip


def pip_value(symbol: str, units: Decimal, quote_rate: Decimal) -> Decimal:
    """What one pip on `units` is worth in the account currency. `quote_rate` converts one unit
    of the quote currency into the account currency (1 when they are the same; 1 / USDJPY for
    a yen-quoted pair in a dollar account)."""
    pip = pip_size(symbol)
    if pip is None:
        raise ValueError(f"{symbol} has no pip")
    return abs(units) * pip * quote_rate


def pip_value_at(symbol: str, units: Decimal, price: Decimal, account: str = "USD") -> tuple[Decimal, str]:
    """(what one pip on `units` is worth, its currency) at `price`: in `account` when the pair
    quotes it (EUR/USD) or is based on it (USD/JPY: a pip in yen / the price), else in the
    quote currency (a cross: converting needs another rate)."""
    pair = _pair(symbol)
    if pair is None:
        raise ValueError(f"{symbol} is not a currency pair")
    base, quote = pair
    if quote == account:
        return pip_value(symbol, units, Decimal(1)), account
    if base == account and price > 0:
        return pip_value(symbol, units, Decimal(1) / price), account
    return pip_value(symbol, units, Decimal(1)), quote
