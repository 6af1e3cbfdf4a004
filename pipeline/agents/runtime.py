"""Glue between the worker's Kafka I/O and the pure worker state: it moves records in, and dead
letters, state records, live partials and ClickHouse rows out. No business logic here."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass

import orjson

from pipeline.app import app, settings
from pipeline.kafka.admin import EVENTS_TOPIC, STATE_TOPIC
from pipeline.history.landing import land
from pipeline.live.queue_settings import load_queue_settings
from pipeline.kafka.topics import dlq_topic, live_topic
from pipeline.history.warehouse import get_warehouse
from pipeline.live.worker_state import BatchOutput, Record, WorkerState

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
        # The partitions this worker owns, and whether their state is loaded: False from the start
        # of a rebalance until the new assignment's state was read back from tablero.state.
        self.owned: set[int] = set()
        self.ready = False
        # Held while a batch (or housekeeping) changes state and until its output is delivered:
        # a rebalance waits for it, so a partition's next owner reads everything written.
        self.lock = asyncio.Lock()
        self._version_recorded = False
        self._version_next_try = 0.0

    # -- partitions (called by the event stream's rebalance listener) ---------------------------
    def on_revoked(self) -> None:
        self.ready = False
        for p in list(self.state.partitions):
            self.state.drop_partition(p)
        self._last_live.clear()
        self.owned = set()

    def on_assigned(self, partitions: set[int], stored: dict[int, dict[bytes, bytes]]) -> None:
        for p in partitions:
            self.state.add_partition(p)
            for key, value in stored.get(p, {}).items():
                self.state.load(p, key, value)
        self.owned = set(partitions)
        self._dirty.update(partitions)
        self.ready = True

    # -- the batch path -----------------------------------------------------------------------
    async def handle_batch(self, records: list[Record]) -> None:
        if not self._version_recorded and time.monotonic() >= self._version_next_try:
            await self._record_version()  # issue 14: the definition version this worker lands with
        out = self.state.process(records, time.time())
        await self.emit(out)
        self.counters.batches += 1
        self.counters.events += len(records)

    async def _record_version(self) -> None:
        from pipeline.history.recompute import record_running_version
        try:
            await self.warehouse.call(record_running_version, self.state.queue_settings, time.time())
            self._version_recorded = True
        except Exception as exc:  # best effort: retried a minute later (ClickHouse may be away)
            self._version_next_try = time.monotonic() + 60
            log.warning("could not record the settings version: %r", exc)

    async def emit(self, out: BatchOutput) -> None:
        for dl in out.dead_letters:
            await dlq_topic.send(key=dl.key, value=dl.value, headers=dl.headers())
        self.counters.dead_letters += len(out.dead_letters)
        # `send` only queues; delivery is confirmed by the producer flush before offsets commit.
        send = app.producer.send
        for partition, key, value in out.changelog:
            await send(STATE_TOPIC, key, value, partition, None, None)
        self._dirty.update(out.partitions)
        await self.publish_live(after_batch=True)  # the wallboard need not wait for ClickHouse
        self.counters.landing_failures += await land(self.warehouse, out.rows)

    async def housekeeping(self) -> None:
        async with self.lock:
            if not self.ready:
                return
            out = self.state.housekeeping(time.time())
            await self.emit(out)
            await app.producer.flush()

    async def publish_live(self, after_batch: bool = False) -> None:
        """Partials of the partitions that changed (and of every partition once a second, so the
        API sees this worker alive). After a batch: only changed partitions not published within
        the live interval, so an applied batch shows at once without publishing more often."""
        if not self.ready:
            return
        now = time.time()
        for p in sorted(self.owned):
            if not self.state.has_partition(p):
                continue  # revoked since the loop began
            since = now - self._last_live.get(p, 0)
            if after_batch:
                if p not in self._dirty or since < settings.live_interval_s:
                    continue
            elif p not in self._dirty and since < 1.0:
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
