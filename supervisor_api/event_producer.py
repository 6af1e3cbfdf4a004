"""Kafka producer for the ingest endpoint: answers only after the broker acknowledged (acks=all)."""
from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from pipeline.kafka.admin import EVENTS_TOPIC


def events_topic(settings) -> str:
    """`tablero.events` under the settings' namespace (the app's settings, not the import-time
    environment that pipeline.kafka.admin.EVENTS_TOPIC was computed from)."""
    ns = settings.kafka_namespace
    return f"{ns}.tablero.events" if ns else "tablero.events"


class KafkaUnavailable(RuntimeError):
    pass


class EventProducer:
    def __init__(self, bootstrap: str, topic: str = EVENTS_TOPIC, timeout_s: float = 10.0,
                 client_kwargs: dict | None = None):
        self.bootstrap = bootstrap
        self.client_kwargs = client_kwargs or {}  # TLS / SASL: pipeline.kafka.security.client_kwargs
        self.topic = topic
        self.timeout_s = timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def _ensure(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True,
                    linger_ms=2, max_request_size=4 * 1024 * 1024, request_timeout_ms=int(self.timeout_s * 1000),
                    **self.client_kwargs,
                )
                try:
                    await asyncio.wait_for(producer.start(), self.timeout_s)
                except (KafkaError, OSError, asyncio.TimeoutError) as exc:
                    await producer.stop()
                    raise KafkaUnavailable(f"Kafka at {self.bootstrap} unavailable: {exc!r}") from exc
                self._producer = producer
            return self._producer

    async def send_all(self, items: list[tuple[bytes, bytes]]) -> None:
        """Send (key, value) pairs; return when every one is acknowledged, else raise KafkaUnavailable."""
        if not items:
            return
        producer = await self._ensure()
        try:
            futures = [await producer.send(self.topic, value=v, key=k) for k, v in items]
            await asyncio.wait_for(asyncio.gather(*futures), self.timeout_s)
        except (KafkaError, OSError, asyncio.TimeoutError) as exc:
            raise KafkaUnavailable(f"Kafka did not acknowledge: {exc!r}") from exc

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
