"""Issues 3 and 5: the Anonymous Bank month, imported through Kafka, gives the reports a test
computes independently from the raw file; importing it twice lands nothing new."""
from __future__ import annotations

import math

import pytest

from pipeline.connectors.anonymous_bank import iter_events
from pipeline.kafka.publisher import ndjson_lines, publish_lines
from tests.pipeline.connectors import anonymous_bank_expected as bank
from tests.system.stack import wait_for
from tests.datasets import ANONYMOUS_BANK

DATA = ANONYMOUS_BANK
RANGE = {"from": "1999-02-01", "to": "1999-03-01", "tz": "UTC"}


def _publish(stack) -> int:
    rep = publish_lines(ndjson_lines(iter_events(DATA)), stack.bootstrap, max_event_bytes=65536,
                        topic=stack.events_topic)
    assert rep.rejected == 0
    return rep.sent


def _queues(stack, by: str) -> dict:
    r = stack.get("/api/v1/reports/queues", by=by, **RANGE)
    assert r.status_code == 200, r.text
    return r.json()


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


@pytest.fixture(scope="module")
def imported(kafka_bootstrap, tmp_path_factory):
    from tests.system.stack import Stack

    stack = Stack(kafka_bootstrap, tmp_path_factory.mktemp("bank"))
    stack.start()
    sent = _publish(stack)
    wait_for(lambda: _queues(stack, "day")["total"]["offered"] == 31_094 and stack.status()["kafka"]["total_lag"] == 0,
             timeout=600, interval=2, what="the month landed")
    yield stack, sent
    stack.stop()


def test_daily_queue_report_equals_the_raw_file(imported):
    stack, sent = imported
    assert sent == 89_350
    expected = bank.expected()
    report = _queues(stack, "day")
    got = {(r["queue"], r["start"][:10]): r for r in report["rows"]}
    assert set(got) == set(expected["queues"])
    for key, exp in expected["queues"].items():
        row = got[key]
        for field in ("offered", "answered", "abandoned", "answered_within_sl"):
            assert row[field] == exp[field], (key, field)
        assert _close(row["asa_s"], exp["asa_s"]), key
        assert _close(row["aht_s"], exp["aht_s"]), key
    assert report["total"]["offered"] == 31_094
    assert report["total"]["answered"] == 27_162
    assert report["total"]["abandoned"] == 3_932


def test_fifteen_minute_report_adds_up_to_the_days(imported):
    stack, _ = imported
    expected = bank.expected()
    rows = _queues(stack, "15m")["rows"]
    assert all(r["start"][14:16] in ("00", "15", "30", "45") for r in rows)
    per_day: dict = {}
    for r in rows:
        cell = per_day.setdefault((r["queue"], r["start"][:10]), {"offered": 0, "answered": 0, "abandoned": 0,
                                                                  "answered_within_sl": 0})
        for field in cell:
            cell[field] += r[field]
    assert per_day == {k: {f: v[f] for f in ("offered", "answered", "abandoned", "answered_within_sl")}
                       for k, v in expected["queues"].items()}


def test_agents_report_equals_the_raw_file(imported):
    stack, _ = imported
    expected = bank.expected()["agents"]
    r = stack.get("/api/v1/reports/agents", **RANGE)
    assert r.status_code == 200, r.text
    got = {row["agent"]: row for row in r.json()["rows"] if row["agent"] != "NO_SERVER"}
    assert set(got) == set(expected)
    for agent, exp in expected.items():
        assert got[agent]["handled"] == exp["handled"], agent
        assert math.isclose(got[agent]["handle_s"], exp["talk_s"], abs_tol=1e-6), agent


def test_importing_twice_lands_nothing_new(imported):
    stack, _ = imported
    before = _queues(stack, "day")["total"]
    events_before = stack.get("/api/v1/reports/conversations", **RANGE).json()["conversations"]
    _publish(stack)
    wait_for(lambda: stack.status()["kafka"]["total_lag"] == 0, timeout=600, interval=2, what="second import processed")
    assert _queues(stack, "day")["total"] == before
    assert stack.get("/api/v1/reports/conversations", **RANGE).json()["conversations"] == events_before
