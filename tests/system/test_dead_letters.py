"""Issue 3, bad input on the real broker: every bad record gets a dead letter with its reason and
source position, the worker keeps going, and a fixed event can be replayed."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys

import orjson
from kafka import KafkaProducer

from tests.system.stack import ROOT, Stack, wait_for

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def event(eid, typ, subject, seconds=0, **data) -> dict:
    return {"specversion": "1.0", "id": eid, "source": "test", "type": typ,
            "time": (NOW - dt.timedelta(minutes=30) + dt.timedelta(seconds=seconds)).isoformat(),
            "subject": subject, "data": data}


def dlq(stack: Stack) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "dlq", "show", "--json", "--limit", "1000"],
                         env=stack.env(), cwd=ROOT, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()
    return [orjson.loads(line) for line in out.stdout.splitlines() if line.strip()]


def test_bad_records_are_dead_lettered_and_the_worker_keeps_going(kafka_bootstrap, tmp_path):
    stack = Stack(kafka_bootstrap, tmp_path, extra_env={"TABLERO_PARKING_TIMEOUT_S": "2"})
    stack.start()
    try:
        created = event("ok-1", "contact.created", "ok", channel="chat", queue="support")
        no_zone = event("bad-tz", "contact.created", "tz", channel="chat", queue="support")
        no_zone["time"] = no_zone["time"].replace("+00:00", "")
        huge = event("big", "contact.created", "big", channel="email", queue="mail", tags=["x" * 1000] * 2000)
        bad = [
            (b"{not json", "malformed_json"),
            (b"\xff\xfe\xfd", "not_utf8"),
            (b"42", "not_object"),
            (orjson.dumps(event("u-1", "contact.teleported", "u")), "unknown_type"),
            (orjson.dumps({k: v for k, v in created.items() if k != "subject"}), "invalid_field"),
            (orjson.dumps(no_zone), "invalid_field"),
            (orjson.dumps(event("y-1", "contact.created", "y", channel="fax", queue="q")), "invalid_field"),
            (orjson.dumps(huge), "too_large"),
            (orjson.dumps(event("ok-1", "contact.created", "ok", channel="voice", queue="other")), "duplicate_conflict"),
            (orjson.dumps(event("ghost-2", "contact.answered", "ghost", 5, agent="ana")), "unknown_contact"),
        ]
        good = [created, event("ok-2", "contact.answered", "ok", 10, agent="ana"),
                event("ok-3", "contact.closed", "ok", 20, agent="ana")]
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", max_request_size=4 * 1024 * 1024)
        producer.send(stack.events_topic, key=b"ok", value=orjson.dumps(good[0])).get(30)
        sent = {}
        for value, code in bad:
            meta = producer.send(stack.events_topic, key=b"ok", value=value).get(30)
            sent[(meta.partition, meta.offset)] = (value, code)
        for e in good[1:]:
            producer.send(stack.events_topic, key=b"ok", value=orjson.dumps(e)).get(30)
        # a closed contact answered again: parked for a reopen that never comes
        again = event("ok-4", "contact.answered", "ok", 30, agent="bob")
        meta = producer.send(stack.events_topic, key=b"ok", value=orjson.dumps(again)).get(30)
        sent[(meta.partition, meta.offset)] = (orjson.dumps(again), "contact_closed")
        producer.flush()

        letters = wait_for(lambda: (lambda d: d if len(d) >= len(sent) else None)(dlq(stack)), timeout=120,
                           interval=1, what="every bad record in the dead letters")
        got = {(d["source_partition"], d["source_offset"]): d for d in letters}
        assert set(got) == set(sent)
        for pos, (value, code) in sent.items():
            assert got[pos]["code"] == code, (pos, got[pos])
            assert got[pos]["original"].encode() == value or code == "not_utf8"
            assert got[pos]["reason"]

        # the worker kept going: the valid contact landed, answered and closed
        r = stack.get("/api/v1/reports/conversations", **{"from": (NOW - dt.timedelta(days=1)).date().isoformat(),
                                                         "to": NOW.date().isoformat()})
        assert r.status_code == 200 and r.json()["conversations"] == 1 and r.json()["closed"] == 1

        # fix the event without a zone and send it back
        fixed = tmp_path / "fixed.ndjson"
        no_zone["time"] += "+00:00"
        fixed.write_bytes(orjson.dumps(no_zone) + b"\n")
        out = subprocess.run([sys.executable, "-m", "pipeline.cli", "dlq", "replay", "--file", str(fixed)],
                             env=stack.env(), cwd=ROOT, capture_output=True, timeout=120)
        assert out.returncode == 0, out.stderr.decode()
        wait_for(lambda: stack.get("/api/v1/reports/conversations",
                                   **{"from": (NOW - dt.timedelta(days=1)).date().isoformat(),
                                      "to": NOW.date().isoformat()}).json()["conversations"] == 2,
                 timeout=60, what="the replayed event landed")
    finally:
        stack.stop()
