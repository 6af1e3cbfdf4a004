"""Faust handles of the topics the worker writes through Faust's producer (names and
partitioning: pipeline/kafka/admin.py)."""
from __future__ import annotations

from pipeline.app import app
from pipeline.kafka.admin import DLQ_TOPIC, LIVE_TOPIC

dlq_topic = app.topic(DLQ_TOPIC, key_serializer="raw", value_serializer="raw", partitions=1)
live_topic = app.topic(LIVE_TOPIC, key_serializer="raw", value_serializer="raw", partitions=1)
