"""Recompute under new definitions: what-if leaves history untouched and shows both; a rewrite
replaces the facts (business twins, settings_version) and records the version (issue 14)."""
from __future__ import annotations

import orjson

from pipeline.history import clickhouse_store as store
from pipeline.history import recompute as rc
from pipeline.history.reports import parse_params
from pipeline.live.queue_settings import QueueSettings
from tests.contact_rows import ts

CURRENT = QueueSettings.from_toml("""
site_tz = "UTC"
[queues.mail]
channel = "email"
threshold_s = 3600
""")
NEW = QueueSettings.from_toml("""
site_tz = "UTC"
[calendars.office]
hours = { mon = ["09:00-17:00"], tue = ["09:00-17:00"], wed = ["09:00-17:00"], thu = ["09:00-17:00"], fri = ["09:00-17:00"] }
[queues.mail]
channel = "email"
threshold_s = 3600
calendar = "office"
clock = "business"
""")


def _event(eid, typ, time, subject, **data):
    return {"id": eid, "type": typ, "time": ts(time), "subject": subject, "source": "t", "queue": "mail",
            "channel": "email", "agent": data.get("agent", ""), "data": orjson.dumps(data).decode(),
            "kafka_partition": 0, "kafka_offset": 0}


def _load(ch):
    """Two emails: Friday 16:30 -> reply Monday 09:20 (50 business minutes), and Monday 10:00 ->
    reply 10:30. Facts first computed under CURRENT (24/7), as the worker would have."""
    rows = []
    for cid, created, reply in (("m1", "2024-03-08T16:30:00", "2024-03-11T09:20:00"),
                                ("m2", "2024-03-11T10:00:00", "2024-03-11T10:30:00")):
        rows += [_event(f"{cid}a", "contact.created", created, cid, channel="email", queue="mail"),
                 _event(f"{cid}b", "contact.agent_replied", reply, cid, agent="a1")]
    store.insert_rows(ch, "events", rows)
    assert rc.recompute(ch, int(ts("2024-03-01T00:00:00") * 1000), int(ts("2024-04-01T00:00:00") * 1000),
                        CURRENT) == 2


def _facts(ch):
    return {r["contact_id"]: r for r in store.query_rows(
        ch, "SELECT contact_id, first_response_s, first_response_business_s, settings_version "
            "FROM contacts FINAL ORDER BY contact_id")}


def test_what_if_shows_both_and_leaves_history_untouched(ch):
    _load(ch)
    before = _facts(ch)
    assert before["m1"]["first_response_business_s"] == before["m1"]["first_response_s"]  # 24/7
    assert {r["settings_version"] for r in before.values()} == {CURRENT.version}
    params = parse_params({"from": "2024-03-01", "to": "2024-03-31", "tz": "UTC", "by": "day"})
    out = rc.what_if(ch, int(params.start_utc.timestamp() * 1000), int(params.end_utc.timestamp() * 1000),
                     CURRENT, NEW, params)
    assert _facts(ch) == before  # history untouched
    assert store.query_rows(ch, "SELECT count() AS n FROM system.tables WHERE database = currentDatabase() "
                                "AND name LIKE 'contacts_whatif%'")[0]["n"] == 0  # scratch dropped
    cur, new = out["current"]["conversations"], out["what_if"]["conversations"]
    assert (out["current"]["version"], out["what_if"]["version"]) == (CURRENT.version, NEW.version)
    assert cur["sla_compliance"] == 0.5 and new["sla_compliance"] == 1.0  # m1 late in calendar time only
    assert new["first_response_business_s"]["mean"] == (50 * 60 + 30 * 60) / 2
    assert cur["first_response_business_s"]["mean"] == cur["first_response_s"]["mean"]
    rows = {r["metric"]: r for r in rc.side_by_side(out)}
    assert rows["conversations.sla_compliance"]["change"] == 0.5
    assert rows["queues.answered_within_sl"]["current"] == 1 and rows["queues.answered_within_sl"]["what_if"] == 2


def test_rewrite_replaces_facts_and_records_the_version(ch):
    _load(ch)
    n = rc.recompute(ch, int(ts("2024-03-01T00:00:00") * 1000), int(ts("2024-04-01T00:00:00") * 1000), NEW,
                     clock=lambda: 1_900_000_000.0)
    assert n == 2
    after = _facts(ch)
    assert after["m1"]["first_response_business_s"] == 50 * 60
    assert after["m1"]["first_response_s"] == ts("2024-03-11T09:20:00") - ts("2024-03-08T16:30:00")
    assert {r["settings_version"] for r in after.values()} == {NEW.version}
    assert store.query_rows(ch, "SELECT count() AS n FROM contacts FINAL")[0]["n"] == 2
    v = rc.versions(ch)
    assert [(r["version"], r["origin"]) for r in v] == [(CURRENT.version, "recompute"), (NEW.version, "recompute")]
    assert v[-1]["effective_from_epoch"] == ts("2024-03-01T00:00:00")
    assert QueueSettings.model_validate_json(v[-1]["settings"]).version == NEW.version
    # the worker's version is recorded once per change
    assert rc.record_running_version(ch, NEW, 1_900_000_100.0) is True
    assert rc.record_running_version(ch, NEW, 1_900_000_200.0) is False
    assert rc.record_running_version(ch, CURRENT, 1_900_000_300.0) is True
