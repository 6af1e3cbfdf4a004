"""Email delivery over STARTTLS (the default `TABLERO_ALERTS_SMTP` mode) against a real SMTP server
(aiosmtpd on 127.0.0.1) that refuses mail before STARTTLS, with a certificate from a CA the test
makes (tests/kafka_tls.py). Trusted CA: the message arrives. Untrusted: nothing is sent and the
reason names the certificate, so the notification is kept as undeliverable, not silently lost."""
from __future__ import annotations

import ssl
import time

import pytest

from pipeline.alerts.delivery import deliver
from pipeline.alerts.engine import Episode
from tests.kafka_tls import make_tls_files
from tests.pipeline.alerts.receivers import SmtpReceiver


def _episode() -> Episode:
    return Episode(id="ep-tls", rule="email waits too long", kind="queue",
                   scope={"queue": "support-email", "channel": "email"}, scope_key="queue:support-email/email",
                   severity="warning", metric="oldest_wait_s", op=">", threshold=3600, value=4000,
                   started_at=time.time() - 120, fired_at=time.time(), rev=1)


@pytest.fixture
def starttls_server(tmp_path):
    files = make_tls_files(tmp_path / "tls")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(files.broker)  # key + certificate for 127.0.0.1, signed by the test CA
    server = SmtpReceiver(tls_context=ctx)
    yield server, files
    server.close()


def test_starttls_delivers_when_the_servers_certificate_is_trusted(starttls_server, monkeypatch):
    server, files = starttls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(files.ca))  # as a company CA would be installed
    assert "mode=" not in server.dsn  # the default mode: STARTTLS
    error = deliver("email:team@example.com", _episode(), "firing", smtp=server.dsn, sender="tablero@example.com")
    assert error is None
    assert len(server.messages) == 1 and "email waits too long" in server.subjects()[0]
    assert server.messages[0]["To"] == "team@example.com"


def test_an_untrusted_certificate_is_refused_and_nothing_is_sent(starttls_server, monkeypatch, tmp_path):
    server, _ = starttls_server
    empty = tmp_path / "no-ca.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))  # the test CA is not trusted
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    error = deliver("email:team@example.com", _episode(), "firing", smtp=server.dsn, sender="tablero@example.com")
    assert server.messages == []
    assert error is not None and "CERTIFICATE_VERIFY_FAILED" in error, error
