"""`tablero connect asterisk`: a queue_log file -> `tablero.events`, with a checkpoint. Thin adapter:
the mapping is pipeline/connectors/asterisk.py, the reading pipeline/connectors/file_tail.py, the
producing pipeline/kafka/batch_producer.py (or any producer with send/flush).

Per batch of lines: map each line, validate each event (the same validation as every publisher),
send valid events to `tablero.events` (key = subject) and unreadable lines / invalid events to the
dead letters (code `malformed_source` / the validation code, headers `tablero.source.file` and
`tablero.source.line`), flush the producer (acks=all), and only then write the checkpoint
(file identity + byte offset + line number + the mapper's open calls) atomically. A crash after
the flush and before the checkpoint re-sends that batch: event ids are deterministic, so the
pipeline counts it once. Dead letters of a re-sent batch may appear twice in the DLQ topic.
"""
from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import orjson

from pipeline.connectors.asterisk import SOURCE, LineError, QueueLogMapper
from pipeline.connectors.file_tail import FileTail, Position
from pipeline.schemas.dead_letters import MALFORMED_SOURCE, DeadLetter
from pipeline.schemas.validation import TOO_LARGE, Rejection, validate_obj

CHECKPOINT_VERSION = 1


@dataclass
class Report:
    lines: int = 0
    events: int = 0
    dead_letters: int = 0
    dead_letter_samples: list[str] = field(default_factory=list)
    types: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    rotations: int = 0
    truncations: int = 0

    @property
    def lines_per_s(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0


def checkpoint_path(data_dir: Path, path: Path, source: str) -> Path:
    digest = hashlib.sha1(f"{source}\0{Path(path).resolve()}".encode()).hexdigest()[:12]
    return Path(data_dir) / "connectors" / f"asterisk-{digest}.json"


def load_checkpoint(cp: Path) -> dict | None:
    try:
        raw = orjson.loads(cp.read_bytes())
    except FileNotFoundError:
        return None
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"checkpoint {cp} is not JSON ({exc}); delete it to read the file from the start") from None
    if raw.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"checkpoint {cp} has version {raw.get('version')!r}; delete it to read from the start")
    return raw


def save_checkpoint(cp: Path, position: Position | None, mapper: QueueLogMapper, path: Path) -> None:
    cp.parent.mkdir(parents=True, exist_ok=True)
    tmp = cp.with_suffix(".tmp")
    body = {"version": CHECKPOINT_VERSION, "file": str(Path(path).resolve()),
            "position": position.to_dict() if position else None, "mapper": mapper.snapshot(),
            "saved_at": time.time()}
    with open(tmp, "wb") as f:
        f.write(orjson.dumps(body))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, cp)


class QueueLogConnector:
    def __init__(self, path: Path, producer, *, events_topic: str, dlq_topic: str, checkpoint: Path,
                 max_event_bytes: int = 65536, source: str = SOURCE, agent_names: dict | None = None,
                 from_start: bool = False):
        self.path = Path(path)
        self.producer = producer
        self.events_topic = events_topic
        self.dlq_topic = dlq_topic
        self.checkpoint = checkpoint
        self.max_event_bytes = max_event_bytes
        self.mapper = QueueLogMapper(source=source, agent_names=agent_names)
        saved = None if from_start else load_checkpoint(checkpoint)
        position = None
        if saved is not None:
            self.mapper.restore(saved.get("mapper") or {})
            position = Position.from_dict(saved["position"]) if saved.get("position") else None
        self.tail = FileTail(self.path, position)
        self.report = Report()

    def run(self, *, follow: bool = False, should_stop: Callable[[], bool] = lambda: False,
            poll_s: float = 0.25, on_batch: Callable[[Report], None] | None = None) -> Report:
        t0 = time.monotonic()
        try:
            while not should_stop():
                first, lines = self.tail.read()
                if lines:
                    self._batch(first, lines)
                    if on_batch is not None:
                        on_batch(self.report)
                    continue
                if not follow:
                    break
                time.sleep(poll_s)
        finally:
            self.report.seconds = time.monotonic() - t0
            self.report.rotations, self.report.truncations = self.tail.rotations, self.tail.truncations
            self.tail.close()
        return self.report

    def _batch(self, first: int, lines: list[bytes]) -> None:
        rep = self.report
        send = self.producer.send
        name = self.tail.current_name
        for lineno, raw in enumerate(lines, first):
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if not raw.strip():
                continue
            rep.lines += 1
            try:
                events = self.mapper.map_line(raw.decode("utf-8", errors="replace"))
            except LineError as exc:  # the line itself is the dead letter (cut at the event size limit)
                self._dead(raw[: self.max_event_bytes], None, MALFORMED_SOURCE, f"{name} line {lineno}: {exc}",
                           name, lineno)
                continue
            for ev in events:
                value = orjson.dumps(ev)
                if len(value) > self.max_event_bytes:
                    outcome = Rejection(f"event is {len(value)} bytes; the limit is {self.max_event_bytes}",
                                        None, TOO_LARGE)
                else:
                    outcome = validate_obj(ev)  # the dict itself: no JSON round trip
                if type(outcome) is Rejection:
                    self._dead(value, ev["subject"].encode(), outcome.code,
                               f"{name} line {lineno}: {outcome.reason}", name, lineno, outcome.field)
                    continue
                send(self.events_topic, key=outcome.subject.encode(), value=value)
                rep.events += 1
                rep.types[outcome.type] += 1
        self.producer.flush()  # acks=all: every event of the batch is in Kafka before the checkpoint
        save_checkpoint(self.checkpoint, self.tail.position, self.mapper, self.path)

    def _dead(self, value: bytes, key: bytes | None, code: str, reason: str, name: str, lineno: int,
              field: str | None = None) -> None:
        dl = DeadLetter(value=value, key=key, code=code, reason=reason[:300], field=field, partition=-1, offset=-1,
                        source_file=name, source_line=lineno)
        self.producer.send(self.dlq_topic, key=key, value=value, headers=dl.headers())
        self.report.dead_letters += 1
        if len(self.report.dead_letter_samples) < 20:
            self.report.dead_letter_samples.append(dl.reason)
