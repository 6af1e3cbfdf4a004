"""The local broker's setup errors say what to install (the broker itself is exercised by every
system test: tests/conftest.py starts one per run with LocalKafka)."""
from __future__ import annotations

import pytest

from pipeline.kafka import local_broker as kafka_local
from pipeline.kafka.local_broker import KafkaSetupError, LocalKafka


def test_missing_java_or_maven_is_one_actionable_line(tmp_path, monkeypatch):
    monkeypatch.setenv("TABLERO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))  # neither java nor mvn
    with pytest.raises(KafkaSetupError) as exc:
        kafka_local.resolve_jars(progress=lambda *_: None)
    message = str(exc.value)
    assert "\n" not in message
    assert "install" in message and "TABLERO_KAFKA" in message


def test_a_port_taken_by_something_else_is_reported(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(KafkaSetupError, match="TABLERO_KAFKA_PORT"):
            LocalKafka(tmp_path, port).start(progress=lambda *_: None)


def test_second_start_reuses_the_cache(kafka_bootstrap):
    # the session broker resolved the jars already: resolving again must not call mvn
    assert (kafka_local.cache_dir() / "libs" / ".complete").exists() or kafka_bootstrap
    calls = []
    real = kafka_local.subprocess.run
    kafka_local.subprocess.run = lambda *a, **k: calls.append(a) or real(*a, **k)
    try:
        kafka_local.resolve_jars(progress=lambda *_: None)
    finally:
        kafka_local.subprocess.run = real
    assert calls == []
