"""Kafka away in the middle of the stream: the worker waits, then catches up, and counts every
event once (a broker of its own for this test, stopped and started again on the same port)."""
from __future__ import annotations

import time
from pathlib import Path

import clickhouse_connect

from pipeline.kafka.local_broker import LocalKafka
from tests.conftest import _free_pair
from tests.system.stack import Stack, wait_for
from tests.system.test_live_recovery import (expected_versions, lag_is_zero, publish, simulated_events,
                                              wait_for_live)


def test_the_worker_waits_for_kafka_and_catches_up_without_counting_twice(tmp_path: Path):
    broker = LocalKafka(tmp_path / "broker", _free_pair())
    broker.start()
    stack = Stack(broker.bootstrap, tmp_path / "stack")
    events = simulated_events(seed=13)
    half = len(events) // 2
    try:
        stack.start()
        publish(stack, events[:half])
        wait_for(lambda: stack.status()["clickhouse"]["rows"].get("events", 0) >= half * 0.9, timeout=120,
                 what="the first half landed")
        broker.stop()
        time.sleep(12)  # longer than the group session: the worker meets a missing broker
        stack.check_alive()
        broker.start()
        publish(stack, events[half:])
        wait_for_live(stack, events, timeout=180)
        wait_for(lambda: lag_is_zero(stack), timeout=120, what="lag 0")
    finally:
        stack.stop()
        broker.stop()
    client = clickhouse_connect.get_client(dsn=f"chdb://{stack.data_dir.resolve()}/clickhouse")
    ids = {e["id"] for e in events}
    assert client.query("SELECT count(), uniqExact(id) FROM events FINAL").result_rows[0] == (len(ids), len(ids))
    contacts = {e["subject"] for e in events if e["type"] == "contact.created"}
    assert client.query("SELECT count() FROM contacts FINAL").result_rows[0][0] == len(contacts)
    assert client.query("SELECT sum(version) FROM contacts FINAL").result_rows[0][0] == expected_versions(events)
