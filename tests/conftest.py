"""Session fixtures: one real Kafka broker per test run (started from the project's own jars)."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_pair() -> int:
    # the broker uses port and port+1 (controller)
    for _ in range(50):
        p = free_port()
        if p < 65000:
            try:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p + 1))
                return p
            except OSError:
                continue
    raise RuntimeError("no free port pair")


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory) -> str:
    """A real broker: TABLERO_TEST_KAFKA if set, else a fresh local KRaft node for this run."""
    external = os.environ.get("TABLERO_TEST_KAFKA")
    if external:
        yield external
        return
    from pipeline.kafka.local_broker import LocalKafka

    broker = LocalKafka(Path(tmp_path_factory.mktemp("kafka")), _free_pair())
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def chdb_dir(tmp_path_factory) -> Path:
    """The one embedded ClickHouse directory of this test process (chDB allows one engine path
    per process): tests take a database of their own in it (`chdb://<dir>?database=<name>`)."""
    return tmp_path_factory.mktemp("chdb")
