"""Issue 2: events published to the real broker come back from ClickHouse."""
from __future__ import annotations

import datetime as dt

import clickhouse_connect
from kafka import KafkaProducer
import orjson

import subprocess
import sys

from tests.system.stack import ROOT, wait_for


def contact_events(n: int, prefix: str, start: dt.datetime) -> list[dict]:
    out = []
    for i in range(n):
        cid = f"{prefix}-{i}"
        t = start + dt.timedelta(seconds=i)
        out.append({"specversion": "1.0", "id": f"{cid}-created", "source": "test", "type": "contact.created",
                    "time": t.isoformat(), "subject": cid,
                    "data": {"channel": "voice", "queue": "billing" if i % 2 else "sales"}})
        if i % 4 == 0:
            out.append({"specversion": "1.0", "id": f"{cid}-answered", "source": "test", "type": "contact.answered",
                        "time": (t + dt.timedelta(seconds=12)).isoformat(), "subject": cid, "data": {"agent": "ana"}})
    return out


def test_kafka_and_http_events_land_in_clickhouse(stack):
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    direct = contact_events(40, "k", start)
    via_http = contact_events(20, "h", start)
    producer = KafkaProducer(bootstrap_servers=stack.bootstrap, acks="all")
    for e in direct:
        producer.send(stack.events_topic, key=e["subject"].encode(), value=orjson.dumps(e))
    producer.flush()
    producer.close()
    r = stack.post_events(via_http)
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == len(via_http)

    total = len(direct) + len(via_http)
    rows = wait_for(lambda: (s := stack.status()["clickhouse"]["rows"]).get("events", 0) >= total and s,
                    timeout=90, what="events landed")
    assert rows["events"] == total

    kafka = wait_for(lambda: (k := stack.status()["kafka"])["total_lag"] == 0 and k, timeout=60, what="lag 0")
    assert len(kafka["lag"]) == stack.partitions
    assert sum(p["committed"] or 0 for p in kafka["lag"]) == total

    live = subprocess.run([sys.executable, "-m", "pipeline.cli", "live", "--once"], env=stack.env(),
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert live.returncode == 0, live.stderr
    assert "billing" in live.stdout and "sales" in live.stdout

    stack.stop()  # chDB: one process per directory, so read it after the worker stopped
    client = clickhouse_connect.get_client(dsn=f"chdb://{stack.data_dir.resolve()}/clickhouse")
    contacts = client.query("SELECT count(), sum(is_answered), countIf(queue = 'billing') FROM contacts FINAL").result_rows[0]
    assert contacts == (60, 10 + 5, 30)
