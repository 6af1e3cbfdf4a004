"""Topic settings for a cluster (issue 11): replication factor and min.insync.replicas of the topics
Tablero creates, and the start-time check that existing topics agree with the settings."""
from __future__ import annotations

import subprocess
import sys
import uuid

from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

from pipeline.kafka import admin as kafka_admin
from pipeline.kafka.admin import EVENTS_TOPIC, STATE_TOPIC, admin_client, topic_problems
from tests.system.stack import ROOT


def _topics(events=4, state=4, rf=1, isr="1"):
    return {EVENTS_TOPIC: {"partitions": events, "replication_factor": rf, "min_insync_replicas": isr},
            STATE_TOPIC: {"partitions": state, "replication_factor": rf, "min_insync_replicas": isr}}


def test_topics_that_agree_have_no_problems():
    specs = kafka_admin.topic_specs(4)
    assert topic_problems(specs, _topics(), 1, 1) == []
    assert topic_problems(specs, _topics(isr=None), 1, 1) == []  # broker default, and the setting is 1


def test_each_disagreement_names_the_topic_and_what_to_do():
    specs = kafka_admin.topic_specs(8)
    problems = topic_problems(specs, _topics(events=4, state=6), 1, 1)
    assert any(p.startswith(f"topic {EVENTS_TOPIC} has 4 partitions but TABLERO_TOPIC_PARTITIONS=8: set "
                            "TABLERO_TOPIC_PARTITIONS=4") for p in problems), problems
    assert any(p.startswith(f"topic {STATE_TOPIC} has 6 partitions and {EVENTS_TOPIC} 4: they must match")
               and "delete" in p for p in problems), problems
    problems = topic_problems(kafka_admin.topic_specs(4), _topics(rf=1, isr="1"), 3, 2)
    assert sum("TABLERO_KAFKA_REPLICATION_FACTOR=3" in p for p in problems) == 2
    assert sum("TABLERO_KAFKA_MIN_INSYNC_REPLICAS=2" in p and "kafka-configs.sh" in p for p in problems) == 2


def test_created_topics_carry_the_settings_and_a_mismatch_stops_the_start(kafka_bootstrap, tmp_path):
    ns = "tc" + uuid.uuid4().hex[:8]
    env = {"TABLERO_KAFKA": kafka_bootstrap, "TABLERO_KAFKA_NAMESPACE": ns, "TABLERO_DATA_DIR": str(tmp_path),
           "TABLERO_TOPIC_PARTITIONS": "3", "TABLERO_KAFKA_MIN_INSYNC_REPLICAS": "1"}
    # the namespace is read at import: run in a fresh interpreter, as `tablero` itself would
    code = ("from pipeline.kafka.admin import ensure_topics; from pipeline.settings import get_settings as g; "
            "print(','.join(sorted(ensure_topics(g().kafka_bootstrap, g().topic_partitions))))")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ",".join(sorted(f"{ns}.{t}" for t in
                                                 ("tablero.events", "tablero.events.dlq", "tablero.live", "tablero.state")))
    admin = admin_client(kafka_bootstrap)
    try:
        cfg = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, f"{ns}.tablero.events")])
        assert cfg["topic"][f"{ns}.tablero.events"]["min.insync.replicas"]["value"] == "1"
        # a state topic made by hand with another partition count: the next start refuses it
        admin.delete_topics([f"{ns}.tablero.state"])
        for _ in range(100):
            if f"{ns}.tablero.state" not in admin.list_topics():
                break
        admin.create_topics([NewTopic(f"{ns}.tablero.state", 2, 1)])
    finally:
        admin.close()
    start = subprocess.run([sys.executable, "-m", "pipeline.cli", "worker"], env=env | {"COLUMNS": "300"}, cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert start.returncode == 2, start.stdout + start.stderr
    assert f"topic {ns}.tablero.state has 2 partitions and {ns}.tablero.events 3: they must match" in start.stderr
    assert "Traceback" not in start.stderr


def test_a_replication_factor_the_broker_cannot_meet_stops_the_start(kafka_bootstrap, tmp_path):
    env = {"TABLERO_KAFKA": kafka_bootstrap, "TABLERO_KAFKA_NAMESPACE": "rf" + uuid.uuid4().hex[:8],
           "TABLERO_DATA_DIR": str(tmp_path), "TABLERO_KAFKA_REPLICATION_FACTOR": "3",
           "TABLERO_KAFKA_MIN_INSYNC_REPLICAS": "2", "COLUMNS": "300"}
    start = subprocess.run([sys.executable, "-m", "pipeline.cli", "worker"], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert start.returncode == 2, start.stdout + start.stderr
    assert "TABLERO_KAFKA_REPLICATION_FACTOR=3" in start.stderr and "only 1 broker" in start.stderr, start.stderr
    assert "Traceback" not in start.stderr
