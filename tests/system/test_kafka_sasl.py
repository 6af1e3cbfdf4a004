"""Issue 11, Kafka that needs credentials: a whole `tablero up` whose only way to the broker is the
session broker's SASL_SSL listener (SCRAM-SHA-256 user added at format time, CA and client
certificate made by the test, tests/conftest.py). Every client must use the settings: the worker's
consumer, Faust's producer (state, live, dead letters), the state restore after a restart, the
API's live feed, producer and status, and `tablero publish` / `tablero dlq show`. A wrong password
stops the start with one line naming the setting."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys

import orjson
from kafka import KafkaProducer

from tests.system.stack import ROOT, Stack, wait_for

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def created(cid: str) -> dict:
    return {"specversion": "1.0", "id": f"{cid}-created", "source": "test", "type": "contact.created",
            "time": (NOW - dt.timedelta(minutes=3)).isoformat(), "subject": cid,
            "data": {"channel": "email", "queue": "secure"}}


def waiting(stack: Stack) -> int:
    rows = [q for q in stack.live().get("queues", []) if q["queue"] == "secure"]
    return sum(q["waiting"] for q in rows)


def cli(stack: Stack, *args: str, env: dict | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env=env or stack.env(), cwd=ROOT,
                          input=stdin, capture_output=True, timeout=180)


def test_everything_runs_over_sasl_ssl_and_a_wrong_password_is_one_line(kafka_sasl_ssl, tmp_path):
    sasl = kafka_sasl_ssl["env"]
    stack = Stack(sasl["TABLERO_KAFKA"], tmp_path / "stack", extra_env=dict(sasl))
    stack.start(timeout=150)
    try:
        assert stack.post_events([created(f"http-{i}") for i in range(5)]).status_code == 202
        lines = b"\n".join(orjson.dumps(created(f"file-{i}")) for i in range(4))
        published = cli(stack, "publish", "-", stdin=lines)
        assert published.returncode == 0, published.stderr.decode()
        # a bad record, put in through the broker's PLAINTEXT listener (test set-up only)
        producer = KafkaProducer(bootstrap_servers=kafka_sasl_ssl["plaintext"], acks="all")
        producer.send(stack.events_topic, key=b"bad", value=b"{not json")
        producer.flush()
        producer.close()

        wait_for(lambda: waiting(stack) == 9, timeout=90, what="9 waiting on the wallboard over SASL_SSL")
        status = wait_for(lambda: (k := stack.status()["kafka"])["total_lag"] == 0 and k, timeout=60, what="lag 0")
        assert status["up"] and len(status["lag"]) == stack.partitions
        shown = cli(stack, "dlq", "show", "--json")
        assert shown.returncode == 0, shown.stderr.decode()
        letters = [orjson.loads(x) for x in shown.stdout.splitlines() if x.strip()]
        assert [d["code"] for d in letters] == ["malformed_json"], letters

        # restart: the worker reads its partitions' state back over SASL_SSL before new events
        stack.stop()
        stack.start(timeout=150)
        assert stack.post_events([created("after-restart")]).status_code == 202
        wait_for(lambda: waiting(stack) == 10, timeout=90, what="state restored: 10 waiting")
    finally:
        stack.stop()

    wrong = stack.env() | {"TABLERO_KAFKA_PASSWORD": "not-the-password", "COLUMNS": "300"}
    for command in (["up", "--no-kafka"], ["publish", "-"]):
        out = cli(stack, *command, env=wrong, stdin=b"")
        err = out.stderr.decode().strip()
        assert out.returncode == 2, (command, err)
        assert err.count("\n") == 0 and "TABLERO_KAFKA_PASSWORD" in err and "rejected user 'tablero-test'" in err, err
