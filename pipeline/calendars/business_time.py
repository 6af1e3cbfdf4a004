"""Business calendars: opening hours, holidays, and business time between instants. Pure (no I/O,
no clock): `holidays` computes public holidays from rules, not from files or the network.

A `Calendar` is open at an instant when the instant's *local wall time* (in the calendar's zone)
falls inside one of the opening blocks of its local date. A date's blocks are, first match wins:
1. `days[date]` (an explicit override: `[]` closes the day, a list of blocks replaces the week's);
2. nothing, when the date is an explicit holiday or a public holiday of `country`/`subdiv`;
3. the weekday's blocks from the weekly hours (several blocks per day; a weekday without blocks
   is a closed day).
Blocks are `"HH:MM-HH:MM"`, start < end, end up to `24:00`; blocks of one day must not overlap.

Business seconds between two instants = the measure of the instants in [start, end) at which the
calendar is open. This is exact across DST changes: on a spring-forward day the skipped wall
hour never happens (a block 02:00-04:00 gives one hour); on a fall-back day the repeated wall hour
happens twice (a block 01:00-03:00 gives three hours). Rule chosen so business time always equals
what a stopwatch that runs only while the wall clock shows an opening time would measure; the
tests check it against a brute-force minute counter.

Method: the zone's UTC offset is constant between transitions; inside a constant-offset piece,
wall time = instant + offset, so business time there is the open wall time between two wall
instants, read from per-year cumulative tables of open seconds per day (O(1) per call plus a
bisect over the year's transitions). Transitions are found once per zone and year by scanning the
offset every 6 hours and bisecting to the second (cached).

`always_open()` is the 24/7 calendar: business time equals calendar time. It is what a queue
without a calendar gets.
"""
from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable
from zoneinfo import ZoneInfo

import holidays as _holidays

DAY = 86400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EPOCH_ORD = dt.date(1970, 1, 1).toordinal()
_UTC = dt.timezone.utc
_MAX_SEARCH_YEARS = 6  # add()/next_open() give up (None) after this many years without opening time

Block = tuple[int, int]  # seconds since local midnight, [start, end)


class CalendarError(ValueError):
    """An invalid calendar definition; the message names the field."""


def parse_block(text: str, where: str = "hours") -> Block:
    """'08:30-14:00' -> (30600, 50400). End may be '24:00'."""
    try:
        a, b = (p.strip() for p in text.split("-"))
        sa, sb = _hhmm(a), _hhmm(b)
    except (ValueError, AttributeError):
        raise CalendarError(f"{where}: {text!r} is not a block like '08:00-14:00'") from None
    if not sa < sb:
        raise CalendarError(f"{where}: {text!r} ends before it starts (split a block that crosses "
                            "midnight into two days' blocks)")
    return sa, sb


def _hhmm(s: str) -> int:
    h, m = s.split(":")
    if len(h) not in (1, 2) or len(m) != 2:
        raise ValueError(s)
    h, m = int(h), int(m)
    if not (0 <= m < 60 and (0 <= h < 24 or (h == 24 and m == 0))):
        raise ValueError(s)
    return h * 3600 + m * 60


def normalize_blocks(blocks: Iterable[Block], where: str = "hours") -> tuple[Block, ...]:
    out = tuple(sorted(blocks))
    for (a1, b1), (a2, b2) in zip(out, out[1:]):
        if a2 < b1:
            raise CalendarError(f"{where}: blocks overlap ({_fmt(a1)}-{_fmt(b1)} and {_fmt(a2)}-{_fmt(b2)})")
    return out


def _fmt(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


# -- zone offsets --------------------------------------------------------------------------------

def _offset(zone: ZoneInfo, t: float) -> float:
    return dt.datetime.fromtimestamp(t, zone).utcoffset().total_seconds()


@lru_cache(maxsize=4096)
def _year_transitions(key: str, year: int) -> tuple[tuple[float, float], ...]:
    """(instant, offset from then on) for each UTC-offset change in the UTC year."""
    zone = ZoneInfo(key)
    lo = dt.datetime(year, 1, 1, tzinfo=_UTC).timestamp()
    hi = dt.datetime(year + 1, 1, 1, tzinfo=_UTC).timestamp()
    out = []
    t, off = lo, _offset(zone, lo)
    step = 6 * 3600
    while t < hi:
        n = min(t + step, hi)
        o2 = _offset(zone, n)
        if o2 != off:
            a, b = t, n  # offset(a) == off, offset(b) != off: bisect to the second
            while b - a > 1:
                m = (a + b) // 2
                if _offset(zone, m) == off:
                    a = m
                else:
                    b = m
            out.append((float(b), _offset(zone, b)))
            off = _offset(zone, b)
            if off != o2:  # two changes within one step: rescan from the change
                t = b
                continue
        t = n
    return tuple(out)


class _ZoneTable:
    """A zone's UTC-offset transitions over the UTC years seen so far (extended on demand)."""

    __slots__ = ("key", "zone", "y0", "y1", "lo", "hi", "instants", "offsets", "base")

    def __init__(self, key: str):
        self.key = key
        self.zone = ZoneInfo(key)
        self.y0 = self.y1 = None

    def _cover(self, t: float) -> None:
        y = dt.datetime.fromtimestamp(min(max(t, -62135596800.0 + DAY * 400), 253402300799.0 - DAY * 400), _UTC).year
        if self.y0 is None:
            self.y0 = self.y1 = y
        else:
            self.y0, self.y1 = min(self.y0, y), max(self.y1, y)
        self.lo = dt.datetime(self.y0, 1, 1, tzinfo=_UTC).timestamp()
        self.hi = dt.datetime(self.y1 + 1, 1, 1, tzinfo=_UTC).timestamp()
        self.base = _offset(self.zone, self.lo)
        self.instants, self.offsets = [], []
        for yy in range(self.y0, self.y1 + 1):
            for t2, o in _year_transitions(self.key, yy):
                self.instants.append(t2)
                self.offsets.append(o)

    def offset_at(self, t: float) -> float:
        if self.y0 is None or not self.lo <= t < self.hi:
            self._cover(t)
        i = bisect.bisect_right(self.instants, t)
        return self.offsets[i - 1] if i else self.base

    def pieces(self, s: float, e: float) -> list[tuple[float, float, float]]:
        """[(piece_start, piece_end, offset)] of constant offset covering [s, e)."""
        if self.y0 is None or not (self.lo <= s < self.hi and self.lo <= e < self.hi):
            self._cover(s)
            self._cover(e)
        inst = self.instants
        i = bisect.bisect_right(inst, s)
        off = self.offsets[i - 1] if i else self.base
        out = []
        cur = s
        n = len(inst)
        while i < n and inst[i] < e:
            out.append((cur, inst[i], off))
            cur, off = inst[i], self.offsets[i]
            i += 1
        out.append((cur, e, off))
        return out


_ZONES: dict[str, _ZoneTable] = {}


def _zone_table(key: str) -> _ZoneTable:
    z = _ZONES.get(key)
    if z is None:
        z = _ZONES[key] = _ZoneTable(key)
    return z


def _pieces(key: str, s: float, e: float) -> list[tuple[float, float, float]]:
    return _zone_table(key).pieces(s, e)


# -- calendars ----------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Calendar:
    tz: str = "UTC"
    week: tuple[tuple[Block, ...], ...] = ((),) * 7  # Monday first
    holidays: frozenset = frozenset()                # dt.date, closed all day
    days: dict = field(default_factory=dict)         # dt.date -> blocks (override, () = closed)
    country: str | None = None                       # public holidays (holidays package)
    subdiv: str | None = None
    name: str = ""
    _years: dict = field(default_factory=dict, repr=False)   # year -> (cum list, total)
    _public: dict = field(default_factory=dict, repr=False)  # year -> set of dates
    _daycache: dict = field(default_factory=dict, repr=False)  # day number -> _day()

    def __post_init__(self) -> None:
        ZoneInfo(self.tz)  # fail early on an unknown zone
        if len(self.week) != 7:
            raise CalendarError("week: seven days of blocks, Monday first")
        if self.country:
            supported = _holidays.list_supported_countries()
            if self.country not in supported:
                raise CalendarError(f"public_holidays: unknown country {self.country!r} "
                                    "(ISO 3166-1 alpha-2, e.g. 'ES')")
            if self.subdiv is not None and self.subdiv not in supported[self.country]:
                raise CalendarError(f"public_holidays: unknown subdiv {self.subdiv!r} for {self.country}; "
                                    f"one of {', '.join(supported[self.country][:20])}")

    # -- which blocks a date has -------------------------------------------------------------
    def is_holiday(self, d: dt.date) -> bool:
        if d in self.holidays:
            return True
        if not self.country:
            return False
        ph = self._public.get(d.year)
        if ph is None:
            ph = self._public[d.year] = frozenset(
                _holidays.country_holidays(self.country, subdiv=self.subdiv, years=d.year))
        return d in ph

    def blocks(self, d: dt.date) -> tuple[Block, ...]:
        o = self.days.get(d)
        if o is not None:
            return o
        if self.is_holiday(d):
            return ()
        return self.week[d.weekday()]

    @property
    def always_open(self) -> bool:
        return self._always

    @property
    def _always(self) -> bool:
        v = self._daycache.get("always")
        if v is None:
            v = self._daycache["always"] = (self.week == (((0, DAY),),) * 7 and not self.holidays
                                            and not self.days and not self.country)
        return v

    # -- wall-time arithmetic (no zone) ------------------------------------------------------
    def _year(self, y: int) -> tuple[list[int], int]:
        c = self._years.get(y)
        if c is None:
            d0 = dt.date(y, 1, 1)
            n = (dt.date(y + 1, 1, 1) - d0).days
            cum = [0] * (n + 1)
            acc = 0
            for k in range(n):
                acc += sum(b - a for a, b in self.blocks(d0 + dt.timedelta(days=k)))
                cum[k + 1] = acc
            c = self._years[y] = (cum, acc)
        return c

    def _day(self, days: int) -> tuple[int, float, tuple[Block, ...]]:
        """(year, open seconds of the year before this day, the day's blocks) for a day number."""
        v = self._daycache.get(days)
        if v is None:
            d = dt.date.fromordinal(_EPOCH_ORD + days)
            cum, _ = self._year(d.year)
            v = self._daycache[days] = (d.year, cum[d.timetuple().tm_yday - 1], self.blocks(d))
        return v

    def _in_year(self, wall: float) -> tuple[int, float]:
        """(year, open seconds from the year's start to `wall`)."""
        days = int(wall // DAY)
        year, base, blocks = self._day(days)
        sec = wall - days * DAY
        part = 0.0
        for a, b in blocks:
            if sec <= a:
                break
            part += (b if b < sec else sec) - a
        return year, base + part

    def _open_wall(self, wa: float, wb: float) -> float:
        """Open seconds of wall time in [wa, wb)."""
        if wb <= wa:
            return 0.0
        ya, fa = self._in_year(wa)
        yb, fb = self._in_year(wb)
        if ya == yb:
            return fb - fa
        total = self._year(ya)[1] - fa + fb
        for y in range(ya + 1, yb):
            total += self._year(y)[1]
        return total

    def _wall_after(self, wall: float, x: float) -> float | None:
        """Earliest wall time w >= wall with open(wall, w) == x (x > 0), None if none soon."""
        y, f = self._in_year(wall)
        target = f + x
        for _ in range(_MAX_SEARCH_YEARS):
            cum, total = self._year(y)
            if target <= total:
                k = bisect.bisect_left(cum, target) - 1  # cum[k] < target <= cum[k+1]
                k = max(k, 0)
                d = dt.date(y, 1, 1) + dt.timedelta(days=k)
                rest = target - cum[k]
                base = (d.toordinal() - _EPOCH_ORD) * DAY
                for a, b in self.blocks(d):
                    if rest <= b - a:
                        return base + a + rest
                    rest -= b - a
                return base + DAY  # float dust: the day's end
            target -= total
            y += 1
        return None

    def _next_open_wall(self, wall: float) -> float | None:
        """Earliest wall time >= wall that is open."""
        days = int(wall // DAY)
        sec = wall - days * DAY
        for k in range(366 * _MAX_SEARCH_YEARS):
            d = dt.date.fromordinal(_EPOCH_ORD + days + k)
            for a, b in self.blocks(d):
                if k == 0 and sec >= b:
                    continue
                return (days + k) * DAY + (max(a, sec) if k == 0 else a)
        return None

    # -- instants ----------------------------------------------------------------------------
    def business_seconds(self, start: float, end: float) -> float:
        """Open seconds in [start, end) (epoch seconds); 0 when end <= start."""
        if end <= start:
            return 0.0
        if self._always:
            return end - start
        pieces = _zone_table(self.tz).pieces(start, end)
        if len(pieces) == 1:
            o = pieces[0][2]
            return self._open_wall(start + o, end + o)
        return sum(self._open_wall(a + o, b + o) for a, b, o in pieces)

    def is_open(self, t: float) -> bool:
        wall = t + _zone_table(self.tz).offset_at(t)
        days = int(wall // DAY)
        sec = wall - days * DAY
        return any(a <= sec < b for a, b in self.blocks(dt.date.fromordinal(_EPOCH_ORD + days)))

    def next_open(self, t: float) -> float | None:
        """`t` when open, else the next instant the clock runs; None if closed for years."""
        if self._always:
            return t
        cur = t
        horizon = t + _MAX_SEARCH_YEARS * 366 * DAY
        while cur < horizon:
            pieces = _pieces(self.tz, cur, min(cur + 370 * DAY, horizon))
            for a, b, o in pieces:
                w = self._next_open_wall(a + o)
                if w is None:
                    return None
                i = w - o
                if i < b:
                    return max(i, a)
            cur = pieces[-1][1]
        return None

    def add(self, t: float, seconds: float) -> float | None:
        """Earliest instant u >= t with business_seconds(t, u) == seconds; None when the calendar
        has no such opening time within a few years (a calendar that never opens)."""
        if seconds <= 0:
            return t
        if self._always:
            return t + seconds
        cur, rest = t, float(seconds)
        horizon = t + _MAX_SEARCH_YEARS * 366 * DAY
        while cur < horizon:
            pieces = _pieces(self.tz, cur, min(cur + 370 * DAY, horizon))
            for a, b, o in pieces:
                w = self._wall_after(a + o, rest)
                if w is not None and w - o <= b:
                    return w - o
                rest -= self._open_wall(a + o, b + o)
            cur = pieces[-1][1]
        return None


def always_open(tz: str = "UTC") -> Calendar:
    return Calendar(tz=tz, week=(((0, DAY),),) * 7, name="24/7")
