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


SCRAM_USER = ("tablero-test", "s3cret-for-tests")


def _local_broker(directory: Path):
    """A local KRaft node with the usual PLAINTEXT listener plus a SASL_SSL one (certificates made
    here, a SCRAM user added when the log dir is formatted): tests of the TLS/SASL settings use it."""
    from pipeline.kafka.local_broker import LocalKafka, SaslSslListener
    from tests.kafka_tls import make_tls_files

    tls = make_tls_files(directory / "tls")
    sasl = SaslSslListener(free_port(), tls.broker, tls.ca, (SCRAM_USER,))
    return LocalKafka(directory, _free_pair(), sasl_ssl=sasl), tls


@pytest.fixture(scope="session")
def _session_broker(tmp_path_factory):
    """The session's broker (None with TABLERO_TEST_KAFKA: an external broker)."""
    if os.environ.get("TABLERO_TEST_KAFKA"):
        yield None
        return
    broker, tls = _local_broker(Path(tmp_path_factory.mktemp("kafka")))
    broker.start()
    try:
        yield broker, tls
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(_session_broker) -> str:
    """A real broker (PLAINTEXT): TABLERO_TEST_KAFKA if set, else a fresh local KRaft node for this run."""
    return os.environ["TABLERO_TEST_KAFKA"] if _session_broker is None else _session_broker[0].bootstrap


@pytest.fixture(scope="session")
def kafka_sasl_ssl(_session_broker, tmp_path_factory) -> dict:
    """The SASL_SSL listener of the session's broker (or of a broker of its own when the session
    uses an external one): TABLERO_* settings that reach it with SCRAM-SHA-256 and a client
    certificate, and the PLAINTEXT bootstrap of the same broker for test set-up."""
    own = None
    if _session_broker is None:
        own = _local_broker(Path(tmp_path_factory.mktemp("kafka-sasl")))
        own[0].start()
    broker, tls = _session_broker or own
    try:
        yield {"plaintext": broker.bootstrap, "tls": tls,
               "env": {"TABLERO_KAFKA": broker.sasl_ssl.bootstrap, "TABLERO_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                       "TABLERO_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256", "TABLERO_KAFKA_USERNAME": SCRAM_USER[0],
                       "TABLERO_KAFKA_PASSWORD": SCRAM_USER[1], "TABLERO_KAFKA_CA_FILE": str(tls.ca),
                       "TABLERO_KAFKA_CERT_FILE": str(tls.client_cert),
                       "TABLERO_KAFKA_KEY_FILE": str(tls.client_key)}}
    finally:
        if own:
            own[0].stop()


@pytest.fixture(scope="session")
def chdb_dir(tmp_path_factory) -> Path:
    """The one embedded ClickHouse directory of this test process (chDB allows one engine path
    per process): tests take a database of their own in it (`chdb://<dir>?database=<name>`)."""
    return tmp_path_factory.mktemp("chdb")
