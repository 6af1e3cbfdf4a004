"""`tablero alerts test|check|list|ack` against a real HTTP receiver, a real SMTP server and the
session's Kafka broker."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from typer.testing import CliRunner

from pipeline import settings as settings_mod
from pipeline.alerts import records
from pipeline.alerts.engine import Episode
from pipeline.alerts.service import read_book
from pipeline.cli import app
from tests.pipeline.alerts.receivers import HttpReceiver, SmtpReceiver

runner = CliRunner()


@pytest.fixture
def env(monkeypatch):
    def set_env(**values):
        for k, v in values.items():
            monkeypatch.setenv(k, v)
        settings_mod.get_settings.cache_clear()
    yield set_env
    settings_mod.get_settings.cache_clear()


def test_test_sends_a_sample_to_each_target(env, tmp_path):
    http, smtp = HttpReceiver(), SmtpReceiver()
    try:
        env(TABLERO_ALERTS_SMTP=smtp.dsn, TABLERO_ALERTS_FROM="tablero@example.com")
        result = runner.invoke(app, ["alerts", "test", "--to", f"webhook:{http.url}/hook",
                                     "--to", f"slack:{http.url}/slack", "--to", "email:team@example.com",
                                     "--to", "webhook:http://127.0.0.1:1/closed"])
        assert result.exit_code == 1, result.output                     # one target failed
        assert result.output.count("delivered") == 3 and "FAILED     webhook:http://127.0.0.1:1/closed" in result.output
        hook = http.at("/hook")[0]
        assert hook["test"] is True and hook["rule"] == "tablero alerts test"
        assert "TEST" in http.at("/slack")[0]["text"]
        assert smtp.subjects()[0].startswith("TEST [INFO] tablero alerts test")
    finally:
        http.close()
        smtp.close()


def test_check_names_rule_and_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rules]]\nname = "deep"\nmetric = "depth"\nthreshold = 3\n')
    result = runner.invoke(app, ["alerts", "check", str(bad)])
    assert result.exit_code == 2 and "rule 'deep', field metric" in result.output
    good = tmp_path / "good.toml"
    good.write_text('[[rules]]\nname = "deep"\nmetric = "waiting"\nthreshold = 3\n')
    result = runner.invoke(app, ["alerts", "check", str(good)])
    assert result.exit_code == 0 and "1 rule(s) OK: deep" in result.output


def test_list_and_ack_read_and_write_the_topic(env, kafka_bootstrap, monkeypatch):
    topic = f"cli{uuid.uuid4().hex[:8]}.tablero.alerts"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"cleanup.policy": "compact"})])
    admin.close()
    monkeypatch.setattr("pipeline.kafka.admin.ALERTS_TOPIC", topic)
    env(TABLERO_KAFKA=kafka_bootstrap)
    ep = Episode(id="ep42", rule="deep", kind="queue", scope={"queue": "sales", "channel": "voice"},
                 scope_key="queue:sales/voice", severity="critical", metric="waiting", op=">", threshold=5,
                 value=9, started_at=1.8e9, fired_at=1.8e9, rev=1,
                 notifications=[{"state": "firing", "target": "webhook:http://x/y", "status": "undeliverable",
                                 "attempts": 8, "next_at": 0, "error": "HTTP 503", "at": 1.8e9}])
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    producer.send(topic, records.encode_episode(ep, "undeliverable", 1.8e9), key=records.episode_key("ep42")).get(30)
    producer.close()
    result = runner.invoke(app, ["alerts", "list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "ep42" in result.output and "undeliverable (HTTP 503)" in result.output
    result = runner.invoke(app, ["alerts", "ack", "nope"])
    assert result.exit_code == 1 and "no alert episode 'nope'" in result.output
    result = runner.invoke(app, ["alerts", "ack", "ep42", "--by", "Ana"])
    assert result.exit_code == 0 and "acknowledged ep42 (deep) as Ana" in result.output
    book = asyncio.run(read_book(kafka_bootstrap, topic))
    assert book.view(book.episodes["ep42"])["acked_by"] == "Ana"
