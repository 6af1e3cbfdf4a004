"""Faust topic handles (names and partitioning: pipeline/kafka_admin.py)."""
from __future__ import annotations

from pipeline.app import app, settings
from pipeline.kafka_admin import DLQ_TOPIC, EVENTS_TOPIC, LIVE_TOPIC

events_topic = app.topic(EVENTS_TOPIC, key_serializer="raw", value_serializer="raw",
                         partitions=settings.topic_partitions)
dlq_topic = app.topic(DLQ_TOPIC, key_serializer="raw", value_serializer="raw", partitions=1)
live_topic = app.topic(LIVE_TOPIC, key_serializer="raw", value_serializer="raw", partitions=1)
