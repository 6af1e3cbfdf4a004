"""Faust handles of the topics the worker writes through Faust's producer: the live partials.
State records and dead letters go out as whole batches (pipeline/kafka/record_batches.py).
Names and partitioning: pipeline/kafka/admin.py."""
from __future__ import annotations

from pipeline.app import app
from pipeline.kafka.admin import LIVE_TOPIC

live_topic = app.topic(LIVE_TOPIC, key_serializer="raw", value_serializer="raw", partitions=1)
