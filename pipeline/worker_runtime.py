"""Glue between Faust and the pure worker state: it moves records in, and dead letters,
changelog entries, live partials and ClickHouse rows out. No business logic here."""
from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass

import orjson

from pipeline.app import app, settings
from pipeline.kafka_admin import EVENTS_TOPIC
from pipeline.landing import land
from pipeline.queue_settings import load_queue_settings
from pipeline.tables import state_table
from pipeline.topics import dlq_topic, live_topic
from pipeline.warehouse import get_warehouse
from pipeline.worker_state import BatchOutput, Record, WorkerState, decode_partition

__all__ = ["Record", "runtime"]
log = logging.getLogger(__name__)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Counters:
    batches: int = 0
    events: int = 0
    dead_letters: int = 0
    landing_failures: int = 0


class WorkerRuntime:
    def __init__(self):
        self.state = WorkerState(load_queue_settings(settings.queues_file, settings.site_tz),
                                 max_event_bytes=settings.max_event_bytes,
                                 dedup_retention_s=settings.dedup_retention_days * 86400,
                                 parking_timeout_s=settings.parking_timeout_s)
        self.warehouse = get_warehouse(settings.clickhouse_dsn)
        self.counters = Counters()
        self._last_live: dict[int, float] = {}
        self._dirty: set[int] = set()
        # False from a partition assignment until Faust finished restoring the changelog and
        # resumed the streams: decoding partitions before that would freeze an empty state.
        self.ready = False
        self._changelog_topic = state_table.changelog_topic.get_topic_name()

    # -- partitions ---------------------------------------------------------------------------
    def ensure_loaded(self, partitions) -> None:
        missing = [p for p in partitions if not self.state.has_partition(p)]
        if not missing:
            return
        wanted = set(missing)
        for p in missing:
            self.state.add_partition(p)
        # Recovery filled the table's store from the changelog; decode what belongs to us.
        for key, value in state_table.data.items():
            if value is None:
                continue
            p = decode_partition(value)
            if p in wanted:
                self.state.load(p, key, value)
        self._dirty.update(missing)

    def on_rebalance_started(self, revoked: set[int]) -> None:
        self.ready = False
        self.drop_partitions(revoked)

    def on_rebalance_complete(self) -> None:
        """Changelog restored, streams about to resume: reload every partition lazily from the
        table, which now holds the restored values."""
        self.drop_partitions(set(self.state.partitions))
        self.ready = True

    def drop_partitions(self, partitions: set[int]) -> None:
        for p in partitions:
            self.state.drop_partition(p)
            self._last_live.pop(p, None)

    def assigned(self) -> set[int]:
        return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == EVENTS_TOPIC}

    # -- the batch path -----------------------------------------------------------------------
    async def handle_batch(self, records: list[Record]) -> None:
        if not self.ready:
            # a batch taken before a rebalance: partitions we lost are the new owner's to replay
            records = [r for r in records if self.state.has_partition(r.partition)]
            if not records:
                return
        self.ensure_loaded({r.partition for r in records})
        out = self.state.process(records, time.time())
        await self.emit(out)
        self.counters.batches += 1
        self.counters.events += len(records)

    async def emit(self, out: BatchOutput) -> None:
        for dl in out.dead_letters:
            await dlq_topic.send(key=dl.key, value=dl.value, headers=dl.headers())
        self.counters.dead_letters += len(out.dead_letters)
        # Straight to the producer, not Table.send_changelog: Faust's send_soon buffer drains one
        # message at a time and pauses the stream past 100 pending, which capped throughput.
        # Durability is unchanged: Faust flushes the producer before it commits offsets.
        send = app.producer.send
        changelog = self._changelog_topic
        for partition, key, value in out.changelog:
            if value is None:
                state_table.data.pop(key, None)
            else:
                state_table.data[key] = value
            await send(changelog, key, value, partition, None, None)
        self._dirty.update(out.partitions)
        self.counters.landing_failures += await land(self.warehouse, out.rows)

    async def housekeeping(self) -> None:
        if not self.ready:
            return
        self.ensure_loaded(self.assigned())
        out = self.state.housekeeping(time.time())
        await self.emit(out)

    async def publish_live(self) -> None:
        if not self.ready:
            return
        now = time.time()
        assigned = self.assigned()
        self.ensure_loaded(assigned)
        for p in sorted(assigned):
            if p not in self._dirty and now - self._last_live.get(p, 0) < 1.0:
                continue
            partial = self.state.partial(p, now)
            record = {"partition": p, "worker": WORKER_ID, "generated_at": now, "partial": partial}
            await live_topic.send(key=f"{EVENTS_TOPIC}:{p}".encode(), value=orjson.dumps(record))
            self._last_live[p] = now
            self._dirty.discard(p)


_runtime: WorkerRuntime | None = None


def runtime() -> WorkerRuntime:
    global _runtime
    if _runtime is None:
        _runtime = WorkerRuntime()
    return _runtime
