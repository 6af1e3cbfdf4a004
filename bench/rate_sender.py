"""The load generator's Kafka side for the fixed-rate benches (latency, soak): as cheap as it can
be, because it shares the machine's CPUs with the broker and the worker it measures.

aiokafka's per-message `send` costs ~40 us of the sender's CPU per event (a future, the
partitioner's pure-Python murmur2 at ~10 us, the accumulator); at 10,000 events/s that is 40% of a
CPU taken from the pipeline on a 2-CPU machine, and the sender could not even reach the rate
(8,618/s in the last full bench). Here a tick's events go out as one batch per partition through
aiokafka's batch API, and keys are hashed with crc32 (C): a contact's events still share one
partition, which is all the worker needs (it keys its state by partition and subject; nothing in
the bench publishes the same subjects through another partitioner).

Delivery is checked, not assumed: each batch's delivery future is kept until it resolves and a
failed one raises at the next tick; `drain` waits for all of them."""
from __future__ import annotations

import asyncio
import zlib
from collections import deque


class TickSender:
    def __init__(self, producer, topic: str, partitions: list[int]):
        if not partitions:
            raise ValueError(f"topic {topic!r} has no partitions")
        self.producer = producer
        self.topic = topic
        self.partitions = sorted(partitions)
        self._batches: dict[int, object] = {}
        self._delivery: deque[asyncio.Future] = deque()

    @classmethod
    async def for_topic(cls, producer, topic: str) -> "TickSender":
        return cls(producer, topic, sorted(await producer.partitions_for(topic)))

    def partition_of(self, key: bytes) -> int:
        return self.partitions[zlib.crc32(key) % len(self.partitions)]

    async def add(self, key: bytes, value: bytes) -> None:
        """Queue one record for this tick (a full batch goes out at once)."""
        p = self.partition_of(key)
        batch = self._batches.get(p)
        if batch is None:
            batch = self._batches[p] = self.producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None) is None:
            await self._send(p)  # full: send it and start the next one with this record
            batch = self._batches[p] = self.producer.create_batch()
            batch.append(key=key, value=value, timestamp=None)

    async def send(self) -> None:
        """Send the tick's batches (not waiting for their delivery)."""
        while self._delivery and self._delivery[0].done():
            self._delivery.popleft().result()  # a failed delivery stops the bench
        for p in list(self._batches):
            await self._send(p)

    async def drain(self) -> None:
        await self.send()
        while self._delivery:
            await self._delivery.popleft()

    async def _send(self, partition: int) -> None:
        batch = self._batches.pop(partition)
        batch.close()
        self._delivery.append(await self.producer.send_batch(batch, self.topic, partition=partition))
