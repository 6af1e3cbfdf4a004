"""Reports over hand-built contact facts (inserted directly) with hand-computed expectations.
Percentiles are linear-interpolated (quantileExactInclusive, like PERCENTILE.INC)."""
from __future__ import annotations

import datetime as dt

import pytest

from pipeline.history import clickhouse_store as store
from pipeline.history import reports
from pipeline.history.reports import ReportError, parse_params
from tests.contact_rows import fact, ts


def reply_event(eid: str, time: str, agent: str, subject: str) -> dict:
    return {"id": eid, "type": "contact.agent_replied", "time": ts(time), "subject": subject,
            "source": "t", "queue": "support", "channel": "email", "agent": agent,
            "data": '{"agent": "%s"}' % agent, "kafka_partition": 0, "kafka_offset": 0}


@pytest.fixture
def conv_db(ch):
    """Monday 2024-03-04 (UTC): four emails and one chat; one email the day before."""
    rows = [
        fact("e1", "2024-03-04T09:00:00", customer="cu1", tags=["billing"], first_response_s=1800.0,
             replies=1, response_times_s=[1800.0], handle_s=300.0, is_closed=1, closed=ts("2024-03-04T10:00:00"),
             resolution_s=3600.0, csat=5, agent="a1", agents=["a1"]),
        fact("e2", "2024-03-04T10:00:00", customer="cu1", tags=["billing", "vip"], first_response_s=20000.0,
             replies=2, response_times_s=[20000.0, 600.0], handle_s=700.0, is_closed=1, resolution_s=90000.0,
             reopened=1, csat=3, agent="a2", agents=["a1", "a2"]),
        fact("e3", "2024-03-04T23:00:00", customer="cu2"),
        fact("e4", "2024-03-04T14:00:00", is_closed=1, resolution_s=60.0, agent="a2", agents=["a2"]),
        fact("c1", "2024-03-04T12:00:00", channel="chat", customer="cu3", wait_s=30.0, is_answered=1,
             first_response_s=30.0, replies=3, response_times_s=[30.0, 45.0, 200000.0], handle_s=50.0,
             is_closed=1, resolution_s=4000.0, csat=4, agent="a1", agents=["a1"]),
        fact("p1", "2024-03-03T15:00:00", customer="cu9", first_response_s=100.0, replies=1,
             response_times_s=[100.0], handle_s=40.0, is_closed=1, resolution_s=500.0, agent="a1", agents=["a1"]),
    ]
    # an older version of e1 that must be replaced
    store.insert_rows(ch, "contacts", [fact("e1", "2024-03-04T09:00:00", customer="cu1", version=0)])
    store.insert_rows(ch, "contacts", rows)
    store.insert_rows(ch, "events", [
        reply_event("r1", "2024-03-04T09:30:00", "a1", "e1"),
        reply_event("r2", "2024-03-04T12:00:30", "a1", "c1"),
        reply_event("r3", "2024-03-05T01:00:00", "a1", "c1"),   # outside the range
        reply_event("r4", "2024-03-04T15:00:00", "a2", "e2"),
        reply_event("r4", "2024-03-04T15:00:00", "a2", "e2"),   # replayed event id
    ])
    return ch


def test_conversations_report(conv_db):
    p = parse_params({"from": "2024-03-04", "to": "2024-03-04", "tz": "UTC"})
    r = reports.conversations_report(conv_db, p)
    assert r["conversations"] == 5
    assert r["customers"] == 3
    assert r["conversations_per_day"] == 5.0
    assert r["conversations_per_customer"] == pytest.approx(4 / 3)
    assert r["replies"] == 6
    assert r["closed"] == 4
    assert r["replies_per_conversation"] == 1.5
    assert r["first_response_s"] == pytest.approx({"mean": 21830 / 3, "p50": 1800.0, "p90": 16360.0, "count": 3})
    assert r["response_time_s"] == pytest.approx(
        {"mean": 222475 / 6, "p50": 1200.0, "p90": 110000.0, "count": 6})
    assert r["handle_time_s"] == pytest.approx({"mean": 350.0, "p50": 300.0, "p90": 620.0, "count": 3})
    assert r["resolution_time_s"] == pytest.approx({"mean": 24415.0, "p50": 3800.0, "p90": 64200.0})
    assert r["resolved_on_first_reply"] == 1
    assert r["resolved_on_first_reply_share"] == 0.25
    assert r["sla_compliance"] == pytest.approx(2 / 3)   # email 1800 <= 4h, chat 30 <= 60, email 20000 > 4h
    assert r["csat"] == pytest.approx({"mean": 4.0, "good_share": 2 / 3, "ratings": 3})
    assert r["response_time_buckets"] == {"<15m": 3, "15-30m": 0, "30-60m": 1, "1-2h": 0, "2-3h": 0,
                                          "3-6h": 1, "6-12h": 0, "12-24h": 0, "1-2d": 0, ">2d": 1}
    assert r["handle_time_buckets"] == {"<1m": 1, "1-2m": 0, "2-5m": 0, "5-10m": 1, ">10m": 1}
    assert r["busiest"] == [{"weekday": 1, "hour": h, "conversations": 1} for h in (9, 10, 12, 14, 23)]
    assert r["tags"] == [{"tag": "billing", "conversations": 2}, {"tag": "vip", "conversations": 1}]
    prev = r["previous"]
    assert (prev["from"], prev["to"]) == ("2024-03-03T00:00:00+00:00", "2024-03-04T00:00:00+00:00")
    assert prev["conversations"] == 1 and prev["first_response_s"]["mean"] == 100.0
    assert prev["resolved_on_first_reply"] == 1


def test_conversations_filters(conv_db):
    chat = reports.conversations_report(conv_db, parse_params(
        {"from": "2024-03-04", "to": "2024-03-04", "channel": "chat"}))
    assert chat["conversations"] == 1 and chat["response_time_s"]["p50"] == 45.0
    vip = reports.conversations_report(conv_db, parse_params(
        {"from": "2024-03-04", "to": "2024-03-04", "tag": "vip"}))
    assert vip["conversations"] == 1 and vip["replies"] == 2
    a2 = reports.conversations_report(conv_db, parse_params(
        {"from": "2024-03-04", "to": "2024-03-04", "agent": "a2"}))
    assert a2["conversations"] == 2   # e2 (a1 then a2) and e4


def test_conversations_busiest_in_site_tz(conv_db):
    # Asia/Kolkata is UTC+05:30: e3 (23:00 UTC Monday) falls on Tuesday 04:30 local, outside the day
    r = reports.conversations_report(conv_db, parse_params(
        {"from": "2024-03-04", "to": "2024-03-04", "tz": "Asia/Kolkata"}))
    assert r["busiest"] == [{"weekday": 1, "hour": h, "conversations": 1} for h in (14, 15, 17, 19)]
    assert r["conversations"] == 4


def test_agents_report(conv_db):
    r = reports.agents_report(conv_db, parse_params({"from": "2024-03-04", "to": "2024-03-04"}))
    rows = {row["agent"]: row for row in r["rows"]}
    assert set(rows) == {"a1", "a2"}
    a1, a2 = rows["a1"], rows["a2"]
    assert (a1["handled"], a1["replies"], a1["closed"], a1["closed_without_reply"]) == (3, 2, 2, 0)
    assert (a1["handle_s"], a1["aht_s"], a1["first_response_s"], a1["customers"]) == (350.0, 175.0, 915.0, 2)
    assert a1["csat"] == {"mean": 4.5, "good_share": 1.0, "ratings": 2}
    assert (a2["handled"], a2["replies"], a2["closed"], a2["closed_without_reply"]) == (2, 1, 2, 1)
    assert (a2["handle_s"], a2["aht_s"], a2["first_response_s"], a2["customers"]) == (700.0, 700.0, 20000.0, 1)
    assert a2["csat"] == {"mean": 3.0, "good_share": 0.0, "ratings": 1}
    only = reports.agents_report(conv_db, parse_params({"from": "2024-03-04", "to": "2024-03-04", "agent": "a2"}))
    assert [row["agent"] for row in only["rows"]] == ["a2"]


def test_empty_range_gives_zeros_and_nulls(ch):
    p = parse_params({"from": "2030-01-01", "to": "2030-01-31", "by": "15m"})
    conv = reports.conversations_report(ch, p)
    assert conv["conversations"] == 0 and conv["customers"] == 0
    assert conv["first_response_s"] == {"mean": None, "p50": None, "p90": None, "count": 0}
    assert conv["sla_compliance"] is None and conv["csat"]["mean"] is None
    assert conv["conversations_per_customer"] is None and conv["busiest"] == [] and conv["tags"] == []
    assert set(conv["response_time_buckets"].values()) == {0} == set(conv["handle_time_buckets"].values())
    assert list(conv["response_time_buckets"]) == reports.RESPONSE_BUCKETS
    assert list(conv["handle_time_buckets"]) == reports.HANDLE_BUCKETS
    q = reports.queues_report(ch, p)
    assert q["rows"] == [] and q["total"]["offered"] == 0 and q["total"]["service_level"] is None
    assert reports.agents_report(ch, p)["rows"] == []


# ---------------------------------------------------------------------------------------- queues
@pytest.fixture
def voice_db(ch):
    v = dict(queue="sales", channel="voice")
    store.insert_rows(ch, "contacts", [
        fact("v1", "2024-03-04T08:10:00", **v, is_answered=1, wait_s=10.0, handle_s=100.0, is_closed=1, agents=["x"]),
        fact("v2", "2024-03-04T08:20:00", **v, is_answered=1, wait_s=25.0, handle_s=200.0, is_closed=1),
        fact("v3", "2024-03-04T08:29:59", **v, is_abandoned=1, wait_s=3.0, abandoned=ts("2024-03-04T08:30:02")),
        fact("v4", "2024-03-04T08:44:00", **v, is_abandoned=1, wait_s=40.0),
        fact("v5", "2024-03-04T23:30:00", **v, is_answered=1, wait_s=5.0, handle_s=30.0, is_closed=1),
        fact("v6", "2024-03-03T23:30:00", **v, is_answered=1, wait_s=20.0, handle_s=60.0, is_closed=1),
    ])
    return ch


def _strip(row: dict) -> dict:
    return {k: (pytest.approx(v) if isinstance(v, float) else v) for k, v in row.items()}


def test_queues_by_15m_in_madrid(voice_db):
    r = reports.queues_report(voice_db, parse_params(
        {"from": "2024-03-04", "to": "2024-03-04", "tz": "Europe/Madrid", "by": "15m"}))
    got = [(row["start"], row["offered"], row["answered"], row["abandoned"], row["short_abandoned"],
            row["answered_within_sl"], row["asa_s"], row["aht_s"], row["service_level"]) for row in r["rows"]]
    assert got == [
        ("2024-03-04T00:30:00+01:00", 1, 1, 0, 0, 1, 20.0, 60.0, 1.0),   # v6: 20 s is inside (inclusive)
        ("2024-03-04T09:00:00+01:00", 1, 1, 0, 0, 1, 10.0, 100.0, 1.0),
        ("2024-03-04T09:15:00+01:00", 2, 1, 1, 1, 0, 25.0, 200.0, 0.0),
        ("2024-03-04T09:30:00+01:00", 1, 0, 1, 0, 0, None, None, 0.0),
    ]
    assert {row["queue"] for row in r["rows"]} == {"sales"}
    assert r["total"] == _strip({"offered": 5, "answered": 3, "abandoned": 2, "short_abandoned": 1,
                                 "answered_within_sl": 2, "asa_s": 55 / 3, "aht_s": 120.0,
                                 "service_level": 0.5, "asa_business_s": 55 / 3, "aht_business_s": 120.0})


def test_queues_by_day_tz_alignment(voice_db):
    madrid = reports.queues_report(voice_db, parse_params(
        {"from": "2024-03-04", "to": "2024-03-04", "tz": "Europe/Madrid", "by": "day"}))
    assert [(r["start"], r["offered"]) for r in madrid["rows"]] == [("2024-03-04T00:00:00+01:00", 5)]
    utc = reports.queues_report(voice_db, parse_params(
        {"from": "2024-03-03", "to": "2024-03-04", "tz": "UTC", "by": "day"}))
    assert [(r["start"], r["offered"], r["answered"]) for r in utc["rows"]] == [
        ("2024-03-03T00:00:00+00:00", 1, 1), ("2024-03-04T00:00:00+00:00", 5, 3)]


def test_queues_threshold_override_and_short_abandon(voice_db):
    p = parse_params({"from": "2024-03-04", "to": "2024-03-04", "tz": "Europe/Madrid",
                      "by": "week", "short_abandon_s": 2})
    r = reports.queues_report(voice_db, p, thresholds={("sales", "voice"): 30.0})
    row = r["rows"][0]
    assert row["start"] == "2024-03-04T00:00:00+01:00"   # Monday
    # v2 (25 s) now inside; v3 abandoned after 3 s > 2 s is no longer short
    assert (row["answered_within_sl"], row["short_abandoned"], row["service_level"]) == (3, 0, 0.6)
    r = reports.queues_report(voice_db, p, channel_defaults={"voice": 5.0})
    assert r["rows"][0]["answered_within_sl"] == 0


def test_queues_week_and_hour_across_dst(ch):
    # Europe/Madrid switches to CEST on 2024-03-31 at 02:00 local (01:00 UTC)
    store.insert_rows(ch, "contacts", [
        fact("d1", "2024-03-31T00:30:00", queue="q", channel="voice"),   # 01:30 CET
        fact("d2", "2024-03-31T01:30:00", queue="q", channel="voice"),   # 03:30 CEST
    ])
    r = reports.queues_report(ch, parse_params(
        {"from": "2024-03-31", "to": "2024-03-31", "tz": "Europe/Madrid", "by": "hour"}))
    assert [row["start"] for row in r["rows"]] == ["2024-03-31T01:00:00+01:00", "2024-03-31T03:00:00+02:00"]


def test_csv_flattens(voice_db):
    r = reports.queues_report(voice_db, parse_params({"from": "2024-03-04", "to": "2024-03-04", "by": "day"}))
    text = reports.to_csv(r["rows"])
    header, first = text.splitlines()[:2]
    assert header == ("queue,channel,start,offered,answered,abandoned,short_abandoned,"
                      "answered_within_sl,asa_s,aht_s,service_level,asa_business_s,aht_business_s,end")
    assert first.startswith("sales,voice,2024-03-04T00:00:00+00:00,5,")
    assert reports.to_csv([{"a": {"b": None, "c": 1}, "d": [1, 2]}]) == "a.b,a.c,d\n,1,1;2\n"


# ---------------------------------------------------------------------------------------- params
@pytest.mark.parametrize("raw, param", [
    ({"from": "2024-03-05", "to": "2024-03-04"}, "from"),
    ({"from": "2024-03-01", "to": "2024-03-04", "tz": "Mars/Olympus"}, "tz"),
    ({"from": "2024-01-01", "to": "2024-04-02", "by": "15m"}, "by"),
    ({"from": "2024-01-01", "to": "2024-03-04", "by": "minute"}, "by"),
    ({"from": "2024-03-01", "to": "2024-03-04", "channel": "fax"}, "channel"),
    ({"from": "yesterday", "to": "2024-03-04"}, "from"),
    ({"to": "2024-03-04"}, "from"),
    ({"from": "2024-03-01", "to": "2024-03-04", "colour": "red"}, "colour"),
    ({"from": "2024-03-01", "to": "2024-03-04", "short_abandon_s": -1}, "short_abandon_s"),
])
def test_param_errors(raw, param):
    with pytest.raises(ReportError) as info:
        parse_params(raw)
    assert info.value.param == param and info.value.reason
    assert info.value.as_dict()["param"] == param


def test_15m_allows_92_days():
    p = parse_params({"from": "2024-01-01", "to": "2024-04-01", "by": "15m"})   # 92 days, inclusive `to`
    assert p.days == 92


def test_range_semantics_and_previous_period():
    p = parse_params({"from": "2024-03-25", "to": "2024-03-31", "tz": "Europe/Madrid"})
    assert p.start_utc == dt.datetime(2024, 3, 24, 23, tzinfo=dt.timezone.utc)
    assert p.end_utc == dt.datetime(2024, 3, 31, 22, tzinfo=dt.timezone.utc)   # next local midnight, CEST
    prev = p.previous()
    assert prev.echo()["from"] == "2024-03-18T00:00:00+01:00"
    assert prev.echo()["to"] == "2024-03-25T00:00:00+01:00"
    q = parse_params({"from": "2024-03-04T08:00:00", "to": "2024-03-04T10:30:00+01:00", "tz": "Europe/Madrid"})
    assert q.start_utc == dt.datetime(2024, 3, 4, 7, tzinfo=dt.timezone.utc)   # naive = site time
    assert q.end_utc == dt.datetime(2024, 3, 4, 9, 30, tzinfo=dt.timezone.utc)  # datetime `to` exclusive
    prev = q.previous()
    assert (prev.start_utc, prev.end_utc) == (dt.datetime(2024, 3, 4, 4, 30, tzinfo=dt.timezone.utc), q.start_utc)


def test_queue_settings_thresholds_and_formula(voice_db):
    from pipeline.live.queue_settings import QueueSettings
    qs = QueueSettings.from_dict({"channels": {"voice": {"threshold_s": 5}},
                                  "queues": {"sales": {"channel": "voice", "threshold_s": 30,
                                                       "sl_formula": "offered"}}})
    p = parse_params({"from": "2024-03-04", "to": "2024-03-04", "tz": "Europe/Madrid", "by": "day"})
    (row,) = reports.queues_report(voice_db, p, queue_settings=qs)["rows"]
    assert (row["answered_within_sl"], row["service_level"]) == (3, 0.6)   # 3 within 30 s / 5 offered
    other = QueueSettings.from_dict({"channels": {"voice": {"threshold_s": 5}}})
    (row,) = reports.queues_report(voice_db, p, queue_settings=other)["rows"]
    assert row["answered_within_sl"] == 0


# --------------------------------------------------------------------------- business hours (issue 14)
BIZ_SETTINGS = """
site_tz = "UTC"
[calendars.office]
hours = { mon = ["09:00-17:00"], tue = ["09:00-17:00"], wed = ["09:00-17:00"], thu = ["09:00-17:00"], fri = ["09:00-17:00"] }
[queues.mail]
channel = "email"
threshold_s = 3600
calendar = "office"
clock = "business"
resolution_target_s = 3600
[queues.mail-cal]
channel = "email"
threshold_s = 3600
calendar = "office"
resolution_target_s = 3600
"""


def test_business_clock_and_twins_in_reports(ch):
    """Two identical emails: Friday 16:30 UTC, first reply Monday 09:20, closed Monday 12:00. In
    business time the reply took 50 min (inside the 1 h threshold) and resolution 3 h 30 (inside 8 h);
    in calendar time both are late. `mail` runs on the business clock, `mail-cal` on the calendar one."""
    from pipeline.history.contact_facts import fact_row
    from pipeline.live.contact_state import replay
    from pipeline.live.queue_settings import QueueSettings
    from pipeline.schemas.event import Event

    qs = QueueSettings.from_toml(BIZ_SETTINGS)
    rows = []
    for q in ("mail", "mail-cal"):
        evs = [Event(f"{q}1", "contact.created", ts("2024-03-08T16:30:00"), q, "t", {"channel": "email", "queue": q}),
               Event(f"{q}2", "contact.opened", ts("2024-03-11T09:00:00"), q, "t", {"agent": "a1"}),
               Event(f"{q}3", "contact.agent_replied", ts("2024-03-11T09:20:00"), q, "t", {"agent": "a1"}),
               Event(f"{q}4", "contact.closed", ts("2024-03-11T12:00:00"), q, "t", {"agent": "a1"})]
        rows.append(fact_row(replay(q, evs), qs.calendar_for(q), qs.version))
    store.insert_rows(ch, "contacts", rows)
    p = parse_params({"from": "2024-03-08", "to": "2024-03-08", "tz": "UTC", "by": "day"})
    conv = {q: reports.conversations_report(ch, p.model_copy(update={"queue": q}), queue_settings=qs)
            for q in ("mail", "mail-cal")}
    for c in conv.values():
        assert c["first_response_s"]["mean"] == pytest.approx(64 * 3600 + 50 * 60)
        assert c["first_response_business_s"]["mean"] == pytest.approx(50 * 60)
        assert c["response_time_business_s"]["p50"] == pytest.approx(50 * 60)
        assert c["resolution_time_business_s"]["mean"] == pytest.approx(3.5 * 3600)
        assert c["handle_time_business_s"]["mean"] == pytest.approx(20 * 60)
        # resolution SLA (1 h): 3 h 30 of business time to the close, but the clock was paused
        # from the reply (09:20) to the close waiting for the customer: 50 min count
        assert c["resolution_sla_business"] == 1.0 and c["resolution_sla"] == 0.0
    assert conv["mail"]["sla_compliance"] == 1.0       # business clock: 50 min <= 1 h
    assert conv["mail-cal"]["sla_compliance"] == 0.0   # calendar clock: 64 h 50 min > 1 h
    q = reports.queues_report(ch, p, queue_settings=qs)
    by = {r["queue"]: r for r in q["rows"]}
    assert by["mail"]["answered_within_sl"] == 1 and by["mail-cal"]["answered_within_sl"] == 0
    assert by["mail"]["aht_business_s"] == pytest.approx(20 * 60)
    # the contacts list (drill-down) reads the same per-contact clock (contact_measures.sql)
    from pipeline.history import contacts
    for queue, within in (("mail", 1), ("mail-cal", 0)):
        pq = p.model_copy(update={"queue": queue})
        assert contacts.count(ch, pq, contacts.Drill(within_sl=True), qs) == within
        assert contacts.count(ch, pq, contacts.Drill(first_response_within_sl=True), qs) == within
        assert contacts.count(ch, pq, contacts.Drill(first_response_within_sl=False), qs) == 1 - within
        # the resolution SLA cards' lists (issue 17): targeted, within target (calendar, business)
        assert contacts.count(ch, pq, contacts.Drill(resolution_targeted=True), qs) == 1
        assert contacts.count(ch, pq, contacts.Drill(resolved_within_target=True), qs) == 0
        assert contacts.count(ch, pq, contacts.Drill(resolved_within_target_business=True), qs) == 1
    csv_header = reports.to_csv(reports.table_rows("conversations", conv["mail"])).splitlines()[0]
    for col in ("first_response_business_s.mean", "response_time_business_s.p90", "resolution_sla_business",
                "asa_business_s", "handle_time_business_s.p50", "resolution_time_business_s.p90"):
        assert col in csv_header


@pytest.mark.parametrize("day, hours", [("2024-03-31", 23), ("2024-10-27", 25), ("2024-03-04", 24)])
def test_dst_days_have_23_or_25_hours_of_intervals(ch, day, hours):
    """One contact every 15 minutes of real time over the local day: the 15-minute report has
    4 x 23 / 4 x 25 intervals on the days Madrid changes clocks, and the hourly one 23 / 25."""
    from zoneinfo import ZoneInfo
    z = ZoneInfo("Europe/Madrid")
    d = dt.date.fromisoformat(day)
    start = dt.datetime(d.year, d.month, d.day, tzinfo=z).timestamp()
    end = dt.datetime.combine(d + dt.timedelta(days=1), dt.time(0), tzinfo=z).timestamp()
    assert (end - start) / 3600 == hours
    rows, t, i = [], start, 0
    while t < end:
        rows.append(fact(f"d{i}", dt.datetime.fromtimestamp(t, dt.timezone.utc).replace(tzinfo=None).isoformat(),
                         queue="q", channel="voice"))
        t += 900
        i += 1
    store.insert_rows(ch, "contacts", rows)
    for by, per_hour in (("15m", 4), ("hour", 1)):
        r = reports.queues_report(ch, parse_params({"from": day, "to": day, "tz": "Europe/Madrid", "by": by}))
        starts = [row["start"] for row in r["rows"]]
        assert len(starts) == len(set(starts)) == hours * per_hour
        assert sum(row["offered"] for row in r["rows"]) == hours * 4
        assert all(row["offered"] == 4 // per_hour for row in r["rows"])


def test_previous_period_figures_equal_that_period_s_own_report(conv_db):
    # conversations.sql computes both periods in one scan: the previous period's figures must be
    # what a report of that period alone shows, figure by figure
    r = reports.conversations_report(conv_db, parse_params({"from": "2024-03-04", "to": "2024-03-04"}))
    alone = reports.conversations_report(conv_db, parse_params({"from": "2024-03-03", "to": "2024-03-03"}))
    headline = reports._flatten({k: v for k, v in alone.items() if k not in reports._NOT_HEADLINE})
    assert headline["conversations"] >= 1 and headline["first_response_s.mean"] is not None
    previous = reports._flatten({k: v for k, v in r["previous"].items() if k not in ("from", "to")})
    assert previous == pytest.approx(headline)
    # and the other way round: the report's own figures do not include the previous period's
    later = reports.conversations_report(conv_db, parse_params({"from": "2024-03-05", "to": "2024-03-05"}))
    assert later["previous"]["conversations"] == r["conversations"]


def test_a_period_without_contacts_shows_zeros_and_no_means(conv_db):
    # conversations.sql has no row for a period without contacts: the report shows what each
    # aggregate gives over no rows, for the report's period and for the previous one
    empty_after = reports.conversations_report(conv_db, parse_params({"from": "2024-03-05", "to": "2024-03-05"}))
    monday = reports.conversations_report(conv_db, parse_params({"from": "2024-03-04", "to": "2024-03-04"}))
    empty_before = reports.conversations_report(conv_db, parse_params({"from": "2024-03-02", "to": "2024-03-02"}))
    nothing = reports.conversations_report(conv_db, parse_params({"from": "2023-01-01", "to": "2023-01-31"}))
    for r in (empty_after, empty_before["previous"], nothing, nothing["previous"]):
        assert r["conversations"] == 0 and r["customers"] == 0 and r["closed"] == 0
        assert r["first_response_s"] == {"mean": None, "p50": None, "p90": None, "count": 0}
        assert r["csat"] == {"mean": None, "good_share": None, "ratings": 0}
    for r in (empty_after, nothing):
        assert set(r["response_time_buckets"].values()) == set(r["handle_time_buckets"].values()) == {0}
        assert r["busiest"] == [] and r["tags"] == []
    # the non-empty period next to an empty one keeps its own figures, and an empty previous period
    # shows what an empty report period shows
    def headline(r):
        return reports._flatten({k: v for k, v in r.items() if k not in reports._NOT_HEADLINE | {"from", "to"}})
    assert headline(monday)["conversations"] >= 1
    assert headline(empty_after["previous"]) == pytest.approx(headline(monday))
    assert headline(empty_before["previous"]) == headline(nothing)


def test_the_queues_report_s_base_has_the_same_rows_without_the_next_contact(conv_db):
    # queues.sql reads contacts_in_range_no_next.sql: the same rows and columns as
    # contacts_in_range.sql but for the next contact, so a queues figure and its drill-down list
    # (which reads contacts_in_range) count the same contacts
    qp = parse_params({"from": "2024-03-01", "to": "2024-03-05"}).query_parameters()
    next_cols = ("next_contact_created", "next_contact_id", "next_contact_queue")

    def rows(name):
        got = store.query_rows(conv_db, f"SELECT * FROM ({reports.load_query(name)}) ORDER BY contact_id", qp)
        return [{k: v for k, v in r.items() if k not in next_cols} for r in got], [tuple(r[c] for c in next_cols) for r in got]

    with_next, nexts = rows("contacts_in_range")
    without, nones = rows("contacts_in_range_no_next")
    assert len(with_next) >= 5 and with_next == without
    assert set(nones) == {(None, None, None)} and any(n != (None, None, None) for n in nexts)
