"""`tablero connect imap --once` as a process: a real dovecot mailbox into the session's Kafka."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import orjson

from tests.dovecot import Dovecot
from tests.system.stack import ROOT

sys.path.insert(0, str(ROOT / "tests" / "supervisor_api"))
from _app import create_topic, read_topic  # noqa: E402


def test_once_reads_the_mailbox_into_kafka(kafka_bootstrap, tmp_path):
    namespace = f"imap{uuid.uuid4().hex[:8]}"
    topic = f"{namespace}.tablero.events"
    create_topic(kafka_bootstrap, topic)
    dovecot = Dovecot()
    dovecot.start()
    try:
        when = datetime.now(timezone.utc) - timedelta(hours=1)
        dovecot.deliver("INBOX", b"From: <bob@customer.test>\r\nTo: <support@acme.test>\r\nSubject: Help\r\n"
                                 b"Message-ID: <c1@customer.test>\r\n\r\nHello\r\n", when)
        env = {**os.environ, "TABLERO_KAFKA": kafka_bootstrap, "TABLERO_KAFKA_NAMESPACE": namespace,
               "TABLERO_DATA_DIR": str(tmp_path), "TABLERO_IMAP_HOST": "127.0.0.1",
               "TABLERO_IMAP_PORT": str(dovecot.port), "TABLERO_IMAP_SECURITY": "none",
               "TABLERO_IMAP_USER": dovecot.user, "TABLERO_IMAP_PASSWORD": dovecot.password,
               "TABLERO_IMAP_QUEUE": "support"}
        for run in range(2):  # the second run finds nothing new
            out = subprocess.run([sys.executable, "-m", "pipeline.cli", "connect", "imap", "--once"], env=env,
                                 cwd=ROOT, capture_output=True, text=True, timeout=120)
            assert out.returncode == 0, out.stderr
            assert f"published {1 - run} event(s)" in out.stderr, out.stderr
        records = [orjson.loads(r.value) for r in read_topic(kafka_bootstrap, topic)]
        assert [(e["type"], e["data"]["queue"], e["data"]["customer"]) for e in records] == [
            ("contact.created", "support", "bob@customer.test")]
        assert records[0]["subject"] == records[0]["id"].removesuffix("-created")
        assert (tmp_path / "imap").is_dir()
    finally:
        dovecot.cleanup()
