"""send_batches against the real broker: every record arrives once, in order per partition, with
its headers, when the records fill many batches."""
from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from pipeline.kafka.record_batches import send_batches


def _topic(bootstrap: str, partitions: int) -> str:
    name = f"rb-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()
    return name


async def _send_and_read(bootstrap: str, topic: str, records: dict) -> dict[int, list]:
    # 16 KB batches: 3,000 records of ~100 B per partition need about 20 of them each
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_batch_size=16 * 1024)
    await producer.start()
    try:
        await send_batches(producer, records)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in (0, 1)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        got: dict[int, list] = {0: [], 1: []}
        while any(len(got[tp.partition]) < ends[tp] for tp in tps):
            for tp, msgs in (await consumer.getmany(timeout_ms=1000)).items():
                got[tp.partition] += msgs
        return got
    finally:
        await consumer.stop()


def test_every_record_once_in_order_with_headers(kafka_bootstrap):
    topic = _topic(kafka_bootstrap, 2)
    records = {(topic, p): [(f"k{p}-{i}".encode(), b"v" * 90 + str(i).encode(), [("tablero.code", f"c{i}".encode())])
                            for i in range(3000)] for p in (0, 1)}
    got = asyncio.run(_send_and_read(kafka_bootstrap, topic, records))
    for p in (0, 1):
        assert [(m.key, m.value, list(m.headers)) for m in got[p]] == records[(topic, p)]


def test_an_empty_set_sends_nothing(kafka_bootstrap):
    topic = _topic(kafka_bootstrap, 2)
    got = asyncio.run(_send_and_read(kafka_bootstrap, topic, {(topic, 0): []}))
    assert got == {0: [], 1: []}
