"""Property: a message that closes, moves, cancels or chats is never read as an entry.

Messages are generated from templates with random symbols (every spelling the parser
knows), prices (plain, thousands, k), percentages, R results, emojis, case and noise.
Each kind's template set is checked separately so a failure names the kind; entries from
templates are checked the other way (they do read as entries, with the right side).

Besides exits, updates, cancels and chatter, the generators cover what reads most like an
entry without being one: a reply quoting an earlier call (Discord's `> ` lines), status
reports (filled, triggered, running, still holding; some repeating the full levels),
questions and plans with levels, P&L brags, jokes with side words and options alerts. And
market commentary ("Fed cuts rates", "BTC dumping") is never read as an exit either.
"""

from __future__ import annotations

from random import Random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_trader.signals.chat import Kind, parse_message

SYMBOLS = [
    "BTC", "ETH", "$SOL", "#XRP", "BTC/USDT", "ethusdt", "gold", "EURUSD", "$NVDA", "AAPL",
    "doge", "#LINK", "AVAX", "SOL/USDT", "$TSLA", "XAUUSD", "bitcoin", "GBP/JPY", "#PEPE",
]  # fmt: skip
EMOJI = ["", "", " 🚀", " ✅", " 💰", " 🎯", " 🔥", " 😅", " 📉", " 📈", " 🙏", " ⚠️", " 👀"]
TAIL = [
    "", "", "", " guys", ", nfa", " imo", " — patience pays", ", be careful out there",
    " (not financial advice)", ", chop everywhere", " lfg", "!!",
]  # fmt: skip


def price(rng: Random) -> str:
    style = rng.choice(["int", "dec", "k", "thousands"])
    if style == "int":
        return str(rng.randint(1, 99_999))
    if style == "dec":
        return f"{rng.uniform(0.0001, 500):.{rng.randint(1, 5)}f}"
    if style == "k":
        return f"{rng.randint(1, 120)}{rng.choice(['', '.5', '.2'])}k"
    return f"{rng.randint(1, 99)},{rng.randint(0, 999):03d}"


def pieces(rng: Random) -> dict[str, str]:
    side = rng.choice(["long", "short"])
    return {
        "sym": rng.choice(SYMBOLS),
        "pos": side,
        "side": side,
        "p": price(rng),
        "p2": price(rng),
        "n": str(rng.randint(1, 99)),
        "r": f"{rng.uniform(0.1, 9.9):.1f}",
        "i": str(rng.randint(1, 4)),
        "e": rng.choice(EMOJI),
        "tail": rng.choice(TAIL),
        "my": rng.choice(["", "my ", "the ", "our "]),
        "sl": rng.choice(["SL", "stop", "stops", "stop loss", "sl", "Stop-loss"]),
        "tp": rng.choice(["TP", "target", "tp2", "take profit", "TP1", "targets"]),
        "be": rng.choice(["BE", "breakeven", "entry", "break even", "b/e"]),
        "res": rng.choice(["", " +{n}%", " +{r}R", " -1R", " for a small loss", " +{n}% 💰"]),
        "stock": rng.choice(["$NVDA", "AAPL", "SPY", "$TSLA", "QQQ", "AMD", "$META"]),
    }


EXITS = [
    "Closing {my}{sym} {pos} here{res}{e}{tail}",
    "Closed {sym}{res}{e}",
    "{sym}: closed the rest at {p}{res}",
    "Close {sym} now{tail}",
    "Exit {sym} {pos}{e}",
    "Exiting {my}{sym} {pos} at market{res}",
    "Taking profits on {sym}{res}{e}",
    "Took profit on {sym} at {p}{res}",
    "Take {n}% off {sym} here{e}",
    "Take half off {sym}, let the rest ride{e}",
    "Secured profits on {sym}{res}{e}{tail}",
    "Booked {n}% of {my}{sym} {pos}{res}",
    "Stopped out of {sym}{res}{e}",
    "SL hit on {sym}{res}{e}",
    "Out of {sym} for now{tail}",
    "Fully out of {sym}{res}{e}",
    "Trim {n}% of the {sym} {pos} at {p}",
    "Sold half my {sym} at {p}{res}",
    "Selling my {sym} here{e}",
    "Scaling out of {sym} {pos}{res}",
    "Covering {my}{sym} short{res}{e}",
    "TP{i} hit on {sym} {e} closing remaining position",
    "Close all positions now{tail}",
    "{sym} {pos} closed{res}{e}",
    "Cut the {sym} {pos}, not working{e}",
    "I'm out of {sym}{res}",
    "Closing here{res}{e}",
    "Market close {my}{sym} {pos}{e}",
]
UPDATES = [
    "{sym}: move {sl} to {be}{e}",
    "Move {sl} to {be} on {sym}{tail}",
    "TP{i} hit ✅ move {sl} to {be} on {sym}",
    "{sym} {sl} moved to {p}{e}",
    "Raise {sl} on {sym} to {p}",
    "Trail the {sl} on {sym} to {p}{e}",
    "New {tp} for {sym}: {p}",
    "{sym} update: {sl} now {p}, {tp} {p2}",
    "Risk-free now on {sym} ({sl} at {be}){e}",
    "Adjusting {my}{sym} {sl} to {p}",
    "Lower the {tp} on {sym} to {p}{tail}",
    "{sl} to {be} on all open trades{e}",
    "move {sl} {p} {sym}",
    "{sym} {pos}: set your {sl} to {p}{e}",
    "Tighten {sl} on {sym} to {p}{tail}",
]
CANCELS = [
    "Cancel {my}{sym} limit at {p}{tail}",
    "{sym} entry cancelled ❌ setup invalidated",
    "Scrap the {sym} {pos} idea{e}",
    "Cancel all pending orders{e}",
    "Remove the {sym} order, price ran away",
    "ignore the previous {sym} call{tail}",
    "{sym} setup invalidated, cancel the entry{e}",
    "Pull your {sym} bids{e}",
    "Cancelling the {sym} {pos} at {p}{tail}",
    "{sym} signal is void{e}",
    "Scrap the {sym} buy stop{e}",
]
CHATTER = [
    "gm traders{e}{tail}",
    "{sym} looking strong{e}{tail}",
    "{sym} looking weak, might {side} later{e}",
    "Who else is in the {sym} {pos}?{e}",
    "Anyone {side}ing {sym} here?",
    "Not {side}ing {sym} here{tail}",
    "Don't {side} {sym} into this level{e}",
    "Watching {sym} {p} for a bounce{e}",
    "{sym} dominance {n}% and climbing",
    "Results this week: {n} wins, {i} losses, +{r}R{e}",
    "Great call on the {sym} {pos} yesterday, +{r}R",
    "TP{i} hit ✅{e}",
    "What do you think about {sym}?{e}",
    "Would you {side} {sym} here?",
    "{sym} chart looks messy, sitting on hands{e}",
    "Funding on {sym} is {n}% annualised{tail}",
    "{sym} held {p} support nicely{e}",
    "Will move {sl} to {be} after TP1",
    "Maybe a {sym} {pos} tomorrow if it holds {p}{e}",
    "No {pos}s on {sym} until {p} breaks{tail}",
    "Reminder: never risk more than {i}-{n}% per trade",
    "{sym} volume is insane today{e}",
]
ENTRIES = [
    "{sym} {side} {p} sl {p2} tp {p}",
    "{side} {sym} now, stop {p}, target {p2}{e}",
]
# An earlier call, quoted (Discord's "> " line), then the reply: the reply decides the kind.
QUOTED_CALLS = [
    "> {sym} {side} {p} sl {p2} tp {p}",
    "> {side} {sym} @ {p}\n> {sl} {p2}\n> {tp} {p}",
]
REPLIES = [
    "closing this here{res}{e}",
    "TP{i} hit ✅{res}",
    "cancel this, not filling{e}",
    "move {sl} to {be}{e}",
    "still holding, patience{tail}",
    "stopped out{res}{e}",
    "is this still valid?",
    "filled ✅{e}",
    "running nicely{res}{e}",
    "nice one{e}",
]
STATUS = [
    "{sym} {side} filled @ {p}{e}",
    "{side} order filled on {sym} {p}{e}",
    "{sym} {pos} triggered at {p}{e}",
    "Entry hit on {sym}{e}",
    "{sym} {pos} from {p} running nicely{res}{e}",
    "Still holding the {sym} {pos}{tail}",
    "{sym} {pos} +{n}% and counting{e}",
    "Our {sym} {pos} hit TP{i}{res}",
    "{sym} {side} {p} filled ✅ {sl} {p2} {tp} {p}",
    "{sym} {pos} printed {r}R{e}",
    "{sym} {pos} +{n}%{e}",
    "+{r}R on the {sym} {pos}{e}",
    "{sym} {pos} {r}R{e}{tail}",
    "{sym} paid +${n},{i}00 today{e}",
    "We're still {pos} {sym} from {p}{tail}",
    "{side} order on {sym} triggered at {p}{e}",
    "Our {sym} entry at {p} got filled overnight{e}",
]
QUESTIONS_AND_PLANS = [
    "Is {sym} {side} at {p} with {sl} {p2} a good idea?",
    "Should I {side} {sym} at {p}? {sl} {p2}",
    "Anyone {side} {sym} {p} {sl} {p2} {tp} {p}?",
    "Going to {side} {sym} if it reclaims {p}, will post levels{e}",
    "Gonna {side} {sym} later{tail}",
    "Might {side} {sym} at {p}{e}",
    "Should've {side}ed {sym} at {p}{e}",
    "{side}ing my sleep schedule lol{e}",
    "{side} my portfolio lol 💀",
    "Longs getting wrecked on {sym}{e}",
    "{sym} shorts got squeezed{e}{tail}",
]
OPTIONS = [
    "BTO {stock} {n}0C {i}/{n} @ {r}",
    "STC {i} {stock} {n}5P @ {r}{e}",
    "{stock} {n}0c for {i}/{n} looking juicy{e}",
    "Long {stock} calls{e}",
    "{side} {stock} puts @ {r}{tail}",
    "Selling premium on {stock} this week{e}",
]
# Asked, not done: never an exit, update, cancel or entry.
ASKED = [
    "Should I close my {sym} {pos}?{e}",
    "Anyone else get stopped on {sym}?{e}",
    "Do we cancel the {sym} limit?",
    "Is it time to move {sl} to {be} on {sym}?",
    "Are you taking profits on {sym} here?{e}",
    "Who's still holding {sym}?{tail}",
    "Would you trim {sym} at {p}?",
]
# What the market does, not what the provider does: never an exit (nor an entry).
COMMENTARY = [
    "Fed cuts rates{tail}",
    "{sym} dumping hard{e}",
    "{sym} might dump to {p}{e}",
    "Rate cut odds rising, {sym} to {p}?",
    "{sym} dumped {n}% overnight{e}",
    "Whales unloading {sym} again{e}",
    "{sym} broke out of the range{e}",
    "{sym} breaking out of the wedge{e}{tail}",
    "I'm out for the day{tail}",
    "Markets closed Monday{e}",
    "Happy Friday, markets close early{e}",
    "{sym} earnings after close, no position{tail}",
    "The close was weak on {sym}{e}",
    "{sym} ran into the close{e}",
    "{sym} closed the week at the highs{e}",
    "{sym} closes the day green{tail}",
]


HEADERS = ["", "", "", "@everyone ", "📢 ", "UPDATE: ", "Heads up: ", "[VIP] ", "⚡ "]
# (no "!" between words: it ends a sentence, and "Is BTC long ! at 64k ...?" is not a question any more)
NOISE = [" 🚀", " 🔥", "...", " 👀", " —", " 🙏", ",", " ⚡"]


def _check(template_set: list[str], rng: Random, headers: list[str] = HEADERS) -> tuple[str, object]:
    template = rng.choice(template_set)
    if template == "{quoted}":  # a quoted call and a reply
        template = rng.choice(QUOTED_CALLS) + "\n" + rng.choice(REPLIES)
    values = pieces(rng)
    text = template.format(**values)
    text = text.format(**values)  # results hold {n}/{r} themselves
    words = text.split(" ")
    for _ in range(rng.randint(0, 2)):  # noise between words
        at = rng.randint(1, len(words))
        words.insert(at, rng.choice(NOISE).strip())
    text = rng.choice(headers) + " ".join(w for w in words if w)
    if rng.random() < 0.5:
        text = rng.choice([str.upper, str.lower, str.title, str])(text)
    return text, parse_message(text)


# Each example one seeded Random (hypothesis draws its seed: derandomized, the same examples
# every run): a message is some twenty choices, drawn from hypothesis one by one they cost ten
# times the parse.
MESSAGES = st.randoms(use_true_random=True)
COMMON = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(MESSAGES)
def test_exit_messages_never_read_as_entries(rng: Random) -> None:
    text, parsed = _check(EXITS, rng)
    assert parsed.kind is not Kind.ENTRY, (text, parsed.as_dict())


@COMMON
@given(MESSAGES)
def test_update_messages_never_read_as_entries(rng: Random) -> None:
    text, parsed = _check(UPDATES, rng)
    assert parsed.kind is not Kind.ENTRY, (text, parsed.as_dict())


@COMMON
@given(MESSAGES)
def test_cancel_messages_never_read_as_entries(rng: Random) -> None:
    text, parsed = _check(CANCELS, rng)
    assert parsed.kind is not Kind.ENTRY, (text, parsed.as_dict())


@COMMON
@given(MESSAGES)
def test_chatter_never_reads_as_an_entry(rng: Random) -> None:
    text, parsed = _check(CHATTER, rng)
    assert parsed.kind is not Kind.ENTRY, (text, parsed.as_dict())


@COMMON
@given(MESSAGES)
def test_a_reply_to_a_quoted_call_is_never_an_entry(rng: Random) -> None:
    # no header: "@everyone > BTC long ..." is not a quote any more, only a call
    text, parsed = _check(["{quoted}"], rng, headers=[""])
    assert parsed.kind is not Kind.ENTRY, (text, parsed.as_dict())


@COMMON
@given(MESSAGES)
def test_status_reports_and_results_never_read_as_entries(rng: Random) -> None:
    text, parsed = _check(STATUS, rng)
    assert parsed.kind is not Kind.ENTRY, (text, parsed.as_dict())


@COMMON
@given(MESSAGES)
def test_questions_plans_and_jokes_never_read_as_entries(rng: Random) -> None:
    text, parsed = _check(QUESTIONS_AND_PLANS, rng)
    assert parsed.kind is not Kind.ENTRY, (text, parsed.as_dict())


@COMMON
@given(MESSAGES)
def test_options_alerts_are_unsupported(rng: Random) -> None:
    text, parsed = _check(OPTIONS, rng)
    assert parsed.kind is Kind.UNSUPPORTED, (text, parsed.as_dict())


@COMMON
@given(MESSAGES)
def test_a_question_never_acts(rng: Random) -> None:
    text, parsed = _check(ASKED, rng, headers=[h for h in HEADERS if "UPDATE" not in h])
    assert parsed.kind is Kind.INFO, (text, parsed.as_dict())


@COMMON
@given(MESSAGES)
def test_market_commentary_is_neither_an_exit_nor_an_entry(rng: Random) -> None:
    text, parsed = _check(COMMENTARY, rng)
    assert parsed.kind not in (Kind.ENTRY, Kind.EXIT), (text, parsed.as_dict())


@settings(max_examples=200, deadline=None)
@given(MESSAGES)
def test_a_reply_acts_on_the_quoted_symbol(rng: Random) -> None:
    """The other direction for quotes: the reply's kind, the quoted call's symbol."""
    values = pieces(rng)
    quote = rng.choice(QUOTED_CALLS).format(**values)
    reply, kind = rng.choice(
        [
            ("closing this here", Kind.EXIT),
            ("cancel this, not filling", Kind.CANCEL),
            ("move SL to BE", Kind.UPDATE),
        ]
    )
    parsed = parse_message(f"{quote}\n{reply}")
    assert parsed.kind is kind, (quote, reply, parsed.as_dict())
    assert parsed.symbol is not None, (quote, reply, parsed.as_dict())


@settings(max_examples=200, deadline=None)
@given(MESSAGES)
def test_the_kind_templates_mean_is_what_is_read(rng: Random) -> None:
    """The other direction, so the properties above cannot pass by reading nothing."""
    for kind, templates in (
        (Kind.EXIT, EXITS[:22]),
        (Kind.UPDATE, UPDATES[:11]),
        (Kind.CANCEL, CANCELS),
        (Kind.ENTRY, ENTRIES),
    ):
        # no "UPDATE:" header here: on an entry it makes the message ambiguous (and not an entry)
        text, parsed = _check(templates, rng, [h for h in HEADERS if "UPDATE" not in h])
        assert parsed.kind in (kind, Kind.UNSUPPORTED), (text, parsed.as_dict())
