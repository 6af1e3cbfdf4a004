"""Reads the per-partition partial live views from `tablero.live`, merges them and hands the
merged view to the hub: on arrival (every fetch that brought partials; `interval_s` > 0 asks
for a least spacing), and at least every second so service-level aging moves with the clock
even when nothing happens. Workers publish a changed partition after every batch, so the
wallboard trails an event by one batch, one hop through Kafka and one merge."""
from __future__ import annotations

import asyncio
import logging
import time

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from pipeline.kafka.admin import LIVE_TOPIC
from pipeline.live.live_view import merge

log = logging.getLogger(__name__)


class LiveFeed:
    def __init__(self, bootstrap: str, hub, queue_settings, interval_s: float = 0.0, clock=time.time,
                 client_kwargs: dict | None = None):
        self.bootstrap = bootstrap
        self.client_kwargs = client_kwargs or {}  # TLS / SASL: pipeline.kafka.security.client_kwargs
        self.hub = hub
        self.queue_settings = queue_settings
        self.interval_s = interval_s
        self.clock = clock
        self.partials: dict[bytes, dict] = {}
        self.last_publish = 0.0
        self._task: asyncio.Task | None = None

    def apply_record(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        if value is None:  # tombstone: that partition has no state any more
            self.partials.pop(key, None)
            return
        try:
            self.partials[key] = orjson.loads(value)["partial"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("ignoring malformed live record for key %r", key)

    def publish(self) -> None:
        now = self.clock()
        self.hub.publish(merge(list(self.partials.values()), now, self.queue_settings))
        self.last_publish = now

    async def run(self) -> None:
        backoff = 0.5
        while True:
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                        group_id=None, fetch_max_bytes=64 * 1024 * 1024,
                                        max_partition_fetch_bytes=16 * 1024 * 1024, **self.client_kwargs)
            try:
                await consumer.start()
                parts = consumer.partitions_for_topic(LIVE_TOPIC) or {0}
                tps = [TopicPartition(LIVE_TOPIC, p) for p in sorted(parts)]
                consumer.assign(tps)
                await consumer.seek_to_beginning(*tps)
                backoff = 0.5
                pending = False  # partials applied but not yet published
                while True:
                    # wake exactly when the next publication is due, not a whole interval later
                    due = self.last_publish + (self.interval_s if pending else 1.0)
                    wait_ms = max(0, int((due - self.clock()) * 1000))
                    batch = await consumer.getmany(timeout_ms=wait_ms, max_records=10000)
                    for records in batch.values():
                        for r in records:
                            self.apply_record(r.key, r.value)
                            pending = True
                    now = self.clock()
                    if (pending and now - self.last_publish >= self.interval_s) or now - self.last_publish >= 1.0:
                        self.publish()
                        pending = False
            except asyncio.CancelledError:
                raise
            except (KafkaError, OSError) as exc:
                log.warning("live feed: Kafka unavailable (%r); retrying in %.1fs", exc, backoff)
                self.publish()  # keep aging the last known state
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
            finally:
                await consumer.stop()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
