"""Kafka administration the pipeline needs: topics, reachability, consumer lag."""
from __future__ import annotations

import re
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import (InvalidConfigurationError, InvalidReplicationFactorError, KafkaError,
                          PolicyViolationError, TopicAlreadyExistsError)

from pipeline.kafka.security import client_kwargs
from pipeline.settings import Settings, get_settings

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


def admin_client(bootstrap: str, timeout_ms: int = 5000, settings: Settings | None = None) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms, client_id="tablero-admin",
                            **client_kwargs("kafka-python", settings))


class TopicMismatch(RuntimeError):
    """An existing topic disagrees with the settings; the message names it and what to do."""


def ensure_topics(bootstrap: str, partitions: int, settings: Settings | None = None) -> list[str]:
    """Create missing topics (TABLERO_KAFKA_REPLICATION_FACTOR replicas, min.insync.replicas =
    TABLERO_KAFKA_MIN_INSYNC_REPLICAS); returns the names created. Existing topics are not changed,
    but checked: TopicMismatch when their partitions, replication factor or min.insync.replicas
    disagree with the settings (events and state topics must have the same partition count)."""
    s = settings or get_settings()
    rf, min_isr = s.kafka_replication_factor, s.kafka_min_insync_replicas
    specs = topic_specs(partitions)
    admin = admin_client(bootstrap, settings=settings)
    try:
        existing = set(admin.list_topics())
        new = [NewTopic(t.name, t.partitions, rf, topic_configs={**t.config, "min.insync.replicas": str(min_isr)})
               for t in specs if t.name not in existing]
        if new:
            try:
                admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass
            except (InvalidReplicationFactorError, InvalidConfigurationError, PolicyViolationError) as exc:
                why = re.search(r"error_message='([^']*)'", str(exc))
                raise TopicMismatch(
                    f"Kafka refused to create {', '.join(t.name for t in new)} with TABLERO_KAFKA_REPLICATION_FACTOR="
                    f"{rf} and TABLERO_KAFKA_MIN_INSYNC_REPLICAS={min_isr}"
                    f" ({why.group(1) if why else type(exc).__name__}): set them to at most the number of brokers"
                ) from None
        old = [t.name for t in specs if t.name in existing]
        if old:
            described = {d["name"]: d for d in admin.describe_topics(old)}
            configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in old])
            topics = {name: {"partitions": len(d["partitions"]),
                             "replication_factor": min((len(p["replica_nodes"]) for p in d["partitions"]), default=0),
                             "min_insync_replicas": (configs.get("topic", {}).get(name, {})
                                                     .get("min.insync.replicas", {}).get("value"))}
                      for name, d in described.items()}
            problems = topic_problems(specs, topics, rf, min_isr)
            if problems:
                raise TopicMismatch("\n".join(problems))
        return [t.name for t in new]
    finally:
        admin.close()


def topic_problems(specs: list[TopicSpec], topics: dict[str, dict], replication_factor: int,
                   min_insync_replicas: int) -> list[str]:
    """What disagrees between existing topics ({name: partitions, replication_factor,
    min_insync_replicas (str or None: the broker's default)}) and the settings, one line each
    with the topic's name and what to do. Pure: no broker."""
    out = []
    by_name = {t.name: t for t in specs}
    events, state = topics.get(EVENTS_TOPIC), topics.get(STATE_TOPIC)
    if events and events["partitions"] != by_name[EVENTS_TOPIC].partitions:
        out.append(f"topic {EVENTS_TOPIC} has {events['partitions']} partitions but TABLERO_TOPIC_PARTITIONS="
                   f"{by_name[EVENTS_TOPIC].partitions}: set TABLERO_TOPIC_PARTITIONS={events['partitions']} "
                   f"(adding partitions to a keyed topic moves contacts between partitions; to change it, start "
                   f"a new TABLERO_KAFKA_NAMESPACE and publish the events again)")
    if events and state and events["partitions"] != state["partitions"]:
        out.append(f"topic {STATE_TOPIC} has {state['partitions']} partitions and {EVENTS_TOPIC} "
                   f"{events['partitions']}: they must match (the state is co-partitioned with the events); "
                   f"delete {STATE_TOPIC} (kafka-topics.sh --delete --topic {STATE_TOPIC}) and reset the "
                   f"{CONSUMER_GROUP} group's offsets to the earliest, so the worker recreates it from the events")
    for name, t in sorted(topics.items()):
        if t["replication_factor"] != replication_factor:
            out.append(f"topic {name} has replication factor {t['replication_factor']} but "
                       f"TABLERO_KAFKA_REPLICATION_FACTOR={replication_factor}: set the setting to "
                       f"{t['replication_factor']}, or reassign the topic's replicas "
                       f"(kafka-reassign-partitions.sh) to {replication_factor} brokers")
        isr = t.get("min_insync_replicas")
        if (isr is None and min_insync_replicas != 1) or (isr is not None and int(isr) != min_insync_replicas):
            out.append(f"topic {name} has min.insync.replicas={isr or 'broker default'} but "
                       f"TABLERO_KAFKA_MIN_INSYNC_REPLICAS={min_insync_replicas}: run kafka-configs.sh --alter "
                       f"--entity-type topics --entity-name {name} --add-config "
                       f"min.insync.replicas={min_insync_replicas}, or change the setting")
    return out


def reachable(bootstrap: str, settings: Settings | None = None) -> tuple[bool, str]:
    try:
        admin = admin_client(bootstrap, timeout_ms=3000, settings=settings)
        try:
            admin.list_topics()
        finally:
            admin.close()
        return True, ""
    except (KafkaError, OSError, ValueError) as exc:
        return False, f"{type(exc).__name__}: {exc}"


def consumer_lag(bootstrap: str, group: str = CONSUMER_GROUP, topic: str = EVENTS_TOPIC,
                 settings: Settings | None = None) -> list[dict]:
    """Per partition: end offset, committed offset and lag of the worker group."""
    admin = admin_client(bootstrap, settings=settings)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="tablero-lag", enable_auto_commit=False,
                             **client_kwargs("kafka-python", settings))
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
