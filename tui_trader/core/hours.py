"""When a market trades: crypto around the clock, forex Sunday to Friday, US stocks by the NYSE
calendar (holidays and early closes from the maintained `exchange_calendars` package).

The paper exchange uses these hours for its price path (a stock does not move while its
exchange is shut) and to accept or refuse orders; the engine's pre-trade check and status bar
use them through risk/sessions.py, where a venue's own clock wins. numpy and the calendar
package load on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from tui_trader.core.enums import AssetClass
from tui_trader.core.instrument import Instrument

if TYPE_CHECKING:
    import numpy as np

NEW_YORK = ZoneInfo("America/New_York")
_PRE_OPEN, _POST_CLOSE, _POST_CLOSE_EARLY = time(4, 0), time(20, 0), time(17, 0)
_FX_OPEN_CLOSE = time(17, 0)  # Sunday 17:00 to Friday 17:00 New York
CALENDAR_YEARS = ("1990-01-01", "2045-12-31")  # sessions outside: Monday-Friday 09:30-16:00


class Phase(StrEnum):
    OPEN = "open"
    PRE = "pre-market"
    POST = "after-hours"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class SessionState:
    """Where a market stands at one moment, and when that changes."""

    market: str  # "24/7", "FX", "NYSE"
    phase: Phase
    next_open: datetime | None = None  # the next regular open (None when open or 24/7)
    next_close: datetime | None = None  # the end of the current regular session

    @property
    def is_open(self) -> bool:
        return self.phase is Phase.OPEN

    @property
    def extended(self) -> bool:
        return self.phase in (Phase.PRE, Phase.POST)

    def describe(self, now: datetime) -> str:
        """One line for a status bar or a refusal: "NYSE closed, opens Mon 14:30 UTC (in 2d 3h)"."""
        if self.market == "24/7":
            return "24/7"
        if self.is_open:
            until = f", closes {_at(self.next_close, now)}" if self.next_close else ""
            return f"{self.market} open{until}"
        opens = f", opens {_at(self.next_open, now)}" if self.next_open else ""
        return f"{self.market} {self.phase.value}{opens}"


def _at(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "?"
    return f"{when.astimezone(UTC):%a %H:%M} UTC (in {until_text(when - now)})"


def until_text(delta: timedelta) -> str:
    """A short duration: 2d 3h, 5h 20m, 12m."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


class MarketHours(Protocol):
    name: str

    def state(self, now: datetime) -> SessionState: ...

    def minute_table(self, first_minute: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For minutes [first, first + n) since the epoch: (trades, minutes since the regular
        open, minutes to the regular close); the last two are inf where that makes no sense."""
        ...


class AlwaysOpen:
    name = "24/7"

    def state(self, now: datetime) -> SessionState:
        return SessionState(self.name, Phase.OPEN)

    def minute_table(self, first_minute: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import numpy as np

        inf = np.full(n, np.inf)
        return np.ones(n, dtype=bool), inf, inf


class ForexHours:
    """Sunday 17:00 to Friday 17:00 New York time, every week (bank holidays not modelled)."""

    name = "FX"

    def _week_window(self, now: datetime) -> tuple[datetime, datetime]:
        """The trading week that contains `now` or starts next: (open, close), aware UTC."""
        local = now.astimezone(NEW_YORK)
        days_since_sunday = (local.weekday() + 1) % 7
        sunday = (local - timedelta(days=days_since_sunday)).date()
        start = datetime.combine(sunday, _FX_OPEN_CLOSE, NEW_YORK)  # later today on a Sunday morning
        end = datetime.combine(sunday + timedelta(days=5), _FX_OPEN_CLOSE, NEW_YORK)
        if local >= end:  # Friday evening / Saturday: next week's window
            start = datetime.combine(sunday + timedelta(days=7), _FX_OPEN_CLOSE, NEW_YORK)
            end = datetime.combine(sunday + timedelta(days=12), _FX_OPEN_CLOSE, NEW_YORK)
        return start.astimezone(UTC), end.astimezone(UTC)

    def state(self, now: datetime) -> SessionState:
        start, end = self._week_window(now)
        if start <= now < end:
            return SessionState(self.name, Phase.OPEN, None, end)
        return SessionState(self.name, Phase.CLOSED, start, None)

    def minute_table(self, first_minute: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import numpy as np

        t = (first_minute + np.arange(n, dtype=np.int64)) * 60
        trades = np.zeros(n, dtype=bool)
        since = np.full(n, np.inf)
        first = datetime.fromtimestamp(first_minute * 60, UTC) - timedelta(days=7)
        cursor = first
        while cursor.timestamp() < (first_minute + n) * 60:
            start, end = self._week_window(cursor)
            s, e = int(start.timestamp()), int(end.timestamp())
            inside = (t >= s) & (t < e)
            trades |= inside
            since = np.where(inside, (t - s) / 60.0, since)
            cursor = end + timedelta(minutes=1)
        return trades, since, np.full(n, np.inf)


class ExchangeHours:
    """A stock exchange's regular sessions (from `exchange_calendars`) and US extended hours.

    Outside the calendar's years (before 1990, after 2045) sessions are Monday to Friday
    09:30-16:00 New York time, without holidays.
    """

    def __init__(self, code: str = "XNYS", name: str = "NYSE") -> None:
        self.code = code
        self.name = name
        self._opens: np.ndarray | None = None
        self._closes: np.ndarray | None = None
        self._lock = threading.Lock()

    def preload(self) -> None:
        """Load the calendar now (about a second, once per process) rather than on first use."""
        self._calendar()

    def _calendar(self) -> tuple[np.ndarray, np.ndarray]:
        if self._opens is None or self._closes is None:
            with self._lock:
                if self._opens is None:
                    self._opens, self._closes = _load_sessions(self.code)
        assert self._opens is not None and self._closes is not None
        return self._opens, self._closes

    def _sessions_around(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Session opens and closes (epoch seconds) covering [t0 - 8 days, t1 + 8 days]."""
        import numpy as np

        opens, closes = self._calendar()
        lo_t, hi_t = t0 - 8 * 86_400, t1 + 8 * 86_400
        if lo_t >= opens[0] and hi_t <= closes[-1]:
            lo = max(0, int(np.searchsorted(opens, lo_t, "left")) - 1)
            hi = int(np.searchsorted(opens, hi_t, "right"))
            return opens[lo:hi], closes[lo:hi]
        parts_o, parts_c = [], []
        if lo_t < opens[0]:
            o, c = _weekday_sessions(lo_t, min(hi_t, float(opens[0]) - 1))
            parts_o.append(o)
            parts_c.append(c)
        inside = (opens >= lo_t) & (opens <= hi_t)
        parts_o.append(opens[inside])
        parts_c.append(closes[inside])
        if hi_t > closes[-1]:
            o, c = _weekday_sessions(max(lo_t, float(closes[-1]) + 1), hi_t)
            parts_o.append(o)
            parts_c.append(c)
        return np.concatenate(parts_o), np.concatenate(parts_c)

    def sessions(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Regular sessions (open, close) that start in [start, end)."""
        opens, closes = self._sessions_around(start.timestamp(), end.timestamp())
        return [
            (datetime.fromtimestamp(int(o), UTC), datetime.fromtimestamp(int(c), UTC))
            for o, c in zip(opens.tolist(), closes.tolist(), strict=True)
            if start.timestamp() <= o < end.timestamp()
        ]

    def state(self, now: datetime) -> SessionState:
        import numpy as np

        ts = now.timestamp()
        opens, closes = self._sessions_around(ts, ts)
        i = int(np.searchsorted(opens, ts, "right")) - 1
        if i >= 0 and ts < closes[i]:
            return SessionState(self.name, Phase.OPEN, None, datetime.fromtimestamp(int(closes[i]), UTC))
        nxt = i + 1
        next_open = datetime.fromtimestamp(int(opens[nxt]), UTC) if nxt < len(opens) else None
        if next_open is not None:
            day = next_open.astimezone(NEW_YORK).date()
            if datetime.combine(day, _PRE_OPEN, NEW_YORK) <= now < next_open:
                return SessionState(self.name, Phase.PRE, next_open)
        if i >= 0:
            close = datetime.fromtimestamp(int(closes[i]), UTC)
            local_close = close.astimezone(NEW_YORK)
            post_end = _POST_CLOSE if local_close.time() >= time(16, 0) else _POST_CLOSE_EARLY
            if close <= now < datetime.combine(local_close.date(), post_end, NEW_YORK):
                return SessionState(self.name, Phase.POST, next_open)
        return SessionState(self.name, Phase.CLOSED, next_open)

    def minute_table(self, first_minute: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import numpy as np

        t = (first_minute + np.arange(n, dtype=np.int64)) * 60
        opens, closes = self._sessions_around(float(t[0]), float(t[-1]))
        i = np.searchsorted(opens, t, "right") - 1
        ok = i >= 0
        j = np.where(ok, i, 0)
        trades = ok & (t < closes[j])
        since = np.where(trades, (t - opens[j]) / 60.0, np.inf)
        to_close = np.where(trades, (closes[j] - t) / 60.0, np.inf)
        return trades, since, to_close


def _load_sessions(code: str) -> tuple[np.ndarray, np.ndarray]:
    """The calendar's session opens and closes as epoch seconds.

    exchange_calendars needs pandas (about 100 MB and a second), so the table is computed once
    per library version in a child process and kept as a small .npy file in the cache folder
    (`TUI_TRADER_CACHE_DIR`, else the platform's user cache); the workstation and the daemon
    then only read it. If the cache cannot be written, the table is computed here.
    """
    import numpy as np

    path = _cache_file(code)
    if path is not None:
        if not path.exists():
            _compute_in_child(code, path)
        if path.exists():
            try:
                table = np.load(path)
                return table[0].copy(), table[1].copy()
            except (OSError, ValueError):
                pass
    return compute_sessions(code)


def _cache_file(code: str) -> Path | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        lib = version("exchange-calendars")
    except PackageNotFoundError:
        return None
    from tui_trader.core.kept_code import cache_root

    return cache_root() / f"sessions-{code}-{lib}-{CALENDAR_YEARS[0][:4]}-{CALENDAR_YEARS[1][:4]}.npy"


def _compute_in_child(code: str, path: Path) -> None:
    import subprocess
    import sys

    script = (
        "import sys, numpy as np\n"
        "from pathlib import Path\n"
        "from tui_trader.core.hours import compute_sessions\n"
        "path = Path(sys.argv[2])\n"
        "path.parent.mkdir(parents=True, exist_ok=True)\n"
        "tmp = path.with_suffix('.tmp.npy')\n"
        "np.save(tmp, np.stack(compute_sessions(sys.argv[1])))\n"
        "tmp.replace(path)\n"
    )
    try:
        subprocess.run([sys.executable, "-c", script, code, str(path)], check=False, timeout=120, capture_output=True)
    except (OSError, subprocess.SubprocessError):
        pass


def compute_sessions(code: str) -> tuple[np.ndarray, np.ndarray]:
    """Session opens and closes (epoch seconds) straight from exchange_calendars (imports pandas)."""
    import warnings

    import numpy as np

    with warnings.catch_warnings():  # the library's own pandas deprecations are not the user's business
        warnings.simplefilter("ignore")
        import exchange_calendars

        cal = exchange_calendars.get_calendar(code, start=CALENDAR_YEARS[0], end=CALENDAR_YEARS[1])

    def seconds(col: object) -> np.ndarray:
        naive = col.dt.tz_convert("UTC").dt.tz_localize(None)  # type: ignore[attr-defined]
        return naive.to_numpy().astype("datetime64[s]").astype(np.int64)

    return seconds(cal.opens), seconds(cal.closes)


def _weekday_sessions(t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """Monday-Friday 09:30-16:00 New York between two times (no holidays): outside the calendar."""
    import numpy as np

    start = datetime.fromtimestamp(t0, UTC).date()
    days = np.arange(np.datetime64(start, "D"), np.datetime64(datetime.fromtimestamp(t1, UTC).date(), "D") + 1)
    opens, closes = [], []
    for day in days[np.is_busday(days)].astype(object):
        o = int(datetime.combine(day, time(9, 30), NEW_YORK).timestamp())
        if t0 <= o <= t1:
            opens.append(o)
            closes.append(int(datetime.combine(day, time(16, 0), NEW_YORK).timestamp()))
    return np.array(opens, dtype=np.int64), np.array(closes, dtype=np.int64)


ALWAYS_OPEN = AlwaysOpen()
FOREX = ForexHours()
NYSE = ExchangeHours()


def hours_for(instrument: Instrument) -> MarketHours:
    """The hours an instrument trades by its asset class."""
    if instrument.asset_class is AssetClass.EQUITY and not instrument.always_open:
        return NYSE
    if instrument.asset_class is AssetClass.FOREX:
        return FOREX
    return ALWAYS_OPEN
