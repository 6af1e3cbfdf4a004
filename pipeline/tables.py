"""The worker's durable state: one compacted changelog topic, co-partitioned with
tablero.events. Keys are `c:<contact>`, `a:<agent>`, `p:<partition>` (parked events); values are
orjson bytes written by pipeline/worker_state.py. The worker keeps decoded objects in memory
and writes here only what a batch changed."""
from __future__ import annotations

import faust

from pipeline.app import app, settings

_RAW = faust.Schema(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")

# Faust derives changelog codecs from key_type/value_type (bytes -> "json"), so the changelog
# topic is declared here with raw codecs; otherwise recovery cannot decode our keys.
_changelog = app.topic(
    f"{app.conf.id}-state-changelog",
    schema=_RAW,
    partitions=settings.topic_partitions,
    compacting=True,
    deleting=False,
    acks=False,
    internal=True,
    # roll segments often so compaction keeps one record per key: recovery reads less
    config={"segment.ms": "600000", "min.cleanable.dirty.ratio": "0.1"},
)

state_table = app.Table(
    "state",
    partitions=settings.topic_partitions,
    schema=_RAW,
    changelog_topic=_changelog,
    recovery_buffer_size=10_000,
)
state_table.key_serializer = "raw"
state_table.value_serializer = "raw"
