"""The worker's durable state: one compacted changelog topic, co-partitioned with
tablero.events. Keys are `c:<contact>`, `a:<agent>`, `p:<contact>` (parked events); values are
orjson bytes written by pipeline/state_codec.py. The worker keeps decoded objects in memory
(pipeline/worker_state.py) and writes here only what a batch changed."""
from __future__ import annotations

import faust

from pipeline.app import app, settings

state_table = app.Table(
    "state",
    partitions=settings.topic_partitions,
    schema=faust.Schema(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"),
)
