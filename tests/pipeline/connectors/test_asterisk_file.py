"""The queue_log connector against the real broker: events and dead letters land, the checkpoint
resumes exactly after the last line sent."""
from __future__ import annotations

import uuid

import orjson
from kafka import KafkaConsumer, TopicPartition

from pipeline.connectors.asterisk_file import QueueLogConnector, checkpoint_path
from pipeline.kafka.batch_producer import BatchProducer
from pipeline.schemas.dead_letters import DeadLetter

LINES = [
    "1733130001|1733130001.10|support|NONE|ENTERQUEUE||+441632960001|1",
    "this is not a queue_log line",
    "1733130030|1733130001.10|support|PJSIP/201|CONNECT|29|1733130027.11|3",
    "1733130040|1733130040.20|sup\x01port|NONE|ENTERQUEUE||+441632960002|1",  # control char: invalid queue id
    "1733130060|1733130060.30|support|NONE|OUTDIAL|2|+441632960099",
    "1733130090|1733130001.10|support|PJSIP/201|COMPLETECALLER|29|60|1",
]


def _read_all(bootstrap: str, topic: str) -> list:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        out = []
        if not any(ends.values()):
            return out
        for msg in consumer:
            out.append(msg)
            if all(consumer.position(tp) >= ends[tp] for tp in tps):
                break
        return out
    finally:
        consumer.close()


def _run(path, bootstrap, topics, cp, **kw):
    producer = BatchProducer(bootstrap)
    try:
        c = QueueLogConnector(path, producer, events_topic=topics[0], dlq_topic=topics[1], checkpoint=cp, **kw)
        return c, c.run()
    finally:
        producer.close()


def test_connector_sends_dead_letters_and_resumes(kafka_bootstrap, tmp_path):
    ns = "c" + uuid.uuid4().hex[:8]
    topics = (f"{ns}.events", f"{ns}.dlq")
    path = tmp_path / "queue_log"
    path.write_text("\n".join(LINES) + "\n")
    cp = checkpoint_path(tmp_path / "data", path, "asterisk")

    c, rep = _run(path, kafka_bootstrap, topics, cp)
    assert (rep.lines, rep.events, rep.dead_letters) == (6, 4, 2)
    assert c.mapper.ignored == {"OUTDIAL": 1}
    events = [orjson.loads(m.value) for m in _read_all(kafka_bootstrap, topics[0])]
    assert sorted(e["type"] for e in events) == ["contact.answered", "contact.assigned", "contact.closed",
                                                 "contact.created"]
    dead = [DeadLetter.from_record(m.key, m.value, m.headers) for m in _read_all(kafka_bootstrap, topics[1])]
    assert [(d.code, d.source_line) for d in dead] == [("malformed_source", 2), ("invalid_field", 4)]
    assert all(d.source_file == str(path) for d in dead)
    assert dead[0].value == b"this is not a queue_log line" and "line 2" in dead[0].reason

    # more lines: a new run starts after the checkpoint and keeps the open call's contact
    with open(path, "a") as f:
        f.write("1733130100|1733130100.40|support|NONE|ENTERQUEUE||+441632960003|1\n"
                "1733130150|1733130100.40|support|NONE|ABANDON|1|1|50\n")
    c2, rep2 = _run(path, kafka_bootstrap, topics, cp)
    assert (rep2.lines, rep2.events, rep2.dead_letters) == (2, 2, 0)
    assert c2.mapper.ignored == {"OUTDIAL": 1}  # counters travel with the checkpoint
    events = [orjson.loads(m.value) for m in _read_all(kafka_bootstrap, topics[0])]
    assert len(events) == 6 and len({e["id"] for e in events}) == 6

    # nothing new: nothing sent
    _, rep3 = _run(path, kafka_bootstrap, topics, cp)
    assert rep3.lines == 0 and rep3.events == 0

    # from the start again: the same ids (the pipeline deduplicates them)
    _, rep4 = _run(path, kafka_bootstrap, topics, cp, from_start=True)
    events = [orjson.loads(m.value) for m in _read_all(kafka_bootstrap, topics[0])]
    assert rep4.events == 6 and len(events) == 12 and len({e["id"] for e in events}) == 6
