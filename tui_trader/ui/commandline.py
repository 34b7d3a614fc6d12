"""The `:` command line: text in, a typed command (or a ParseError with a one-line message) out.

Pure functions with no Textual import, so the grammar is unit tested on its own.

    buy 0.5 BTC/USDT limit 64000 sl 63000 tp 66000
    sell 10 AAPL mkt            buy 1 ETH/USDT stop 3500        buy 2 @ 150 (active symbol)
    buy 10 AAPL 150 (a number right after the symbol is the limit price)
    sell 1 BTC/USDT trail 2% | trail 500      sell 1 BTC/USDT limit 66000 oco 63000 (one cancels other)
    buy 1 ETH/USDT limit 3400 post ioc reduce (post-only, time in force, reduce-only)
    buy 0.1 BTC/USDT on auto    (best price after fees across venues; or on <venue>)
    buy 0.1 lot EUR/USD sl 20p tp 40p (lots and pips)      buy 0.5 BTC/USDT:USDT lev 5
    cancel all | cancel all ETH/USDT | cancel <id>      flatten      close ETH/USDT
    modify <id> price 64100 | modify <id> qty 0.8 | modify <id> price 64100 qty 0.8
    alert BTC/USDT above 70000 | alert 65000 | alert rm <n> | alerts
    watch add SOL/USDT | watch rm SOL/USDT | find sol      ind ema sma | ind off
    symbol ETH/USDT | tf 5m | theme tui-light | layout tabs | layout save NAME | help | quit
    venue reconnect kucoin (its keys read again) | venue stop paper | venue start paper

A symbol is always a symbol: the word after the quantity is looked up in the venue's markets
first (symbols.py), so `buy 10 DAY`, `buy 10 POST limit 95` and `buy 10 LMT 450` trade the
tickers DAY, POST and LMT. A grammar word in lower case that is also a ticker (`buy 10 day`) is
ambiguous and refused with a message saying how to write either meaning.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from tui_trader.core.enums import OrderType, Side, TimeInForce
from tui_trader.core.forex import LOTS, is_fx_pair, pips_to_price, units_for_lots
from tui_trader.core.numbers import NumberError, check_range
from tui_trader.core.orders import OrderRequest, oco_partner, trail_fields
from tui_trader.ui.symbols import ParseError, match_market, resolve_symbol
from tui_trader.ui.vocabulary import INDICATORS, LAYOUTS, TIMEFRAMES, USAGE

_SIDES = {
    "buy": Side.BUY,
    "b": Side.BUY,
    "long": Side.BUY,
    "sell": Side.SELL,
    "s": Side.SELL,
    "short": Side.SELL,
}
_MARKET = {"mkt", "market"}
_LIMIT = {"limit", "lmt", "lim", "@"}
_STOP = {"stop", "stp"}
_TIFS = {t.value: t for t in TimeInForce}
_PRICED = {"sl": "stop_loss", "tp": "take_profit"}


@dataclass(frozen=True, slots=True)
class OrderCommand:
    request: OrderRequest
    oco: OrderRequest | None = None  # the other leg of a one-cancels-other pair


@dataclass(frozen=True, slots=True)
class CancelCommand:
    client_order_id: str | None  # None: cancel all
    symbol: str | None = None  # with cancel all: only this symbol


@dataclass(frozen=True, slots=True)
class ModifyCommand:
    client_order_id: str  # as typed: the full id or a unique tail
    price: Decimal | None = None
    quantity: Decimal | None = None  # the new total quantity


@dataclass(frozen=True, slots=True)
class FlattenCommand:
    pass


@dataclass(frozen=True, slots=True)
class SymbolCommand:
    symbol: str


@dataclass(frozen=True, slots=True)
class TimeframeCommand:
    timeframe: str


@dataclass(frozen=True, slots=True)
class ThemeCommand:
    theme: str


@dataclass(frozen=True, slots=True)
class LayoutCommand:
    layout: str


@dataclass(frozen=True, slots=True)
class SaveLayoutCommand:
    name: str


@dataclass(frozen=True, slots=True)
class CloseCommand:
    symbol: str  # close this position at market


@dataclass(frozen=True, slots=True)
class AlertCommand:
    action: str  # "add", "remove", "list"
    symbol: str | None = None
    above: bool | None = None  # None: the side of the current price the level is on
    price: Decimal | None = None
    alert_id: int | None = None


@dataclass(frozen=True, slots=True)
class WatchCommand:
    action: str  # "add", "remove", "find"
    symbol: str = ""  # or the search text for "find"


@dataclass(frozen=True, slots=True)
class IndicatorCommand:
    names: tuple[str, ...]  # () turns the overlays off


@dataclass(frozen=True, slots=True)
class VenueCommand:
    action: str  # "reconnect" (a live venue, its keys read again), "stop" / "start" (a paper one), "adopt"
    name: str
    symbol: str = ""  # adopt: the symbol whose broker position becomes ours


@dataclass(frozen=True, slots=True)
class HelpCommand:
    pass


@dataclass(frozen=True, slots=True)
class QuitCommand:
    pass


Command = (
    OrderCommand
    | CancelCommand
    | ModifyCommand
    | FlattenCommand
    | SymbolCommand
    | TimeframeCommand
    | ThemeCommand
    | LayoutCommand
    | SaveLayoutCommand
    | CloseCommand
    | AlertCommand
    | WatchCommand
    | IndicatorCommand
    | VenueCommand
    | HelpCommand
    | QuitCommand
)


VENUE_ACTIONS = ("reconnect", "stop", "start", "adopt")


def parse_command(text: str, active_symbol: str | None = None, markets: Collection[str] = ()) -> Command:
    """Parse one command line. `markets` are the venue's symbols: a symbol is looked up there
    first (none given: any word is taken as a symbol, upper-cased). A missing order symbol means
    the active one."""
    words = text.replace(",", " ").split()
    if not words:
        raise ParseError(f"empty command; {USAGE}")
    verb, args = words[0].lower(), words[1:]
    if verb in _SIDES:
        return _parse_order(_SIDES[verb], args, active_symbol, markets)
    if verb in ("cancel", "c", "x"):
        return _parse_cancel(args, markets)
    if verb in ("modify", "mod", "amend", "m"):
        return _parse_modify(args)
    if verb in ("flatten", "flat", "kill"):
        _no_more(verb, args)
        return FlattenCommand()
    if verb == "close":
        if len(args) > 1:
            raise ParseError("close takes one symbol: close ETH/USDT (or nothing for the active one)")
        if not args and not active_symbol:
            raise ParseError("close which position? close ETH/USDT")
        return CloseCommand(resolve_symbol(args[0], markets) if args else str(active_symbol))
    if verb in ("symbol", "sym"):
        return SymbolCommand(resolve_symbol(_one(verb, args, "a symbol, e.g. symbol ETH/USDT"), markets))
    if verb in ("alert", "alerts"):
        return _parse_alert(verb, args, active_symbol, markets)
    if verb in ("watch", "wl"):
        return _parse_watch(args, markets)
    if verb in ("find", "search", "/"):
        return WatchCommand("find", " ".join(args))
    if verb in ("ind", "indicators", "overlay"):
        names = tuple(a.lower() for a in args)
        if names in ((), ("off",), ("none",)):
            return IndicatorCommand(())
        unknown = [n for n in names if n not in INDICATORS]
        if unknown:
            raise ParseError(f"unknown indicator {unknown[0]!r}; choose from {', '.join(INDICATORS)} or off")
        return IndicatorCommand(names)
    if verb in ("tf", "timeframe"):
        tf = _one(verb, args, f"a timeframe ({', '.join(TIMEFRAMES)})").lower()
        if tf not in TIMEFRAMES:
            raise ParseError(f"unknown timeframe {tf!r}; use one of {', '.join(TIMEFRAMES)}")
        return TimeframeCommand(tf)
    if verb == "theme":
        return ThemeCommand(_one(verb, args, "a theme name, e.g. theme tui-light"))
    if verb == "layout":
        if args[:1] and args[0].lower() == "save":
            return SaveLayoutCommand(_layout_name(args[1:]))
        layout = _one(verb, args, f"a layout ({', '.join(LAYOUTS)}) or a saved one; layout save NAME saves")
        return LayoutCommand(layout.lower() if layout.lower() in LAYOUTS else layout)
    if verb == "venue":
        return _parse_venue(args)
    if verb in ("help", "?", "keys"):
        return HelpCommand()
    if verb in ("quit", "q", "exit"):
        return QuitCommand()
    raise ParseError(f"unknown command {words[0]!r}; {USAGE}")


def _parse_venue(args: list[str]) -> VenueCommand:
    action = args[0].lower() if args else ""
    if action == "adopt" and len(args) == 3:
        return VenueCommand(action, args[1], args[2].upper())
    if len(args) != 2 or action not in VENUE_ACTIONS or action == "adopt":
        raise ParseError(
            "venue takes what to do and a venue's name: venue reconnect kucoin (its keys read again"
            " after keys set) · venue stop paper · venue start paper · venue adopt ib AAPL (the"
            " broker's position as ours)"
        )
    return VenueCommand(action, args[1])


def _layout_name(args: list[str]) -> str:
    if len(args) != 1 or not args[0].replace("-", "").replace("_", "").isalnum():
        raise ParseError("layout save takes one name of letters, digits, - or _: layout save scalping")
    if args[0].lower() in LAYOUTS:
        raise ParseError(f"{args[0]!r} is a built-in layout; pick another name")
    return args[0]


def _parse_alert(verb: str, args: list[str], active: str | None, markets: Collection[str]) -> AlertCommand:
    usage = "alert BTC/USDT above 70000 · alert 65000 (active symbol) · alert rm 2 · alerts"
    if verb == "alerts" or args in ([], ["list"]):
        return AlertCommand("list")
    if args[0].lower() in ("rm", "remove", "del", "delete", "clear"):
        if args[0].lower() == "clear" or args[1:] == ["all"]:
            return AlertCommand("remove")
        if len(args) != 2 or not args[1].isdigit():
            raise ParseError(f"which alert? {usage}")
        return AlertCommand("remove", alert_id=int(args[1]))
    symbol = active
    rest = args
    if not _looks_numeric(args[0]) and args[0].lower() not in _ALERT_SIDES:
        symbol, rest = resolve_symbol(args[0], markets), args[1:]
    if not symbol:
        raise ParseError(f"alert on which symbol? {usage}")
    above: bool | None = None
    if rest and rest[0].lower() in _ALERT_SIDES:
        above, rest = _ALERT_SIDES[rest[0].lower()], rest[1:]
    if len(rest) != 1:
        raise ParseError(f"alert takes a price: {usage}")
    return AlertCommand("add", symbol, above, parse_decimal(rest[0], "alert price"))


_ALERT_SIDES = {
    **dict.fromkeys(("above", ">", ">=", "over"), True),
    **dict.fromkeys(("below", "<", "<=", "under"), False),
}


def _parse_watch(args: list[str], markets: Collection[str]) -> WatchCommand:
    usage = "watch add SOL/USDT · watch rm SOL/USDT · find sol"
    if not args:
        return WatchCommand("find", "")
    action = {"add": "add", "+": "add", "rm": "remove", "remove": "remove", "del": "remove", "-": "remove"}.get(
        args[0].lower()
    )
    if action is None or len(args) != 2:
        raise ParseError(f"watch takes add or rm and one symbol: {usage}")
    return WatchCommand(action, resolve_symbol(args[1], markets))


def parse_decimal(word: str, what: str) -> Decimal:
    """A positive finite number; `64k` and `1.5m` are accepted as thousands and millions."""
    raw = word.lower().replace("_", "")
    scale = Decimal(1)
    if raw[-1:] in ("k", "m") and len(raw) > 1:
        scale = Decimal(1000) if raw[-1] == "k" else Decimal(1_000_000)
        raw = raw[:-1]
    try:
        value = Decimal(raw) * scale
    except InvalidOperation:
        raise ParseError(f"{what} must be a number, got {word!r}") from None
    try:
        return check_range(value, what, shown=word)
    except NumberError as exc:
        raise ParseError(str(exc)) from None


def _looks_numeric(word: str) -> bool:
    return word[:1].isdigit() or word[:1] == "."


def _parse_order(side: Side, args: list[str], active_symbol: str | None, markets: Collection[str]) -> OrderCommand:
    if not args:
        raise ParseError(f"{side.value} needs a quantity, e.g. {side.value} 0.5 BTC/USDT limit 64000")
    qty = parse_decimal(args[0], "quantity")
    rest = args[1:]
    lot_kind = None  # buy 0.1 lot EUR/USD: the quantity counts lots
    if len(rest) > 0 and rest[0].lower() in LOTS:
        lot_kind, rest = rest[0].lower(), rest[1:]
    symbol = active_symbol
    named = False  # the symbol was written out (a bare price may follow it)
    if rest and not _looks_numeric(rest[0]) and rest[0] != "@":
        word = rest[0]
        market = match_market(word, markets)
        keyword = word.lower() in _KEYWORDS
        if market is not None and keyword and word != word.upper():
            example = f"{side.value} {args[0]} {active_symbol or 'BTC/USDT'} {word} ..."
            raise ParseError(
                f"{word!r} is both the ticker {market} and a word of the grammar: write {market} (upper case) "
                f"for the ticker, or name the symbol first ({example})"
            )
        if market is not None or not keyword:
            symbol, rest, named = resolve_symbol(word, markets), rest[1:], True
    if not symbol:
        raise ParseError(f"{side.value} needs a symbol, e.g. {side.value} {args[0]} BTC/USDT")
    fields: dict[str, object] = {}
    order_type: OrderType | None = None
    if named and rest and _looks_numeric(rest[0]):  # buy 10 AAPL 150: the limit price
        fields["price"] = parse_decimal(rest[0], "limit price")
        rest = rest[1:]
    i = 0
    while i < len(rest):
        word = rest[i].lower()
        if word in _MARKET:
            order_type = _set_type(order_type, OrderType.MARKET)
            i += 1
        elif word in _PRICED and i + 1 < len(rest) and _pips(rest[i + 1]) is not None:  # sl 20p
            try:
                offset = pips_to_price(symbol, _pips(rest[i + 1]) or Decimal(0))
            except ValueError as exc:
                raise ParseError(str(exc)) from None
            _set_once(fields, f"{_PRICED[word]}_offset", offset, word)
            i += 2
        elif word in _LEVERAGE:
            if i + 1 >= len(rest):
                raise ParseError(f"{word!r} needs a leverage after it, e.g. {word} 5")
            _set_once(fields, "leverage", parse_decimal(rest[i + 1].lower().removesuffix("x"), "leverage"), word)
            i += 2
        elif word in _LIMIT or word in _STOP or word in _PRICED:
            if i + 1 >= len(rest):
                raise ParseError(f"{word!r} needs a price after it")
            value = parse_decimal(rest[i + 1], f"{word} price")
            if word in _LIMIT:
                _set_once(fields, "price", value, word)
            elif word in _STOP:
                _set_once(fields, "stop_price", value, word)
            else:
                _set_once(fields, _PRICED[word], value, word)
            i += 2
        elif word in ("tif",) and i + 1 < len(rest) and rest[i + 1].lower() in _TIFS:
            fields["time_in_force"] = _TIFS[rest[i + 1].lower()]
            i += 2
        elif word in _TIFS:
            fields["time_in_force"] = _TIFS[word]
            i += 1
        elif word in ("post", "post-only", "postonly"):
            fields["post_only"] = True
            i += 1
        elif word in ("reduce", "reduce-only", "reduceonly"):
            fields["reduce_only"] = True
            i += 1
        elif word in ("ext", "ext-hours", "extended"):
            fields["extended_hours"] = True
            i += 1
        elif word in ("trail", "trailing"):
            if i + 1 >= len(rest):
                raise ParseError("'trail' needs a distance after it: trail 2% or trail 500")
            set_trail(fields, rest[i + 1])
            i += 2
        elif word == "oco":
            if i + 1 >= len(rest):
                raise ParseError("'oco' needs the other leg's price: limit 66000 oco 63000")
            _set_once(fields, "oco", parse_decimal(rest[i + 1], "oco price"), word)
            i += 2
        elif word in ("on", "via"):  # a venue, or auto: the best price after fees across venues
            if i + 1 >= len(rest):
                raise ParseError(f"{word!r} needs a venue after it, e.g. on auto")
            if "venue" in fields:
                raise ParseError(f"{word!r} given twice")
            fields["venue"] = rest[i + 1].lower()
            i += 2
        else:
            raise ParseError(f"did not understand {rest[i]!r}; {USAGE}")
    oco = fields.pop("oco", None)
    has_price, has_stop = "price" in fields, "stop_price" in fields
    trailing = "trail_amount" in fields or "trail_percent" in fields
    if order_type is OrderType.MARKET and (has_price or has_stop or trailing):
        raise ParseError("a market order takes no limit, stop or trail; drop 'mkt' or the price")
    if trailing and (has_price or has_stop):
        raise ParseError("a trailing stop takes no limit or stop price: sell 1 BTC/USDT trail 2%")
    if has_price and has_stop:
        order_type = OrderType.STOP_LIMIT
    elif has_price:
        order_type = OrderType.LIMIT
    elif has_stop:
        order_type = OrderType.STOP
    elif trailing:
        order_type = OrderType.TRAILING_STOP
    else:
        order_type = OrderType.MARKET
    if lot_kind is not None:
        if not is_fx_pair(symbol):
            raise ParseError(f"lots apply to FX pairs and metals, not {symbol}: give the quantity in units")
        qty = units_for_lots(symbol, qty, lot_kind)
    request = OrderRequest(symbol, side, qty, order_type, source="manual", **fields)  # type: ignore[arg-type]
    if oco is None:
        return OrderCommand(request)
    return OrderCommand(request, oco_leg(request, oco))  # type: ignore[arg-type]


def set_trail(fields: dict[str, object], word: str) -> None:
    """`trail 2%`: a fraction of the price; `trail 500`: a distance in quote currency."""
    if "trail_amount" in fields or "trail_percent" in fields:
        raise ParseError("'trail' given twice")
    try:
        fields.update(trail_fields(word, parse_decimal))
    except ValueError as exc:  # (a ParseError too: it is one)
        raise ParseError(str(exc)) from None


def oco_leg(first: OrderRequest, price: Decimal) -> OrderRequest:
    """The other leg of `first limit P oco Q` (a stop at Q) or `first stop P oco Q` (a limit at
    Q): same side and quantity; when one fills the engine cancels the other."""
    try:
        return oco_partner(first, price)
    except ValueError:
        raise ParseError("oco pairs a limit with a stop: sell 1 BTC/USDT limit 66000 oco 63000") from None


def _pips(word: str) -> Decimal | None:
    """`20p`, `20pip`, `20pips` as a number of pips; None for anything else."""
    raw = word.lower()
    for suffix in ("pips", "pip", "p"):
        if raw.endswith(suffix) and raw[: -len(suffix)][:1].isdigit():
            return parse_decimal(raw[: -len(suffix)], "pips")
    return None


_LEVERAGE = {"lev", "leverage"}
_KEYWORDS = (
    _MARKET | _LIMIT | _STOP | set(_PRICED) | set(_TIFS) | _LEVERAGE | set(LOTS)
    | {"tif", "post", "reduce", "ext", "trail", "oco", "on", "via"}
)


def _set_type(current: OrderType | None, new: OrderType) -> OrderType:
    if current is not None and current is not new:
        raise ParseError(f"order type given twice ({current.value} and {new.value})")
    return new


def _set_once(fields: dict[str, object], key: str, value: Decimal, word: str) -> None:
    if key in fields:
        raise ParseError(f"{word!r} given twice")
    fields[key] = value


def _parse_cancel(args: list[str], markets: Collection[str]) -> CancelCommand:
    if not args:
        raise ParseError("cancel what? `cancel all`, `cancel all BTC/USDT` or `cancel <order id>`")
    if args[0].lower() == "all":
        if len(args) > 2:
            raise ParseError("cancel all takes at most one symbol")
        return CancelCommand(None, resolve_symbol(args[1], markets) if len(args) == 2 else None)
    _no_more("cancel", args[1:])
    return CancelCommand(args[0])


def _parse_modify(args: list[str]) -> ModifyCommand:
    usage = "modify <order id> price 64100 qty 0.8 (either or both)"
    if len(args) < 3 or len(args) % 2 == 0:
        raise ParseError(f"modify takes {usage}")
    fields: dict[str, Decimal] = {}
    for word, value in zip(args[1::2], args[2::2], strict=True):
        key = {"price": "price", "px": "price", "@": "price", "qty": "quantity", "quantity": "quantity"}.get(
            word.lower()
        )
        if key is None:
            raise ParseError(f"modify changes price or qty, not {word!r}; {usage}")
        if key in fields:
            raise ParseError(f"{word!r} given twice")
        fields[key] = parse_decimal(value, key)
    return ModifyCommand(args[0], fields.get("price"), fields.get("quantity"))


def _one(verb: str, args: list[str], what: str) -> str:
    if len(args) != 1:
        raise ParseError(f"{verb} takes {what}")
    return args[0]


def _no_more(verb: str, args: list[str]) -> None:
    if args:
        raise ParseError(f"{verb} takes nothing after it (got {' '.join(args)!r})")
