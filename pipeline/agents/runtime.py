"""Glue between the worker's Kafka I/O and the pure worker state: it moves records in, and dead
letters, state records, live partials and ClickHouse rows out. No business logic here."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from aiokafka.errors import KafkaError

from pipeline import observability
from pipeline.agents.heap import collect_young, collector_paused, release_free_memory, settle_heap
from pipeline.app import app, settings
from pipeline.kafka.admin import DLQ_TOPIC, EVENTS_TOPIC, STATE_TOPIC
from pipeline.kafka.record_batches import send_batches
from pipeline.history import clickhouse_store
from pipeline.history.landing import encode, land_encoded
from pipeline.history.rows import Rows
from pipeline.live.queue_settings import load_queue_settings
from pipeline.kafka.topics import live_topic
from pipeline.history.warehouse import get_warehouse
from pipeline.live.worker_state import BatchOutput, Record, WorkerState
from pipeline.schemas.dead_letters import DeadLetter

__all__ = ["Record", "runtime"]
log = logging.getLogger(__name__)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
_VALIDATE_SLICE = 2000  # events validated between two looks at the event loop (about 6 ms)


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
        self._topic_partitions: dict[str, list[int]] = {}
        observability.CALLBACKS.live_last = lambda: self._last_live  # age per partition, read at scrape
        # memory attribution, sampled by housekeeping (a scrape runs on another thread)
        self.contacts_in_memory = 0
        self.clickhouse_memory: float | None = None
        self.landed_since_housekeeping = False  # then housekeeping gives chDB's freed memory back
        observability.CALLBACKS.contacts = lambda: self.contacts_in_memory
        observability.CALLBACKS.clickhouse_memory = lambda: self.clickhouse_memory
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
        # Rows of the batches processed since the last landing (their offsets are not committed
        # yet): landed together, at most TABLERO_LAND_INTERVAL_S after the first of them.
        self.pending = Rows()
        # Their state records (key -> (partition, value); a later batch's value replaces an
        # earlier one of the same key): written to tablero.state only after the rows landed, so
        # a state read back after a crash never holds an event whose rows are missing (a
        # released parked event, an agent interval: a replay would not emit those again).
        self.pending_state: dict[bytes, tuple[int, bytes | None]] = {}
        # Their dead letters, written with them after the rows (a crash before the landing
        # writes none; one after it and before the commit writes them again on the replay, and
        # readers keep the first of each: pipeline.schemas.dead_letters).
        self.pending_dead_letters: list[DeadLetter] = []
        self.pending_events = 0
        self.pending_since: float | None = None

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
        settle_heap()

    # -- the batch path -----------------------------------------------------------------------
    async def validate_ahead(self, records: list[Record]) -> list:
        """The batch's records validated before it is applied (see EventStream._one_batch), a
        slice at a time with the event loop let in between: the landing in flight writes its
        state records and flushes as soon as its insert is done, instead of after the whole
        batch's validation (bench step 2: that flush was 40-50 ms of each batch's wait)."""
        validated = self.state.validated
        out: list = []
        with collector_paused():  # the loop's turns in between are short: no wait happens here
            for i in range(0, len(records), _VALIDATE_SLICE):
                out += validated(records[i:i + _VALIDATE_SLICE])
                await asyncio.sleep(0)
        return out

    async def handle_batch(self, records: list[Record], events: list | None = None) -> None:
        if not self._version_recorded and time.monotonic() >= self._version_next_try:
            await self._record_version()  # issue 14: the definition version this worker lands with
        with collector_paused():
            out = self.state.process(records, time.time(), events)
        await self.emit(out)
        observability.observe_batch(len(records), out.applied, out.duplicates)
        self.counters.batches += 1
        self.counters.events += len(records)
        self.pending_events += len(records)

    def landing_due(self) -> bool:
        """Time to land the pending rows (then flush the producer and commit the offsets)."""
        return self.pending_since is not None and (
            time.monotonic() - self.pending_since >= settings.land_interval_s
            or self.pending_events >= settings.batch_max)

    def take_pending(self) -> tuple[Rows, dict, list[DeadLetter]]:
        """The rows waiting to land, their state records and dead letters; the next batch starts
        a new set."""
        rows, self.pending = self.pending, Rows()
        records, self.pending_state = self.pending_state, {}
        letters, self.pending_dead_letters = self.pending_dead_letters, []
        self.pending_events, self.pending_since = 0, None
        return rows, records, letters

    def has_pending(self) -> bool:
        return bool(self.pending or self.pending_state or self.pending_dead_letters)

    async def land_rows(self, rows: Rows) -> None:
        """Land rows in ClickHouse (retried until it succeeds). Needs no lock: batches go on
        being applied meanwhile; only the offsets wait for it."""
        with collector_paused():
            inserts = encode(rows, self.warehouse.column_types)  # on this thread: see landing.py
        self.counters.landing_failures += await land_encoded(self.warehouse, inserts, rows.dedup_token)
        self.landed_since_housekeeping = True

    async def send_dead_letters(self, letters: list[DeadLetter]) -> None:
        """Write a landing's dead letters and wait until Kafka has them (retried like the state
        records: a letter written twice is read once, pipeline.schemas.dead_letters). Batches per
        partition, a source partition's letters in one DLQ partition in their order. A flood of
        bad input (a misconfigured source) must not slow the good events down: Faust's
        per-record send took 28% of the worker's main thread (py-spy) in a bench run where a
        fifth of the events were stale agent states."""
        if not letters:
            return
        async def by_partition() -> dict[tuple[str, int], list]:
            n = len(await self._partitions_of(DLQ_TOPIC))  # metadata: Kafka may be away too
            out: dict[tuple[str, int], list] = {}
            for dl in letters:
                out.setdefault((DLQ_TOPIC, max(dl.partition, 0) % n), []).append((dl.key, dl.value, dl.headers()))
            return out
        await self._write_acknowledged(by_partition, "dead letters")
        self.counters.dead_letters += len(letters)
        observability.observe_dead_letters(dl.code for dl in letters)

    async def store_state(self, records: dict[bytes, tuple[int, bytes | None]]) -> None:
        """Write landed batches' state records to tablero.state and wait until Kafka has them (a
        failed write raises: the landing fails and nothing is committed). Whole batches per
        partition through aiokafka's batch API: 3.3 instead of 15 us of CPU per record here
        (Faust's `send` adds its own on top), and a landing's second of state records no longer
        holds the event loop for tens of milliseconds (measured: /tmp micro-benchmark, 20,000
        records of 700 B on the bench's broker)."""
        by_partition: dict[tuple[str, int], list] = {}
        for key, (partition, value) in records.items():
            by_partition.setdefault((STATE_TOPIC, partition), []).append((key, value, []))
        async def grouped() -> dict[tuple[str, int], list]:
            return by_partition
        await self._write_acknowledged(grouped, "state records")

    async def _write_acknowledged(self, by_partition: Callable[[], Awaitable[dict[tuple[str, int], list]]],
                                  what: str) -> None:
        """Until Kafka acknowledges every record: Kafka away past the producer's timeout means the
        same records again (event ids, compacted keys and dead-letter identities make a repeat
        harmless), never skipped."""
        producer = app.producer._ensure_producer()  # Faust's aiokafka producer (the same flush)
        delay = 0.5
        while True:
            try:
                return await send_batches(producer, await by_partition())
            except KafkaError as exc:
                log.warning("%s not written (%r); retry in %.1fs", what, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _partitions_of(self, topic: str) -> list[int]:
        parts = self._topic_partitions.get(topic)
        if parts is None:
            producer = app.producer._ensure_producer()
            parts = self._topic_partitions[topic] = sorted(await producer.partitions_for(topic))
        return parts

    async def _record_version(self) -> None:
        from pipeline.history.recompute import record_running_version
        try:
            await self.warehouse.call(record_running_version, self.state.queue_settings, time.time())
            self._version_recorded = True
        except Exception as exc:  # best effort: retried a minute later (ClickHouse may be away)
            self._version_next_try = time.monotonic() + 60
            log.warning("could not record the settings version: %r", exc)

    async def emit(self, out: BatchOutput) -> None:
        self.pending_dead_letters += out.dead_letters  # written after the rows land (see there)
        held = self.pending_state
        for partition, key, value in out.changelog:
            held[key] = (partition, value)
        self._dirty.update(out.partitions)
        await self.publish_live(after_batch=True)  # the wallboard need not wait for ClickHouse
        if self.pending_since is None:
            self.pending_since = time.monotonic()
        self.pending.add(out.rows)

    async def housekeeping(self) -> None:
        async with self.lock:
            if not self.ready:
                return
            out = self.state.housekeeping(time.time())
            await self.emit(out)
            if self.pending_since is not None and not self.has_pending():
                self.pending_since = None  # nothing waits to land
            self.contacts_in_memory = sum(len(ps.contacts) for ps in self.state.partitions.values())
            collect_young()  # between batches: their transients are gone, the cycles of the last seconds go
        await release_free_memory()
        try:
            if self.landed_since_housekeeping:
                self.landed_since_housekeeping = False
                await self.warehouse.call(clickhouse_store.release_memory)
            self.clickhouse_memory = await self.warehouse.call(clickhouse_store.memory_tracked)
        except Exception as exc:  # noqa: BLE001 - upkeep; the landing reports ClickHouse trouble
            log.debug("ClickHouse memory not released or sampled: %r", exc)

    async def publish_live(self, after_batch: bool = False) -> None:
        """Partials of the partitions that changed (and of every partition once a second, so the
        API sees this worker alive). A partial comes from the partition's live index in
        O(rows + waits not yet breached), so after a batch every changed partition goes out at once
        (unless TABLERO_LIVE_INTERVAL_S asks for a least spacing; the timer sends it later)."""
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
            elif (p not in self._dirty or since < settings.live_interval_s) and since < 1.0:
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
