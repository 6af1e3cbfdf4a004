"""Publish NDJSON events to `tablero.events` (key = subject), used by `tablero publish`,
`tablero import` and the simulator. Lines are validated first: invalid ones are reported with
their line number and not sent, so a publisher finds its mistakes before the dead-letter topic."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import orjson
from kafka import KafkaProducer

from pipeline.kafka.admin import EVENTS_TOPIC
from pipeline.kafka.security import client_kwargs
from pipeline.schemas.validation import Rejection, validate


@dataclass
class PublishReport:
    sent: int = 0
    rejected: int = 0
    rejections: list[tuple[int, Rejection]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def make_producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, batch_size=256 * 1024,
                         max_request_size=4 * 1024 * 1024, compression_type=None, retries=10,
                         enable_idempotence=True, **client_kwargs("kafka-python"))


def publish_lines(lines: Iterable[bytes], bootstrap: str, *, max_event_bytes: int, rate: float | None = None,
                  topic: str = EVENTS_TOPIC, on_progress=None, producer: KafkaProducer | None = None) -> PublishReport:
    """Validate and send each line; returns once the broker acknowledged every sent event."""
    own = producer is None
    producer = producer or make_producer(bootstrap)
    report = PublishReport()
    t0 = time.monotonic()
    try:
        for lineno, line in enumerate(lines, 1):
            line = line.strip()
            if not line:
                continue
            outcome = validate(line, max_bytes=max_event_bytes)
            if isinstance(outcome, Rejection):
                report.rejected += 1
                if len(report.rejections) < 1000:
                    report.rejections.append((lineno, outcome))
            else:
                producer.send(topic, key=outcome.subject.encode(), value=bytes(line))
                report.sent += 1
                if rate:
                    ahead = report.sent / rate - (time.monotonic() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
            if on_progress is not None:
                on_progress(lineno)
        producer.flush()
    finally:
        if own:
            producer.close()
    report.seconds = time.monotonic() - t0
    return report


def ndjson_lines(events: Iterable[dict]) -> Iterator[bytes]:
    for e in events:
        yield orjson.dumps(e)
