"""Business time vs a brute-force minute counter (hypothesis), DST days, holidays, next opening."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from pipeline.calendars.business_time import (
    DAY, Calendar, CalendarError, always_open, normalize_blocks, parse_block)

UTC = dt.timezone.utc
H = 3600
# zones with 1 h DST at 02:00 (Madrid, New York), a 30-minute DST (Lord Howe), transitions at
# local midnight (Santiago, whose days then start at 01:00 or repeat 23:00), and none (UTC, Kolkata)
ZONES = ["Europe/Madrid", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "UTC",
         "Asia/Kolkata"]


def ts(y, m, d, hh=0, mm=0, tz="UTC") -> float:
    return dt.datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(tz)).timestamp()


def brute_minutes(cal: Calendar, start: float, end: float) -> int:
    """Open minutes in [start, end) for minute-aligned instants: look at each minute's wall time."""
    zone = ZoneInfo(cal.tz)
    n = 0
    t = start
    while t < end:
        w = dt.datetime.fromtimestamp(t, zone)
        sec = w.hour * 3600 + w.minute * 60
        if any(a <= sec < b for a, b in cal.blocks(w.date())):
            n += 1
        t += 60
    return n


OFFICE = (((8 * H, 14 * H), (15 * H, 18 * H)),) * 5 + ((), ())


def test_blocks_parse_and_errors():
    assert parse_block("08:30-14:00") == (30600, 50400)
    assert parse_block("00:00-24:00") == (0, DAY)
    with pytest.raises(CalendarError, match="ends before it starts"):
        parse_block("18:00-08:00")
    with pytest.raises(CalendarError, match="not a block"):
        parse_block("8-14")
    with pytest.raises(CalendarError, match="overlap"):
        normalize_blocks([(0, 3600), (1800, 7200)])
    with pytest.raises(CalendarError, match="unknown country"):
        Calendar("UTC", OFFICE, country="XX")


def test_friday_evening_email_is_not_late_on_monday_morning():
    cal = Calendar("Europe/Madrid", OFFICE)
    fri = ts(2026, 11, 27, 18, 1, "Europe/Madrid")
    mon = ts(2026, 11, 30, 8, 59, "Europe/Madrid")
    assert cal.business_seconds(fri, mon) == 59 * 60
    assert cal.next_open(fri) == ts(2026, 11, 30, 8, 0, "Europe/Madrid")
    assert cal.is_open(mon) and not cal.is_open(fri)
    # a 4 h threshold from Friday 18:01 runs out on Monday at 12:00
    assert cal.add(fri, 4 * H) == ts(2026, 11, 30, 12, 0, "Europe/Madrid")
    # the lunch break does not count: 2 h from 13:00 is 16:00
    assert cal.add(ts(2026, 11, 30, 13, 0, "Europe/Madrid"), 2 * H) == ts(2026, 11, 30, 16, 0, "Europe/Madrid")


def test_dst_days_exact():
    night = Calendar("Europe/Madrid", (((0, 4 * H),),) * 7)
    # 29 March 2026: 02:00 -> 03:00; 25 October 2026: 03:00 -> 02:00
    spring = ts(2026, 3, 29, 0, 0, "Europe/Madrid")
    fall = ts(2026, 10, 25, 0, 0, "Europe/Madrid")
    assert night.business_seconds(spring, ts(2026, 3, 30, tz="Europe/Madrid")) == 3 * H
    assert night.business_seconds(fall, ts(2026, 10, 26, tz="Europe/Madrid")) == 5 * H
    allday = Calendar("Europe/Madrid", (((0, DAY),),) * 7, holidays=frozenset())
    assert allday.business_seconds(spring, ts(2026, 3, 30, tz="Europe/Madrid")) == 23 * H
    assert allday.business_seconds(fall, ts(2026, 10, 26, tz="Europe/Madrid")) == 25 * H


def test_holidays_explicit_public_and_day_overrides():
    d = dt.date
    cal = Calendar("Europe/Madrid", OFFICE, holidays=frozenset({d(2026, 12, 24)}),
                   days={d(2026, 12, 31): ((9 * H, 13 * H),), d(2026, 12, 28): ()},
                   country="ES", subdiv="MD")
    assert cal.blocks(d(2026, 12, 24)) == ()          # explicit holiday (Thursday)
    assert cal.blocks(d(2026, 12, 25)) == ()          # Christmas, public
    assert cal.blocks(d(2026, 12, 28)) == ()          # closed-day override (Monday)
    assert cal.blocks(d(2026, 12, 31)) == ((9 * H, 13 * H),)
    assert cal.blocks(d(2026, 12, 29)) == OFFICE[1]
    week = cal.business_seconds(ts(2026, 12, 21, tz="Europe/Madrid"), ts(2027, 1, 4, tz="Europe/Madrid"))
    # 21, 22, 23, 29, 30 Dec: 9 h each; 31 Dec: 4 h; 1 Jan public
    assert week == 5 * 9 * H + 4 * H


def test_always_open_is_calendar_time():
    cal = always_open("Europe/Madrid")
    assert cal.business_seconds(100.0, 1234.5) == 1134.5
    assert cal.add(100.0, 50) == 150.0 and cal.next_open(7.0) == 7.0


def test_never_open_calendar():
    cal = Calendar("UTC")
    assert cal.business_seconds(0, 10 * DAY) == 0
    assert cal.add(0, 60) is None and cal.next_open(0) is None


# -- properties against the brute-force minute counter -----------------------------------------
minutes_of_day = st.integers(0, 24 * 60)


@st.composite
def calendars(draw):
    tz = draw(st.sampled_from(ZONES))
    week = []
    for _ in range(7):
        cuts = sorted(set(draw(st.lists(minutes_of_day, max_size=6))))
        blocks = [(cuts[i] * 60, cuts[i + 1] * 60) for i in range(0, len(cuts) - 1, 2)]
        week.append(tuple(blocks))
    hol = draw(st.sets(st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)), max_size=40))
    return Calendar(tz, tuple(week), holidays=frozenset(hol))


# starts near the DST days of the zones above get extra weight
DST_STARTS = [ts(2026, 3, 28), ts(2026, 3, 7), ts(2026, 4, 4), ts(2026, 9, 5), ts(2026, 10, 3),
              ts(2026, 10, 24), ts(2026, 10, 31)]
starts = st.one_of(
    st.integers(int(ts(2026, 1, 1)) // 60, int(ts(2026, 12, 20)) // 60).map(lambda m: m * 60.0),
    st.tuples(st.sampled_from(DST_STARTS), st.integers(0, 3 * 24 * 60)).map(lambda x: x[0] + x[1] * 60.0))


@settings(max_examples=60, deadline=None)
@given(calendars(), starts, st.integers(0, 4 * 24 * 60))
def test_business_seconds_equals_brute_force(cal, start, minutes):
    end = start + minutes * 60
    assert cal.business_seconds(start, end) == brute_minutes(cal, start, end) * 60


@settings(max_examples=60, deadline=None)
@given(calendars(), starts, st.integers(1, 3 * 24 * 60))
def test_add_is_the_inverse_and_next_open_the_first_open_minute(cal, start, minutes):
    target = minutes * 60
    u = cal.add(start, target)
    if u is None:  # nothing open within years: only calendars without any opening time
        assert all(not b for b in cal.week)
    else:
        assert cal.business_seconds(start, u) == target
        assert cal.business_seconds(start, u - 60) < target  # the earliest such instant
    n = cal.next_open(start)
    if n is not None:
        assert cal.is_open(n) and n >= start
        assert brute_minutes(cal, start, n) == 0
