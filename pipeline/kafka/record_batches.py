"""Records sent as whole batches per topic partition through aiokafka's batch API
(`create_batch` / `send_batch`), for the writes that must be acknowledged before something else
happens (a connector's checkpoint, the worker's offsets commit).

Per-record `send` costs tens of microseconds of Python per record (a future, the partitioner, the
accumulator; Faust's `Topic.send` adds its own on top); filling a batch costs a few. The caller
chooses the partitions. `send_batches` returns once the broker acknowledged every record and raises
on the first failure, having possibly written part of them: callers retry the whole set, which
is harmless for what they write (event ids, compacted state keys, dead-letter identities)."""
from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

# key, value, headers (a list: aiokafka's compiled batch builder takes no other sequence)
Item = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]


async def send_batches(producer, records: Mapping[tuple[str, int], Iterable[Item]]) -> None:
    """Send {(topic, partition): items} in order per partition and wait for every acknowledgement."""
    delivered = []
    for (topic, partition), items in records.items():
        batch = producer.create_batch()
        for key, value, headers in items:
            if batch.append(timestamp=None, key=key, value=value, headers=headers) is None:  # full
                batch.close()
                delivered.append(await producer.send_batch(batch, topic, partition=partition))
                batch = producer.create_batch()
                if batch.append(timestamp=None, key=key, value=value, headers=headers) is None:
                    raise ValueError(f"a record of {len(value or b'')} bytes does not fit in a batch "
                                     f"(the producer's max_batch_size) for {topic}")
        if batch.record_count():
            batch.close()
            delivered.append(await producer.send_batch(batch, topic, partition=partition))
    await asyncio.gather(*delivered)
