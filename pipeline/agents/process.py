"""The worker's event stream: tablero.events in batches through validation, state, dead letters,
state records and ClickHouse landing, then the offsets.

A Faust service, not a Faust stream agent: Faust delivers a stream one event at a time through
queues and futures (measured here: about 190 µs of CPU per event, a ceiling near 5,000 events/s
even for an agent that does nothing). This service reads whole fetches with aiokafka's getmany,
in the same Faust worker that runs the timers and owns the producer, and it commits offsets itself
only after the state records were acknowledged by Kafka and the rows by ClickHouse.

Every batch is applied and its live partials published at once (the wallboard waits for no
insert); its rows join the pending ones, landed together at most TABLERO_LAND_INTERVAL_S after
the first of them (or at TABLERO_BATCH_MAX events), then the producer is flushed and the offsets
committed. Small batches at moderate rates thus make few, large ClickHouse inserts.

A landing runs in the background while the next batches are applied. Its rows are encoded for
ClickHouse on this thread as it starts (pipeline/history/landing.py), so the warehouse thread
only waits for ClickHouse, without the GIL, while the next batch is fetched, validated and applied
here. At most one landing is in flight: when it still runs at the next due time, the rows wait
for the one after, and a batch that would take the rows waiting past TABLERO_BATCH_MAX events
waits for it (back-pressure) after being validated (pure: it reads no state). So at most one
landing's documents and one batch's rows are in memory (bench step 2, 200,000 events: the wait
for the landing fell from 0.6-0.9 s to 0.03 s of the run). Each landing owns the
offsets, the dead letters and the state records of the batches whose rows it carries: it inserts
the rows, then writes the dead letters and the state records (the latest value per key), flushes
the producer and commits the offsets, so the committed offset never passes an event whose row or
state record is not stored, and the state topic never holds an event whose rows are not stored; landings run in order. A
rebalance or a clean stop waits for the landing in flight, then lands and commits what is
pending. A crash replays everything not committed: from the previous state if the state records
were not written (every row comes again), or as duplicates whose rows have landed (emitted again
for contacts; ClickHouse replaces them).

Partitions are owned through the `tablero` consumer group with a static member id
(TABLERO_WORKER_ID): a worker restarted after a crash gets its partitions back without waiting
for the group to notice the crash."""
from __future__ import annotations

import asyncio
import logging
import time

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from mode import Service

from pipeline import observability
from pipeline.kafka import log_throttle
from pipeline.app import app, settings
from pipeline.kafka.admin import CONSUMER_GROUP, EVENTS_TOPIC, STATE_TOPIC
from pipeline.kafka.security import client_kwargs
from pipeline.kafka.state_restore import read_state
from pipeline.agents.gil import shorten_switch_interval
from pipeline.agents.heap import settle_heap
from pipeline.agents.runtime import runtime

log = logging.getLogger(__name__)


def _linger(linger_s: float) -> dict:
    """Fetch settings for TABLERO_BATCH_LINGER_S: the broker answers a fetch once 256 KB (about
    700 events) wait or after the linger, so at moderate rates a batch gathers the events of the
    linger instead of the few that arrived since the last fetch (each batch costs a live
    publication per changed partition and a merge and push in the API whatever its size)."""
    if linger_s <= 0:
        return {}  # aiokafka's defaults: a fetch returns with the first byte
    return {"fetch_min_bytes": 256 * 1024, "fetch_max_wait_ms": max(1, round(linger_s * 1000))}


class _Ownership(ConsumerRebalanceListener):
    """Runs inside the group protocol: the group waits while these do."""

    def __init__(self, stream: EventStream):
        self.stream = stream

    async def on_partitions_revoked(self, revoked) -> None:
        rt = runtime()
        self.stream.generation += 1  # a batch fetched before this point is not processed
        async with rt.lock:  # the batch in flight finishes; processed batches land and commit first
            await self.stream.land_and_commit()
            rt.on_revoked()
        observability.forget_partitions(tp.partition for tp in revoked)

    async def on_partitions_assigned(self, assigned) -> None:
        rt = runtime()
        partitions = {tp.partition for tp in assigned if tp.topic == EVENTS_TOPIC}
        t0 = time.monotonic()
        stored = await read_state(settings.kafka_bootstrap, STATE_TOPIC, partitions)
        async with rt.lock:
            rt.on_assigned(partitions, stored)
        log.warning("partitions %s assigned; state read back in %.2fs", sorted(partitions), time.monotonic() - t0)


@app.service
class EventStream(Service):
    consumer: AIOKafkaConsumer | None = None
    generation = 0
    # next offset per partition of the batches processed but not yet handed to a landing
    uncommitted: dict = {}
    # the landing in flight: lands its rows, flushes the producer, commits its offsets
    landing: asyncio.Task | None = None

    def __post_init__(self) -> None:
        self.uncommitted = {}
        self.landing = None

    async def on_start(self) -> None:
        log_throttle.install()  # Faust has set up logging by now; a broker away must not flood it
        log_throttle.skip_unshown_records()
        settle_heap(startup=True)
        shorten_switch_interval(settings.gil_switch_s)
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=CONSUMER_GROUP,
            group_instance_id=settings.worker_instance_id,
            client_id=f"tablero-worker-{settings.worker_instance_id}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # a crashed worker that does not come back loses its partitions after 8 s, not 45
            session_timeout_ms=8000,
            heartbeat_interval_ms=1000,
            # 8 MB a fetch (about 30,000 events) is more than a batch: larger fetches only keep
            # more records alive at once during a backlog. Measured with 100,000 open contacts
            # (bench step 6), pairs in one session: 508 vs 517 MB RSS after the burst (64 MB
            # fetches), and throughput no lower. A partition's share stays at the events topic's
            # max.message.bytes (4 MB, kafka/admin.py): aiokafka skips a batch larger than it
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_bytes=8 * 1024 * 1024,
            **_linger(settings.batch_linger_s),
            **client_kwargs("aiokafka"),
        )
        self.consumer.subscribe([EVENTS_TOPIC], listener=_Ownership(self))
        await self.consumer.start()

    async def on_stop(self) -> None:
        if self.consumer is not None:
            rt = runtime()
            try:  # a clean stop leaves nothing processed but uncommitted (a restart would replay it)
                async with rt.lock:
                    if rt.ready:
                        await asyncio.wait_for(self.land_and_commit(), 20)
            except Exception as exc:  # noqa: BLE001 - replayed and deduplicated after the restart
                log.warning("stopping with processed events not committed (%r); they are replayed", exc)
            await self.consumer.stop()  # a static member keeps its partitions for the session timeout

    @Service.task
    async def _consume(self) -> None:
        try:
            while not self.should_stop:
                await self._one_batch()
        except Exception as exc:
            # A bug must stop the worker, not just this task: nothing of the failed batch was
            # committed, so a restart reads it again from the state topic and the offsets.
            log.critical("event stream failed, stopping the worker: %r", exc, exc_info=True)
            await app.crash(exc)
            raise

    async def _one_batch(self) -> None:
        rt = runtime()
        if self.landing is not None and self.landing.done():
            task, self.landing = self.landing, None
            task.result()  # a failed landing stops the worker (see _consume): nothing was committed
        batches = await self.consumer.getmany(timeout_ms=int(settings.batch_within_s * 1000),
                                              max_records=settings.batch_max)
        if not batches:
            if rt.landing_due():
                async with rt.lock:
                    if rt.ready:
                        await self.land_and_commit()
            return
        # getmany returns records of the current assignment; a rebalance can only start while we
        # wait for the lock (held by housekeeping), and then these records are not ours to apply
        generation = self.generation
        async with rt.lock:
            if generation != self.generation or not rt.ready:
                self._read_again(batches)
                return
            t0 = time.perf_counter()
            # aiokafka's records have the key, value, partition and offset the batch step reads
            records = [m for messages in batches.values() for m in messages]
            events = None
            if self.landing is not None and rt.pending_events + len(records) > settings.batch_max:
                # the rows waiting would pass a batch: this batch waits for the landing, and
                # meanwhile it is validated (pure: reads no state) while the insert runs on the
                # warehouse thread
                events = await rt.validate_ahead(records)
                await self._finish_landing()
            await rt.handle_batch(records, events)
            for tp, messages in batches.items():
                self.uncommitted[tp] = messages[-1].offset + 1
            if rt.landing_due():
                await self._start_landing()
            observability.BATCH_DURATION.observe(time.perf_counter() - t0)
            observability.observe_lag({tp.partition: (self.consumer.highwater(tp), messages[-1].offset)
                                       for tp, messages in batches.items()})

    async def _start_landing(self) -> None:
        """Hand the pending rows and their offsets to a background landing. Called with the
        runtime's lock held, after a batch."""
        rt = runtime()
        if self.landing is not None:
            if not self.landing.done() and rt.pending_events < settings.batch_max:
                return  # one landing at a time: these rows go with the next one
            await self._finish_landing()  # back-pressure: ClickHouse is slower than Kafka
        self.landing = asyncio.create_task(self._land_and_commit(*self._hand_over()))
        # it starts now, not at the loop's next wait: it encodes its rows here, then its insert
        # runs on the warehouse thread while this thread fetches and applies the next batch
        await asyncio.sleep(0)

    async def _finish_landing(self) -> None:
        task, self.landing = self.landing, None
        if task is not None:
            await task

    async def land_and_commit(self) -> None:
        """Everything processed so far landed and committed before returning: the landing in
        flight first, then the rest. Called with the runtime's lock held (rebalance, stop, idle)."""
        await self._finish_landing()
        await self._land_and_commit(*self._hand_over())

    def _hand_over(self) -> tuple:
        """The pending rows, their state records and dead letters, and the offsets they complete,
        taken together for one landing."""
        offsets, self.uncommitted = self.uncommitted, {}
        return (*runtime().take_pending(), offsets)

    async def _land_and_commit(self, rows, state_records: dict, dead_letters: list, offsets: dict) -> None:
        """The rows into ClickHouse, then the dead letters and the state records written and
        acknowledged by Kafka, then the offsets committed: in this order, so a crash before the
        state records replays these events from the previous state (every row comes again, ids
        deduplicate), and a crash after them replays them as duplicates whose rows have landed.
        A dead letter written before a crash is written again by the replay; readers keep one."""
        rt = runtime()
        await rt.land_rows(rows)
        await rt.send_dead_letters(dead_letters)
        await rt.store_state(state_records)
        await app.producer.flush()
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError, KafkaError) as exc:
            # the group moved on; the new owner replays these events and ids deduplicate them
            log.warning("offsets not committed (%s); the partitions' next owner replays them", exc)

    def _read_again(self, batches) -> None:
        """Put the position of partitions we still own back to the first record not applied."""
        owned = self.consumer.assignment()
        for tp, messages in batches.items():
            if tp in owned:
                self.consumer.seek(tp, messages[0].offset)
