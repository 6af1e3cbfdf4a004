"""Kafka administration the pipeline needs: topics, reachability, consumer lag."""
from __future__ import annotations

from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from pipeline.settings import get_settings

_NS = get_settings().kafka_namespace
_PREFIX = f"{_NS}." if _NS else ""
EVENTS_TOPIC = f"{_PREFIX}tablero.events"
DLQ_TOPIC = f"{_PREFIX}tablero.events.dlq"
LIVE_TOPIC = f"{_PREFIX}tablero.live"
STATE_TOPIC = f"{_PREFIX}tablero.state"
CONSUMER_GROUP = f"{_NS}-tablero" if _NS else "tablero"
# alerts (issue 15): episode state and lifecycle; the group whose one member evaluates alerts
ALERTS_TOPIC = f"{_PREFIX}tablero.alerts"
ALERTS_GROUP = f"{_NS}-tablero-alerts" if _NS else "tablero-alerts"

_WEEK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def topic_specs(partitions: int) -> list[TopicSpec]:
    return [
        # Events are the log history is recomputed from: keep them well past the dedup window.
        TopicSpec(EVENTS_TOPIC, partitions, {"retention.ms": str(4 * _WEEK_MS), "max.message.bytes": "4194304"}),
        TopicSpec(DLQ_TOPIC, 1, {"retention.ms": str(4 * _WEEK_MS), "max.message.bytes": "4194304"}),
        # The worker's contact/agent state, co-partitioned with the events: compaction keeps the
        # newest value per key, so a worker taking a partition reads one record per open contact.
        TopicSpec(STATE_TOPIC, partitions, {"cleanup.policy": "compact", "segment.ms": "600000",
                                            "min.cleanable.dirty.ratio": "0.1", "max.message.bytes": "8388608"}),
        # One record per source partition (its partial live view): compaction keeps the newest.
        TopicSpec(LIVE_TOPIC, 1, {"cleanup.policy": "compact", "segment.ms": "60000",
                                  "min.cleanable.dirty.ratio": "0.1", "max.message.bytes": "8388608"}),
        # Alert episodes (pipeline/alerts/records.py): one partition = one owner of evaluation.
        TopicSpec(ALERTS_TOPIC, 1, {"cleanup.policy": "compact", "segment.ms": "3600000",
                                    "min.cleanable.dirty.ratio": "0.1"}),
    ]


def admin_client(bootstrap: str, timeout_ms: int = 5000) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms, client_id="tablero-admin")


def ensure_topics(bootstrap: str, partitions: int) -> list[str]:
    """Create missing topics; returns the names created. Existing ones are left as they are."""
    admin = admin_client(bootstrap)
    try:
        existing = set(admin.list_topics())
        new = [NewTopic(s.name, s.partitions, 1, topic_configs=s.config)
               for s in topic_specs(partitions) if s.name not in existing]
        if new:
            try:
                admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass
        return [t.name for t in new]
    finally:
        admin.close()


def reachable(bootstrap: str) -> tuple[bool, str]:
    try:
        admin = admin_client(bootstrap, timeout_ms=3000)
        try:
            admin.list_topics()
        finally:
            admin.close()
        return True, ""
    except (KafkaError, OSError, ValueError) as exc:
        return False, f"{type(exc).__name__}: {exc}"


def consumer_lag(bootstrap: str, group: str = CONSUMER_GROUP, topic: str = EVENTS_TOPIC) -> list[dict]:
    """Per partition: end offset, committed offset and lag of the worker group."""
    admin = admin_client(bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="tablero-lag", enable_auto_commit=False)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        ends = consumer.end_offsets(tps) if tps else {}
        offsets = admin.list_group_offsets({group: tps}).get(group, {}) if tps else {}
        committed = {tp: meta.offset for tp, meta in offsets.items()}
        rows = []
        for tp in tps:
            c = committed.get(tp, -1)
            end = ends.get(tp, 0)
            c = None if c is None or c < 0 else c
            rows.append({"partition": tp.partition, "end_offset": end, "committed": c,
                         "lag": end - (c or 0)})
        return rows
    finally:
        consumer.close()
        admin.close()
