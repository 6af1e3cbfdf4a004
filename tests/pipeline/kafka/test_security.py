"""TLS / SASL settings -> every client library's arguments (pipeline/kafka/security.py), against
the session broker's SASL_SSL listener (certificates made by tests/kafka_tls.py, a SCRAM user added
when its log dir was formatted: tests/conftest.py)."""
from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka import KafkaConsumer, KafkaProducer

from pipeline.kafka.admin import admin_client
from pipeline.kafka.security import KafkaAccessError, check_access, client_kwargs, faust_credentials
from pipeline.settings import SettingsError, load_settings


def sasl_settings(kafka_sasl_ssl, **overrides):
    values = {k.removeprefix("TABLERO_").lower(): v for k, v in kafka_sasl_ssl["env"].items()}
    values.update(overrides)
    return load_settings(**values)


def test_plaintext_adds_nothing_and_sasl_ssl_fills_every_library(kafka_sasl_ssl):
    assert client_kwargs("aiokafka", load_settings(kafka="127.0.0.1:9092")) == {}
    assert faust_credentials(load_settings(kafka="127.0.0.1:9092")) is None
    s = sasl_settings(kafka_sasl_ssl)
    aio, kp = client_kwargs("aiokafka", s), client_kwargs("kafka-python", s)
    for kw in (aio, kp):
        assert kw["security_protocol"] == "SASL_SSL" and kw["sasl_mechanism"] == "SCRAM-SHA-256"
        assert kw["sasl_plain_username"] == "tablero-test" and kw["sasl_plain_password"] == "s3cret-for-tests"
    assert aio["ssl_context"] is kp["ssl_context"]  # one context per process and file set
    assert kp["ssl_check_hostname"] is True
    creds = faust_credentials(s)
    assert (creds.protocol.value, creds.mechanism.value, creds.username) == ("SASL_SSL", "SCRAM-SHA-256", "tablero-test")


def test_bad_security_settings_name_the_variable(tmp_path):
    with pytest.raises(SettingsError, match="TABLERO_KAFKA_USERNAME is required"):
        load_settings(kafka_security_protocol="SASL_SSL")
    with pytest.raises(SettingsError, match="TABLERO_KAFKA_SASL_MECHANISM"):
        load_settings(kafka_security_protocol="SASL_SSL", kafka_username="u", kafka_sasl_mechanism="GSSAPI")
    with pytest.raises(SettingsError, match="TABLERO_KAFKA_CA_FILE: no such file"):
        load_settings(kafka_security_protocol="SSL", kafka_ca_file=tmp_path / "missing.pem")
    with pytest.raises(SettingsError, match="TABLERO_KAFKA_CERT_FILE and TABLERO_KAFKA_KEY_FILE go together"):
        (tmp_path / "c.pem").write_text("x")
        load_settings(kafka_security_protocol="SSL", kafka_cert_file=tmp_path / "c.pem")
    with pytest.raises(SettingsError, match="TABLERO_KAFKA_MIN_INSYNC_REPLICAS must not exceed"):
        load_settings(kafka_min_insync_replicas=2)
    shown = load_settings(kafka_security_protocol="SASL_SSL", kafka_username="u", kafka_password="hunter2").masked()
    assert shown["TABLERO_KAFKA_PASSWORD"] == "****" and "hunter2" not in str(shown)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"])
def test_both_libraries_round_trip_over_sasl_ssl(kafka_sasl_ssl, mechanism):
    s = sasl_settings(kafka_sasl_ssl, kafka_sasl_mechanism=mechanism)
    check_access(s)
    topic = f"sasl-{mechanism.lower()}-{uuid.uuid4().hex[:6]}"
    admin = admin_client(s.kafka_bootstrap, settings=s)
    try:
        from kafka.admin import NewTopic
        admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=s.kafka_bootstrap, acks="all", **client_kwargs("kafka-python", s))
    producer.send(topic, key=b"k", value=b"from kafka-python").get(30)
    producer.close()

    async def aio() -> list[bytes]:
        p = AIOKafkaProducer(bootstrap_servers=s.kafka_bootstrap, acks="all", **client_kwargs("aiokafka", s))
        await p.start()
        try:
            await p.send_and_wait(topic, b"from aiokafka", key=b"k")
        finally:
            await p.stop()
        c = AIOKafkaConsumer(bootstrap_servers=s.kafka_bootstrap, group_id=None, **client_kwargs("aiokafka", s))
        await c.start()
        try:
            tp = TopicPartition(topic, 0)
            c.assign([tp])
            await c.seek_to_beginning(tp)
            got: list[bytes] = []
            deadline = time.monotonic() + 30
            while len(got) < 2 and time.monotonic() < deadline:
                for msgs in (await c.getmany(timeout_ms=500)).values():
                    got += [m.value for m in msgs]
            return got
        finally:
            await c.stop()

    assert asyncio.run(aio()) == [b"from kafka-python", b"from aiokafka"]
    consumer = KafkaConsumer(bootstrap_servers=s.kafka_bootstrap, group_id=None, auto_offset_reset="earliest",
                             consumer_timeout_ms=10000, **client_kwargs("kafka-python", s))
    consumer.subscribe([topic])
    assert [m.value for _, m in zip(range(2), consumer)] == [b"from kafka-python", b"from aiokafka"]
    consumer.close()


@pytest.mark.parametrize("overrides, setting", [
    ({"kafka_password": "wrong"}, "TABLERO_KAFKA_PASSWORD"),
    ({"kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_username": "nobody"}, "TABLERO_KAFKA_USERNAME"),
    ({"kafka_ca_file": None}, "TABLERO_KAFKA_CA_FILE"),
    ({"kafka_cert_file": None, "kafka_key_file": None}, "TABLERO_KAFKA_CERT_FILE"),
    ({"kafka_security_protocol": "SSL"}, "TABLERO_KAFKA_SECURITY_PROTOCOL"),
])
def test_refused_access_is_one_line_naming_the_setting(kafka_sasl_ssl, overrides, setting):
    s = sasl_settings(kafka_sasl_ssl, **overrides)
    with pytest.raises(KafkaAccessError) as info:  # one connection attempt, not a client's retry loop
        check_access(s)
    message = str(info.value)
    assert setting in message and "\n" not in message, message
