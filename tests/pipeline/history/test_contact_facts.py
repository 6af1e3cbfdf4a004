"""Fact rows: exact columns, idempotency, agent intervals."""
from __future__ import annotations

import re
from pathlib import Path

from pipeline.history.contact_facts import AGENT_STATE_COLUMNS, CONTACT_COLUMNS, agent_interval_row, fact_row
from pipeline.live.contact_state import AgentState, apply, replay
from pipeline.schemas.event import Event

DOC = Path(__file__).resolve().parents[3] / "docs" / "internal-interfaces.md"
T = 1_780_000_000.0


def _doc_contact_columns() -> list[str]:
    text = DOC.read_text()
    table = text.split("## Contact fact row", 1)[1].split("`agent_states` rows", 1)[0]
    return re.findall(r"^\| (\w+) \|", table, flags=re.M)[1:]  # skip the header row


def ev(i, dt, kind, **data):
    return Event(f"e{i}", f"contact.{kind}", T + dt, "c1", "t", data)


CHAT = [ev(1, 0, "created", channel="chat", queue="web", priority=2), ev(2, 4, "answered", agent="a1"),
        ev(3, 10, "agent_replied", agent="a1"), ev(4, 20, "customer_replied"),
        ev(5, 50, "agent_replied", agent="a1"), ev(6, 60, "closed", agent="a1"), ev(7, 61, "rated", score=5)]


def test_columns_are_exactly_the_documented_ones():
    assert list(CONTACT_COLUMNS) == _doc_contact_columns()
    assert list(fact_row(replay("c1", CHAT))) == _doc_contact_columns()
    line = DOC.read_text().split("`agent_states` rows", 1)[1].splitlines()[1]
    assert tuple(re.findall(r"(\w+) [A-Z]\w+", line)) == AGENT_STATE_COLUMNS
    assert AGENT_STATE_COLUMNS == ("agent", "state", "reason", "start", "end", "duration_s")


def test_chat_row_values():
    row = fact_row(replay("c1", CHAT))
    assert row == {
        "contact_id": "c1", "version": 7, "queue": "web", "channel": "chat", "customer": "",
        "priority": 2, "tags": [], "created": T, "first_assigned": None, "answered": T + 4,
        "first_response": T + 10, "abandoned": None, "closed": T + 60, "agent": "a1", "agents": ["a1"],
        "wait_s": 4.0, "first_response_s": 10.0, "handle_s": 6.0, "resolution_s": 60.0, "replies": 2,
        "customer_messages": 2, "response_times_s": [10.0, 30.0], "reopened": 0, "transfers": 0,
        "csat": 5, "is_answered": 1, "is_abandoned": 0, "is_closed": 1, "last_event": T + 61,
        # no calendar: the business twins equal calendar time (24/7)
        "wait_business_s": 4.0, "first_response_business_s": 10.0, "handle_business_s": 6.0,
        "resolution_business_s": 60.0, "response_times_business_s": [10.0, 30.0], "settings_version": "",
        # SLA clock paused while waiting for the customer: 10 -> 20 and 50 -> 60 (close)
        "sla_wait_s": 4.0, "sla_wait_business_s": 4.0, "sla_first_response_s": 10.0,
        "sla_first_response_business_s": 10.0, "sla_resolution_s": 40.0, "sla_resolution_business_s": 40.0,
    }


def test_abandoned_voice_row():
    s = replay("c1", [ev(1, 0, "created", channel="voice", queue="q"), ev(2, 3.5, "abandoned")])
    row = fact_row(s)
    assert (row["wait_s"], row["is_abandoned"], row["is_answered"], row["closed"]) == (3.5, 1, 0, None)


def test_rows_are_identical_whatever_the_duplicates_and_order():
    base = fact_row(replay("c1", CHAT))
    assert fact_row(replay("c1", CHAT[::-1] + CHAT)) == base
    s = None
    for e in CHAT + CHAT[2:4]:
        s, _ = apply(s, e)
    assert fact_row(s) == base


def test_agent_interval_rows():
    a = AgentState("a1", "available", "", T, {"voice": 1})
    b = AgentState("a1", "busy", "call", T + 30, {"voice": 1})
    assert agent_interval_row(None, a) is None
    assert agent_interval_row(a, b) == {"agent": "a1", "state": "available", "reason": "", "start": T,
                                        "end": T + 30, "duration_s": 30.0}
    assert agent_interval_row(a, AgentState("a1", "available", "", T, {"voice": 2})) is None


def test_business_twins_in_the_queue_calendar():
    """An email on Friday 17:00 (Madrid), first reply Monday 09:30, customer answers Monday 10:00,
    second reply Tuesday 08:15, closed Tuesday 09:00; office 08:00-18:00 on weekdays."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from pipeline.live.queue_settings import QueueSettings

    z = ZoneInfo("Europe/Madrid")

    def at(day, hh, mm=0):
        return dt.datetime(2026, 11, day, hh, mm, tzinfo=z).timestamp()

    def e(i, t, kind, **data):
        return Event(f"m{i}", f"contact.{kind}", t, "m1", "t", data)

    qs = QueueSettings.from_toml("""
site_tz = "Europe/Madrid"
[calendars.office]
hours = { mon = ["08:00-18:00"], tue = ["08:00-18:00"], wed = ["08:00-18:00"], thu = ["08:00-18:00"], fri = ["08:00-18:00"] }
[queues.mail]
channel = "email"
calendar = "office"
""")
    events = [e(1, at(27, 17), "created", channel="email", queue="mail"),
              e(2, at(30, 9, 0), "opened", agent="a1"), e(3, at(30, 9, 30), "agent_replied", agent="a1"),
              e(4, at(30, 10), "customer_replied"), e(5, at(30, 17, 50), "opened", agent="a1"),
              e(6, dt.datetime(2026, 12, 1, 8, 15, tzinfo=z).timestamp(),
                "agent_replied", agent="a1"),
              e(7, dt.datetime(2026, 12, 1, 9, tzinfo=z).timestamp(), "closed", agent="a1")]
    s = replay("m1", events)
    row = fact_row(s, qs.calendar_for("mail"), qs.version)
    H = 3600.0
    assert row["first_response_s"] == 3 * 86400 - 7.5 * H + 0  # Fri 17:00 -> Mon 09:30 = 64.5 h
    assert row["first_response_business_s"] == 1 * H + 1.5 * H  # Fri 17-18, Mon 08-09:30
    assert row["response_times_business_s"] == [2.5 * H, 8 * H + 0.25 * H]  # Mon 10 -> Tue 08:15
    assert row["handle_business_s"] == 0.5 * H + (10 * 60 + 15 * 60)  # 09:00-09:30; 17:50-18, 08:00-08:15
    assert row["resolution_business_s"] == 1 * H + 10 * H + 1 * H
    assert row["wait_business_s"] is None and row["settings_version"] == qs.version
    # SLA clock: paused while waiting for the customer (Mon 09:30-10:00, Tue 08:15-09:00)
    assert row["sla_first_response_business_s"] == row["first_response_business_s"]
    assert row["sla_resolution_business_s"] == 12 * H - 0.5 * H - 0.75 * H
    other = fact_row(s, qs.calendar_for("not-configured"), qs.version)  # 24/7
    assert other["first_response_business_s"] == other["first_response_s"]


def test_sla_clock_pauses_snoozes_and_waiting_for_the_customer():
    """Email: created 0, snoozed at 100 until 1000, first reply 1300 (clock paused 100 -> 1000),
    customer answers 2000 (paused 1300 -> 2000 waiting for the customer), snoozed at 2100 but the
    customer writes at 2500 (snooze cancelled), reply 2600, closed 3000 (paused 2600 -> 3000)."""
    def e(i, t, kind, **data):
        return Event(f"s{i}", f"contact.{kind}", T + t, "s1", "t", data)

    events = [e(1, 0, "created", channel="email", queue="mail"), e(2, 100, "snoozed", until=T + 1000),
              e(3, 1300, "agent_replied", agent="a"), e(4, 2000, "customer_replied"),
              e(5, 2100, "snoozed", until=T + 9000), e(6, 2500, "customer_replied"),
              e(7, 2600, "agent_replied", agent="a"), e(8, 3000, "closed", agent="a")]
    s = replay("s1", events)
    assert s.pause_spans == ((T + 100, T + 1000), (T + 1300, T + 2000), (T + 2100, T + 2500), (T + 2600, T + 3000))
    row = fact_row(s)
    assert row["first_response_s"] == 1300 and row["sla_first_response_s"] == 400
    assert row["sla_wait_s"] == 400  # email: the SL wait is the first response
    assert row["resolution_s"] == 3000 and row["sla_resolution_s"] == 3000 - 900 - 700 - 400 - 400
    # any arrival order gives the same pauses
    assert replay("s1", events[::-1]).pause_spans == s.pause_spans
    # a restart re-folds the stored events: same pauses
    from pipeline.live.contact_state import ContactState
    assert ContactState.from_dict(s.to_dict()).pause_spans == s.pause_spans


def test_the_landed_tuples_are_the_rows_in_column_order():
    """The worker lands fact_values / agent_interval_values tuples; their positions are the columns."""
    from pipeline.history.contact_facts import agent_interval_values, fact_values

    s = replay("c1", CHAT)
    assert len(fact_values(s)) == len(CONTACT_COLUMNS)
    assert fact_row(s) == dict(zip(CONTACT_COLUMNS, fact_values(s)))
    assert fact_row(s)["first_response_s"] == 10.0 and fact_row(s)["csat"] == 5
    a, b = AgentState("ana", "available", "", 100.0), AgentState("ana", "busy", "", 160.0)
    assert agent_interval_values(a, b) == ("ana", "available", "", 100.0, 160.0, 60.0)
    assert agent_interval_row(a, b) == dict(zip(AGENT_STATE_COLUMNS, agent_interval_values(a, b)))
