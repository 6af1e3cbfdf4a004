"""The real app (create_app) for the API tests: chDB in a tmp dir, Kafka = the session broker
(or a given bootstrap), tokens in a tmp file. chDB allows one data directory per process at a
time, so leaving the context closes the app's chDB client and forgets the warehouse."""
from __future__ import annotations

import itertools
import os
import uuid
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from pipeline.history import warehouse as warehouse_mod
from pipeline.settings import load_settings
from supervisor_api import auth
from supervisor_api.main import create_app

ADMIN_TOKEN = "tb_bootstrap_admin-secret-for-tests"
_seq = itertools.count()


def unique_namespace(prefix: str = "t") -> str:
    return f"{prefix}{os.getpid()}-{next(_seq)}-{uuid.uuid4().hex[:6]}"


def make_settings(tmp: Path, kafka: str, chdb_dir: Path, **overrides):
    """Settings for one app: its own database inside the process's one chDB directory."""
    namespace = unique_namespace()
    values = dict(kafka=kafka, kafka_namespace=namespace,
                  clickhouse=f"chdb://{chdb_dir}?database=" + namespace.replace("-", "_"),
                  data_dir=tmp, tokens_file=tmp / "tokens.json", admin_token=ADMIN_TOKEN, queues_file=None)
    values.update(overrides)
    return load_settings(**values)


def close_warehouse(app) -> None:
    wh = app.state.warehouse
    try:
        if wh._shared is not None:  # noqa: SLF001 - test teardown; see module doc
            wh.call_sync(lambda client: client.close())
            wh._shared = None
    finally:
        wh.close()
        warehouse_mod._instances.pop(wh.dsn, None)  # noqa: SLF001


@contextmanager
def running_app(settings, **kwargs):
    """(app, TestClient) with the lifespan run (token store configured, migrations applied)."""
    app = create_app(settings, run_live_feed=False, migrate=kwargs.pop("migrate", True), **kwargs)
    try:
        with TestClient(app) as client:
            yield app, client
    finally:
        close_warehouse(app)
        auth.TOKENS.pop(settings.admin_token, None)


def create_topic(bootstrap: str, topic: str, partitions: int = 2) -> None:
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, partitions, 1, topic_configs={"max.message.bytes": "4194304"})])
    finally:
        admin.close()


def alerts_settings(tmp_path, bootstrap: str, chdb_dir, rules_toml: str):
    """Settings with an alert rules file and a fast evaluation, and their (compacted, one-partition)
    `tablero.alerts` topic created, as `tablero up` would."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    rules = tmp_path / "alerts.toml"
    rules.write_text(rules_toml)
    settings = make_settings(tmp_path, bootstrap, chdb_dir, alerts_file=rules, alerts_interval_s=0.1)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(f"{settings.kafka_namespace}.tablero.alerts", 1, 1,
                                      topic_configs={"cleanup.policy": "compact"})])
    finally:
        admin.close()
    return settings


def read_topic(bootstrap: str, topic: str) -> list:
    """Every record of `topic`, up to the end offsets as of now (acks=all: what the API
    acknowledged is below them), in partition order."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        records = []
        for _ in range(600):
            if all(consumer.position(tp) >= end[tp] for tp in parts):
                break
            for batch in consumer.poll(timeout_ms=100).values():
                records.extend(batch)
        else:
            raise AssertionError(f"could not read {topic} up to {end}")
        return records
    finally:
        consumer.close()
