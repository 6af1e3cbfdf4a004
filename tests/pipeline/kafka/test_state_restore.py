"""Reading partitions' state back from a compacted topic on the real broker: newest value per key,
tombstones remove, only the partitions asked for."""
from __future__ import annotations

import uuid

from kafka import KafkaProducer
from kafka.admin import NewTopic

from pipeline.kafka.admin import admin_client
from pipeline.kafka.state_restore import read_state


async def test_newest_value_per_key_without_tombstones_and_only_the_partitions_asked(kafka_bootstrap):
    topic = f"restore-{uuid.uuid4().hex[:8]}"
    admin = admin_client(kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 3, 1, topic_configs={"cleanup.policy": "compact"})])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for p in range(3):
        for i in range(2000):
            producer.send(topic, key=f"c:{i % 500}".encode(), value=f"{p}:{i}".encode(), partition=p)
        producer.send(topic, key=b"c:7", value=None, partition=p)  # contact 7 left the state
    producer.flush()
    producer.close()

    state = await read_state(kafka_bootstrap, topic, {0, 2})

    assert set(state) == {0, 2}
    for p in (0, 2):
        assert len(state[p]) == 499
        assert b"c:7" not in state[p]
        assert state[p][b"c:8"] == f"{p}:1508".encode()  # the last of 8, 508, 1008, 1508


async def test_an_empty_partition_reads_as_no_state(kafka_bootstrap):
    topic = f"restore-{uuid.uuid4().hex[:8]}"
    admin = admin_client(kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 2, 1)])
    admin.close()
    assert await read_state(kafka_bootstrap, topic, {0, 1}) == {0: {}, 1: {}}
    assert await read_state(kafka_bootstrap, topic, set()) == {}
