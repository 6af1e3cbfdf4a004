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


def test_the_asterisk_connector_waits_for_kafka_and_loses_no_line(tmp_path: Path):
    """`tablero connect asterisk --follow` while its broker goes away: lines written meanwhile stay
    behind the checkpoint (nothing is acknowledged), the connector keeps running and retrying, and
    once Kafka is back every event of the file is in the topic (ids as the file mapped in one go;
    a re-sent batch may repeat ids, which the pipeline counts once)."""
    import orjson
    import subprocess
    import sys
    from kafka import KafkaConsumer, TopicPartition

    from pipeline.connectors.asterisk import LineError, QueueLogMapper
    from pipeline.connectors.asterisk_file import checkpoint_path
    from tests.queue_log_sample import generate
    from tests.system.stack import ROOT

    broker = LocalKafka(tmp_path / "broker", _free_pair())
    broker.start()
    stack = Stack(broker.bootstrap, tmp_path / "stack")
    stack.data_dir.mkdir(parents=True, exist_ok=True)
    env = stack.env()
    subprocess.run([sys.executable, "-c", "from pipeline.kafka.admin import ensure_topics; "
                    "from pipeline.settings import get_settings as g; ensure_topics(g().kafka_bootstrap, 2)"],
                   env=env, cwd=ROOT, check=True, timeout=120)
    lines = generate(300, seed=21)
    half = len(lines) // 2
    path = tmp_path / "queue_log"
    path.write_text("".join(x + "\n" for x in lines[:half]))
    cp = checkpoint_path(stack.data_dir, path, "asterisk")

    def checkpoint_offset() -> int:
        return orjson.loads(cp.read_bytes())["position"]["offset"] if cp.exists() else -1

    log_path = tmp_path / "connector.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "connect", "asterisk", str(path), "--follow"],
                                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    try:
        first = path.stat().st_size
        wait_for(lambda: checkpoint_offset() == first, timeout=120, what="the first half sent")
        broker.stop()
        with open(path, "a") as f:
            f.write("".join(x + "\n" for x in lines[half:]))
        time.sleep(10)  # the connector reads the new lines and cannot get them acknowledged
        assert proc.poll() is None, log_path.read_text(errors="replace")
        assert checkpoint_offset() == first  # nothing acknowledged, nothing checkpointed
        broker.start()
        wait_for(lambda: checkpoint_offset() == path.stat().st_size, timeout=180, what="the second half sent")
        proc.send_signal(2)
        assert proc.wait(60) == 0, log_path.read_text(errors="replace")

        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False, group_id=None)
        parts = [TopicPartition(stack.events_topic, p) for p in sorted(consumer.partitions_for_topic(stack.events_topic))]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        got = set()
        deadline = time.monotonic() + 60
        while any(consumer.position(tp) < end[tp] for tp in parts):
            assert time.monotonic() < deadline, "could not read the events topic to its end"
            for batch in consumer.poll(timeout_ms=200).values():
                got.update(orjson.loads(r.value)["id"] for r in batch)
        consumer.close()
    finally:
        if proc.poll() is None:
            proc.kill()
        broker.stop()
    mapper, want = QueueLogMapper(), set()
    for line in lines:
        try:
            want.update(e["id"] for e in mapper.map_line(line))
        except LineError:
            pass
    assert want and got == want, (len(got), len(want))
    log = log_path.read_text(errors="replace")
    assert "Traceback" not in log, log  # (it warns after a send times out: 30 s, longer than this outage)
