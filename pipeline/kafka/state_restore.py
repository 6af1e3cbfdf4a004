"""Read the worker state of some partitions back from the compacted tablero.state topic: what a
worker does when it is given partitions (at start, after kill -9, after a rebalance)."""
from __future__ import annotations

import logging
import time

from aiokafka import AIOKafkaConsumer, TopicPartition

from pipeline.kafka.security import client_kwargs

log = logging.getLogger(__name__)


async def read_state(bootstrap: str, topic: str, partitions: set[int],
                     fetch_ms: int = 200) -> dict[int, dict[bytes, bytes]]:
    """Newest value per key, per partition, up to the end offsets seen at the start. A key whose
    newest record is a tombstone (None) is left out."""
    if not partitions:
        return {}
    t0 = time.monotonic()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                client_id="tablero-state-restore", max_partition_fetch_bytes=16 * 1024 * 1024,
                                fetch_max_bytes=64 * 1024 * 1024, **client_kwargs("aiokafka"))
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        state: dict[int, dict[bytes, bytes]] = {p: {} for p in partitions}
        pending = {tp for tp in tps if ends[tp] > 0}
        # a key's records stay in order within its partition, so the last one read wins
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=fetch_ms)
            for tp, messages in batches.items():
                values = state[tp.partition]
                for m in messages:
                    if m.value is None:
                        values.pop(m.key, None)
                    else:
                        values[m.key] = m.value
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        log.info("state of partitions %s read in %.2fs (%d keys)", sorted(partitions),
                 time.monotonic() - t0, sum(len(v) for v in state.values()))
        return state
    finally:
        await consumer.stop()
